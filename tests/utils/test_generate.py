import os

import chainer
import pytest

from nn.DCGAN import Generator
from tests.conftest import write_ini
from utils.generate import main


@pytest.fixture
def model_dir(tmp_path):
    """A run folder with a random tiny generator and its setup.ini."""
    write_ini(tmp_path / 'setup.ini', {'MODEL': {'ch': 8, 'latent_dim': 4, 'frame_size': 16,
                                                 'n_frames': 16}})
    chainer.serializers.save_npz(str(tmp_path / 'gen.npz'), Generator(8, 4, 16, 16))
    return tmp_path


def test_writes_n_gifs_and_a_grid_reproducibly(model_dir, tmp_path):
    for name in ('a', 'b'):
        assert main(['--model', str(model_dir / 'gen.npz'), '--n', '2', '--seed', '5',
                     '--outdir', str(tmp_path / name)]) == 0
    assert sorted(os.listdir(tmp_path / 'a')) == ['grid.gif', 'sample_0000.gif',
                                                  'sample_0001.gif']
    for name in os.listdir(tmp_path / 'a'):
        assert (tmp_path / 'a' / name).read_bytes() == (tmp_path / 'b' / name).read_bytes()


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


def test_bad_flag_values_are_rejected(model_dir, capsys):
    with pytest.raises(SystemExit):
        main(['--model', str(model_dir / 'gen.npz'), '--n', '0'])
    assert '--n 0: expected at least 1 video' in capsys.readouterr().err


def test_cpu_device_is_default_and_gpu_without_cuda_is_an_error(model_dir, capsys):
    if chainer.backends.cuda.available:
        pytest.skip('this machine has CUDA')
    assert main(['--model', str(model_dir / 'gen.npz'), '--gpu', '0']) == 2
    assert '--gpu = 0: CuPy with a CUDA GPU is not available' in capsys.readouterr().err
