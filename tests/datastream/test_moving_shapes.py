import json
import os

import numpy as np
import pytest

from datastream.framereader import read_index
from datastream.moving_shapes import (LOOKS, PALETTE, build_dataset, ensure_dataset,
                                      numbered_clip, recorded_look, render_clip)
from base.config import ConfigError
from base.safe_files import OutputError


def test_render_is_deterministic_per_seed():
    a, factors_a = render_clip(np.random.RandomState([0, 1]), 8, 32)
    b, factors_b = render_clip(np.random.RandomState([0, 1]), 8, 32)
    c, _ = render_clip(np.random.RandomState([0, 2]), 8, 32)
    assert a.shape == (8, 32, 32, 3) and a.dtype == np.uint8
    assert np.array_equal(a, b) and factors_a == factors_b
    assert not np.array_equal(a, c)


def test_shapes_move_and_background_drifts():
    frames, factors = render_clip(np.random.RandomState([0, 3]), 16, 64)
    colour = np.array(PALETTE[factors['shapes'][0]['colour']])
    is_shape = np.all(frames == colour, axis=-1)
    assert is_shape.any(axis=(1, 2)).all(), 'the shape is in every frame'
    centres = [np.argwhere(mask).mean(axis=0) for mask in is_shape]
    assert np.abs(centres[-1] - centres[0]).max() > 2, 'the shape moves'
    background = ~is_shape[0] & ~is_shape[-1]
    assert np.abs(frames[0][background].astype(int) - frames[-1][background]).mean() > 1


def test_build_writes_clips_factors_and_index(tmp_path):
    index = build_dataset(str(tmp_path), 5, seed=1, n_frames=16, size=32)
    assert open(index).read().strip().splitlines()[-1] == 'clips'
    assert sorted(os.listdir(tmp_path / 'clips')) == [f'clip_{i:05d}.jpg' for i in range(5)]
    lines = (tmp_path / 'factors.jsonl').read_text().splitlines()
    assert len(lines) == 5 and json.loads(lines[0])['clip'] == 'clips/clip_00000.jpg'


def test_ensure_builds_once(tmp_path):
    assert ensure_dataset(str(tmp_path), 'index.txt', 3, seed=0)
    stamp = os.path.getmtime(tmp_path / 'clips' / 'clip_00000.jpg')
    assert not ensure_dataset(str(tmp_path), 'index.txt', 3, seed=0)
    assert os.path.getmtime(tmp_path / 'clips' / 'clip_00000.jpg') == stamp


def test_never_builds_inside_a_folder_of_other_files(tmp_path):
    (tmp_path / 'clips').mkdir()
    (tmp_path / 'clips' / 'mine.jpg').write_bytes(b'user data')
    (tmp_path / 'index.txt').write_text('clips\n')
    with pytest.raises(OutputError, match=r"root_dir = .*'indx.txt'.*fix index_file"):
        ensure_dataset(str(tmp_path), 'indx.txt', 3, seed=0)
    assert sorted(os.listdir(tmp_path)) == ['clips', 'index.txt']
    assert (tmp_path / 'clips' / 'mine.jpg').read_bytes() == b'user data'


def test_an_interrupted_build_is_finished_on_the_next_run(tmp_path):
    build_dataset(str(tmp_path), 2, seed=0, n_frames=16, size=32)
    os.remove(tmp_path / 'index.txt')  # as if stopped before the index was written
    assert ensure_dataset(str(tmp_path), 'index.txt', 3, seed=0)
    assert len(os.listdir(tmp_path / 'clips')) == 3


def test_a_look_that_is_not_one_of_the_looks_is_refused_before_anything_is_written(tmp_path):
    with pytest.raises(ConfigError, match=r"^\[DATA\] builtin_look = 'huge': expected one of"
                                          r" standard, large$"):
        ensure_dataset(str(tmp_path / 'new'), 'index.txt', 2, seed=0, look='huge')
    assert not (tmp_path / 'new').exists()


