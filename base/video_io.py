"""Video arrays and pictures: pixel scaling, layouts, grids, gifs and mp4s.

Networks take and make float32 videos (N, 3, T, H, W) in [-1, 1]; frames are stored
and shown as uint8 (N, T, H, W, 3) RGB. to_float / to_uint8 scale pixels (the fixed
map x / 127.5 - 1 and back), channels_first / channels_last change the layout of a
clip (3, T, H, W) or a batch of them; frames_to_float and to_uint8_frames do both.
Every file is written under a temporary name beside its final one and renamed
once complete (base/safe_files.atomic_path), so no final name holds half a video.
"""
import importlib.util
import math

import numpy as np
from PIL import Image

from base.safe_files import atomic_path


SCALE = 127.5  # uint8 levels per unit of the float scale: 0..255 <-> -1..1


def to_float(pixels):
    """uint8 pixels (numpy or cupy, any layout) -> C-contiguous float32 in [-1, 1] by the
    fixed map x / SCALE - 1."""
    out = pixels.astype(np.float32, order='C')
    out *= 1 / SCALE
    out -= 1
    return out


def to_uint8(videos):
    """Floats in [-1, 1] (any layout) -> uint8 levels, rounded, out-of-range values clipped."""
    return np.clip((np.asarray(videos) + 1) * SCALE, 0, 255).round().astype(np.uint8)


def channels_last(videos):
    """(..., 3, T, H, W) -> (..., T, H, W, 3): a clip or a batch of clips as frames."""
    axes = list(range(videos.ndim))
    axes.append(axes.pop(-4))
    return videos.transpose(axes)


def channels_first(frames):
    """(..., T, H, W, 3) -> (..., 3, T, H, W): frames as a clip or a batch of clips."""
    axes = list(range(frames.ndim))
    axes.insert(-3, axes.pop())
    return frames.transpose(axes)


def frames_to_float(frames):
    """uint8 frames (..., T, H, W, 3) -> float32 (..., 3, T, H, W) in [-1, 1]."""
    return to_float(channels_first(frames))


def to_uint8_frames(videos):
    """(N, 3, T, H, W) floats in [-1, 1] -> uint8 (N, T, H, W, 3)."""
    return channels_last(to_uint8(videos))


def tile_grid(videos, cols=None, gap=1):
    """(N, T, H, W, 3) -> one (T, rows*H, cols*W, 3) video, near-square by default."""
    n, frames, height, width, _ = videos.shape
    cols = cols or math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    grid = np.zeros((frames, rows * (height + gap) - gap, cols * (width + gap) - gap, 3),
                    dtype=np.uint8)
    for i, video in enumerate(videos):
        top, left = (i // cols) * (height + gap), (i % cols) * (width + gap)
        grid[:, top:top + height, left:left + width] = video
    return grid


def save_gif(path, frames, fps=10):
    """Write (T, H, W, 3) uint8 frames as a looping gif, each frame with its own 256
    colours by Pillow's fast octree (its default, median cut, is many times slower for
    about the same error: research/speed-log.md). Identical consecutive frames are
    stored once, shown for their summed duration (Pillow's encoder)."""
    images = [Image.fromarray(frame).quantize(256, method=Image.Quantize.FASTOCTREE)
              for frame in frames]
    with atomic_path(path) as partial:
        images[0].save(partial, save_all=True, append_images=images[1:],
                       duration=round(1000 / fps), loop=0, optimize=False)


def mp4_available():
    """Whether imageio can write mp4 here (its ffmpeg plugin, imageio-ffmpeg)."""
    return importlib.util.find_spec('imageio_ffmpeg') is not None


def save_mp4(path, frames, fps=10):
    """Write (T, H, W, 3) uint8 frames as an H.264 mp4 (sizes padded to even)."""
    import imageio.v2 as imageio
    pad_h, pad_w = frames.shape[1] % 2, frames.shape[2] % 2
    frames = np.pad(frames, ((0, 0), (0, pad_h), (0, pad_w), (0, 0)))
    with atomic_path(path) as partial:
        imageio.mimwrite(partial, list(frames), fps=fps, codec='libx264', macro_block_size=1,
                         pixelformat='yuv420p')  # passed once (a second -pix_fmt warns)
