import json
import os

import chainer
import numpy as np
import pytest

from datastream.moving_shapes import write_stacked_jpeg
from metrics import ladder
from nn.DCGAN import Critic, Generator
from tests.conftest import ROOT, write_ini
from base import memory, project_files
from utils.evaluate import critic_beside, main, write_json


@pytest.fixture
def run_dir(tmp_path, shapes_dir):
    """A run folder with a tiny random generator and critic, pointing at the shapes."""
    write_ini(tmp_path / 'setup.ini', {
        'DATA': {'root_dir': shapes_dir, 'index_file': 'index.txt'},
        'MODEL': {'ch': 8, 'latent_dim': 4, 'frame_size': 16, 'n_frames': 16}})
    chainer.serializers.save_npz(str(tmp_path / 'gen_iter_5.npz'), Generator(8, 4, 16, 16))
    chainer.serializers.save_npz(str(tmp_path / 'critic_iter_5.npz'), Critic(8, 16, 16))
    return tmp_path


def test_writes_finite_scores_and_statistics_as_json(run_dir, capsys):
    assert main(['--model', str(run_dir / 'gen_iter_5.npz'), '--n', '6', '--batch', '4']) == 0
    result = json.loads((run_dir / 'evaluation.json').read_text())
    estimate = result['wasserstein_estimate']
    assert result['n'] == 6 and np.isfinite(estimate['mean'])
    assert estimate['ci95'][0] < estimate['mean'] < estimate['ci95'][1]
    assert estimate['mean'] == pytest.approx(result['critic']['real_mean']
                                             - result['critic']['fake_mean'])
    for kind in ('real', 'generated'):
        stats = result['pixels'][kind]
        assert len(stats['per_frame']['mean']) == 16
        assert len(stats['per_frame']['temporal_energy']) == 15
        assert all(np.isfinite(stats[k]) for k in ('mean', 'std', 'temporal_energy'))
    assert result['pixels']['real']['temporal_energy'] > 0, 'the built-in clips move'
    assert 0 <= result['recognisability'] <= result['recognised'] <= 1
    assert result['reference']['real_against_real'] is None, 'not the built-in data'
    out = capsys.readouterr().out
    assert 'Wasserstein estimate over 6 + 6 clips' in out
    assert 'real against real: not tabulated for clips other than the built-in data' in out
    assert f"recognisability {result['recognisability']:.2f} (higher is better" in out
    assert 'warning: 6 clips of each kind; documented scores use 256' in out


def test_missing_critic_is_a_clear_error(run_dir, capsys):
    (run_dir / 'critic_iter_5.npz').unlink()
    assert main(['--model', str(run_dir / 'gen_iter_5.npz')]) == 2
    assert 'critic_iter_5.npz: critic file not found' in capsys.readouterr().err


def test_default_critic_is_the_one_saved_with_the_generator():
    assert critic_beside(os.path.join('runs', 'a', 'gen_iter_250.npz')) == os.path.join(
        'runs', 'a', 'critic_iter_250.npz')
    assert critic_beside(os.path.join('runs', 'a', 'gen_avg_iter_250.npz')) == os.path.join(
        'runs', 'a', 'critic_iter_250.npz')
    assert critic_beside(os.path.join('models', 'generator.npz')) == os.path.join(
        'models', 'critic.npz')


def test_an_older_runs_critic_file_is_found_by_its_older_name(tmp_path):
    (tmp_path / 'dis_iter_7.npz').write_bytes(b'')
    assert critic_beside(str(tmp_path / 'gen_avg_iter_7.npz')) == str(tmp_path / 'dis_iter_7.npz')
    (tmp_path / 'critic_iter_7.npz').write_bytes(b'')
    assert critic_beside(str(tmp_path / 'gen_iter_7.npz')) == str(tmp_path / 'critic_iter_7.npz')


