"""When a run stops and where it resumes: the run length, interrupts, snapshot lookup and loading.

Ctrl-C or SIGTERM is latched between two iterations (on every rank alike), so the
snapshot written then is the state a resumed run continues from exactly.
"""
import glob
import os
import re
import signal
import sys

import chainer
import numpy as np
from chainer import training
from chainer.training import extensions

from nn.DCGAN import build_networks
from nn.network_files import SETTINGS_ENTRY
from base.config import config_from_text
from base.npz_entries import NpzError, read_entries, read_entry
from base.errors import UserError


class RunLength:
    """Stop trigger: the configured length, or an interrupt latched between iterations."""

    def __init__(self, iterations, epochs):
        self.length = (iterations, 'iteration') if iterations else (epochs, 'epoch')
        self.pending = False
        self.stop_now = False
        self.handler_pid = os.getpid()
        self.previous_handlers = {}

    def done(self, trainer):
        """How far the run is, in the unit of its length: iterations or epochs (fractional)."""
        updater = trainer.updater
        return updater.iteration if self.length[1] == 'iteration' else updater.epoch_detail

    def share_done(self, trainer):
        """The share of the run done, 0 to 1."""
        return min(self.done(trainer) / self.length[0], 1.0)

    def reached(self, trainer):
        return self.done(trainer) >= self.length[0]

    def __call__(self, trainer):
        return self.stop_now or self.reached(trainer)

    def get_training_length(self):
        return self.length

    def request_stop(self, signum=None, frame=None):
        """Signal handler: finish this iteration, save, stop; a second signal quits at once.
        Loader processes forked from the trainer inherit it and ignore the signal: the
        trainer stops them (a signal to the process group reaches them too)."""
        if os.getpid() != self.handler_pid:
            return
        if self.pending:
            raise KeyboardInterrupt
        self.pending = True
        print('\nstopping after this iteration and saving a snapshot'
              ' (press Ctrl-C again to quit at once)', flush=True)

    def install_handlers(self):
        for signum in (signal.SIGINT, signal.SIGTERM):
            self.previous_handlers[signum] = signal.signal(signum, self.request_stop)

    def restore_handlers(self):
        """The handlers from before install_handlers: once training is over, a signal
        stops whatever comes after at once."""
        for signum, handler in self.previous_handlers.items():
            signal.signal(signum, handler)
        self.previous_handlers = {}

    def interrupted(self, trainer):
        """Whether the run stopped on an interrupt before its configured length."""
        return self.stop_now and not self.reached(trainer)


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


def snapshots(out_dir):
    """[(iteration, path)] of the snapshot_iter_N files in out_dir, newest first."""
    found = []
    for path in glob.glob(os.path.join(glob.escape(out_dir), 'snapshot_iter_*')):
        match = re.fullmatch(r'snapshot_iter_(\d+)', os.path.basename(path))
        if match:
            found.append((int(match.group(1)), path))
    return sorted(found, reverse=True)


def latest_snapshot(out_dir):
    """Path of the newest snapshot_iter_N in out_dir, or None."""
    found = snapshots(out_dir)
    return found[0][1] if found else None


class SnapshotMismatch(UserError):
    """A snapshot that cannot continue this config's run."""


MISMATCH_HINT = ('resume with the setup.ini the run was made with (tools/widen_model.py'
                 " changes a snapshot's ch)")


def check_resume_file(resume_from):
    """SnapshotMismatch unless [SAVING] resume is 'latest', 'none' or names a trainer
    snapshot (checked before any work: its iteration entry is read, nothing else)."""
    if resume_from in ('latest', 'none'):
        return
    where = f'[SAVING] resume = {resume_from!r}'
    if not os.path.isfile(resume_from):
        found = 'is a folder' if os.path.isdir(resume_from) else 'snapshot file not found'
        raise SnapshotMismatch(f'{where}: {found}; expected a snapshot_iter_N file, latest or'
                               ' none')
    try:
        iteration = read_entry(resume_from, 'updater/iteration')
    except NpzError as err:
        raise SnapshotMismatch(f'[SAVING] resume: {err}') from None
    if iteration is None:
        raise SnapshotMismatch(f'{where}: not a trainer snapshot (no updater/iteration entry;'
                               ' a generator or critic file?); expected a snapshot_iter_N file')


