"""Who owns a run folder: the run's marker, its lock, and the check made before a run
writes anything there.

A run writes MARKER (its run id) into out_dir before any other file, and every snapshot
carries the same id (RunIdentity), so a folder is recognised as a run's own by content,
never by file names alone. Only that run and its resumed continuations replace the files
a run writes (RUN_NAMES, RUN_FILE); a folder made before markers
existed is adopted when it holds a snapshot to resume. LOCK is held (flock) while a
process trains there, so a second process refuses; the kernel releases it when the
process ends, so a killed run leaves no stale lock.
"""
import fcntl
import json
import os
import re
import secrets

from chainer import training

from computations.run_control import snapshots
from base.errors import UserError
from base.npz_entries import read_entry
from base.safe_files import write_text

MARKER = '.videogan-run'
LOCK = '.videogan-run.lock'
RUN_NAMES = ('setup.ini', 'log', 'index.html', 'loss.png', 'wdist.png', 'quality.png',
             'quality.json', 'samples')
RUN_FILE = re.compile(r'snapshot_iter_\d+|\w+_iter_\d+\.npz')
RUN_ID_ENTRY = 'extensions/run_identity/run_id'


class RunFolderInUse(UserError):
    """A run folder that holds another run's files or is in use by another process."""


class RunIdentity(training.Extension):
    """The run's id, saved in every snapshot; it never runs."""
    name = 'run_identity'

    def __init__(self, run_id):
        self.run_id = run_id

    @staticmethod
    def trigger(trainer):
        return False

    def __call__(self, trainer):
        pass

    def serialize(self, serializer):
        self.run_id = serializer('run_id', self.run_id)


def snapshot_run_id(path):
    """The run id a snapshot carries, or None (written before run ids, or unreadable)."""
    try:
        stored = read_entry(path, RUN_ID_ENTRY)
    except UserError:
        return None
    return None if stored is None else str(stored)


def _marker(out_dir):
    """out_dir's marker: {'run': id, 'log_files': [names appended to]}, or None."""
    try:
        with open(os.path.join(out_dir, MARKER), encoding='utf-8') as marker:
            found = json.load(marker)
    except (OSError, ValueError):
        return None
    if not (isinstance(found, dict) and isinstance(found.get('run'), str) and found['run']):
        return None
    logs = found.get('log_files')  # absent in markers written before log files were listed
    return {'run': found['run'], 'log_files': None if logs is None else
            [n for n in logs if isinstance(n, str)] if isinstance(logs, list) else []}


def marked_run_id(out_dir):
    """The run id in out_dir's marker, or None when out_dir carries none."""
    marker = _marker(out_dir)
    return None if marker is None else marker['run']


def check_log_file(log_file):
    """UserError when [SAVING] log_file names a file the run itself writes, or a path."""
    if not log_file:
        return
    if os.path.basename(log_file) != log_file or log_file in ('.', '..'):
        raise UserError(f"[SAVING] log_file = {log_file!r}: expected a plain file name inside"
                        " out_dir (no folder), e.g. 'train.log'")
    if log_file in RUN_NAMES + (MARKER, LOCK) or RUN_FILE.fullmatch(log_file):
        raise UserError(f"[SAVING] log_file = {log_file!r}: the run writes a file of that name"
                        " itself; choose another, e.g. 'train.log'")


class RunFolder:
    """out_dir, claimed for one run: the lock held until release(), the marker written."""

    def __init__(self, out_dir, resume_from, log_file=''):
        self.out_dir, self.where = out_dir, f'[SAVING] out_dir = {out_dir!r}'
        self._lock, made_lock = _take_lock(out_dir, self.where)
        try:
            marker = _marker(out_dir)
            self.run_id = _owner_for(out_dir, resume_from, log_file, self.where)
            logs = _logs_after(marker, log_file, out_dir, self.where)
            write_text(os.path.join(out_dir, MARKER),
                       json.dumps({'run': self.run_id, 'log_files': logs}) + '\n')
        except BaseException:
            self.release()
            if made_lock:
                os.remove(os.path.join(out_dir, LOCK))
            raise

    def release(self):
        if self._lock is not None:
            self._lock.close()
            self._lock = None


def _logs_after(marker, log_file, out_dir, where):
    """The log files the marker will list; RunFolderInUse when log_file exists in a claimed
    folder without a run there having appended to it (a marker that lists none, from
    before they were listed, is taken at its word like a folder adopted by its snapshot)."""
    listed = marker is not None and marker['log_files'] is not None
    logs = marker['log_files'] if listed else []
    if not log_file or log_file in logs:
        return logs
    if listed and os.path.lexists(os.path.join(out_dir, log_file)):
        raise RunFolderInUse(f'{where} holds {log_file}, which no videogan run there wrote;'
                             ' [SAVING] log_file would append to it: choose another log_file')
    return logs + [log_file]