def test_the_standard_look_draws_what_it_always_drew():
    """Pinned factors of one clip: the looks must not change the standard data."""
    factors = render_clip(np.random.RandomState([0, 0]), 8, 64)[1]
    assert factors == {'shapes': [
        {'kind': 'circle', 'colour': 'blue', 'radius': 11.24, 'velocity': [-3.023, 0.165]},
        {'kind': 'triangle', 'colour': 'red', 'radius': 11.1, 'velocity': [1.899, 2.557]}],
        'drift': [-0.699, -0.609]}


def test_discs_redraw_the_same_clip_with_every_shape_a_disc():
    clip, factors = numbered_clip(0, 0, n_frames=8, size=64)
    discs, disc_factors = numbered_clip(0, 0, n_frames=8, size=64, discs=True)
    assert [s['kind'] for s in factors['shapes']] == ['circle', 'triangle']
    assert [s['kind'] for s in disc_factors['shapes']] == ['circle', 'circle']
    for shape in (*factors['shapes'], *disc_factors['shapes']):
        shape.pop('kind')
    assert disc_factors == factors, 'the same colours, sizes, paths and background'
    assert np.array_equal(numbered_clip(0, 0, n_frames=8, size=64)[0], clip), 'normal clips kept'
    red = np.all(discs == PALETTE['red'], axis=-1)[0]
    ys, xs = np.nonzero(red)
    assert abs(ys.mean() - (ys.min() + ys.max()) / 2) < 1, 'the triangle is now round'
    assert not np.array_equal(discs, clip)


def _factors(root):
    return [json.loads(line) for line in (root / 'factors.jsonl').read_text().splitlines()]


def test_the_large_look_is_recorded_and_has_larger_shapes(tmp_path):
    standard, large = tmp_path / 'standard', tmp_path / 'large'
    assert ensure_dataset(str(standard), 'index.txt', 6, seed=0)
    assert ensure_dataset(str(large), 'index.txt', 6, seed=0, look='large')
    assert recorded_look(str(standard)) == 'standard' and recorded_look(str(large)) == 'large'
    low, high = LOOKS['large'].radius
    for made_standard, made_large in zip(_factors(standard), _factors(large)):
        kinds = [(s['kind'], s['colour'], s['velocity']) for s in made_standard['shapes']]
        assert kinds == [(s['kind'], s['colour'], s['velocity']) for s in made_large['shapes']]
        assert all(low * 64 <= s['radius'] <= high * 64 for s in made_large['shapes'])


def _mtimes(root):
    return {name: os.path.getmtime(root / 'clips' / name) for name in os.listdir(root / 'clips')}


@pytest.mark.parametrize('made, asked', [('standard', 'large'), ('large', 'standard')])
def test_a_dataset_of_another_look_is_refused_and_kept(tmp_path, made, asked):
    assert ensure_dataset(str(tmp_path), 'index.txt', 2, seed=0, look=made)
    before = _mtimes(tmp_path)
    with pytest.raises(OutputError, match=rf"builtin_look = '{asked}'.*look '{made}'"):
        ensure_dataset(str(tmp_path), 'index.txt', 2, seed=0, look=asked)
    assert _mtimes(tmp_path) == before
    assert not ensure_dataset(str(tmp_path), 'index.txt', 2, seed=0, look=made)


def test_a_dataset_from_before_looks_were_recorded_is_standard(tmp_path):
    assert ensure_dataset(str(tmp_path), 'index.txt', 2, seed=0)
    os.remove(tmp_path / 'look.json')
    assert recorded_look(str(tmp_path)) == 'standard'
    with pytest.raises(OutputError, match=r"look 'standard'"):
        ensure_dataset(str(tmp_path), 'index.txt', 2, seed=0, look='large')


@pytest.mark.parametrize('record, message', [
    ('{"look": "large"', 'not a readable look record'),
    ('{"look": "large", "radius": [0.1, 0.2], "max_shapes": 2, "background": 1.0}',
     'not the look of that name now')])
def test_a_damaged_or_outdated_look_record_is_one_clear_error(tmp_path, record, message):
    assert ensure_dataset(str(tmp_path), 'index.txt', 2, seed=0, look='large')
    (tmp_path / 'look.json').write_text(record)
    with pytest.raises(OutputError, match=message) as err:
        ensure_dataset(str(tmp_path), 'index.txt', 2, seed=0, look='large')
    assert 'look.json' in str(err.value) and '\n' not in str(err.value)


