import os

import numpy as np

from utils.npz_entries import read_entries, write_entries


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
