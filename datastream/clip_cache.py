"""Optional preprocessed cache of a dataset: every clip decoded once into one
memory-mapped uint8 array, reused while the source files are unchanged.

The cache lives in ROOT/.videogan_cache/, named by a fingerprint of the clip
paths, their sizes and modification times, and the clip shape: editing, adding
or removing a clip, or changing n_frames or frame_size, builds a new one.
"""
import hashlib
import os
import sys

import numpy as np

from base.safe_files import atomic_path

CACHE_DIR = '.videogan_cache'


def fingerprint(paths, shape):
    digest = hashlib.sha1(repr(shape).encode())
    for path in paths:
        stat = os.stat(path) if os.path.isfile(path) else None
        digest.update(f'{path}\0{stat and stat.st_size}\0{stat and stat.st_mtime_ns}\n'.encode())
    return digest.hexdigest()[:20]


class ClipCache:
    """Read clips (uint8 (3, T, H, W)) from a cache file; None for unreadable ones."""

    def __init__(self, data_path, readable, shape):
        self.data_path, self.readable, self.shape = data_path, readable, shape
        self._array = None  # opened lazily, so no handle crosses into loader processes

    @classmethod
    def open_or_build(cls, reader, root_dir):
        shape = (len(reader.paths), 3, reader.n_frames, reader.frame_size, reader.frame_size)
        base = os.path.join(root_dir, CACHE_DIR, fingerprint(reader.paths, shape))
        readable = _load_valid(base, shape)
        if readable is None:
            build(reader, base, shape)
            readable = np.load(base + '.readable.npy')
        return cls(base + '.u8', readable, shape)

    def clip(self, i):
        if not self.readable[i]:
            return None
        if self._array is None:
            self._array = np.memmap(self.data_path, np.uint8, 'r', shape=self.shape)
        return np.array(self._array[i])


def _load_valid(base, shape):
    """The readable flags of a complete, undamaged cache at base, else None (a
    damaged cache is reported and rebuilt)."""
    if not os.path.isfile(base + '.readable.npy'):
        return None
    try:
        readable = np.load(base + '.readable.npy')
        intact = (readable.shape == shape[:1] and readable.dtype == bool
                  and os.path.getsize(base + '.u8') == int(np.prod(shape)))
    except (OSError, ValueError, EOFError):
        intact = False
    if not intact:
        print(f'warning: the clip cache {base}.u8 is damaged; rebuilding it', file=sys.stderr)
        return None
    return readable


def build(reader, base, shape):
    """Decode every clip into base.u8; write base.readable.npy last (marks it done)."""
    os.makedirs(os.path.dirname(base), exist_ok=True)
    print(f'building the clip cache {base}.u8 ({np.prod(shape) / 2 ** 20:.0f} MB)',
          file=sys.stderr)
    array = np.memmap(base + '.u8', np.uint8, 'w+', shape=shape)
    readable = np.zeros(shape[0], dtype=bool)
    for i in range(shape[0]):
        clip = reader.read_uint8(i)
        if clip is not None:
            array[i] = clip
            readable[i] = True
    array.flush()
    del array
    with atomic_path(base + '.readable.npy') as partial:
        np.save(partial, readable)
