"""Generate videos from a generator for previews and for utils/generate.py."""
import chainer
import numpy as np

from base.video_io import to_uint8_frames


def generate_videos(gen, z, batch_size=16):
    """uint8 (N, T, H, W, 3) videos for latents z (N, latent_dim), inference mode."""
    device = gen.device
    chunks = []
    with chainer.using_config('train', False), chainer.no_backprop_mode():
        for start in range(0, len(z), batch_size):
            videos = gen(device.send(np.asarray(z[start:start + batch_size], np.float32)))
            chunks.append(to_uint8_frames(chainer.backends.cuda.to_cpu(videos.array)))
    return np.concatenate(chunks)
