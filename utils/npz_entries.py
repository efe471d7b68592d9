"""Whole .npz files (trainer snapshots, network weights) as {name: array} dicts.

The one checked way the tools read an .npz: a file that is truncated, random
bytes, not a zip, or a zip whose members are damaged raises NpzError, one line
that names the file and says it is 'not a readable .npz (...)'.
"""
import os
import pickle
import zipfile
import zlib

import numpy as np

from utils.errors import UserError
from utils.safe_files import atomic_path

# What numpy and zipfile raise on a damaged archive or member: a bad zip directory
# or CRC (BadZipFile), a bad .npy header (ValueError), a short read (EOFError, OSError),
# a member listed but absent (KeyError), bad deflate data (zlib.error), a damaged
# pickled object array (UnpicklingError) or a header claiming a giant array (MemoryError).
DAMAGED = (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError, KeyError,
           zlib.error, pickle.UnpicklingError, MemoryError)

ZIP_MAGIC = (b'PK\x03\x04', b'PK\x05\x06')  # a first member, or an empty archive


class NpzError(UserError):
    """An .npz file that is missing or cannot be read."""


def _reason(err):
    """The error's message on one line, or its type when it has none."""
    text = ' '.join(str(err).split())
    if isinstance(err, MemoryError):
        return f'an entry is too large to load{": " + text if text else ""}; damaged header?'
    return text or type(err).__name__


def read_entries(path, allow_pickle=True):
    """{entry name: array} of the .npz file at path, read as chainer's load_npz reads
    snapshots (a None it saved is an object array; allow_pickle=False refuses those,
    for weights from elsewhere). NpzError when the file is missing or damaged."""
    if not os.path.exists(path):
        raise NpzError(f'{path}: file not found')
    if os.path.isdir(path):
        raise NpzError(f'{path}: is a folder; expected an .npz file')
    try:
        with open(path, 'rb') as head:
            magic = head.read(4)
        # np.load unpickles a file that does not start as a zip does: never let it try
        if magic not in ZIP_MAGIC or not zipfile.is_zipfile(path):
            raise NpzError(f'{path}: not a readable .npz (not a zip archive: truncated,'
                           ' damaged, or another kind of file)')
        with np.load(path, allow_pickle=allow_pickle) as npz:
            return {name: npz[name] for name in npz.files}
    except NpzError:
        raise
    except DAMAGED as err:
        raise NpzError(f'{path}: not a readable .npz ({_reason(err)})') from None


def write_entries(path, entries):
    """Write entries as a compressed .npz at path; an existing file there is replaced
    only once the new one is complete."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with atomic_path(path) as partial:
        with open(partial, 'wb') as out:
            np.savez_compressed(out, **entries)
