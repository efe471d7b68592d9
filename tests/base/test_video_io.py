import os

import numpy as np
import pytest
from PIL import Image

from base.video_io import (channels_first, channels_last, frames_to_float, save_gif,
                           tile_grid, to_float, to_uint8_frames)


def test_to_uint8_maps_minus_one_to_zero_and_one_to_255():
    videos = np.array([-1.0, 0.0, 1.0, 2.0], np.float32).reshape(1, 1, 4, 1, 1).repeat(3, 1)
    frames = to_uint8_frames(videos)
    assert frames.shape == (1, 4, 1, 1, 3) and frames.dtype == np.uint8
    assert frames[0, :, 0, 0, 0].tolist() == [0, 128, 255, 255]


def test_to_float_maps_0_to_minus_one_and_255_to_one_in_float32():
    pixels = np.array([[0, 255], [51, 204]], np.uint8).T  # not C-contiguous
    out = to_float(pixels)
    assert out.dtype == np.float32 and out.flags.c_contiguous
    np.testing.assert_allclose(out, [[-1, -0.6], [1, 0.6]], atol=1e-6)


def test_layouts_move_the_colour_axis_of_a_clip_or_a_batch():
    batch = np.arange(2 * 3 * 4 * 5 * 6).reshape(2, 3, 4, 5, 6)  # (N, 3, T, H, W)
    frames = channels_last(batch)
    assert frames.shape == (2, 4, 5, 6, 3) and frames[1, 2, 3, 4, 0] == batch[1, 0, 2, 3, 4]
    assert channels_last(batch[1]).shape == (4, 5, 6, 3)
    np.testing.assert_array_equal(channels_last(batch[1]), frames[1])
    np.testing.assert_array_equal(channels_first(frames), batch)
    np.testing.assert_array_equal(channels_first(frames[0]), batch[0])


def test_frames_read_back_as_float_give_the_same_frames():
    frames = np.random.RandomState(0).randint(0, 256, (2, 4, 5, 6, 3)).astype(np.uint8)
    videos = frames_to_float(frames)
    assert videos.shape == (2, 3, 4, 5, 6) and videos.dtype == np.float32
    np.testing.assert_array_equal(to_uint8_frames(videos), frames)


def test_grid_places_videos_row_by_row():
    videos = np.stack([np.full((2, 3, 4, 3), 10 * (i + 1), np.uint8) for i in range(5)])
    grid = tile_grid(videos, cols=3, gap=1)
    assert grid.shape == (2, 2 * 3 + 1, 3 * 4 + 2, 3)
    assert grid[0, 0, 0, 0] == 10 and grid[0, 0, 5, 0] == 20 and grid[0, 4, 0, 0] == 40
    assert grid[0, 3, 0, 0] == 0 and grid[0, 4, 10, 0] == 0, 'gaps and empty cells are black'


def test_gif_keeps_every_distinct_frame(tmp_path):
    frames = np.stack([np.full((8, 8, 3), 20 * t, np.uint8) for t in range(6)])
    save_gif(str(tmp_path / 'a.gif'), frames)
    with Image.open(tmp_path / 'a.gif') as gif:
        assert gif.n_frames == 6 and gif.size == (8, 8)
        gif.seek(5)
        assert np.array(gif.convert('RGB'))[0, 0, 0] == 100


def test_a_gif_of_many_colours_stays_close_to_its_frames(tmp_path):
    """Smooth colour ramps with noise (far more than 256 colours a frame), as generated
    clips are: decoded within a few grey levels on average, every frame."""
    rng = np.random.RandomState(0)
    ramp = np.linspace(0, 255, 48)
    base = np.stack(np.broadcast_arrays(ramp[:, None], ramp[None, :], ramp[::-1, None]), -1)
    frames = np.stack([np.clip(base + rng.normal(0, 12, base.shape) + 8 * t, 0, 255)
                       for t in range(4)]).astype(np.uint8)
    assert len(np.unique(frames[0].reshape(-1, 3), axis=0)) > 1000
    save_gif(str(tmp_path / 'a.gif'), frames)
    with Image.open(tmp_path / 'a.gif') as gif:
        decoded = []
        for t in range(gif.n_frames):
            gif.seek(t)
            decoded.append(np.array(gif.convert('RGB'), np.float64))
    errors = np.abs(np.stack(decoded) - frames).mean(axis=(1, 2, 3))
    assert len(errors) == 4 and errors.max() < 10, errors


def test_a_failed_write_leaves_neither_half_a_file_nor_the_temporary(tmp_path, monkeypatch):
    frames = np.zeros((3, 8, 8, 3), np.uint8)
    save_gif(str(tmp_path / 'a.gif'), frames)
    before = (tmp_path / 'a.gif').read_bytes()

    def half_then_fail(self, path, *args, **kwargs):
        with open(path, 'wb') as out:
            out.write(b'GIF89a half')
        raise OSError(28, 'No space left on device', path)
    monkeypatch.setattr(Image.Image, 'save', half_then_fail)
    with pytest.raises(OSError):
        save_gif(str(tmp_path / 'a.gif'), frames + 50)
    with pytest.raises(OSError):
        save_gif(str(tmp_path / 'b.gif'), frames)
    assert os.listdir(tmp_path) == ['a.gif'] and (tmp_path / 'a.gif').read_bytes() == before
