"""Fault injection on the real entry points, as users and real faults do it: bad
files, a second run in the same folder, divergence, a damaged snapshot, a full
disk, an interrupt while the dataset is made. Each ends in one line and exit
code 2 (or 130 for an interrupt), and nothing that existed before is lost."""
import hashlib
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from computations.run_folder import LOCK
from tests.conftest import ROOT, tiny_sections, write_ini
from tests.base.test_npz_entries import RunsCode
from base.npz_entries import read_entries

pytestmark = pytest.mark.subprocess  # every test here runs main_train.py or a script


def train(ini, *sets, timeout=300):
    args = [sys.executable, 'main_train.py', '--config', ini]
    for item in sets:
        args += ['--set', item]
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def digests(folder):
    """{name: sha1} of every file in folder (recursively) but the run lock, which holds
    the pid of the process that last opened the folder."""
    found = {}
    for base, _, names in os.walk(folder):
        for name in set(names) - {LOCK}:
            path = os.path.join(base, name)
            with open(path, 'rb') as data:
                found[os.path.relpath(path, folder)] = hashlib.sha1(data.read()).hexdigest()
    return found


def one_error_line(result):
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2, result.stderr
    assert lines[-1].startswith('error: ') and 'Traceback' not in result.stderr, result.stderr
    return lines[-1]


def snapshot_names(run_dir):
    return sorted(n for n in os.listdir(run_dir) if n.startswith('snapshot_iter_'))


def test_a_fresh_run_refuses_a_folder_holding_another_run(tmp_path, tiny_ini):
    assert train(tiny_ini).returncode == 0
    before = digests(tmp_path / 'run')
    line = one_error_line(train(tiny_ini, 'SAVING.resume=none'))
    assert 'holds another run' in line and 'resume = latest' in line
    assert digests(tmp_path / 'run') == before


def test_divergence_stops_and_keeps_every_finite_snapshot(tmp_path, tiny_ini):
    assert train(tiny_ini, 'MODEL.iterations=4').returncode == 0
    kept = {name: digests(tmp_path / 'run')[name] for name in snapshot_names(tmp_path / 'run')}
    result = train(tiny_ini, 'MODEL.iterations=12', 'ADAM.learning_rate=1e30')
    line = one_error_line(result)
    assert 'diverged at iteration 5' in line and 'learning_rate' in line
    after = digests(tmp_path / 'run')
    assert {name: after[name] for name in snapshot_names(tmp_path / 'run')} == kept
    for name in kept:
        entries = read_entries(str(tmp_path / 'run' / name))
        assert all(np.isfinite(v).all() for v in entries.values() if v.dtype.kind == 'f')


def test_a_damaged_newest_snapshot_falls_back_to_the_one_before(tmp_path, tiny_ini):
    assert train(tiny_ini).returncode == 0
    newest = tmp_path / 'run' / 'snapshot_iter_3'
    newest.write_bytes(newest.read_bytes()[:1000])
    result = train(tiny_ini, 'MODEL.iterations=4')
    assert result.returncode == 0, result.stderr
    assert 'snapshot_iter_3: not a readable .npz' in result.stderr
    assert 'resumed from' in result.stdout and 'snapshot_iter_2 at iteration 2' in result.stdout


def test_builtin_data_is_never_made_in_a_folder_of_other_files(tmp_path):
    clips = tmp_path / 'my_clips'
    clips.mkdir()
    (clips / 'index.txt').write_text('a.jpg\n')
    (clips / 'a.jpg').write_bytes(b'my clip')
    sections = tiny_sections(str(clips), str(tmp_path / 'run'), **{
        'DATA.builtin': 'yes', 'DATA.index_file': 'indx.txt'})
    before = digests(clips)
    line = one_error_line(train(write_ini(tmp_path / 'c.ini', sections)))
    assert 'my_clips' in line and 'indx.txt' in line
    assert digests(clips) == before


def test_builtin_data_of_another_look_is_refused_before_the_run_folder(tmp_path):
    clips = tmp_path / 'shapes'
    sections = tiny_sections(str(clips), str(tmp_path / 'run'), **{
        'DATA.builtin': 'yes', 'DATA.builtin_clips': 4})
    assert train(write_ini(tmp_path / 'c.ini', sections)).returncode == 0
    before = digests(clips)
    sections['DATA']['builtin_look'] = 'large'
    sections['SAVING']['out_dir'] = str(tmp_path / 'run_large')
    line = one_error_line(train(write_ini(tmp_path / 'c.ini', sections)))
    assert "builtin_look = 'large'" in line and "look 'standard'" in line
    assert digests(clips) == before and not (tmp_path / 'run_large').exists()


