"""Generate videos from a generator: uint8 frames for previews and utils/generate.py, and
the same frames read back as float clips for the quality (computations/quality.py) and
utils/evaluate.py, so every measure judges the videos the gifs show."""
import chainer
import numpy as np

from base.video_io import frames_to_float, to_uint8_frames


def generate_videos(gen, z, batch_size=16):
    """uint8 (N, T, H, W, 3) videos for latents z (N, latent_dim), inference mode."""
    device = gen.device
    chunks = []
    with chainer.using_config('train', False), chainer.no_backprop_mode():
        for start in range(0, len(z), batch_size):
            videos = gen(device.send(np.asarray(z[start:start + batch_size], np.float32)))
            chunks.append(to_uint8_frames(chainer.backends.cuda.to_cpu(videos.array)))
    return np.concatenate(chunks)


def generate_float_videos(gen, z, batch_size=16):
    """float32 (N, 3, T, H, W) in [-1, 1] on the host, as the gifs show them: the uint8
    videos of generate_videos read back as the frame reader scales clips."""
    return frames_to_float(generate_videos(gen, z, batch_size))
