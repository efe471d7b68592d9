import os

import chainer
import cv2
import numpy as np
import pytest

from datastream.framereader import (ClipError, DataError, FrameReader, ReplayableShuffle,
                                    clip_converter, fit_length, load_clip, load_uint8_clip,
                                    read_index)
from datastream.moving_shapes import write_stacked_jpeg
from tests.conftest import write_mp4


def gradient_frames(n_frames, size):
    """(T, S, S, 3) uint8 frames whose brightness encodes the frame number."""
    frames = np.zeros((n_frames, size, size, 3), np.uint8)
    for t in range(n_frames):
        frames[t] = 10 + 12 * t
    return frames


def write_png_stack(path, frames):
    stacked = frames.reshape(-1, frames.shape[2], 3)[..., ::-1]
    assert cv2.imwrite(str(path), stacked)
    return str(path)


def test_stacked_image_is_resized_to_frame_size_and_scaled_fixed(tmp_path):
    frames = np.zeros((16, 32, 32, 3), np.uint8)
    frames[:, :, :16] = 255
    clip = load_clip(write_png_stack(tmp_path / 'c.png', frames), 16, 16)
    assert clip.shape == (3, 16, 16, 16) and clip.dtype == np.float32
    assert clip.min() == -1.0 and clip.max() == 1.0
    np.testing.assert_allclose(clip[:, :, :, :8], 1.0)
    np.testing.assert_allclose(clip[:, :, :, 8:], -1.0)


def test_short_clip_repeats_last_frame_and_long_clip_is_cut(tmp_path):
    short = load_clip(write_png_stack(tmp_path / 's.png', gradient_frames(5, 16)), 16, 16)
    for t in range(5, 16):
        np.testing.assert_array_equal(short[:, t], short[:, 4])
    assert short[0, 0, 0, 0] == pytest.approx(10 / 127.5 - 1)
    long = load_clip(write_png_stack(tmp_path / 'l.png', gradient_frames(20, 16)), 16, 16)
    assert long[0, 15, 0, 0] == pytest.approx((10 + 12 * 15) / 127.5 - 1)


def test_fit_length_keeps_order():
    frames = np.arange(3)[:, None]
    np.testing.assert_array_equal(fit_length(frames, 5)[:, 0], [0, 1, 2, 2, 2])
    np.testing.assert_array_equal(fit_length(frames, 2)[:, 0], [0, 1])


def test_mp4_clip_reads_with_padding(tmp_path):
    frames = gradient_frames(10, 48)
    clip = load_clip(write_mp4(tmp_path / 'v.mp4', frames), 16, 32)
    assert clip.shape == (3, 16, 32, 32)
    brightness = clip[0].mean(axis=(1, 2))
    assert np.all(np.diff(brightness[:10]) > 0), 'frames keep their order'
    np.testing.assert_array_equal(clip[:, 10:], np.repeat(clip[:, 9:10], 6, axis=1))


def test_index_expands_folders_skips_comments_and_resolves_paths(tmp_path):
    folder = tmp_path / 'video_a'
    folder.mkdir()
    for name in ('b.jpg', 'a.jpg', 'notes.txt'):
        (folder / name).write_bytes(b'x')
    absolute = tmp_path / 'abs.mp4'
    absolute.write_bytes(b'x')
    (tmp_path / 'index.txt').write_text(f'# my clips\n\nvideo_a\n  # one more\n{absolute}\n')
    assert read_index(str(tmp_path), 'index.txt') == [
        str(folder / 'a.jpg'), str(folder / 'b.jpg'), str(absolute)]


def test_a_hash_inside_a_name_is_part_of_it(tmp_path):
    (tmp_path / 'take#1.jpg').write_bytes(b'x')
    (tmp_path / 'index.txt').write_text('take#1.jpg\n')
    assert read_index(str(tmp_path), 'index.txt') == [str(tmp_path / 'take#1.jpg')]


