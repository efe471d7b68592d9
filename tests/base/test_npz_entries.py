import errno
import gc
import os
import sys

import numpy as np
import pytest
from numpy.lib import format as npy_format

from base.npz_entries import NONE_ENTRIES, NpzError, read_entries, read_entry, write_entries


def test_entries_round_trip_and_replace_the_old_file(tmp_path):
    path = str(tmp_path / 'deep' / 'snapshot_iter_3')
    write_entries(path, {'a/W': np.arange(6.0).reshape(2, 3), 'b': np.array(7)})
    write_entries(path, {'a/W': np.ones((2, 3)), 'c': np.array('text')})
    entries = read_entries(path)
    assert sorted(entries) == ['a/W', 'c']
    np.testing.assert_array_equal(entries['a/W'], np.ones((2, 3)))
    assert entries['c'] == 'text'
    assert os.listdir(tmp_path / 'deep') == ['snapshot_iter_3']


def test_a_none_that_chainer_saved_reads_back(tmp_path):
    path = str(tmp_path / 'snapshot_iter_1')
    write_entries(path, {'updater/optimizer:critic/c1/W/vhat': np.asarray(None)})
    assert read_entries(path)['updater/optimizer:critic/c1/W/vhat'][()] is None


def _damaged(tmp_path, kind):
    """An .npz damaged one way; returns its path as str."""
    good = tmp_path / 'good.npz'
    np.savez(good, w=np.arange(500.0), b=np.ones(3))
    data = good.read_bytes()
    damaged = {'truncated': data[:len(data) // 2], 'random bytes': b'\x00' + os.urandom(999),
               'not a zip': b'[MODEL]\nch = 8\n',
               'member damaged': data[:200] + bytes(255 - b for b in data[200:240]) + data[240:],
               'member header damaged': b'XXXX' + data[4:], 'empty': b''}[kind]
    path = tmp_path / f'{kind}.npz'
    path.write_bytes(damaged)
    return str(path)


@pytest.mark.parametrize('kind', ['truncated', 'random bytes', 'not a zip', 'member damaged',
                                  'member header damaged', 'empty'])
def test_a_damaged_file_is_one_line_naming_it(tmp_path, kind):
    path = _damaged(tmp_path, kind)
    with pytest.raises(NpzError) as err:
        read_entries(path)
    message = str(err.value)
    assert message.startswith(f'{path}: not a readable .npz (') and '\n' not in message


def test_a_missing_file_or_a_folder_is_named(tmp_path):
    with pytest.raises(NpzError, match='none.npz: file not found'):
        read_entries(str(tmp_path / 'none.npz'))
    with pytest.raises(NpzError, match='is a folder'):
        read_entries(str(tmp_path))


class RunsCode:
    """Unpickling it would create the file at self.path."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, 'w'))


def test_a_pickled_object_is_refused_and_never_run(tmp_path):
    path = str(tmp_path / 'snapshot_iter_3')
    np.savez(path, w=np.ones(2), x=np.array([RunsCode(str(tmp_path / 'ran'))], dtype=object))
    os.replace(path + '.npz', path)
    with pytest.raises(NpzError, match=r'holds a pickled [\w.]+, and videogan never unpickles'):
        read_entries(path)
    assert not (tmp_path / 'ran').exists()
    np.savez(tmp_path / 'mixed.npz', x=np.array([None, 'text'], dtype=object))
    with pytest.raises(NpzError, match='entry x holds Python objects other than None'):
        read_entries(str(tmp_path / 'mixed.npz'))


def test_a_none_in_an_older_snapshot_still_reads(tmp_path):
    np.savez(tmp_path / 'old.npz', w=np.ones(2), n=np.asarray(None))
    entries = read_entries(str(tmp_path / 'old.npz'))
    assert entries['n'][()] is None and entries['w'].tolist() == [1.0, 1.0]


def test_a_none_is_written_without_a_pickle(tmp_path):
    path = str(tmp_path / 'snapshot_iter_1')
    write_entries(path, {'a': np.asarray(None), 'b': np.arange(2)})
    with np.load(path, allow_pickle=False) as stored:
        assert sorted(stored.files) == ['b', NONE_ENTRIES]
    assert read_entry(path, 'a') is None and read_entry(path, 'b').tolist() == [0, 1]


def test_an_interrupted_write_keeps_the_old_file(tmp_path, monkeypatch):
    path = str(tmp_path / 'snapshot_iter_3')
    write_entries(path, {'a': np.arange(3)})
    unraisable = []
    monkeypatch.setattr(sys, 'unraisablehook', unraisable.append)

    def half_then_interrupt(out, array, **options):
        out.write(b'\x93NUMPY half')
        raise KeyboardInterrupt
    monkeypatch.setattr(npy_format, 'write_array', half_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        write_entries(path, {'a': np.arange(5)})
    gc.collect()
    assert os.listdir(tmp_path) == ['snapshot_iter_3']
    monkeypatch.undo()
    np.testing.assert_array_equal(read_entries(path)['a'], np.arange(3))
    assert unraisable == [], 'an exception ignored while a zip file was closed'


def test_a_full_disk_is_an_os_error_with_nothing_left_behind(tmp_path, monkeypatch):
    unraisable = []
    monkeypatch.setattr(sys, 'unraisablehook', unraisable.append)

    def disk_full(out, array, **options):
        raise OSError(errno.ENOSPC, 'No space left on device')
    monkeypatch.setattr(npy_format, 'write_array', disk_full)
    with pytest.raises(OSError):
        write_entries(str(tmp_path / 'gen_iter_2.npz'), {'a': np.arange(5)})
    gc.collect()
    assert os.listdir(tmp_path) == [] and unraisable == []