def test_fvd_through_the_feature_function_seam(run_dir, tmp_path, monkeypatch, capsys):
    (tmp_path / 'pixel_features.py').write_text(
        'def features(videos):\n'
        '    return videos.reshape(len(videos), 3, -1).mean(axis=2)\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    assert main(['--model', str(run_dir / 'gen_iter_5.npz'), '--n', '8', '--fvd',
                 '--features', 'pixel_features:features']) == 0
    fvd = json.loads((run_dir / 'evaluation.json').read_text())['fvd']
    assert fvd['frechet_distance'] > 0 and 0 <= fvd['precision'] <= 1
    assert 'feature Fréchet distance' in capsys.readouterr().out
    assert main(['--model', str(run_dir / 'gen_iter_5.npz'), '--fvd', '--features', 'nope']) == 2
    assert main(['--model', str(run_dir / 'gen_iter_5.npz'), '--fvd',
                 '--feature-net', str(tmp_path / 'missing.npz')]) == 2
    assert 'feature network not found' in capsys.readouterr().err


def _index_of(tmp_path, shapes_dir, n_clips):
    """A root folder whose index lists the first n_clips built-in clips (absolute paths)."""
    root = tmp_path / f'held_out_{n_clips}'
    root.mkdir()
    (root / 'index.txt').write_text(''.join(
        os.path.join(shapes_dir, 'clips', f'clip_{i:05d}.jpg') + '\n' for i in range(n_clips)))
    return str(root)


def test_a_one_clip_evaluation_is_refused_not_written_as_nan(run_dir, tmp_path, shapes_dir,
                                                             capsys):
    root = _index_of(tmp_path, shapes_dir, 1)
    assert main(['--model', str(run_dir / 'gen_iter_5.npz'), '--root', root]) == 2
    err = capsys.readouterr().err
    assert '--n 256: 1 clip(s) of each kind can be had' in err
    assert 'lists 1); an evaluation needs at least 2 clips' in err
    assert err.count('\n') == 1 and not (run_dir / 'evaluation.json').exists()
    root = _index_of(tmp_path, shapes_dir, 2)
    assert main(['--model', str(run_dir / 'gen_iter_5.npz'), '--root', root, '--fvd',
                 '--features', 'nope:f']) == 2
    assert 'with --fvd needs at least 4 clips' in capsys.readouterr().err


def test_json_is_strict_non_finite_numbers_become_null(tmp_path):
    path = tmp_path / 'e.json'
    write_json(str(path), {'a': float('nan'), 'b': [1.5, float('inf')], 'c': {'d': np.float64(2)}})
    text = path.read_text()
    assert json.loads(text, parse_constant=lambda name: pytest.fail(name)) == {
        'a': None, 'b': [1.5, None], 'c': {'d': 2.0}}
    assert os.listdir(tmp_path) == ['e.json']


@pytest.mark.parametrize('which', ['critic_iter_5.npz', 'feature_net.npz'])
def test_a_damaged_critic_or_feature_net_is_one_line(run_dir, capsys, which):
    (run_dir / which).write_bytes(os.urandom(300))
    assert main(['--model', str(run_dir / 'gen_iter_5.npz'), '--n', '4', '--fvd',
                 '--feature-net', str(run_dir / 'feature_net.npz')]) == 2
    err = capsys.readouterr().err
    option = '--feature-net ' if which == 'feature_net.npz' else ''
    assert err.startswith(f'error: {option}{run_dir / which}: not a readable .npz (not a zip'
                          ' archive: truncated, damaged, or another kind of file)')
    assert err.count('\n') == 1


def test_a_generator_file_as_feature_net_is_one_line_before_any_clip(run_dir, capsys):
    gen = run_dir / 'gen_iter_5.npz'
    assert main(['--model', str(gen), '--feature-net', str(gen)]) == 2
    assert capsys.readouterr().err == (
        f"error: --feature-net {gen}: no parameter 'c1/W' (not a feature network file?);"
        ' expected the .npz that `python metrics/train_feature_net.py` writes\n')
    assert visible(run_dir) == ['critic_iter_5.npz', 'gen_iter_5.npz', 'setup.ini']


