"""Whole .npz files (trainer snapshots, network weights) as {name: array} dicts.

The one checked way the tools read and write an .npz. Reading never unpickles: a
`None` that chainer's serializer stores is written as a name in NONE_ENTRIES; in
older files it is a pickled object array, which is read with an unpickler that can
build nothing but an array of None. Any other pickled object is refused. A file
that is truncated, random bytes, not a zip, or a zip whose members are damaged
raises NpzError, one line that names the file and says it is 'not a readable .npz (...)'.
"""
import contextlib
import os
import pickle
import zipfile
import zlib

import numpy as np
from numpy.lib import format as npy_format

from base.errors import UserError
from base.safe_files import atomic_path

# What numpy and zipfile raise on a damaged archive or member: a bad zip directory
# or CRC (BadZipFile), a bad .npy header (ValueError), a short read (EOFError, OSError),
# a member listed but absent (KeyError), bad deflate data (zlib.error), a damaged or
# forbidden pickled object array (UnpicklingError) or a header claiming a giant array
# (MemoryError).
DAMAGED = (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError, KeyError,
           zlib.error, pickle.UnpicklingError, MemoryError)

ZIP_MAGIC = (b'PK\x03\x04', b'PK\x05\x06')  # a first member, or an empty archive
NONE_ENTRIES = 'videogan_none_entries'  # the names of the entries that hold None
HEADER_READERS = {(1, 0): npy_format.read_array_header_1_0,
                  (2, 0): npy_format.read_array_header_2_0}


class NpzError(UserError):
    """An .npz file that is missing or cannot be read."""


class _NoneArrayUnpickler(pickle.Unpickler):
    """Unpickles what numpy writes for an object array, and nothing that could run code:
    the only callables it can name are the array and dtype constructors."""
    ALLOWED = {('numpy.core.multiarray', '_reconstruct'),
               ('numpy._core.multiarray', '_reconstruct'), ('numpy', 'ndarray'), ('numpy', 'dtype')}

    def find_class(self, module, name):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f'it holds a pickled {module}.{name}, and videogan'
                                         ' never unpickles an object from a file')
        return super().find_class(module, name)


def _read_member(archive, member):
    """One .npy member as an array; an object array only when it holds None alone."""
    with archive.open(member) as stream:
        version = npy_format.read_magic(stream)
        if version not in HEADER_READERS:
            raise ValueError(f'entry {member}: .npy format version {version} is not supported')
        _, _, dtype = HEADER_READERS[version](stream)
        if not dtype.hasobject:
            stream.seek(0)
            return npy_format.read_array(stream, allow_pickle=False)
        array = _NoneArrayUnpickler(stream).load()
    if not (isinstance(array, np.ndarray) and all(item is None for item in array.flat)):
        raise pickle.UnpicklingError(f'entry {member[:-4]} holds Python objects other than None')
    return array


def _reason(err):
    """The error's message on one line, or its type when it has none."""
    text = ' '.join(str(err).split())
    if isinstance(err, MemoryError):
        return f'an entry is too large to load{": " + text if text else ""}; damaged header?'
    return text or type(err).__name__


def _check_path(path):
    if not os.path.exists(path):
        raise NpzError(f'{path}: file not found')
    if os.path.isdir(path):
        raise NpzError(f'{path}: is a folder; expected an .npz file')
    with open(path, 'rb') as head:
        magic = head.read(4)
    if magic not in ZIP_MAGIC or not zipfile.is_zipfile(path):
        raise NpzError(f'{path}: not a readable .npz (not a zip archive: truncated,'
                       ' damaged, or another kind of file)')


@contextlib.contextmanager
def _open_archive(path):
    """The .npz at path as an open ZipFile; whatever a damaged file raises while it is
    read inside the block becomes one NpzError."""
    try:
        _check_path(path)
        with zipfile.ZipFile(path) as archive:
            yield archive
    except NpzError:
        raise
    except DAMAGED as err:
        raise NpzError(f'{path}: not a readable .npz ({_reason(err)})') from None


def read_entries(path):
    """{entry name: array} of the .npz file at path, as chainer's NpzDeserializer takes
    them (a None is an object array holding None). NpzError when the file is missing,
    damaged, or holds a pickled object other than None."""
    with _open_archive(path) as archive:
        entries = {member[:-4] if member.endswith('.npy') else member:
                   _read_member(archive, member) for member in archive.namelist()}
    for name in entries.pop(NONE_ENTRIES, np.array([], str)).tolist():
        entries[name] = np.asarray(None)
    return entries


def read_entry(path, name):
    """The one entry `name` of the .npz at path without reading the others, or None when
    the file has no such entry; NpzError as read_entries."""
    with _open_archive(path) as archive:
        member = f'{name}.npy'
        return _read_member(archive, member) if member in archive.namelist() else None


def _is_none(array):
    return array.dtype.hasobject and array.size == 1 and array.flat[0] is None


def write_entries(path, entries):
    """Write entries as an .npz at path, a None array as a name in NONE_ENTRIES; an
    existing file there is replaced only once the new one is complete. Stored, not
    deflated: float weights shrink by under a tenth, at some 40 times the writing time."""
    arrays = {name: np.asanyarray(value) for name, value in entries.items()}
    nones = sorted(name for name, array in arrays.items() if _is_none(array))
    arrays = {name: array for name, array in arrays.items() if name not in nones}
    if nones:
        arrays[NONE_ENTRIES] = np.array(nones)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with atomic_path(path) as partial:
        with zipfile.ZipFile(partial, 'w', zipfile.ZIP_STORED, allowZip64=True) as archive:
            for name, array in arrays.items():
                with archive.open(f'{name}.npy', 'w', force_zip64=True) as member:
                    npy_format.write_array(member, array, allow_pickle=False)