def _take_lock(out_dir, where):
    """(the locked lock file, whether this call created it); never follows a link."""
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, LOCK)
    made = not os.path.lexists(path)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
    except OSError as err:
        raise RunFolderInUse(f'{where}: cannot use its lock file {LOCK} ({err.strerror}; a'
                             ' link or a folder there?); remove it and run again') from None
    lock = os.fdopen(fd, 'r+', encoding='utf-8')
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.seek(0)
        holder = lock.read().strip() or 'unknown'
        lock.close()
        raise RunFolderInUse(f'{where}: another training process (pid {holder}) is using this'
                             ' run folder; wait until it stops, or choose another out_dir') from None
    lock.seek(0)
    lock.truncate()
    lock.write(f'{os.getpid()}\n')
    lock.flush()
    return lock, made


def _owner_for(out_dir, resume_from, log_file, where):
    """The run id this run writes out_dir's files under, after checking it may."""
    owner = marked_run_id(out_dir)
    found = snapshots(out_dir)
    if resume_from == 'latest' and found:
        return _continued(found[0][1], owner, where)
    if resume_from not in ('none', 'latest'):
        return _resumed_from(resume_from, found, owner, out_dir, where)
    if found:
        raise RunFolderInUse(f'{where} holds another run ({os.path.basename(found[0][1])},'
                             f' {len(found)} snapshots); resume = {resume_from} would start a'
                             ' new run over it: choose an empty out_dir or move that run away,'
                             ' or resume = latest')
    if owner is None:
        _refuse_foreign_files(out_dir, log_file, where, resume_from)
    return secrets.token_hex(8)


def _continued(snapshot, owner, where):
    """The run id when resuming snapshot, found in out_dir itself."""
    carried = snapshot_run_id(snapshot)
    if owner is not None and carried is not None and carried != owner:
        raise RunFolderInUse(f'{where}: {os.path.basename(snapshot)} belongs to another run'
                             ' than the files there; move it to a folder of its own to resume it')
    return carried or owner or secrets.token_hex(8)


def _resumed_from(path, found, owner, out_dir, where):
    """The run id when resuming a named snapshot into out_dir."""
    if found:
        newest = found[0][1]
        if os.path.exists(path) and os.path.samefile(newest, path):
            return _continued(newest, owner, where)
        raise RunFolderInUse(f'{where} holds snapshots up to {os.path.basename(newest)};'
                             f' resuming {path!r} there would mix two runs: resume into'
                             ' an empty out_dir, or move the newer snapshots away')
    carried = snapshot_run_id(path) if os.path.isfile(path) else None
    if owner is not None and carried != owner and foreign_files(out_dir):
        raise RunFolderInUse(f'{where} holds the files of another run; resuming {path!r} there'
                             ' would replace them: resume into an empty out_dir')
    if owner is None or carried != owner:
        _refuse_foreign_files(out_dir, '', where, path)
    return carried or secrets.token_hex(8)


def _refuse_foreign_files(out_dir, log_file, where, resume_from):
    """RunFolderInUse when out_dir, which no run has claimed, holds a file the run would
    write: made by an earlier run without a snapshot, or by someone else."""
    clashes = foreign_files(out_dir, log_file)
    if not clashes:
        return
    runs = [name for name in clashes if RUN_FILE.fullmatch(name)]
    if runs:
        way_out = ('; it has no snapshot to resume' if resume_from == 'latest'
                   else ', or resume = latest')
        raise RunFolderInUse(f'{where} holds another run ({runs[-1]}, {len(runs)} run files);'
                             f' resume = {resume_from} would start a new run over it: choose'
                             f' an empty out_dir or move that run away{way_out}')
    raise RunFolderInUse(f'{where} holds {clashes[0]}, which no videogan run there made and'
                         ' this run would replace: choose an empty out_dir or move it away')


def foreign_files(out_dir, log_file=''):
    """The names in out_dir that a run would write, sorted; samples/ counts when not empty."""
    if not os.path.isdir(out_dir):
        return []
    names = set(RUN_NAMES) | ({log_file} if log_file else set())
    clashes = []
    for name in sorted(os.listdir(out_dir)):
        path = os.path.join(out_dir, name)
        if name == 'samples' and os.path.isdir(path) and not os.listdir(path):
            continue
        if name in names or RUN_FILE.fullmatch(name):
            clashes.append(name)
    return clashes