def _contents(root):
    paths = [os.path.join(folder, n) for folder, _, names in os.walk(root) for n in names]
    return {os.path.relpath(p, root): open(p, 'rb').read() for p in paths}


def test_a_rebuild_keeps_the_files_you_added_and_removes_only_its_own(tmp_path):
    assert ensure_dataset(str(tmp_path), 'index.txt', 3, seed=0)
    (tmp_path / 'clips' / 'mine.jpg').write_bytes(b'my clip')
    (tmp_path / 'clips' / 'clip_07777.jpg').write_bytes(b'also mine')
    assert ensure_dataset(str(tmp_path), 'other.txt', 2, seed=0)
    assert sorted(os.listdir(tmp_path / 'clips')) == [
        'clip_00000.jpg', 'clip_00001.jpg', 'clip_07777.jpg', 'mine.jpg']
    assert (tmp_path / 'clips' / 'mine.jpg').read_bytes() == b'my clip'
    assert (tmp_path / 'clips' / 'clip_07777.jpg').read_bytes() == b'also mine'
    assert (tmp_path / 'index.txt').is_file() and (tmp_path / 'other.txt').is_file()


@pytest.mark.parametrize('changed', ['clips/clip_00001.jpg', 'factors.jsonl'])
def test_a_file_of_yours_where_a_rebuild_writes_stops_it_first(tmp_path, changed):
    assert ensure_dataset(str(tmp_path), 'index.txt', 2, seed=0)
    (tmp_path / changed).write_bytes(b'my own version')
    before = _contents(tmp_path)
    with pytest.raises(OutputError, match=rf'{changed} is not a file the built-in dataset'
                                          ' wrote') as err:
        ensure_dataset(str(tmp_path), 'other.txt', 2, seed=0)
    assert '\n' not in str(err.value) and _contents(tmp_path) == before


def _make_legacy(root):
    (root / '.videogan-builtin').write_text('')


def test_a_dataset_from_before_records_rebuilds_only_over_what_it_would_write(tmp_path):
    assert ensure_dataset(str(tmp_path), 'index.txt', 3, seed=0)
    _make_legacy(tmp_path)
    (tmp_path / 'clips' / 'mine.jpg').write_bytes(b'my clip')
    before = _contents(tmp_path)
    with pytest.raises(OutputError, match=r'clips/clip_00000.jpg is not a file'):
        ensure_dataset(str(tmp_path), 'other.txt', 3, seed=1)
    assert _contents(tmp_path) == before, 'other settings: nothing is recognised as its own'
    factors = (tmp_path / 'factors.jsonl').read_text()
    (tmp_path / 'factors.jsonl').write_text(factors[:len(factors) // 2])  # an interrupted build
    assert ensure_dataset(str(tmp_path), 'other.txt', 2, seed=0)
    assert sorted(os.listdir(tmp_path / 'clips')) == ['clip_00000.jpg', 'clip_00001.jpg',
                                                      'mine.jpg']
    assert (tmp_path / '.videogan-builtin').read_text().startswith('# videogan built-in')


def test_an_index_in_a_sub_folder_is_made_there(tmp_path):
    assert ensure_dataset(str(tmp_path), 'sub/index.txt', 2, seed=0)
    assert len(read_index(str(tmp_path), 'sub/index.txt')) == 2
    assert not ensure_dataset(str(tmp_path), 'sub/index.txt', 2, seed=0)


@pytest.mark.parametrize('index', ['../index.txt', '/abs/index.txt', 'clips/index.txt',
                                   '.videogan-builtin', 'look.json'])
def test_an_index_outside_the_dataset_or_on_its_own_files_is_refused_first(tmp_path, index):
    root = tmp_path / 'shapes'
    with pytest.raises(OutputError, match=r'index_file = .*expected a relative file name'):
        ensure_dataset(str(root), index, 2, seed=0)
    assert not root.exists()
