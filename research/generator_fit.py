"""Can a generator of a given width draw the run's clips at all? Each of N real clips gets a
latent vector of its own, learned together with the generator's weights by L1 regression on
the pixels (GLO: Bojanowski et al. 2018, "Optimizing the Latent Space of Generative
Networks"). No critic is involved: the generator is told exactly what to draw, which is far
easier than learning it from a critic, so a width that still draws blobs here after as many
steps as a run makes cannot be expected to draw shapes in that run.

    python research/generator_fit.py [--config setup.ini] [--ch 64 256] [--steps 1000]
                                  [--clips 64] [--out runs/generator_fit]

Prints a markdown table (width, seconds, mean absolute error in pixel levels 0-255 with the
generator in test mode) and writes one PNG per width: pairs of rows, a real clip above its
fit, every other frame.
"""
import argparse
import os
import sys
import time

from base import chainer_compat  # noqa: F401  (before chainer)
import chainer
import chainer.functions as F
import numpy as np
from PIL import Image

from research.critic_ladder import real_uint8
from nn.DCGAN import Generator
from base.config import load_config
from base.video_io import frames_to_float, to_uint8_frames

BATCH = 16


class Latents(chainer.Link):
    """One learned latent vector per clip; used on the unit sphere, as the generator's are."""

    def __init__(self, n, latent_dim, rng):
        super().__init__()
        with self.init_scope():
            self.z = chainer.Parameter(rng.standard_normal((n, latent_dim)).astype(np.float32))

    def forward(self, index):
        return F.normalize(self.z[index])


def fit(gen, clips, steps, seed=0):
    """Fit gen and one latent per clip to float clips (N, 3, T, H, W) by L1 regression for
    steps Adam updates of BATCH clips; returns (latents, [loss of each step])."""
    rng = np.random.RandomState(seed)
    latents = Latents(len(clips), gen.latent_dim, rng)
    gen_opt = chainer.optimizers.Adam(alpha=1e-3, beta1=0.5)
    gen_opt.setup(gen)
    z_opt = chainer.optimizers.Adam(alpha=1e-2)
    z_opt.setup(latents)
    losses = []
    for _ in range(steps):
        index = rng.choice(len(clips), min(BATCH, len(clips)), replace=False)
        loss = F.mean_absolute_error(gen(latents(index)), clips[index])
        gen.cleargrads()
        latents.cleargrads()
        loss.backward()
        gen_opt.update()
        z_opt.update()
        losses.append(float(loss.array))
    return latents, losses


def redraw(gen, latents, n):
    """The fitted generator's first n clips, in test mode, float (n, 3, T, H, W)."""
    with chainer.using_config('train', False), chainer.no_backprop_mode():
        return np.concatenate([gen(latents(np.arange(i, min(i + BATCH, n)))).array
                               for i in range(0, n, BATCH)])


def strip(real, fitted, n=4):
    """uint8 image: for each of n clips, its real row above its fitted row, every other frame."""
    def row(clip):
        return np.concatenate([np.pad(frame, ((0, 1), (0, 1), (0, 0)), constant_values=255)
                               for frame in clip[::2]], axis=1)
    return np.concatenate([row(clips[i]) for i in range(min(n, len(real)))
                           for clips in (real, fitted)], axis=0)


def measure(model, real, ch, steps):
    """(seconds, mean absolute error in levels, fitted uint8 clips) of one width."""
    np.random.seed(0)
    gen = Generator(ch, model.latent_dim, model.n_frames, model.frame_size,
                    upsample=model.upsample)
    clips = frames_to_float(real)
    start = time.perf_counter()
    latents, _ = fit(gen, clips, steps)
    seconds = time.perf_counter() - start
    fitted = to_uint8_frames(redraw(gen, latents, len(clips)))
    error = float(np.abs(fitted.astype(np.float32) - real).mean())
    return seconds, error, fitted


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--config', default='setup.ini', help='whose data, size and upsampling')
    parser.add_argument('--ch', type=int, nargs='+', default=[64, 256], help='generator widths')
    parser.add_argument('--steps', type=int, default=1000)
    parser.add_argument('--clips', type=int, default=64)
    parser.add_argument('--out', default='runs/generator_fit', help='folder for the strips')
    args = parser.parse_args(argv)
    config = load_config(args.config)
    real = real_uint8(config, args.clips)
    os.makedirs(args.out, exist_ok=True)
    print(f'{args.clips} clips of {config.data.root_dir}, {args.steps} steps of {BATCH}\n')
    print('| ch | seconds | mean absolute error (levels) | strip |\n|---|---|---|---|')
    for ch in args.ch:
        seconds, error, fitted = measure(config.model, real, ch, args.steps)
        path = os.path.join(args.out, f'fit_ch{ch}.png')
        Image.fromarray(strip(real, fitted)).save(path)
        print(f'| {ch} | {seconds:.0f} | {error:.1f} | {path} |', flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
