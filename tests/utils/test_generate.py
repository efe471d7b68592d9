import os
import signal
import subprocess
import sys

import chainer
import cv2
import numpy as np
import pytest
from PIL import Image

from nn.DCGAN import Generator
from computations.sampling import generate_videos
from tests.conftest import ROOT, write_ini
from base import memory
from utils import generate
from utils.generate import main, parse_seeds
from base.video_io import mp4_available


@pytest.fixture
def model_dir(tmp_path):
    """A run folder with a random tiny generator and its setup.ini."""
    write_ini(tmp_path / 'setup.ini', {'MODEL': {'ch': 8, 'latent_dim': 4, 'frame_size': 16,
                                                 'n_frames': 16}})
    np.random.seed(1)
    chainer.serializers.save_npz(str(tmp_path / 'gen.npz'), Generator(8, 4, 16, 16))
    return tmp_path


def visible(folder):
    """The names in folder a user sees (the tool's record is hidden)."""
    return sorted(name for name in os.listdir(folder) if not name.startswith('.'))


def gif_frames(path):
    with Image.open(path) as gif:
        frames = []
        for index in range(gif.n_frames):
            gif.seek(index)
            frames.extend([np.array(gif.convert('RGB'))] * (gif.info['duration'] // 100))
        return frames


def test_parse_seeds_accepts_ranges_and_lists():
    assert parse_seeds('0-3,7,2') == [0, 1, 2, 3, 7]
    for bad in ('5-2', 'a', '1-', '-3', '4294967296', '\u00b2', '9' * 5000):
        with pytest.raises(ValueError, match='--seeds'):
            parse_seeds(bad)


def test_each_seed_gives_the_same_video_alone_or_with_others(model_dir, tmp_path):
    gen = str(model_dir / 'gen.npz')
    assert main(['--model', gen, '--seeds', '3,5-7', '--outdir', str(tmp_path / 'a')]) == 0
    assert main(['--model', gen, '--seeds', '5', '--outdir', str(tmp_path / 'b')]) == 0
    assert visible(tmp_path / 'a') == [
        'grid.gif', 'seed0003.gif', 'seed0005.gif', 'seed0006.gif', 'seed0007.gif']
    assert (tmp_path / 'a' / 'seed0005.gif').read_bytes() == \
        (tmp_path / 'b' / 'seed0005.gif').read_bytes()
    assert (tmp_path / 'a' / 'seed0003.gif').read_bytes() != \
        (tmp_path / 'a' / 'seed0005.gif').read_bytes()
    grid = gif_frames(tmp_path / 'a' / 'grid.gif')
    assert len(grid) == 16 and grid[0].shape == (33, 33, 3), '4 videos of 16 px in a 2x2 grid'
    np.testing.assert_array_equal(grid[0][17:, :16], gif_frames(tmp_path / 'a' /
                                                                'seed0006.gif')[0])


def test_interpolation_walks_from_seed_a_to_seed_b(model_dir, tmp_path):
    assert main(['--model', str(model_dir / 'gen.npz'), '--seeds', '1,2', '--interpolate', '1',
                 '2', '--steps', '3', '--outdir', str(tmp_path)]) == 0
    walk = gif_frames(tmp_path / 'walk_1_2.gif')
    assert len(walk) == 3 * 16
    np.testing.assert_array_equal(walk[0], gif_frames(tmp_path / 'seed0001.gif')[0])
    np.testing.assert_array_equal(walk[-1], gif_frames(tmp_path / 'seed0002.gif')[-1])


@pytest.mark.skipif(not mp4_available(), reason='imageio-ffmpeg is not installed')
def test_mp4_has_every_frame(model_dir, tmp_path):
    assert main(['--model', str(model_dir / 'gen.npz'), '--seeds', '0', '--mp4',
                 '--outdir', str(tmp_path)]) == 0
    capture = cv2.VideoCapture(str(tmp_path / 'seed0000.mp4'))
    assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == 16
    assert (tmp_path / 'grid.mp4').is_file()


def test_missing_model_is_a_clear_error(tmp_path, capsys):
    for flags in ([], ['--config', write_ini(tmp_path / 'run.ini', {'MODEL': {'ch': 8}})]):
        assert main(['--model', str(tmp_path / 'nope.npz'), *flags]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f'error: {tmp_path / "nope.npz"}: generator file not found;')
        assert err.count('\n') == 1, 'said before looking for a setup.ini beside it'
    write_ini(tmp_path / 'setup.ini', {'MODEL': {'ch': 8}})
    assert main(['--model', str(tmp_path / 'nope.npz')]) == 2
    assert 'nope.npz: generator file not found' in capsys.readouterr().err


def save_changed(path, key, value):
    """Rewrite the .npz at path with entry key replaced by value."""
    entries = dict(np.load(path))
    entries[key] = value
    np.savez(path, **entries)


@pytest.mark.parametrize('bad,message', [
    (lambda w: np.where(np.arange(w.size).reshape(w.shape) == 3, np.nan, w).astype(w.dtype),
     "parameter 'dc1/W' holds NaN or infinite values; expected finite weights"),
    (lambda w: np.full_like(w, np.inf), "parameter 'dc1/W' holds NaN or infinite values"),
    (lambda w: w.astype(np.int64), "parameter 'dc1/W' holds int64 values; expected"
                                   ' floating-point weights')])
def test_weights_that_are_not_finite_floats_are_refused(model_dir, tmp_path, capsys, bad,
                                                        message):
    path = str(model_dir / 'gen.npz')
    save_changed(path, 'dc1/W', bad(np.load(path)['dc1/W']))
    assert main(['--model', path, '--outdir', str(tmp_path / 'o')]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f'error: {path}: {message}') and err.count('\n') == 1
    assert not (tmp_path / 'o').exists(), 'no black gifs'


def test_a_statistic_that_is_not_finite_is_refused(model_dir, tmp_path, capsys):
    path = str(model_dir / 'gen.npz')
    save_changed(path, 'bn0/avg_var', np.full(8, np.nan, np.float32))
    assert main(['--model', path, '--outdir', str(tmp_path / 'o')]) == 2
    assert "parameter 'bn0/avg_var' holds NaN" in capsys.readouterr().err


def other_model(model_dir):
    """Replace gen.npz with another generator of the same shapes (a retrained model)."""
    np.random.seed(2)
    chainer.serializers.save_npz(str(model_dir / 'gen.npz'), Generator(8, 4, 16, 16))


def test_rerunning_the_same_command_rewrites_its_own_files(model_dir, tmp_path):
    command = ['--model', str(model_dir / 'gen.npz'), '--seeds', '0-2', '--interpolate', '0',
               '2', '--steps', '2', '--outdir', str(tmp_path / 'out')]
    assert main(command) == 0
    first = {name: (tmp_path / 'out' / name).read_bytes() for name in visible(tmp_path / 'out')}
    assert main(command) == 0 and main(command + ['--batch', '1']) == 0
    assert first == {name: (tmp_path / 'out' / name).read_bytes() for name in first}
    assert main(['--model', str(model_dir / 'gen.npz'), '--seeds', '1',
                 '--outdir', str(tmp_path / 'out')]) == 2, 'another grid'


def test_files_of_another_model_are_replaced_only_with_overwrite(model_dir, tmp_path, capsys):
    out = tmp_path / 'out'
    command = ['--model', str(model_dir / 'gen.npz'), '--seeds', '0-1', '--outdir', str(out)]
    assert main(command) == 0
    before = {name: (out / name).read_bytes() for name in visible(out)}
    other_model(model_dir)  # the same path, other weights
    capsys.readouterr()
    assert main(command) == 2
    err = capsys.readouterr().err
    assert err.startswith(f'error: --out {out}: seed0000.gif was made by utils/generate.py from'
                          f' other inputs or options (--model {model_dir / "gen.npz"} of sha256')
    assert '--overwrite to replace' in err and err.count('\n') == 1
    assert before == {name: (out / name).read_bytes() for name in visible(out)}
    assert main(command + ['--overwrite']) == 0
    assert (out / 'seed0000.gif').read_bytes() != before['seed0000.gif']
    assert main(command) == 0, 'now the files are this model\'s'


def test_a_file_the_tool_did_not_make_is_never_replaced(model_dir, tmp_path, capsys):
    out = tmp_path / 'out'
    out.mkdir()
    (out / 'seed0001.gif').write_bytes(b'my own gif')
    command = ['--model', str(model_dir / 'gen.npz'), '--seeds', '0-1', '--outdir', str(out)]
    for flags in ([], ['--overwrite']):
        assert main(command + flags) == 2
        err = capsys.readouterr().err
        assert err == (f'error: --out {out}: seed0001.gif is not a file that utils/generate.py'
                       ' made, so it is never replaced; pass another --out or move the file'
                       ' away\n')
        assert visible(out) == ['seed0001.gif'], 'refused before the first video'
    assert (out / 'seed0001.gif').read_bytes() == b'my own gif'
    (out / 'seed0001.gif').unlink()
    assert main(command) == 0
    (out / 'grid.gif').write_bytes(b'edited by hand')
    assert main(command + ['--overwrite']) == 2
    assert 'grid.gif was changed after utils/generate.py made it, so' in capsys.readouterr().err
    assert (out / 'grid.gif').read_bytes() == b'edited by hand'


def test_mismatched_architecture_names_parameter_and_shapes(model_dir, tmp_path, capsys):
    config = write_ini(tmp_path / 'other.ini', {'MODEL': {'ch': 16, 'latent_dim': 4,
                                                          'frame_size': 16, 'n_frames': 16}})
    assert main(['--model', str(model_dir / 'gen.npz'), '--config', config]) == 2
    err = capsys.readouterr().err
    assert "parameter 'bn0/beta' has shape (8,)" in err and 'expects (16,)' in err


def test_resize_generator_loads_with_its_config_and_not_with_deconv(model_dir, tmp_path, capsys):
    model = {'ch': 8, 'latent_dim': 4, 'frame_size': 16, 'n_frames': 16}
    resize = write_ini(tmp_path / 'resize.ini', {'MODEL': dict(model, upsample='resize')})
    chainer.serializers.save_npz(str(tmp_path / 'resize.npz'),
                                 Generator(8, 4, 16, 16, upsample='resize'))
    gen = str(tmp_path / 'resize.npz')
    assert main(['--model', gen, '--config', resize, '--seeds', '0',
                 '--outdir', str(tmp_path / 'out')]) == 0
    assert len(gif_frames(tmp_path / 'out' / 'seed0000.gif')) == 16
    assert main(['--model', gen, '--config', str(model_dir / 'setup.ini')]) == 2
    err = capsys.readouterr().err
    assert "parameter 'dc1/W' has shape (4, 8, 3, 3, 3)" in err and 'upsample' in err


@pytest.mark.parametrize('flags,message', [
    (['--n', '0'], '--n 0: expected a value >= 1'),
    (['--seeds', '9-3'], 'range 9-3 runs backwards'),
    (['--interpolate', '1', '-2'], 'seed -2 is out of range; expected 0 to 4294967295'),
    (['--steps', '1', '--interpolate', '1', '2'], '--steps 1: expected a value >= 2'),
    (['--fps', 'nan'], '--fps nan: expected a value >= 0.1')])
def test_bad_flag_values_are_rejected(model_dir, tmp_path, capsys, flags, message):
    out = tmp_path / 'out'
    assert main(['--model', str(model_dir / 'gen.npz'), '--outdir', str(out)] + flags) == 2
    err = capsys.readouterr().err
    assert message in err and err.count('\n') == 1
    assert not out.exists()


@pytest.mark.parametrize('flags,message', [
    (['--seeds', '4294967295,4294967296'], 'seed 4294967296 is out of range'),
    (['--seed', '4294967295', '--n', '2'], 'seed 4294967296 is out of range'),
    (['--interpolate', '0', '4294967296'], '--interpolate 0 4294967296: seed 4294967296'),
    (['--seeds', '0-999999999'], 'more than 10000 seeds'),
    (['--seeds', '0-5000,6000-12000'], 'more than 10000 seeds'),
    (['--n', '100000'], '--n 100000: expected at most 10000')])
def test_seeds_out_of_range_or_too_many_are_refused(model_dir, tmp_path, capsys, flags, message):
    out = tmp_path / 'out'
    assert main(['--model', str(model_dir / 'gen.npz'), '--outdir', str(out)] + flags) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()
    assert parse_seeds('4294967290-4294967295')[-1] == 2 ** 32 - 1
    assert len(parse_seeds('0-9999,0-9999')) == 10000


def test_batch_size_does_not_change_a_seeds_video(model_dir, tmp_path):
    gen = str(model_dir / 'gen.npz')
    for batch in ('1', '3', '16'):
        assert main(['--model', gen, '--seeds', '0-4', '--batch', batch,
                     '--outdir', str(tmp_path / batch)]) == 0
    for seed in range(5):
        name = f'seed{seed:04d}.gif'
        assert (tmp_path / '1' / name).read_bytes() == (tmp_path / '3' / name).read_bytes() \
            == (tmp_path / '16' / name).read_bytes(), name
    assert (tmp_path / '1' / 'grid.gif').read_bytes() == (tmp_path / '3' / 'grid.gif').read_bytes()


def test_sigterm_stops_between_batches_leaving_whole_gifs(model_dir, tmp_path, monkeypatch,
                                                          capsys):
    calls = []

    def then_sigterm(gen, z, batch_size=16):
        calls.append(len(z))
        if len(calls) == 2:
            os.kill(os.getpid(), signal.SIGTERM)
        return generate_videos(gen, z, batch_size)
    monkeypatch.setattr(generate, 'generate_videos', then_sigterm)
    out = tmp_path / 'out'
    assert main(['--model', str(model_dir / 'gen.npz'), '--seeds', '0-5', '--batch', '2',
                 '--outdir', str(out)]) == 130
    assert capsys.readouterr().err.strip() == 'interrupted'
    assert calls == [2, 2] and visible(out) == ['seed0000.gif', 'seed0001.gif']
    assert len(gif_frames(out / 'seed0001.gif')) == 16
    monkeypatch.setattr(generate, 'generate_videos', generate_videos)
    assert main(['--model', str(model_dir / 'gen.npz'), '--seeds', '0-5', '--batch', '2',
                 '--outdir', str(out)]) == 0, 'the same command finishes the job'
    assert visible(out) == ['grid.gif'] + [f'seed{seed:04d}.gif' for seed in range(6)]


def test_grid_tiles_only_the_first_videos(model_dir, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(generate, 'GRID_MAX', 2)
    assert main(['--model', str(model_dir / 'gen.npz'), '--seeds', '0-4', '--batch', '3',
                 '--outdir', str(tmp_path)]) == 0
    assert gif_frames(tmp_path / 'grid.gif')[0].shape == (16, 33, 3), 'seeds 0 and 1 only'
    np.testing.assert_array_equal(gif_frames(tmp_path / 'grid.gif')[0][:, 17:],
                                  gif_frames(tmp_path / 'seed0001.gif')[0])
    assert 'wrote 5 videos and the grid (the first 2)' in capsys.readouterr().out


@pytest.mark.parametrize('damage', ['truncated', 'random bytes', 'text', 'bad member'])
def test_a_damaged_model_file_is_one_line(model_dir, tmp_path, capsys, damage):
    data = (model_dir / 'gen.npz').read_bytes()
    bad = {'truncated': data[:len(data) // 2], 'random bytes': os.urandom(4000),
           'text': b'[MODEL]\nch = 8\n', 'bad member': data[:300] + bytes(
               255 - b for b in data[300:340]) + data[340:]}[damage]
    (model_dir / 'gen.npz').write_bytes(bad)
    assert main(['--model', str(model_dir / 'gen.npz'), '--outdir', str(tmp_path / 'o')]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f'error: {model_dir / "gen.npz"}: not a readable .npz (')
    assert err.count('\n') == 1 and not (tmp_path / 'o').exists()


def test_unusable_outdir_is_refused_before_any_video(model_dir, tmp_path, capsys):
    (tmp_path / 'file').write_text('x')
    for outdir in (tmp_path / 'file', tmp_path / 'file' / 'under'):
        assert main(['--model', str(model_dir / 'gen.npz'), '--outdir', str(outdir)]) == 2
        assert f'--outdir {outdir}: ' in capsys.readouterr().err
    assert main(['--model', str(model_dir / 'gen.npz'), '--seeds', '0',
                 '--outdir', str(tmp_path / 'new' / 'deep')]) == 0, 'missing parents are made'


def test_a_batch_that_cannot_fit_in_memory_is_refused(model_dir, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(memory, 'available_memory', lambda: 2 ** 20)
    assert main(['--model', str(model_dir / 'gen.npz'), '--batch', '64',
                 '--outdir', str(tmp_path / 'o')]) == 2
    err = capsys.readouterr().err
    assert '--batch 64 videos of 16 frames of 16x16 px' in err and 'this machine has' in err
    assert not (tmp_path / 'o').exists()


def test_gpu_without_cuda_is_an_error(model_dir, capsys):
    if chainer.backends.cuda.available:
        pytest.skip('this machine has CUDA')
    assert main(['--model', str(model_dir / 'gen.npz'), '--gpu', '0']) == 2
    assert '--gpu = 0: CuPy with a CUDA GPU is not available' in capsys.readouterr().err


def save_generator(path, seed):
    np.random.seed(seed)
    chainer.serializers.save_npz(str(path), Generator(8, 4, 16, 16))


def test_a_run_folder_gives_its_newest_average_else_its_newest_generator(model_dir, tmp_path,
                                                                         capsys):
    for name, seed in (('gen_iter_900.npz', 3), ('gen_iter_1000.npz', 4)):
        save_generator(model_dir / name, seed)
    assert main(['--model', str(model_dir), '--seeds', '0', '--out', str(tmp_path / 'run')]) == 0
    assert f'--model {model_dir}: using {model_dir / "gen_iter_1000.npz"}' in \
        capsys.readouterr().out, '1000 after 900: numbers, not text'
    assert main(['--model', str(model_dir / 'gen_iter_1000.npz'), '--seeds', '0',
                 '--out', str(tmp_path / 'file')]) == 0
    assert (tmp_path / 'run' / 'seed0000.gif').read_bytes() == \
        (tmp_path / 'file' / 'seed0000.gif').read_bytes()
    for name, seed in (('gen_avg_iter_10.npz', 5), ('gen_avg_iter_9.npz', 6)):
        save_generator(model_dir / name, seed)
    assert main(['--model', str(model_dir), '--seeds', '0', '--out', str(tmp_path / 'avg')]) == 0
    assert f'using {model_dir / "gen_avg_iter_10.npz"}' in capsys.readouterr().out, \
        'the moving average first, even when older'


def test_a_folder_without_a_generator_is_one_line(tmp_path, capsys):
    (tmp_path / 'critic_iter_5.npz').write_bytes(b'')
    (tmp_path / 'gen_iter_5.npz.bak').write_bytes(b'')
    assert main(['--model', str(tmp_path), '--out', str(tmp_path / 'out')]) == 2
    assert capsys.readouterr().err == (
        f'error: --model {tmp_path}: the folder holds no gen_avg_iter_N.npz, gen_iter_N.npz'
        ' or generator.npz; expected a generator .npz or a run folder with one\n')
    assert not (tmp_path / 'out').exists()


@pytest.mark.subprocess
def test_the_shipped_model_is_found_from_any_folder(tmp_path):
    """The default --model is the project's models/generator.npz, not ./models/."""
    if not os.path.isfile(os.path.join(ROOT, 'models', 'generator.npz')):
        pytest.skip('models/generator.npz absent')
    result = subprocess.run([sys.executable, os.path.join(ROOT, 'utils', 'generate.py'),
                             '--seeds', '0', '--out', 'out'], cwd=str(tmp_path),
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert visible(tmp_path) == ['out'] and visible(tmp_path / 'out') == [
        'grid.gif', 'seed0000.gif']


def test_a_new_run_removes_what_an_earlier_run_made_there_and_nothing_else(model_dir,
                                                                           tmp_path, capsys):
    out = tmp_path / 'out'
    gen = str(model_dir / 'gen.npz')
    assert main(['--model', gen, '--seeds', '0-3', '--interpolate', '0', '3', '--steps', '2',
                 '--out', str(out)]) == 0
    (out / 'notes.txt').write_text('mine')
    (out / 'seed0002.gif').write_bytes((out / 'seed0002.gif').read_bytes() + b'edited')
    assert main(['--model', gen, '--seeds', '0-1', '--out', str(out), '--overwrite']) == 0
    assert visible(out) == ['grid.gif', 'notes.txt', 'seed0000.gif', 'seed0001.gif',
                            'seed0002.gif'], 'the edited gif and the notes are kept'
    assert 'removed 2 files an earlier run of utils/generate.py made in' in \
        capsys.readouterr().out
    assert (out / 'notes.txt').read_text() == 'mine'


def test_a_run_that_stops_part_way_removes_nothing(model_dir, tmp_path, monkeypatch):
    out = tmp_path / 'out'
    gen = str(model_dir / 'gen.npz')
    assert main(['--model', gen, '--seeds', '0-3', '--out', str(out)]) == 0
    before = visible(out)

    def stopped(gen, z, batch_size=16):
        raise KeyboardInterrupt
    monkeypatch.setattr(generate, 'generate_videos', stopped)
    assert main(['--model', gen, '--seeds', '5', '--out', str(out), '--overwrite']) == 130
    assert visible(out) == before


@pytest.mark.skipif(not mp4_available(), reason='imageio-ffmpeg is not installed')
def test_mp4_is_written_without_an_ffmpeg_warning(model_dir, tmp_path, capfd):
    assert main(['--model', str(model_dir / 'gen.npz'), '--seeds', '0', '--mp4',
                 '--out', str(tmp_path)]) == 0
    err = capfd.readouterr().err
    assert 'pix_fmt' not in err and err == '', 'ffmpeg writes to the same stderr'