def test_a_missing_model_is_named_before_its_settings(tmp_path, capsys):
    assert main(['--model', str(tmp_path / 'nope.npz')]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f'error: {tmp_path / "nope.npz"}: generator file not found;')
    assert 'setup.ini' not in err and err.count('\n') == 1


def test_weights_that_are_not_finite_are_refused(run_dir, capsys):
    critic = dict(np.load(run_dir / 'critic_iter_5.npz'))
    critic['c5/W'] = np.full_like(critic['c5/W'], np.nan)
    np.savez(run_dir / 'critic_iter_5.npz', **critic)
    assert main(['--model', str(run_dir / 'gen_iter_5.npz'), '--n', '4']) == 2
    assert f"{run_dir / 'critic_iter_5.npz'}: parameter 'c5/W' holds NaN" in \
        capsys.readouterr().err
    assert not (run_dir / 'evaluation.json').exists()


def visible(folder):
    return sorted(name for name in os.listdir(folder) if not name.startswith('.'))


def test_another_models_evaluation_is_replaced_only_with_overwrite(run_dir, capsys):
    out = run_dir / 'evaluation.json'
    command = ['--model', str(run_dir / 'gen_iter_5.npz'), '--n', '4', '--batch', '4']
    assert main(command) == 0 and main(command) == 0, 'the same evaluation again'
    first = out.read_bytes()
    np.random.seed(3)  # another generator under the same name
    chainer.serializers.save_npz(str(run_dir / 'gen_iter_5.npz'), Generator(8, 4, 16, 16))
    capsys.readouterr()
    assert main(command) == 2
    err = capsys.readouterr().err
    assert err == (f'error: --out {out}: evaluation.json was made by utils/evaluate.py from'
                   f' other inputs or options (--model {run_dir / "gen_iter_5.npz"}); pass'
                   ' another --out, or --overwrite to replace what utils/evaluate.py made\n')
    assert out.read_bytes() == first
    assert main(command + ['--overwrite']) == 0 and out.read_bytes() != first


def test_a_file_it_did_not_write_is_never_replaced(tmp_path, capsys):
    root = tmp_path / 'clips'
    write_ini(tmp_path / 'setup.ini', {
        'DATA': {'root_dir': str(root), 'builtin': 'yes', 'builtin_clips': 12},
        'MODEL': {'ch': 8, 'latent_dim': 4, 'frame_size': 16, 'n_frames': 16}})
    chainer.serializers.save_npz(str(tmp_path / 'gen_iter_5.npz'), Generator(8, 4, 16, 16))
    chainer.serializers.save_npz(str(tmp_path / 'critic_iter_5.npz'), Critic(8, 16, 16))
    (tmp_path / 'evaluation.json').write_text('{"my": "notes"}')
    for flags in ([], ['--overwrite']):
        assert main(['--model', str(tmp_path / 'gen_iter_5.npz'), '--n', '4', *flags]) == 2
        assert capsys.readouterr().err == (
            f'error: --out {tmp_path / "evaluation.json"}: evaluation.json is not a file that'
            ' utils/evaluate.py made, so it is never replaced; pass another --out or move the'
            ' file away\n')
    assert (tmp_path / 'evaluation.json').read_text() == '{"my": "notes"}'
    assert not root.exists(), 'refused before the built-in dataset is made'


def test_clips_that_cannot_fit_in_memory_are_refused(run_dir, monkeypatch, capsys):
    monkeypatch.setattr(memory, 'available_memory', lambda: 2 * 2 ** 20)
    assert main(['--model', str(run_dir / 'gen_iter_5.npz'), '--n', '12', '--batch', '2']) == 2
    err = capsys.readouterr().err
    assert '--n 12 clips and --batch 2 of 16 frames of 16x16 px at ch 8' in err
    assert 'need about 4.4 MiB of memory; this machine has 2.0 MiB' in err
    assert not (run_dir / 'evaluation.json').exists()


