"""Data-parallel training under MPI (ChainerMN, 2 CPU ranks)."""
import os
import subprocess
import sys

import numpy as np
import pytest

from tests.conftest import ROOT, tiny_sections, write_ini
from base.config import AdamConfig

MPIEXEC = os.path.join(os.path.dirname(sys.executable), 'mpiexec')
pytest.importorskip('mpi4py')
pytestmark = [pytest.mark.subprocess,
              pytest.mark.skipif(not os.path.isfile(MPIEXEC), reason='no mpiexec beside python')]
STEP = os.path.join(os.path.dirname(__file__), 'mpi_step.py')
# The critic's last biases (zero at the start) shift every score alike, which the WGAN-GP
# loss does not see; LR is the Adam rate mpi_step.py uses
SHIFTS = ('critic/c5/b', 'critic/l6/b')
LR = AdamConfig().learning_rate


def mpirun(n, *args, timeout=300):
    return subprocess.run([MPIEXEC, '-n', str(n), sys.executable, *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


def test_two_ranks_of_batch_b_step_like_one_process_of_batch_2b(tmp_path):
    single = subprocess.run([sys.executable, STEP, str(tmp_path / 'one.npz'), '', '4'],
                            capture_output=True, text=True, timeout=300)
    assert single.returncode == 0, single.stderr
    double = mpirun(2, STEP, str(tmp_path / 'two.npz'), 'naive', '4')
    assert double.returncode == 0, double.stderr
    one, two = np.load(tmp_path / 'one.npz'), np.load(tmp_path / 'two.npz')
    assert sorted(one.files) == sorted(two.files)
    for name in set(one.files) - set(SHIFTS):
        np.testing.assert_allclose(two[name], one[name], rtol=1e-4, atol=1e-6, err_msg=name)
    for name in SHIFTS:  # their exact gradient is 0: only rounding noise, which Adam
        # scales to about lr x noise / eps; a real gradient would move them by about lr
        assert np.abs(one[name]).max() < LR / 10 and np.abs(two[name]).max() < LR / 10, name


def test_two_rank_training_writes_one_log_and_one_set_of_snapshots(tmp_path, shapes_dir):
    sections = tiny_sections(shapes_dir, str(tmp_path / 'run'),
                             **{'SCALE.communicator': 'naive', 'MODEL.iterations': 2})
    result = mpirun(2, 'main_train.py', '--config', write_ini(tmp_path / 'c.ini', sections))
    assert result.returncode == 0, result.stderr
    assert result.stdout.count('videogan: WGAN-GP') == 1
    assert '2 ranks (naive communicator)' in result.stdout
    assert result.stdout.count('finished at iteration 2') == 1
    names = sorted(os.listdir(tmp_path / 'run'))
    assert [n for n in names if n.startswith('snapshot_iter_')] == ['snapshot_iter_2']
    assert 'log' in names and 'gen_iter_2.npz' in names
    resumed = mpirun(2, 'main_train.py', '--config', write_ini(tmp_path / 'c.ini', sections),
                     '--set', 'MODEL.iterations=3')
    assert resumed.returncode == 0, resumed.stderr
    assert 'resumed from' in resumed.stdout and 'finished at iteration 3' in resumed.stdout


def test_two_ranks_keep_a_moving_average_with_multi_node_batch_norm(tmp_path, shapes_dir):
    """The average's recomputed statistics (gifs, gen_avg files, on rank 0 alone) must not
    call the other rank: multi-node BatchNorm's forward communicates."""
    sections = tiny_sections(shapes_dir, str(tmp_path / 'run'), **{
        'SCALE.communicator': 'naive', 'MODEL.iterations': 3, 'MODEL.average_decay': 0.99})
    result = mpirun(2, 'main_train.py', '--config', write_ini(tmp_path / 'c.ini', sections),
                    timeout=180)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.count('finished at iteration 3') == 1
    with np.load(tmp_path / 'run' / 'gen_avg_iter_3.npz') as average:
        assert np.isfinite(average['bn1/avg_var']).all() and average['bn1/avg_var'].min() > 0
