import os
import subprocess
import sys

import numpy as np
import pytest

from computations.run_folder import (LOCK, MARKER, RUN_ID_ENTRY, RunFolder, RunFolderInUse,
                                     check_log_file, marked_run_id, snapshot_run_id)
from base.errors import UserError
from base.npz_entries import write_entries


def snapshot(path, run_id=None):
    """A stand-in trainer snapshot at path carrying run_id (none: from before run ids)."""
    entries = {'updater/iteration': np.array(5)}
    if run_id is not None:
        entries[RUN_ID_ENTRY] = np.array(run_id)
    write_entries(str(path), entries)
    return str(path)


def claim(folder, resume_from='latest', log_file=''):
    run = RunFolder(str(folder), resume_from, log_file)
    run.release()
    return run.run_id


def test_a_new_folder_is_claimed_with_a_marker(tmp_path):
    run_id = claim(tmp_path)
    assert marked_run_id(str(tmp_path)) == run_id and len(run_id) == 16
    assert claim(tmp_path) != run_id, 'a folder with no snapshot yet starts a new run'


@pytest.mark.parametrize('name', ['setup.ini', 'log', 'index.html', 'loss.png', 'wdist.png'])
def test_a_file_the_run_would_replace_is_refused_when_no_run_made_it(tmp_path, name):
    (tmp_path / name).write_text('mine')
    with pytest.raises(RunFolderInUse, match=f'holds {name}, which no videogan run there made'):
        claim(tmp_path)
    assert (tmp_path / name).read_text() == 'mine' and not (tmp_path / MARKER).exists()


def test_samples_count_only_when_they_hold_something(tmp_path):
    (tmp_path / 'samples').mkdir()
    claim(tmp_path / '..' / tmp_path.name)
    os.remove(tmp_path / MARKER)
    (tmp_path / 'samples' / 'holiday.gif').write_bytes(b'GIF89a')
    with pytest.raises(RunFolderInUse, match='holds samples'):
        claim(tmp_path)
    (tmp_path / 'train.log').write_text('mine')
    os.remove(tmp_path / 'samples' / 'holiday.gif')
    with pytest.raises(RunFolderInUse, match='holds train.log'):
        claim(tmp_path, log_file='train.log')


def test_a_run_without_a_marker_or_snapshot_is_another_run(tmp_path):
    (tmp_path / 'gen_iter_5.npz').write_bytes(b'')
    for resume_from, way_out in (('none', 'or resume = latest'),
                                 ('latest', 'it has no snapshot to resume')):
        with pytest.raises(RunFolderInUse, match=r'holds another run \(gen_iter_5.npz') as err:
            claim(tmp_path, resume_from)
        assert str(err.value).endswith(way_out)


def test_a_run_recognises_its_own_unfinished_first_files(tmp_path):
    claim(tmp_path)
    (tmp_path / 'gen_iter_5.npz').write_bytes(b'')
    (tmp_path / 'setup.ini').write_text('[MODEL]\n')
    claim(tmp_path)
    claim(tmp_path, 'none')


def test_resuming_continues_the_run_the_snapshot_carries(tmp_path):
    snapshot(tmp_path / 'snapshot_iter_5', 'abc')
    assert claim(tmp_path) == 'abc' and marked_run_id(str(tmp_path)) == 'abc'
    with pytest.raises(RunFolderInUse, match='holds another run .*resume = latest$'):
        claim(tmp_path, 'none')


def test_a_folder_from_before_markers_is_adopted_by_its_snapshot(tmp_path):
    snapshot(tmp_path / 'snapshot_iter_5')
    (tmp_path / 'setup.ini').write_text('[MODEL]\n')
    run_id = claim(tmp_path)
    assert marked_run_id(str(tmp_path)) == run_id
    assert claim(tmp_path, str(tmp_path / 'snapshot_iter_5')) == run_id


def test_another_runs_snapshot_never_writes_over_a_folders_files(tmp_path):
    run, other = tmp_path / 'run', tmp_path / 'other'
    claim(run)
    (run / 'gen_iter_2.npz').write_bytes(b'weights')
    elsewhere = snapshot(other / 'snapshot_iter_5', 'other-run')
    with pytest.raises(RunFolderInUse, match='holds the files of another run; resuming'):
        claim(run, elsewhere)
    snapshot(run / 'snapshot_iter_5', 'other-run')
    with pytest.raises(RunFolderInUse, match='belongs to another run than the files there'):
        claim(run)
    assert (run / 'gen_iter_2.npz').read_bytes() == b'weights'


