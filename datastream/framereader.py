"""Read training clips listed in an index file, lazily, one clip per example.

A clip is either one image with its frames stacked vertically (the seed's
format: any width, height = width x frames) or a video file read with OpenCV.
The index lists clip files or folders of clips (every clip inside counts),
relative to root_dir or absolute, one per line; blank lines and lines that
start with `#` are ignored. Damaged clips (truncated, or an image whose height
is not a multiple of its width) are unreadable.
Examples are uint8 (3, T, H, W); clip_converter scales batches to float32 by
x / 127.5 - 1 (base/video_io.to_float) on the training device. An unreadable
clip is skipped with a warning and replaced by the next readable one.
"""
import os
import sys
import zlib

import cv2
import numpy as np
import chainer

from datastream.clip_cache import ClipCache
from base.errors import UserError
from base.video_io import channels_first, to_float

IMAGE_EXTS = ('.jpg', '.jpeg', '.png', '.bmp')
VIDEO_EXTS = ('.mp4', '.avi', '.mov', '.mkv', '.webm', '.m4v', '.mpg', '.mpeg')


class ClipError(Exception):
    """A clip file that cannot be read as a clip."""


class DataError(UserError):
    """An index that cannot serve as a training set."""


def read_index(root_dir, index_file):
    """Clip paths listed by root_dir/index_file, folders expanded in sorted order."""
    index_path = os.path.join(root_dir, index_file)
    if not os.path.isfile(index_path):
        raise DataError(f'index file {index_path} not found ([DATA] root_dir / index_file)')
    paths = []
    for entry in _index_entries(index_path):
        paths.extend(_expand(os.path.join(root_dir, entry)))
    if not paths:
        raise DataError(f'index file {index_path} lists no clips')
    return paths


def _index_entries(index_path):
    """The entries of an index: one per line, blank lines and lines starting with
    '#' skipped (a '#' inside a name is part of it)."""
    try:
        with open(index_path, encoding='utf-8-sig') as lines:
            stripped = [line.strip() for line in lines]
    except UnicodeDecodeError as err:
        raise DataError(f'index file {index_path}: not UTF-8 text (byte {err.start})') from None
    except OSError as err:
        raise DataError(f'index file {index_path}: cannot read it ({err.strerror})') from None
    return [line for line in stripped if line and not line.startswith('#')]


def _expand(path):
    """[path] for a clip file; the clips in a folder (hidden files skipped)."""
    if not os.path.isdir(path):
        return [path]
    try:
        listed = os.listdir(path)
    except OSError as err:
        raise DataError(f'clip folder {path}: cannot list it ({err.strerror})') from None
    names = sorted(n for n in listed
                   if not n.startswith('.') and n.lower().endswith(IMAGE_EXTS + VIDEO_EXTS))
    return [os.path.join(path, n) for n in names]


def _decode_complete_image(path):
    """BGR image of a whole image file; ClipError when it is unreadable or cut short
    (a truncated JPEG decodes with flat grey where its data ends)."""
    with open(path, 'rb') as image_file:
        data = image_file.read()
    lower = path.lower()
    if lower.endswith(('.jpg', '.jpeg')) and data.rfind(b'\xff\xd9') < data.rfind(b'\xff\xda'):
        raise ClipError('truncated JPEG (no end of image after its last scan)')
    if lower.endswith('.png') and b'IEND' not in data[-16:]:
        raise ClipError('truncated PNG (no IEND chunk at its end)')
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise ClipError('not a readable image')
    return image


def _read_stacked_image(path, frame_size):
    """(T, S, S, 3) uint8 RGB frames from one vertically stacked image."""
    image = _decode_complete_image(path)
    height, width = image.shape[:2]
    if height % width:
        raise ClipError(f'image is {width}x{height}: expected square frames stacked'
                        ' vertically (height a multiple of width)')
    frames = height // width
    image = cv2.resize(image, (frame_size, frame_size * frames), interpolation=cv2.INTER_AREA)
    image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    return image.reshape(frames, frame_size, frame_size, 3)


