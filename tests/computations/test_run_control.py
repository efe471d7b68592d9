import os
import signal

import numpy as np
import pytest

from computations.run_control import (EveryOrLast, RunLength, SnapshotMismatch,
                                      check_resume_file, latest_snapshot, resume)
from utils.npz_entries import write_entries


class FakeUpdater:
    def __init__(self, iteration, epoch_detail=0.0):
        self.iteration, self.epoch_detail = iteration, epoch_detail


class FakeTrainer:
    def __init__(self, iteration, epoch_detail=0.0):
        self.updater = FakeUpdater(iteration, epoch_detail)


def test_latest_snapshot_is_the_highest_iteration(tmp_path):
    assert latest_snapshot(str(tmp_path)) is None
    for name in ('snapshot_iter_9', 'snapshot_iter_10', 'snapshot_iter_2.tmp', 'gen_iter_99.npz'):
        (tmp_path / name).write_bytes(b'')
    assert latest_snapshot(str(tmp_path)).endswith('snapshot_iter_10')


def test_resume_none_latest_and_missing_path(tmp_path):
    assert resume(None, str(tmp_path), 'none') is None
    assert resume(None, str(tmp_path), 'latest') is None, 'a fresh run folder starts fresh'
    with pytest.raises(SnapshotMismatch, match="resume = 'gone': snapshot file not found"):
        resume(None, str(tmp_path), 'gone')


def test_run_length_in_iterations_or_epochs_and_interrupts():
    by_iterations = RunLength(iterations=5, epochs=3)
    assert not by_iterations(FakeTrainer(4)) and by_iterations(FakeTrainer(5))
    by_epochs = RunLength(iterations=0, epochs=2)
    assert not by_epochs(FakeTrainer(100, 1.9)) and by_epochs(FakeTrainer(101, 2.0))
    assert by_epochs.get_training_length() == (2, 'epoch')
    by_iterations.request_stop()
    assert by_iterations.pending and not by_iterations(FakeTrainer(1)), 'latched later'
    with pytest.raises(KeyboardInterrupt):
        by_iterations.request_stop()


def test_a_forked_loader_process_ignores_the_stop_signal(monkeypatch, capsys):
    run_length = RunLength(iterations=5, epochs=0)
    monkeypatch.setattr(os, 'getpid', lambda: run_length.handler_pid + 1)
    run_length.request_stop()
    run_length.request_stop()
    assert not run_length.pending and capsys.readouterr().out == ''


def test_every_or_last_fires_on_intervals_and_at_the_end():
    every = EveryOrLast(3, RunLength(iterations=7, epochs=0))
    assert [i for i in range(1, 8) if every(FakeTrainer(i))] == [3, 6, 7]


def test_after_training_the_handlers_from_before_are_back():
    before = signal.getsignal(signal.SIGTERM)
    run_length = RunLength(iterations=5, epochs=0)
    run_length.install_handlers()
    assert signal.getsignal(signal.SIGTERM) == run_length.request_stop
    run_length.restore_handlers()
    assert signal.getsignal(signal.SIGTERM) == before


def test_only_a_stop_before_the_length_counts_as_interrupted():
    run_length = RunLength(iterations=5, epochs=0)
    assert not run_length.interrupted(FakeTrainer(3))
    run_length.stop_now = True
    assert run_length.interrupted(FakeTrainer(3)) and not run_length.interrupted(FakeTrainer(5))


def test_a_resume_that_is_not_a_snapshot_is_refused_before_any_work(tmp_path):
    check_resume_file('latest')
    check_resume_file('none')
    with pytest.raises(SnapshotMismatch, match='snapshot file not found'):
        check_resume_file(str(tmp_path / 'nope'))
    with pytest.raises(SnapshotMismatch, match='is a folder'):
        check_resume_file(str(tmp_path))
    write_entries(str(tmp_path / 'gen_iter_3.npz'), {'l0/W': np.ones(2)})
    with pytest.raises(SnapshotMismatch, match='not a trainer snapshot'):
        check_resume_file(str(tmp_path / 'gen_iter_3.npz'))
    write_entries(str(tmp_path / 'snapshot_iter_3'), {'updater/iteration': np.array(3)})
    check_resume_file(str(tmp_path / 'snapshot_iter_3'))