def test_a_changed_dataset_is_named_when_resuming(tmp_path, tiny_ini, shapes_dir):
    assert train(tiny_ini).returncode == 0
    index = tmp_path / 'fewer.txt'
    names = sorted(os.listdir(os.path.join(shapes_dir, 'clips')))[:8]
    index.write_text(''.join(f'{os.path.join(shapes_dir, "clips", n)}\n' for n in names))
    line = one_error_line(train(tiny_ini, f'DATA.index_file={index}', 'MODEL.iterations=4'))
    assert 'trained on 12 clips and the dataset now has 8' in line


def test_an_output_folder_that_is_a_file_stops_before_any_work(tmp_path, shapes_dir):
    (tmp_path / 'run').write_text('not a folder')
    sections = tiny_sections(shapes_dir, str(tmp_path / 'run' / 'sub'))
    line = one_error_line(train(write_ini(tmp_path / 'c.ini', sections)))
    assert 'out_dir' in line and 'run/sub' in line


DISK_FULL = """
import errno, sys
sys.path.insert(0, {root!r})
from base import chainer_compat
from numpy.lib import format as npy_format
def write_array(out, array, **options):
    raise OSError(errno.ENOSPC, 'No space left on device')
npy_format.write_array = write_array
sys.argv = ['main_train.py', '--config', {ini!r}, '--set', 'MODEL.iterations=4']
import main_train
sys.exit(main_train.main(sys.argv[1:]))
"""


def test_a_full_disk_is_one_line_and_keeps_the_last_good_snapshot(tmp_path, tiny_ini):
    assert train(tiny_ini, 'MODEL.iterations=2').returncode == 0
    before = digests(tmp_path / 'run')['snapshot_iter_2']
    script = DISK_FULL.format(ini=tiny_ini, root=ROOT)
    result = subprocess.run([sys.executable, '-c', script], cwd=ROOT, capture_output=True,
                            text=True, timeout=300)
    assert 'disk full' in one_error_line(result) and 'Exception ignored' not in result.stderr
    assert snapshot_names(tmp_path / 'run') == ['snapshot_iter_2']
    assert digests(tmp_path / 'run')['snapshot_iter_2'] == before
    resumed = train(tiny_ini, 'MODEL.iterations=4')
    assert resumed.returncode == 0 and 'iteration 2' in resumed.stdout, resumed.stderr