def square_frame(frame, frame_size):
    """Centre-crop a frame to a square and resize it to frame_size x frame_size: how every
    clip and every video frame of this project is made square."""
    height, width = frame.shape[:2]
    side = min(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    frame = frame[top:top + side, left:left + side]
    return cv2.resize(frame, (frame_size, frame_size), interpolation=cv2.INTER_AREA)


def _read_video(path, n_frames, frame_size):
    """Up to n_frames (T, S, S, 3) uint8 RGB frames from a video file."""
    capture = cv2.VideoCapture(path)
    frames = []
    try:
        while capture.isOpened() and len(frames) < n_frames:
            ok, frame = capture.read()
            if not ok:
                break
            frames.append(cv2.cvtColor(square_frame(frame, frame_size), cv2.COLOR_BGR2RGB))
    finally:
        capture.release()
    if not frames:
        raise ClipError('no frame could be decoded')
    return np.stack(frames)


def fit_length(frames, n_frames):
    """First n_frames frames; a shorter clip repeats its last frame."""
    if len(frames) >= n_frames:
        return frames[:n_frames]
    pad = np.repeat(frames[-1:], n_frames - len(frames), axis=0)
    return np.concatenate([frames, pad])


def load_uint8_clip(path, n_frames, frame_size):
    """uint8 (3, n_frames, frame_size, frame_size) RGB; ClipError if unreadable."""
    if not os.path.isfile(path):
        raise ClipError('file not found')
    if path.lower().endswith(VIDEO_EXTS):
        frames = _read_video(path, n_frames, frame_size)
    else:
        frames = _read_stacked_image(path, frame_size)
    return np.ascontiguousarray(channels_first(fit_length(frames, n_frames)))


def load_clip(path, n_frames, frame_size):
    """float32 (3, n_frames, frame_size, frame_size) in [-1, 1]; ClipError if unreadable."""
    return to_float(load_uint8_clip(path, n_frames, frame_size))


class FrameReader(chainer.dataset.DatasetMixin):
    """Dataset of clips; each example is (clip, number of unreadable clips skipped)."""

    def __init__(self, root_dir, index_file, n_frames=32, frame_size=64, cache=False):
        self.paths = read_index(root_dir, index_file)
        self.n_frames, self.frame_size = n_frames, frame_size
        self._warned = set()
        self._cache = ClipCache.open_or_build(self, root_dir) if cache else None
        self._first_readable(os.path.join(root_dir, index_file))

    def __len__(self):
        return len(self.paths)

    def _first_readable(self, index_path):
        for i in range(len(self)):
            clip, _ = self._try_load(i)
            if clip is not None:
                return
        raise DataError(f'index file {index_path} lists {len(self)} clips'
                        ' and none of them is readable')

    def read_uint8(self, i):
        """Clip i as uint8 (3, T, H, W) from its file, or None (warned once) if unreadable."""
        path = self.paths[i]
        try:
            return load_uint8_clip(path, self.n_frames, self.frame_size)
        except (ClipError, cv2.error) as err:
            if path not in self._warned:
                self._warned.add(path)
                print(f'warning: skipping unreadable clip {path}: {err}', file=sys.stderr)
            return None

    def _try_load(self, i):
        clip = self._cache.clip(i) if self._cache else self.read_uint8(i)
        return clip, None

    def get_example(self, i):
        """(uint8 clip (3, T, H, W), unreadable clips skipped to reach it). Clips stay
        uint8 until clip_converter: 4x less to move between processes and devices."""
        for skipped in range(len(self)):
            clip, _ = self._try_load((i + skipped) % len(self))
            if clip is not None:
                return clip, skipped
        raise DataError('no readable clip is left in the dataset')


class ReplayableShuffle(chainer.iterators.OrderSampler):
    """Each epoch's order is a function of the seed and the previous order only,
    so an iterator restored from a snapshot continues the same sequence."""

    def __init__(self, seed):
        self.seed = seed

    def __call__(self, current_order, current_position):
        digest = zlib.crc32(np.asarray(current_order, dtype=np.int64).tobytes())
        rng = np.random.RandomState((self.seed * 1000003 + digest) % 2 ** 32)
        return rng.permutation(len(current_order))


@chainer.dataset.converter()
def clip_converter(batch, device):
    """[(uint8 clip, skipped), ...] -> (float32 clips in [-1, 1] on device, skipped
    counts on the host); the uint8 batch moves to the device before scaling."""
    clips = np.stack([clip for clip, _ in batch])
    skipped = np.array([count for _, count in batch], dtype=np.int64)
    return to_float(device.send(clips)), skipped


def make_iterator(dataset, batch_size, workers, seed):
    """Endless shuffled batches; `workers` loader processes (0 = in process)."""
    order = ReplayableShuffle(seed)
    if workers == 0:
        return chainer.iterators.SerialIterator(dataset, batch_size, order_sampler=order)
    return chainer.iterators.MultiprocessIterator(
        dataset, batch_size, n_processes=workers, order_sampler=order)
