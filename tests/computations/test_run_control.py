import dataclasses
import os
import signal

import numpy as np
import pytest

from computations.run_control import (EveryOrLast, RunLength, SnapshotMismatch,
                                      check_resume_file, check_resume_shapes, latest_snapshot,
                                      resume)
from nn.DCGAN import build_networks
from nn.network_files import SETTINGS_ENTRY
from base.config import Config, ModelConfig, format_config
from base.npz_entries import read_entries, write_entries


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


def test_share_done_counts_iterations_or_epochs_and_stops_at_one():
    assert RunLength(120, 5).share_done(FakeTrainer(30)) == pytest.approx(0.25)
    assert RunLength(0, 5).share_done(FakeTrainer(7, epoch_detail=2.5)) == pytest.approx(0.5)
    assert RunLength(120, 5).share_done(FakeTrainer(200)) == 1.0


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


TINY_MODEL = ModelConfig(ch=8, latent_dim=8, frame_size=16, n_frames=16)


def write_snapshot(folder, model, settings=True, iteration=3):
    """A trainer snapshot holding model's networks (what resume checks first), and beside it
    the gen_iter_N.npz carrying the run's settings when settings."""
    gen, critic = build_networks(model)
    entries = {'updater/iteration': np.array(iteration)}
    for prefix, link in (('gen', gen), ('critic', critic)):
        entries.update({f'updater/model:{prefix}{name}': param.array
                        for name, param in link.namedparams()})
    path = os.path.join(folder, f'snapshot_iter_{iteration}')
    write_entries(path, entries)
    if settings:
        write_entries(os.path.join(folder, f'gen_iter_{iteration}.npz'),
                      {SETTINGS_ENTRY: np.array(format_config(Config(model=model)))})
    return path


def test_a_snapshot_of_the_configs_shapes_resumes_and_none_is_checked(tmp_path):
    check_resume_shapes(TINY_MODEL, str(tmp_path), 'latest')
    path = write_snapshot(str(tmp_path), TINY_MODEL)
    before = np.random.get_state()[1].copy()
    check_resume_shapes(TINY_MODEL, str(tmp_path), 'latest')
    check_resume_shapes(TINY_MODEL, str(tmp_path), path)
    assert np.array_equal(np.random.get_state()[1], before), 'the global seed is untouched'
    check_resume_shapes(dataclasses.replace(TINY_MODEL, ch=16), str(tmp_path), 'none')


def test_another_runs_shapes_are_named_in_one_line_before_any_work(tmp_path):
    path = write_snapshot(str(tmp_path), TINY_MODEL)
    wider = dataclasses.replace(TINY_MODEL, ch=16, frame_size=32)
    with pytest.raises(SnapshotMismatch) as caught:
        check_resume_shapes(wider, str(tmp_path), 'latest')
    assert str(caught.value) == (
        f"{path} holds a generator of ch 8, 16x16x16; this config asks for ch 16, 32x32x16:"
        f" [SAVING] out_dir = '{tmp_path}' holds another run; choose another out_dir (or resume"
        " that run with the setup.ini it was made with)")
    with pytest.raises(SnapshotMismatch, match=r"^.* asks for ch 16, 32x32x16: \[SAVING\] resume"
                                               r" = '.*snapshot_iter_3' is another run; resume"
                                               " it with the setup.ini it was made with$"):
        check_resume_shapes(wider, str(tmp_path / 'elsewhere'), path)


def test_without_the_runs_settings_the_first_parameter_that_differs_is_named(tmp_path):
    path = write_snapshot(str(tmp_path), TINY_MODEL, settings=False)
    with pytest.raises(SnapshotMismatch, match=r'^' + path + r' holds a generator whose bn0/beta'
                                               r' is \(8,\); this config asks for bn0/beta'
                                               r' \(16,\): '):
        check_resume_shapes(dataclasses.replace(TINY_MODEL, ch=16), str(tmp_path), 'latest')


def test_a_snapshot_with_the_retired_frame_critic_is_another_run(tmp_path):
    path = write_snapshot(str(tmp_path), TINY_MODEL, settings=False)
    entries = read_entries(path)
    entries['updater/model:critic/f1/W'] = np.zeros((2, 3, 1, 4, 4), np.float32)
    write_entries(path, entries)
    with pytest.raises(SnapshotMismatch, match=r'^' + path + r' holds a critic whose f1/W is'
                                               r' \(2, 3, 1, 4, 4\); this config asks for f1/W'
                                               r' none: '):
        check_resume_shapes(TINY_MODEL, str(tmp_path), 'latest')


def older_settings(model):
    """The setup.ini text a run recorded before 2026-12-02: index_dir, and critic_frame_ch
    and critic_learning_rate at their off values."""
    text = format_config(Config(model=model)).replace('index_file = ', 'index_dir = ')
    text = text.replace('[MODEL]\n', '[MODEL]\ncritic_frame_ch = 0\n')
    return text.replace('[ADAM]\n', '[ADAM]\ncritic_learning_rate = 0.0\n')


def test_a_run_recorded_with_the_older_names_resumes_and_is_read_when_it_differs(tmp_path):
    """The run's settings are read back (they name its shapes in the mismatch) whichever
    names they hold; a config of its shapes resumes it."""
    folder = str(tmp_path / 'older')
    os.mkdir(folder)
    path = write_snapshot(folder, TINY_MODEL, settings=False)
    write_entries(os.path.join(folder, 'gen_iter_3.npz'),
                  {SETTINGS_ENTRY: np.array(older_settings(TINY_MODEL))})
    check_resume_shapes(TINY_MODEL, folder, 'latest')
    with pytest.raises(SnapshotMismatch, match=r'^' + path + r' holds a generator of ch 8,'
                                               r' 16x16x16; this config asks for ch 16,'):
        check_resume_shapes(dataclasses.replace(TINY_MODEL, ch=16), folder, 'latest')