def test_damaged_clips_are_unreadable(tmp_path):
    noise = np.random.RandomState(0).randint(0, 255, (16, 32, 32, 3)).astype(np.uint8)
    write_stacked_jpeg(str(tmp_path / 'c.jpg'), noise)
    data = (tmp_path / 'c.jpg').read_bytes()
    (tmp_path / 'cut.jpg').write_bytes(data[:len(data) // 3])
    with pytest.raises(ClipError, match='truncated JPEG'):
        load_clip(str(tmp_path / 'cut.jpg'), 16, 16)
    odd = np.zeros((16 * 5 + 3, 16, 3), np.uint8)
    assert cv2.imwrite(str(tmp_path / 'odd.png'), odd)
    with pytest.raises(ClipError, match='height a multiple of width'):
        load_clip(str(tmp_path / 'odd.png'), 16, 16)
    png = write_png_stack(tmp_path / 'p.png', gradient_frames(4, 16))
    (tmp_path / 'cut.png').write_bytes(open(png, 'rb').read()[:-20])
    with pytest.raises(ClipError, match='truncated PNG'):
        load_clip(str(tmp_path / 'cut.png'), 16, 16)


def test_non_utf8_index_is_one_line(tmp_path):
    (tmp_path / 'index.txt').write_bytes('caf\xe9\n'.encode('latin-1'))
    with pytest.raises(DataError, match='index.txt: not UTF-8 text'):
        read_index(str(tmp_path), 'index.txt')


def test_missing_or_empty_index_is_a_clear_error(tmp_path):
    with pytest.raises(DataError, match='index.txt not found'):
        read_index(str(tmp_path), 'index.txt')
    (tmp_path / 'index.txt').write_text('# nothing\n')
    with pytest.raises(DataError, match='lists no clips'):
        read_index(str(tmp_path), 'index.txt')


def test_corrupt_clip_is_skipped_with_a_warning(tmp_path, capsys):
    write_stacked_jpeg(str(tmp_path / 'good.jpg'), gradient_frames(16, 16))
    (tmp_path / 'bad.jpg').write_bytes(b'not a jpeg')
    (tmp_path / 'index.txt').write_text('bad.jpg\nmissing.jpg\ngood.jpg\n')
    dataset = FrameReader(str(tmp_path), 'index.txt', 16, 16)
    clip, skipped = dataset[0]
    assert clip.shape == (3, 16, 16, 16) and skipped == 2
    err = capsys.readouterr().err
    assert 'bad.jpg' in err and 'missing.jpg' in err and 'warning' in err
    assert dataset[2][1] == 0


def test_index_without_readable_clip_is_a_clear_error(tmp_path):
    (tmp_path / 'bad.jpg').write_bytes(b'junk')
    (tmp_path / 'index.txt').write_text('bad.jpg\n')
    with pytest.raises(DataError, match='none of them is readable'):
        FrameReader(str(tmp_path), 'index.txt', 16, 16)


def test_replayable_shuffle_depends_only_on_seed_and_previous_order():
    first = ReplayableShuffle(3)(np.arange(10), 0)
    assert sorted(first) == list(range(10))
    assert np.array_equal(ReplayableShuffle(3)(first, 10), ReplayableShuffle(3)(first.copy(), 0))
    assert not np.array_equal(ReplayableShuffle(3)(first, 10), first)
    assert not np.array_equal(ReplayableShuffle(4)(np.arange(10), 0), first)


def test_builtin_clips_load(shapes_dir):
    dataset = FrameReader(shapes_dir, 'index.txt', 16, 16)
    assert len(dataset) == 12
    clip, skipped = dataset[5]
    assert clip.shape == (3, 16, 16, 16) and clip.dtype == np.uint8 and skipped == 0
    assert os.path.basename(dataset.paths[0]) == 'clip_00000.jpg'
    np.testing.assert_array_equal(dataset[5][0], load_uint8_clip(dataset.paths[5], 16, 16))


def test_converter_scales_batches_to_float_on_the_device():
    batch = [(np.full((3, 2, 2, 2), 0, np.uint8), 0), (np.full((3, 2, 2, 2), 255, np.uint8), 2)]
    clips, skipped = clip_converter(batch, chainer.get_device('@numpy'))
    assert clips.dtype == np.float32 and clips.shape == (2, 3, 2, 2, 2)
    assert clips[0].max() == -1.0 and clips[1].min() == 1.0
    assert skipped.tolist() == [0, 2]


def test_cache_serves_the_same_clips_and_is_rebuilt_when_a_clip_changes(tmp_path, capsys):
    for i in range(3):
        write_stacked_jpeg(str(tmp_path / f'c{i}.jpg'), gradient_frames(16, 16) + 5 * i)
    (tmp_path / 'bad.jpg').write_bytes(b'junk')
    (tmp_path / 'index.txt').write_text('c0.jpg\nbad.jpg\nc1.jpg\nc2.jpg\n')
    direct = FrameReader(str(tmp_path), 'index.txt', 16, 16)
    cached = FrameReader(str(tmp_path), 'index.txt', 16, 16, cache=True)
    assert 'building the clip cache' in capsys.readouterr().err
    for i in range(4):
        np.testing.assert_array_equal(cached[i][0], direct[i][0])
    assert cached[1][1] == 1, 'the unreadable clip is skipped from the cache too'
    FrameReader(str(tmp_path), 'index.txt', 16, 16, cache=True)
    assert 'building' not in capsys.readouterr().err, 'an unchanged dataset reuses its cache'
    write_stacked_jpeg(str(tmp_path / 'c2.jpg'), gradient_frames(16, 16)[::-1])
    os.utime(tmp_path / 'c2.jpg', ns=(1, 1))
    rebuilt = FrameReader(str(tmp_path), 'index.txt', 16, 16, cache=True)
    assert 'building' in capsys.readouterr().err
    np.testing.assert_array_equal(rebuilt[3][0],
                                  load_uint8_clip(str(tmp_path / 'c2.jpg'), 16, 16))


@pytest.mark.parametrize('damage', ['truncate data', 'garble flags'])
def test_a_damaged_cache_is_rebuilt(tmp_path, capsys, damage):
    for i in range(2):
        write_stacked_jpeg(str(tmp_path / f'c{i}.jpg'), gradient_frames(16, 16) + 5 * i)
    (tmp_path / 'index.txt').write_text('c0.jpg\nc1.jpg\n')
    FrameReader(str(tmp_path), 'index.txt', 16, 16, cache=True)
    cache_dir = tmp_path / '.videogan_cache'
    suffix = '.u8' if damage == 'truncate data' else '.readable.npy'
    damaged = next(p for p in cache_dir.iterdir() if p.name.endswith(suffix))
    damaged.write_bytes(damaged.read_bytes()[:100])
    capsys.readouterr()
    reader = FrameReader(str(tmp_path), 'index.txt', 16, 16, cache=True)
    assert 'damaged; rebuilding' in capsys.readouterr().err
    np.testing.assert_array_equal(reader[1][0], load_uint8_clip(str(tmp_path / 'c1.jpg'), 16, 16))
