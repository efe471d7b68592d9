"""How the project writes and deletes files without ever losing what was there.

- One atomic writer: a file is written under a temporary name beside its final
  one and renamed only once complete, so a final name never holds half a file.
- One safe-delete rule: a tool deletes a folder only when it holds the marker
  file that the same tool wrote there when it created the folder.
- One check of output paths, made before any work: the folder exists or can be
  made, and a file can be written in it.
"""
import contextlib
import errno
import os
import shutil

from base.errors import UserError

PARTIAL_PREFIX = '.partial.'


class OutputError(UserError):
    """An output path that cannot be written."""


def describe_os_error(err):
    """One line for an OSError: the file it concerns and what went wrong."""
    if err.errno == errno.ENOSPC:
        reason = 'disk full (no space left on the device); free some space and run again'
    else:
        reason = err.strerror or str(err)
    where = err.filename if err.filename is not None else ''
    return f'{where}: {reason}' if where else reason


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside `path` (same extension, hidden name); it is
    renamed to `path` when the block completes and removed when it fails."""
    directory, name = os.path.split(os.path.abspath(path))
    partial = os.path.join(directory, f'{PARTIAL_PREFIX}{os.getpid()}.{name}')
    try:
        yield partial
        os.replace(partial, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(partial)
        raise


def write_text(path, text):
    """Write text (UTF-8) to path atomically."""
    with atomic_path(path) as partial:
        with open(partial, 'w', encoding='utf-8') as out:
            out.write(text)


def is_partial(name):
    """Whether a file name is one of atomic_path's temporaries."""
    return name.startswith(PARTIAL_PREFIX)


def ensure_output_dir(path, option):
    """Make folder `path` (and its parents) and check a file can be written in it;
    OutputError naming `option` and the path otherwise."""
    if os.path.exists(path) and not os.path.isdir(path):
        raise OutputError(f'{option} {path}: is a file; expected a folder')
    try:
        os.makedirs(path, exist_ok=True)
        probe = os.path.join(path, f'{PARTIAL_PREFIX}{os.getpid()}.write-check')
        with open(probe, 'w'):
            pass
        os.remove(probe)
    except OSError as err:
        raise OutputError(f'{option} {path}: cannot write there ({describe_os_error(err)})'
                          ) from None
    return path


def ensure_output_file(path, option, extensions=None):
    """Check that file `path` can be written: its folder is made and writable, the
    path is not a folder, and its extension is one of `extensions` when given."""
    if extensions and not path.lower().endswith(tuple(extensions)):
        raise OutputError(f'{option} {path}: expected a file name ending in'
                          f' {" or ".join(extensions)}')
    if os.path.isdir(path):
        raise OutputError(f'{option} {path}: is a folder; expected a file name')
    ensure_output_dir(os.path.dirname(os.path.abspath(path)), option)
    return path


def claim_folder(path, marker, option):
    """Create folder `path` for a tool whose marker file is `marker`, or accept it
    when empty or already marked; OutputError when it holds anything else."""
    if os.path.exists(path) and not os.path.isdir(path):
        raise OutputError(f'{option} {path}: is a file; expected a folder')
    if os.path.isdir(path) and os.listdir(path) and not owns(path, marker):
        raise OutputError(f'{option} {path}: the folder holds other files; expected an empty'
                          ' folder or one this tool made (its marker file'
                          f' {marker} is missing), so nothing there is overwritten')
    ensure_output_dir(path, option)
    with open(os.path.join(path, marker), 'a', encoding='utf-8'):
        pass


def owns(path, marker):
    """Whether folder `path` carries the marker file of the tool that made it."""
    return os.path.isfile(os.path.join(path, marker))


def remove_owned(path, marker):
    """Delete folder `path` only if it carries `marker`; return whether it did."""
    if not owns(path, marker):
        return False
    shutil.rmtree(path)
    return True