def test_a_named_snapshot_older_than_the_folders_newest_is_refused(tmp_path):
    snapshot(tmp_path / 'snapshot_iter_5', 'abc')
    snapshot(tmp_path / 'snapshot_iter_9', 'abc')
    with pytest.raises(RunFolderInUse, match='holds snapshots up to snapshot_iter_9'):
        claim(tmp_path, str(tmp_path / 'snapshot_iter_5'))
    assert claim(tmp_path / 'fresh', str(tmp_path / 'snapshot_iter_5')) == 'abc'


def test_a_second_process_is_refused_while_a_run_holds_the_folder(tmp_path):
    first = RunFolder(str(tmp_path), 'latest')
    try:
        with pytest.raises(RunFolderInUse, match=rf'another training process \(pid {os.getpid()}'):
            RunFolder(str(tmp_path), 'latest')
    finally:
        first.release()
    claim(tmp_path)


@pytest.mark.subprocess
def test_a_killed_run_leaves_no_stale_lock(tmp_path):
    holder = subprocess.Popen(
        [sys.executable, '-c', 'import sys, time; from computations.run_folder import RunFolder;'
         ' held = RunFolder(sys.argv[1], "latest"); print("held", flush=True); time.sleep(60)',
         str(tmp_path)], cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))),
        stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == 'held'
    with pytest.raises(RunFolderInUse, match='another training process'):
        claim(tmp_path)
    holder.kill()
    holder.wait()
    assert (tmp_path / LOCK).exists()
    claim(tmp_path)


def test_snapshot_run_id_is_none_for_older_or_unreadable_snapshots(tmp_path):
    assert snapshot_run_id(snapshot(tmp_path / 'a', 'abc')) == 'abc'
    assert snapshot_run_id(snapshot(tmp_path / 'b')) is None
    (tmp_path / 'c').write_bytes(b'not a zip')
    assert snapshot_run_id(str(tmp_path / 'c')) is None


@pytest.mark.parametrize('name', ['log', 'setup.ini', 'samples', 'gen_iter_3.npz',
                                  'snapshot_iter_2', MARKER, 'sub/train.log', '..'])
def test_a_log_file_never_names_a_file_of_the_run(name):
    with pytest.raises(UserError, match=rf"\[SAVING\] log_file = '{name}'"):
        check_log_file(name)
    check_log_file('train.log')
    check_log_file('')


def test_a_folder_holding_only_a_refused_runs_marker_takes_any_snapshot(tmp_path):
    claim(tmp_path / 'a')  # a run that stopped before writing anything but its marker
    elsewhere = snapshot(tmp_path / 'b' / 'snapshot_iter_5', 'other-run')
    assert claim(tmp_path / 'a', elsewhere) == 'other-run'


def test_a_log_file_a_run_there_did_not_write_is_refused(tmp_path):
    claim(tmp_path, log_file='train.log')
    (tmp_path / 'train.log').write_text('lines the run printed\n')
    claim(tmp_path, log_file='train.log')
    (tmp_path / 'evaluation.json').write_text('{}')
    with pytest.raises(RunFolderInUse, match='holds evaluation.json, which no videogan run'):
        claim(tmp_path, log_file='evaluation.json')
    assert (tmp_path / 'evaluation.json').read_text() == '{}'


def test_a_marker_from_before_log_files_were_listed_keeps_its_log(tmp_path):
    (tmp_path / MARKER).write_text('{"run": "abc"}')
    (tmp_path / 'train.log').write_text('lines the run printed\n')
    claim(tmp_path, log_file='train.log')
    assert '"log_files": ["train.log"]' in (tmp_path / MARKER).read_text()


def test_a_lock_that_is_a_link_is_never_followed(tmp_path):
    (tmp_path / 'precious.txt').write_text('mine')
    (tmp_path / 'run').mkdir()
    os.symlink(tmp_path / 'precious.txt', tmp_path / 'run' / LOCK)
    with pytest.raises(RunFolderInUse, match='cannot use its lock file'):
        claim(tmp_path / 'run')
    assert (tmp_path / 'precious.txt').read_text() == 'mine'


def test_a_refused_claim_leaves_no_lock_behind(tmp_path):
    (tmp_path / 'setup.ini').write_text('mine')
    with pytest.raises(RunFolderInUse):
        claim(tmp_path)
    assert sorted(os.listdir(tmp_path)) == ['setup.ini']


@pytest.mark.parametrize('text', ['{"run": null}', '[1]', 'garbage', '{"run": ""}'])
def test_a_marker_without_a_run_id_counts_as_none(tmp_path, text):
    (tmp_path / MARKER).write_text(text)
    assert marked_run_id(str(tmp_path)) is None
    snapshot(tmp_path / 'snapshot_iter_5', 'abc')
    assert claim(tmp_path) == 'abc'
