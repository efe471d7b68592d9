import os

import chainer
import cv2
import numpy as np
import pytest
from PIL import Image

from nn.DCGAN import Generator
from tests.conftest import write_ini
from utils.generate import main, parse_seeds
from utils.video_io import mp4_available


@pytest.fixture
def model_dir(tmp_path):
    """A run folder with a random tiny generator and its setup.ini."""
    write_ini(tmp_path / 'setup.ini', {'MODEL': {'ch': 8, 'latent_dim': 4, 'frame_size': 16,
                                                 'n_frames': 16}})
    np.random.seed(1)
    chainer.serializers.save_npz(str(tmp_path / 'gen.npz'), Generator(8, 4, 16, 16))
    return tmp_path


def gif_frames(path):
    with Image.open(path) as gif:
        frames = []
        for index in range(gif.n_frames):
            gif.seek(index)
            frames.extend([np.array(gif.convert('RGB'))] * (gif.info['duration'] // 100))
        return frames


def test_parse_seeds_accepts_ranges_and_lists():
    assert parse_seeds('0-3,7,2') == [0, 1, 2, 3, 7]
    for bad in ('5-2', 'a', '1-', '-3'):
        with pytest.raises(ValueError, match='--seeds'):
            parse_seeds(bad)


def test_each_seed_gives_the_same_video_alone_or_with_others(model_dir, tmp_path):
    gen = str(model_dir / 'gen.npz')
    assert main(['--model', gen, '--seeds', '3,5-7', '--outdir', str(tmp_path / 'a')]) == 0
    assert main(['--model', gen, '--seeds', '5', '--outdir', str(tmp_path / 'b')]) == 0
    assert sorted(os.listdir(tmp_path / 'a')) == [
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
    walk = gif_frames(tmp_path / 'walk_0001_0002.gif')
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
    write_ini(tmp_path / 'setup.ini', {'MODEL': {'ch': 8}})
    assert main(['--model', str(tmp_path / 'nope.npz')]) == 2
    assert 'nope.npz: generator file not found' in capsys.readouterr().err


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
    (['--interpolate', '1', '-2'], 'expected seeds >= 0'),
    (['--steps', '1', '--interpolate', '1', '2'], '--steps 1: expected a value >= 2')])
def test_bad_flag_values_are_rejected(model_dir, capsys, flags, message):
    with pytest.raises(SystemExit):
        main(['--model', str(model_dir / 'gen.npz')] + flags)
    assert message in capsys.readouterr().err


def test_gpu_without_cuda_is_an_error(model_dir, capsys):
    if chainer.backends.cuda.available:
        pytest.skip('this machine has CUDA')
    assert main(['--model', str(model_dir / 'gen.npz'), '--gpu', '0']) == 2
    assert '--gpu = 0: CuPy with a CUDA GPU is not available' in capsys.readouterr().err
