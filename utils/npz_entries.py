"""Whole .npz files (trainer snapshots, network weights) as {name: array} dicts."""
import os

import numpy as np


def read_entries(path):
    """{entry name: array} of the .npz file at path, read as chainer's load_npz reads
    snapshots (a None it saved is an object array)."""
    with np.load(path, allow_pickle=True) as npz:
        return {k: npz[k] for k in npz.files}


def write_entries(path, entries):
    """Write entries as a compressed .npz at path; an existing file there is replaced
    only once the new one is complete."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    partial = f'{path}.partial'
    with open(partial, 'wb') as out:
        np.savez_compressed(out, **entries)
    os.replace(partial, path)
