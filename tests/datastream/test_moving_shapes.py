import json
import os

import numpy as np
import pytest

from datastream.moving_shapes import (LOOKS, PALETTE, build_dataset, ensure_dataset,
                                      recorded_look, render_clip)
from utils.config_parse import BUILTIN_LOOKS
from utils.safe_files import OutputError


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
    with pytest.raises(OutputError, match=r"root_dir = .*'indx.txt'.*fix index_dir"):
        ensure_dataset(str(tmp_path), 'indx.txt', 3, seed=0)
    assert sorted(os.listdir(tmp_path)) == ['clips', 'index.txt']
    assert (tmp_path / 'clips' / 'mine.jpg').read_bytes() == b'user data'


def test_an_interrupted_build_is_finished_on_the_next_run(tmp_path):
    build_dataset(str(tmp_path), 2, seed=0, n_frames=16, size=32)
    os.remove(tmp_path / 'index.txt')  # as if stopped before the index was written
    assert ensure_dataset(str(tmp_path), 'index.txt', 3, seed=0)
    assert len(os.listdir(tmp_path / 'clips')) == 3


def test_every_configurable_look_exists():
    assert set(BUILTIN_LOOKS) == set(LOOKS)


def _radii(root):
    lines = (root / 'factors.jsonl').read_text().splitlines()
    return [shape['radius'] for line in lines for shape in json.loads(line)['shapes']]


def test_the_large_look_is_recorded_and_has_larger_shapes(tmp_path):
    standard, large = tmp_path / 'standard', tmp_path / 'large'
    assert ensure_dataset(str(standard), 'index.txt', 6, seed=0)
    assert ensure_dataset(str(large), 'index.txt', 6, seed=0, look='large')
    assert recorded_look(str(standard)) == 'standard' and recorded_look(str(large)) == 'large'
    low, high = LOOKS['large'].radius
    assert all(low * 64 <= r <= high * 64 for r in _radii(large))
    assert min(_radii(large)) > max(_radii(standard)) * 0.85  # the same draws, scaled up


def test_a_dataset_of_another_look_is_refused_and_kept(tmp_path):
    assert ensure_dataset(str(tmp_path), 'index.txt', 2, seed=0)
    os.remove(tmp_path / 'look.json')  # as made before looks were recorded: standard
    before = sorted(os.listdir(tmp_path / 'clips'))
    with pytest.raises(OutputError, match=r"builtin_look = 'large'.*look 'standard'"):
        ensure_dataset(str(tmp_path), 'index.txt', 2, seed=0, look='large')
    assert sorted(os.listdir(tmp_path / 'clips')) == before
    assert not ensure_dataset(str(tmp_path), 'index.txt', 2, seed=0, look='standard')