def test_an_out_path_under_a_file_is_refused_before_evaluating(run_dir, capsys):
    (run_dir / 'file').write_text('x')
    out = run_dir / 'file' / 'eval.json'
    assert main(['--model', str(run_dir / 'gen_iter_5.npz'), '--out', str(out)]) == 2
    assert f'--out {run_dir / "file"}: is a file; expected a folder' in capsys.readouterr().err


def test_any_clips_are_scored_through_fake_root_and_index(run_dir, tmp_path, shapes_dir, capsys):
    fakes = tmp_path / 'blurred'
    fakes.mkdir()
    for i, clip in enumerate(ladder.blurred(ladder.real_clips(5, 8, 16, 32), 2.0)):
        write_stacked_jpeg(str(fakes / f'b{i}.jpg'), clip)
    (fakes / 'index.txt').write_text(''.join(f'b{i}.jpg\n' for i in range(8)))
    common = ['--config', str(run_dir / 'setup.ini'), '--n', '8']
    assert main(['--fake-root', str(fakes), '--fake-index', 'index.txt', *common,
                 '--out', str(tmp_path / 'blurred.json')]) == 0
    assert main(['--fake-root', shapes_dir, '--fake-index', 'index.txt', *common,
                 '--out', str(tmp_path / 'same.json')]) == 0
    blurred, same = (json.loads((tmp_path / f'{n}.json').read_text()) for n in ('blurred', 'same'))
    for result in (blurred, same):
        assert set(result['components']) == {'semantic', 'texture', 'motion', 'kinds'}
        assert result['quality'] == pytest.approx(sum(result['components'].values()))
        assert 'fd' in result and 'wasserstein_estimate' not in result, 'no critic given'
    assert same['quality'] == pytest.approx(0, abs=1e-3), 'the same clips: no distance'
    assert blurred['quality'] > 1
    assert main(['--fake-root', str(fakes), *common]) == 2
    assert 'expected both' in capsys.readouterr().err


def test_the_models_missing_builtin_dataset_is_made_in_its_look(tmp_path, capsys):
    root = tmp_path / 'clips_large'
    write_ini(tmp_path / 'setup.ini', {
        'DATA': {'root_dir': str(root), 'builtin': 'yes', 'builtin_clips': 12,
                 'builtin_look': 'large'},
        'MODEL': {'ch': 8, 'latent_dim': 4, 'frame_size': 16, 'n_frames': 16}})
    chainer.serializers.save_npz(str(tmp_path / 'gen_iter_5.npz'), Generator(8, 4, 16, 16))
    chainer.serializers.save_npz(str(tmp_path / 'critic_iter_5.npz'), Critic(8, 16, 16))
    assert main(['--model', str(tmp_path / 'gen_iter_5.npz'), '--n', '6', '--batch', '4']) == 0
    assert 'made the built-in moving-shapes dataset (large look)' in capsys.readouterr().out
    assert json.loads((root / 'look.json').read_text())['look'] == 'large'
    assert len(os.listdir(root / 'clips')) == 12


def test_a_run_folder_is_scored_through_its_newest_generator(run_dir, capsys):
    chainer.serializers.save_npz(str(run_dir / 'gen_iter_10.npz'), Generator(8, 4, 16, 16))
    chainer.serializers.save_npz(str(run_dir / 'critic_iter_10.npz'), Critic(8, 16, 16))
    assert main(['--model', str(run_dir), '--n', '4', '--batch', '4']) == 0
    assert f'--model {run_dir}: using {run_dir / "gen_iter_10.npz"}' in capsys.readouterr().out
    assert json.loads((run_dir / 'evaluation.json').read_text())['n'] == 4
    (run_dir / 'empty').mkdir()
    assert main(['--model', str(run_dir / 'empty')]) == 2
    assert capsys.readouterr().err == (
        f'error: --model {run_dir / "empty"}: the folder holds no gen_avg_iter_N.npz,'
        ' gen_iter_N.npz or generator.npz; expected a generator .npz or a run folder with one\n')


