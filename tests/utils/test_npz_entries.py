import os

import numpy as np
import pytest

from utils.npz_entries import NpzError, read_entries, write_entries


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


def test_object_arrays_are_refused_where_pickles_are_not_allowed(tmp_path):
    path = str(tmp_path / 'objects.npz')
    write_entries(path, {'x': np.asarray(None)})
    with pytest.raises(NpzError, match='not a readable .npz .*allow_pickle'):
        read_entries(path, allow_pickle=False)


def test_an_interrupted_write_keeps_the_old_file(tmp_path, monkeypatch):
    path = str(tmp_path / 'snapshot_iter_3')
    write_entries(path, {'a': np.arange(3)})

    def half_then_interrupt(out, **entries):
        out.write(b'PK\x03\x04 half')
        raise KeyboardInterrupt
    monkeypatch.setattr(np, 'savez_compressed', half_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        write_entries(path, {'a': np.arange(5)})
    assert os.listdir(tmp_path) == ['snapshot_iter_3']
    np.testing.assert_array_equal(read_entries(path)['a'], np.arange(3))