NETWORKS = {'gen': 'generator', 'critic': 'critic'}  # the snapshot's updater/model:NAME


def check_resume_shapes(model, out_dir, resume_from):
    """SnapshotMismatch, before any work, when the snapshot a resume would load first holds
    networks of other shapes than ModelConfig model builds: one line saying what differs
    (from the run's settings when its files carry them) and what to do. Reads each
    parameter's entry alone; a damaged snapshot is left to resume() to report."""
    path = _first_snapshot(out_dir, resume_from)
    if path is None:
        return
    state = np.random.get_state()  # building draws initial weights; leave no trace
    try:
        built = dict(zip(NETWORKS, build_networks(model)))
    finally:
        np.random.set_state(state)
    try:
        difference = _first_difference(path, built)
    except NpzError:
        return
    if difference is not None:
        raise _shape_mismatch(path, *difference, model, out_dir, resume_from)


def _first_difference(path, built):
    """(network, parameter, stored array or None, shape built or None) of the first
    parameter of the {NAME: link} built that the snapshot at path holds in another shape
    or not at all (or the retired frame critic's, which no model has); None when all fit."""
    for prefix, link in built.items():
        for name, param in sorted(link.namedparams()):
            stored = read_entry(path, f'updater/model:{prefix}{name}')
            if stored is None or stored.shape != param.shape:
                return NETWORKS[prefix], name[1:], stored, param.shape
    frames = read_entry(path, 'updater/model:critic/f1/W')
    return None if frames is None else ('critic', 'f1/W', frames, None)


def _first_snapshot(out_dir, resume_from):
    """The snapshot resume() would try first: the named one, or out_dir's newest readable
    one; None for none."""
    if resume_from == 'none':
        return None
    if resume_from != 'latest':
        return resume_from if os.path.isfile(resume_from) else None
    for _, path in snapshots(out_dir):
        try:
            read_entry(path, 'updater/iteration')
        except NpzError:
            continue
        return path
    return None


SHAPE_KEYS = ('ch', 'critic_ch', 'latent_dim', 'upsample')


def networks_in_words(model, other):
    """model's network shapes, as 'ch 64, 32x32x16' (frame_size x frame_size x n_frames),
    with each other shape key where it differs from ModelConfig other's."""
    size = f'{model.frame_size}x{model.frame_size}x{model.n_frames}'
    words = [f'ch {model.ch}', size] + [f'{key} {getattr(model, key)}' for key in SHAPE_KEYS[1:]
                                        if getattr(model, key) != getattr(other, key)]
    return ', '.join(words)


def _snapshot_model(path):
    """The ModelConfig of the run a snapshot belongs to: the settings its gen_iter_N.npz
    carries, else the setup.ini beside it; None when neither can be read."""
    folder = os.path.dirname(path)
    match = re.fullmatch(r'snapshot_iter_(\d+)', os.path.basename(path))
    try:
        if match:
            gen = os.path.join(folder, f'gen_iter_{match.group(1)}.npz')
            text = read_entry(gen, SETTINGS_ENTRY) if os.path.isfile(gen) else None
            if text is not None:
                return config_from_text(str(text), gen).model
        with open(os.path.join(folder, 'setup.ini'), encoding='utf-8') as ini:
            return config_from_text(ini.read(), os.path.join(folder, 'setup.ini')).model
    except (OSError, UnicodeDecodeError, UserError):
        return None