def test_the_shipped_feature_network_is_found_from_any_folder(run_dir, tmp_path, monkeypatch):
    if not os.path.isfile(os.path.join(ROOT, 'models', 'feature_net.npz')):
        pytest.skip('models/feature_net.npz absent')
    (tmp_path / 'elsewhere').mkdir()
    monkeypatch.chdir(tmp_path / 'elsewhere')
    assert main(['--model', str(run_dir / 'gen_iter_5.npz'), '--n', '4', '--batch', '4']) == 0
    assert os.listdir(tmp_path / 'elsewhere') == []


def relative_data_run(folder):
    """A run folder whose settings name the built-in dataset by the relative root_dir
    'data/shapes' (as a run trained from the project folder does)."""
    write_ini(folder / 'setup.ini', {
        'DATA': {'root_dir': 'data/shapes', 'builtin': 'yes', 'builtin_clips': 12},
        'MODEL': {'ch': 8, 'latent_dim': 4, 'frame_size': 16, 'n_frames': 16}})
    chainer.serializers.save_npz(str(folder / 'gen_iter_5.npz'), Generator(8, 4, 16, 16))
    chainer.serializers.save_npz(str(folder / 'critic_iter_5.npz'), Critic(8, 16, 16))
    return folder / 'gen_iter_5.npz'


def run_seen_from_elsewhere(tmp_path, monkeypatch):
    """(run, cwd, project, generator file): a run whose settings name a relative dataset,
    scored from an empty current folder with the project at an empty folder of its own."""
    run, cwd, project = (tmp_path / name for name in ('run', 'cwd', 'project'))
    for folder in (run, cwd, project):
        folder.mkdir()
    gen = relative_data_run(run)
    monkeypatch.setattr(project_files, 'ROOT', str(project))
    monkeypatch.chdir(cwd)
    return run, cwd, project, gen


def test_no_dataset_is_made_in_a_folder_the_user_did_not_name(tmp_path, monkeypatch, capsys):
    run, cwd, project, gen = run_seen_from_elsewhere(tmp_path, monkeypatch)
    assert main(['--model', str(gen), '--n', '4']) == 2
    assert capsys.readouterr().err == (
        f"error: --model {gen}: [DATA] root_dir 'data/shapes' is in neither the current folder"
        f' nor the project folder {project} (the built-in dataset is made only where'
        ' you name it); pass --root DIR with the real clips, or --config SETUP.INI whose'
        ' root_dir names where they are or are to be made\n')
    assert os.listdir(cwd) == [] and os.listdir(project) == []
    assert visible(run) == ['critic_iter_5.npz', 'gen_iter_5.npz', 'setup.ini']


def test_a_relative_dataset_is_found_in_the_project_or_made_where_a_config_names_it(
        tmp_path, shapes_dir, monkeypatch, capsys):
    run, cwd, project, gen = run_seen_from_elsewhere(tmp_path, monkeypatch)
    (project / 'data').mkdir()
    os.symlink(shapes_dir, project / 'data' / 'shapes')
    assert main(['--model', str(gen), '--n', '4', '--batch', '4']) == 0
    assert os.listdir(cwd) == [], 'read from the project folder, nothing made here'
    assert main(['--model', str(gen), '--config', str(run / 'setup.ini'), '--n', '4',
                 '--batch', '4', '--out', str(run / 'named.json')]) == 0
    assert 'made the built-in moving-shapes dataset (standard look) in data/shapes' in \
        capsys.readouterr().out
    assert len(os.listdir(cwd / 'data' / 'shapes' / 'clips')) == 12, 'where --config names it'
