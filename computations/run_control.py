"""When a run stops and where it resumes: the run length, interrupts, snapshot lookup and loading.

Ctrl-C or SIGTERM is latched between two iterations (on every rank alike), so the
snapshot written then is the state a resumed run continues from exactly.
"""
import glob
import os
import re
import signal

import chainer
from chainer import training

from utils.npz_entries import read_entries


class RunLength:
    """Stop trigger: the configured length, or an interrupt latched between iterations."""

    def __init__(self, iterations, epochs):
        self.length = (iterations, 'iteration') if iterations else (epochs, 'epoch')
        self.pending = False
        self.stop_now = False

    def reached(self, trainer):
        count, unit = self.length
        updater = trainer.updater
        return (updater.iteration if unit == 'iteration' else updater.epoch_detail) >= count

    def __call__(self, trainer):
        return self.stop_now or self.reached(trainer)

    def get_training_length(self):
        return self.length

    def request_stop(self, signum=None, frame=None):
        """Signal handler: finish this iteration, save, stop; a second signal quits at once."""
        if self.pending:
            raise KeyboardInterrupt
        self.pending = True
        print('\nstopping after this iteration and saving a snapshot'
              ' (press Ctrl-C again to quit at once)', flush=True)

    def install_handlers(self):
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self.request_stop)


class EveryOrLast:
    """Fires every `interval` iterations and on the run's last iteration."""

    def __init__(self, interval, run_length):
        self.interval, self.run_length = interval, run_length

    def __call__(self, trainer):
        return trainer.updater.iteration % self.interval == 0 or self.run_length(trainer)


def latch_interrupt(run_length, world):
    """First extension of each iteration: an interrupt seen now (by any rank)
    applies to it, on every rank alike."""
    @training.make_extension(trigger=(1, 'iteration'), priority=1000)
    def latch(trainer):
        run_length.stop_now = world.any(run_length.pending)
    return latch


def latest_snapshot(out_dir):
    """Path of the newest snapshot_iter_N in out_dir, or None."""
    found = []
    for path in glob.glob(os.path.join(out_dir, 'snapshot_iter_*')):
        match = re.fullmatch(r'snapshot_iter_(\d+)', os.path.basename(path))
        if match:
            found.append((int(match.group(1)), path))
    return max(found)[1] if found else None


class SnapshotMismatch(ValueError):
    """A snapshot made by networks other than this config's."""


MISMATCH_HINT = ('resume with the setup.ini the run was made with (utils/widen_model.py and'
                 " utils/add_frame_critic.py change a snapshot's ch and frame critic)")


def _own_state(trainer):
    """What trainer.serialize would save now, but for the elapsed time, which a
    trainer that has not started cannot give (the snapshot always holds it)."""
    own = chainer.serializers.DictionarySerializer()
    trainer.updater.serialize(own['updater'])
    if hasattr(trainer.stop_trigger, 'serialize'):
        trainer.stop_trigger.serialize(own['stop_trigger'])
    for name, entry in trainer._extensions.items():
        if hasattr(entry.extension, 'serialize'):
            entry.extension.serialize(own['extensions'][name])
        if hasattr(entry.trigger, 'serialize'):
            entry.trigger.serialize(own['extension_triggers'][name])
    return own.target


def _merged_state(path, trainer):
    """The snapshot's entries over this trainer's own ones, and the training state
    (networks, optimizers, iterator) the snapshot lacks."""
    own, stored = _own_state(trainer), read_entries(path)
    missing = sorted(k for k in own if k.startswith('updater/') and k not in stored)
    return {**own, **stored}, missing


def resume(trainer, out_dir, resume_from):
    """Load the snapshot named by [SAVING] resume; return its path or None. The
    training state must match the config; extensions added since (say, a
    quality_interval turned on) start fresh."""
    if resume_from == 'none':
        return None
    path = latest_snapshot(out_dir) if resume_from == 'latest' else resume_from
    if path is None:
        return None
    if not os.path.isfile(path):
        raise FileNotFoundError(f'[SAVING] resume = {resume_from!r}: snapshot file not found')
    merged, missing = _merged_state(path, trainer)
    if missing:
        more = f' and {len(missing) - 1} more' if len(missing) > 1 else ''
        raise SnapshotMismatch(f'{path}: has no {missing[0]}{more}, which the networks of'
                               f' this config need; {MISMATCH_HINT}')
    try:
        chainer.serializers.NpzDeserializer(merged).load(trainer)
    except ValueError as err:
        raise SnapshotMismatch(f'{path}: does not fit the networks of this config ({err});'
                               f' {MISMATCH_HINT}') from None
    return path
