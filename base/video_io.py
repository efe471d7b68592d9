"""Turn generated video arrays into pictures: uint8 frames, grids and gifs.

Every file is written under a temporary name beside its final one and renamed
once complete (base/safe_files.atomic_path), so no final name holds half a video.
"""
import importlib.util
import math

import numpy as np
from PIL import Image

from base.safe_files import atomic_path


def to_uint8_frames(videos):
    """(N, 3, T, H, W) floats in [-1, 1] -> uint8 (N, T, H, W, 3)."""
    videos = np.clip((np.asarray(videos) + 1) * 127.5, 0, 255).round()
    return videos.astype(np.uint8).transpose(0, 2, 3, 4, 1)


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
    """Write (T, H, W, 3) uint8 frames as a looping gif. Identical consecutive
    frames are stored once, shown for their summed duration (Pillow's encoder)."""
    images = [Image.fromarray(frame) for frame in frames]
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