def test_an_interrupt_while_the_dataset_is_made_recovers_next_time(tmp_path):
    sections = tiny_sections(str(tmp_path / 'shapes'), str(tmp_path / 'run'), **{
        'DATA.builtin': 'yes', 'DATA.builtin_clips': 4000, 'MODEL.iterations': 1})
    ini = write_ini(tmp_path / 'c.ini', sections)
    process = subprocess.Popen([sys.executable, 'main_train.py', '--config', ini], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    clips = tmp_path / 'shapes' / 'clips'
    deadline = time.time() + 120
    while not (clips.is_dir() and len(os.listdir(clips)) > 5) and time.time() < deadline:
        time.sleep(0.1)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130 and stderr.strip().endswith('interrupted'), stderr
    assert 'Traceback' not in stderr
    result = train(write_ini(tmp_path / 'c2.ini', {**sections, 'DATA': {
        **sections['DATA'], 'builtin_clips': 6}}))
    assert result.returncode == 0, result.stderr
    assert 'made the built-in moving-shapes dataset' in result.stdout and 'on 6 clips' in \
        result.stdout


def start_long_run(tmp_path, shapes_dir):
    sections = tiny_sections(shapes_dir, str(tmp_path / 'run'), **{
        'MODEL.iterations': 100000, 'SAVING.snap_interval': 2})
    ini = write_ini(tmp_path / 'c.ini', sections)
    process = subprocess.Popen([sys.executable, 'main_train.py', '--config', ini], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while not (tmp_path / 'run' / 'snapshot_iter_4').exists() and time.time() < deadline:
        time.sleep(0.05)
    return process, ini


def test_a_second_interrupt_quits_at_once_with_one_line(tmp_path, shapes_dir):
    process, ini = start_long_run(tmp_path, shapes_dir)
    process.send_signal(signal.SIGTERM)
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert 'Traceback' not in stderr and 'Exception ignored' not in stderr
    assert stderr.strip().endswith('interrupted') or 'stopped by an interrupt' in stdout
    resumed = train(ini, 'MODEL.iterations=8')
    assert resumed.returncode == 0 and 'resumed from' in resumed.stdout, resumed.stderr


def test_kill_9_leaves_only_complete_files_and_resumes(tmp_path, shapes_dir):
    process, ini = start_long_run(tmp_path, shapes_dir)
    second = one_error_line(train(ini, 'MODEL.iterations=8'))
    assert 'another training process (pid' in second, 'a second process refuses the folder'
    process.kill()
    process.communicate(timeout=60)
    for name in os.listdir(tmp_path / 'run'):
        if name.endswith('.npz') or name.startswith('snapshot_iter_'):
            read_entries(str(tmp_path / 'run' / name))  # complete, or not under a final name
    resumed = train(ini, 'MODEL.iterations=8')
    assert resumed.returncode == 0 and 'resumed from' in resumed.stdout, resumed.stderr


@pytest.mark.parametrize('name', ['setup.ini', 'log', 'index.html', 'loss.png', 'samples'])
def test_a_run_never_replaces_a_users_file_in_its_folder(tmp_path, tiny_ini, name):
    run_dir = tmp_path / 'run'
    (run_dir / 'samples').mkdir(parents=True)
    target = run_dir / name / 'holiday.gif' if name == 'samples' else run_dir / name
    target.write_text('mine')
    line = one_error_line(train(tiny_ini))
    assert f'holds {name}, which no videogan run there made' in line
    assert target.read_text() == 'mine'


def test_out_dir_dot_never_rewrites_the_setup_ini_beside_it(tmp_path, shapes_dir):
    (tmp_path / 'setup.ini').write_text('[MODEL]\nch = 8\n')
    ini = write_ini(tmp_path / 'c.ini', tiny_sections(shapes_dir, '.'))
    result = subprocess.run([sys.executable, os.path.join(ROOT, 'main_train.py'), '--config',
                             ini], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert 'holds c.ini' not in result.stderr
    assert "out_dir = '.' holds setup.ini" in one_error_line(result)
    assert (tmp_path / 'setup.ini').read_text() == '[MODEL]\nch = 8\n'


def test_resuming_another_folders_snapshot_never_replaces_this_folders_run(tmp_path, shapes_dir):
    first = write_ini(tmp_path / 'a.ini', tiny_sections(shapes_dir, str(tmp_path / 'a')))
    second = write_ini(tmp_path / 'b.ini', tiny_sections(shapes_dir, str(tmp_path / 'b')))
    assert train(first).returncode == 0 and train(second, 'MODEL.seed=1').returncode == 0
    for name in snapshot_names(tmp_path / 'b'):  # the user kept only the model files
        os.remove(tmp_path / 'b' / name)
    before = digests(tmp_path / 'b')
    line = one_error_line(train(second, f'SAVING.resume={tmp_path / "a" / "snapshot_iter_3"}',
                                'MODEL.iterations=5'))
    assert 'holds the files of another run; resuming' in line
    assert digests(tmp_path / 'b') == before


def test_a_pickled_snapshot_is_refused_and_never_run(tmp_path, tiny_ini):
    assert train(tiny_ini, 'MODEL.iterations=2').returncode == 0
    snapshot = tmp_path / 'run' / 'snapshot_iter_2'
    entries = read_entries(str(snapshot))
    entries['updater/iteration'] = np.array([RunsCode(str(tmp_path / 'ran'))], dtype=object)
    with open(snapshot, 'wb') as out:
        np.savez(out, **entries)
    line = one_error_line(train(tiny_ini, f'SAVING.resume={snapshot}'))
    assert 'never unpickles' in line and not (tmp_path / 'ran').exists()


def test_a_log_file_naming_the_runs_own_log_is_refused_before_any_work(tmp_path, tiny_ini):
    line = one_error_line(train(tiny_ini, 'SAVING.log_file=log'))
    assert "[SAVING] log_file = 'log'" in line and not (tmp_path / 'run').exists()


def test_a_value_setup_ini_cannot_record_is_refused(tmp_path, tiny_ini):
    line = one_error_line(train(tiny_ini, 'DATA.root_dir=data/a #1'))
    assert "root_dir = 'data/a #1'" in line and "' #'" in line
    assert not (tmp_path / 'run').exists()


def test_a_feature_net_that_is_not_one_stops_before_any_work(tmp_path, shapes_dir):
    sections = tiny_sections(shapes_dir, str(tmp_path / 'run'), **{
        'DATA.builtin': 'yes', 'SAVING.feature_net': str(tmp_path / 'net.npz')})
    (tmp_path / 'net.npz').write_bytes(os.urandom(300))
    line = one_error_line(train(write_ini(tmp_path / 'c.ini', sections)))
    assert '[SAVING] feature_net =' in line and 'net.npz' in line
    assert not (tmp_path / 'run').exists()


def test_a_quality_score_over_one_clip_is_refused_in_one_line(tmp_path):
    sections = tiny_sections(str(tmp_path / 'shapes'), str(tmp_path / 'run'), **{
        'DATA.builtin': 'yes', 'DATA.builtin_clips': 1, 'SAVING.quality_interval': 1})
    line = one_error_line(train(write_ini(tmp_path / 'c.ini', sections)))
    assert 'quality_interval = 1: the score needs at least 2 clips' in line