def _shape_mismatch(path, network, name, stored, own_shape, model, out_dir, resume_from):
    """The SnapshotMismatch of a snapshot whose `network` parameter `name` is stored as
    `stored` (None: absent) where model's has own_shape (None: has none)."""
    theirs = _snapshot_model(path)
    if theirs is not None and networks_in_words(theirs, model) != networks_in_words(model,
                                                                                    theirs):
        held = f'a {network} of {networks_in_words(theirs, model)}'
        asked = networks_in_words(model, theirs)
    else:
        def shape(array_shape):
            return 'none' if array_shape is None else str(tuple(array_shape))
        held = f'a {network} whose {name} is {shape(None if stored is None else stored.shape)}'
        asked = f'{name} {shape(own_shape)}'
    if resume_from == 'latest':
        way_out = (f'[SAVING] out_dir = {out_dir!r} holds another run; choose another out_dir'
                   ' (or resume that run with the setup.ini it was made with)')
    else:
        way_out = (f'[SAVING] resume = {resume_from!r} is another run; resume it with the'
                   ' setup.ini it was made with')
    return SnapshotMismatch(f'{path} holds {held}; this config asks for {asked}: {way_out}')


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


def _pick_snapshot(out_dir, resume_from):
    """(path, entries) of the snapshot to resume: the named one, or the newest
    undamaged one in out_dir (saying which were skipped); (None, None) for none."""
    if resume_from == 'none':
        return None, None
    if resume_from != 'latest':
        if not os.path.isfile(resume_from):
            raise SnapshotMismatch(f'[SAVING] resume = {resume_from!r}: snapshot file not found')
        try:
            return resume_from, read_entries(resume_from)
        except NpzError as err:
            raise SnapshotMismatch(f'[SAVING] resume: {err}') from None
    found = snapshots(out_dir)
    for _, path in found:
        try:
            return path, read_entries(path)
        except NpzError as err:
            print(f'warning: skipping a damaged snapshot: {err}; trying the one before it',
                  file=sys.stderr)
    if found:
        raise SnapshotMismatch(f'[SAVING] out_dir = {out_dir!r}: every snapshot there is damaged'
                               f' ({len(found)} tried); move them away to start a new run')
    return None, None


def _check_dataset_size(path, stored, trainer):
    order = stored.get('updater/iterator:main/order')
    dataset = trainer.updater.get_iterator('main').dataset
    if order is not None and order.ndim == 1 and len(order) != len(dataset):
        raise SnapshotMismatch(f'{path}: the run was trained on {len(order)} clips and the'
                               f' dataset now has {len(dataset)} ([DATA] root_dir / index_file'
                               ' changed?); resume needs the same clips, or start a new run'
                               ' in another out_dir')


def resume(trainer, out_dir, resume_from):
    """Load the snapshot named by [SAVING] resume; return its path or None. The
    training state must match the config; extensions added since (say, a
    quality_interval turned on) start fresh."""
    path, stored = _pick_snapshot(out_dir, resume_from)
    if path is None:
        return None
    _check_dataset_size(path, stored, trainer)
    own = _own_state(trainer)
    missing = sorted(k for k in own if k.startswith('updater/') and k not in stored)
    if missing:
        more = f' and {len(missing) - 1} more' if len(missing) > 1 else ''
        raise SnapshotMismatch(f'{path}: has no {missing[0]}{more}, which the networks of'
                               f' this config need; {MISMATCH_HINT}')
    try:
        chainer.serializers.NpzDeserializer({**own, **stored}).load(trainer)
    except ValueError as err:
        raise SnapshotMismatch(f'{path}: does not fit the networks of this config ({err});'
                               f' {MISMATCH_HINT}') from None
    _start_new_extensions(trainer, stored)
    _continue_printed_log(trainer)
    return path


def _continue_printed_log(trainer):
    """Let each PrintReport go on after the restored log: Chainer's prints every entry it
    has not printed itself, so a resumed run would print the earlier sessions' lines again."""
    logs = [entry.extension.log for entry in trainer._extensions.values()
            if isinstance(entry.extension, extensions.LogReport)]
    for entry in trainer._extensions.values():
        if logs and isinstance(entry.extension, extensions.PrintReport):
            entry.extension._log_len = len(logs[0])  # the count of entries already printed


def _start_new_extensions(trainer, stored):
    """Extensions the snapshot holds no state for kept their own, fresh one while
    loading; those with a start_fresh() now start from the loaded training state."""
    for name, entry in trainer._extensions.items():
        prefix = f'extensions/{name}/'
        if hasattr(entry.extension, 'start_fresh') and not any(
                key.startswith(prefix) for key in stored):
            entry.extension.start_fresh()
