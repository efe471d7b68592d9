"""Write videos from a trained generator.

    python utils/generate.py [--model models/generator.npz] [--seeds 0-15] [--outdir generated]
        [--interpolate 3 7 --steps 8] [--mp4]

The architecture comes from --config, by default the setup.ini beside the
model (every run folder has one, and so does models/). Writes seedNNNN.gif per
seed (each from its own RandomState(seed), so a seed always gives the same
video), grid.gif of them all, and with --interpolate walk_A_B.gif: the videos
along the latent path from seed A to seed B, one after another.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from utils import chainer_compat  # noqa: E402,F401  (before chainer)

import numpy as np  # noqa: E402
import chainer  # noqa: E402

from computations.sampling import generate_videos  # noqa: E402
from nn.DCGAN import Generator  # noqa: E402
from utils.config_parse import ConfigError, load_config  # noqa: E402
from utils.devices import DeviceError, device_for  # noqa: E402
from utils.video_io import mp4_available, save_gif, save_mp4, tile_grid  # noqa: E402

DEFAULT_MODEL = os.path.join('models', 'generator.npz')


class ModelError(ValueError):
    """A generator file that is missing or does not fit the configured network."""


def parse_seeds(spec):
    """'0-3,7' -> [0, 1, 2, 3, 7]; ValueError naming what is wrong."""
    seeds = []
    for part in spec.split(','):
        low, dash, high = part.strip().partition('-')
        if not low.isdigit() or (dash and not high.isdigit()):
            raise ValueError(f'--seeds {spec!r}: expected numbers and ranges like 0-15,20,31')
        low, high = int(low), int(high) if dash else int(low)
        if high < low:
            raise ValueError(f'--seeds {spec!r}: range {low}-{high} runs backwards')
        seeds.extend(range(low, high + 1))
    return list(dict.fromkeys(seeds))


def parse_args(argv):
    parser = argparse.ArgumentParser(description='Write gifs from a trained generator.')
    parser.add_argument('--model', default=DEFAULT_MODEL, help='generator .npz')
    parser.add_argument('--config', help='setup.ini of the run (default: beside the model)')
    parser.add_argument('--seeds', default='0-15', help='one video per seed: 0-15 or 1,5,9-12')
    parser.add_argument('--n', type=int, help='shorthand: seeds --seed .. --seed + n - 1')
    parser.add_argument('--seed', type=int, default=0, help='first seed for --n')
    parser.add_argument('--interpolate', nargs=2, type=int, metavar=('A', 'B'),
                        help='also a latent walk from seed A to seed B, as one video')
    parser.add_argument('--steps', type=int, default=8, help='videos along the walk')
    parser.add_argument('--outdir', default='generated', help='output folder')
    parser.add_argument('--fps', type=float, default=10.0, help='frames per second')
    parser.add_argument('--mp4', action='store_true', help='also write .mp4 (imageio-ffmpeg)')
    parser.add_argument('--gpu', type=int, default=-1, help='CUDA device, -1 for the CPU')
    args = parser.parse_args(argv)
    for name, low in (('n', 1), ('seed', 0), ('steps', 2), ('fps', 0.1)):
        value = getattr(args, name)
        if value is not None and value < low:
            parser.error(f'--{name} {value}: expected a value >= {low}')
    if args.interpolate and min(args.interpolate) < 0:
        parser.error(f'--interpolate {args.interpolate[0]} {args.interpolate[1]}:'
                     ' expected seeds >= 0')
    try:
        args.seeds = (list(range(args.seed, args.seed + args.n)) if args.n
                      else parse_seeds(args.seeds))
    except ValueError as err:
        parser.error(str(err))
    if args.mp4 and not mp4_available():
        parser.error('--mp4: needs the imageio-ffmpeg package (pip install imageio-ffmpeg)')
    return args


def config_path_for(model_path, config_path):
    path = config_path or os.path.join(os.path.dirname(model_path) or '.', 'setup.ini')
    if not os.path.isfile(path):
        raise ConfigError(f'{path}: config file not found; pass the run\'s setup.ini with --config')
    return path


def check_shapes(gen, model_path):
    """Raise ModelError naming the first parameter whose stored shape differs."""
    with np.load(model_path) as stored:
        for name, param in gen.namedparams():
            key = name.lstrip('/')
            if key not in stored:
                raise ModelError(f'{model_path}: no parameter {key!r}; is it a generator file?')
            if stored[key].shape != param.shape:
                raise ModelError(f'{model_path}: parameter {key!r} has shape {stored[key].shape},'
                                 f' the configured network expects {param.shape}'
                                 ' (check ch, latent_dim, frame_size, n_frames, upsample)')


def load_generator(model_path, config):
    """A Generator built from config.model with the weights in model_path."""
    if not os.path.isfile(model_path):
        raise ModelError(f'{model_path}: generator file not found; train one with'
                         ' `python main_train.py` and pass --model RUN/gen_iter_N.npz')
    m = config.model
    gen = Generator(m.ch, m.latent_dim, m.n_frames, m.frame_size, upsample=m.upsample)
    check_shapes(gen, model_path)
    chainer.serializers.load_npz(model_path, gen)
    return gen


def latents_for(gen, seeds):
    """One latent per seed, each from its own RandomState(seed): reproducible alone."""
    return np.concatenate([gen.make_hidden(1, np.random.RandomState(s)) for s in seeds])


def walk(gen, seed_a, seed_b, steps):
    """Latents along the great circle from seed A's latent to seed B's (both unit length)."""
    a, b = latents_for(gen, [seed_a, seed_b])
    angle = np.arccos(np.clip(np.dot(a, b), -1.0, 1.0))
    ts = np.linspace(0, 1, steps)[:, None]
    if angle < 1e-6:
        return np.repeat(a[None], steps, axis=0)
    return ((np.sin((1 - ts) * angle) * a + np.sin(ts * angle) * b) / np.sin(angle)).astype(
        np.float32)


def write_video(path, frames, args):
    """path.gif, and path.mp4 with --mp4."""
    save_gif(path + '.gif', frames, args.fps)
    if args.mp4:
        save_mp4(path + '.mp4', frames, args.fps)


def main(argv=None):
    args = parse_args(argv)
    try:
        config = load_config(config_path_for(args.model, args.config))
        gen = load_generator(args.model, config)
        gen.to_device(device_for(args.gpu, '--gpu'))
    except (ConfigError, ModelError, DeviceError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 2
    os.makedirs(args.outdir, exist_ok=True)
    videos = generate_videos(gen, latents_for(gen, args.seeds))
    for seed, video in zip(args.seeds, videos):
        write_video(os.path.join(args.outdir, f'seed{seed:04d}'), video, args)
    write_video(os.path.join(args.outdir, 'grid'), tile_grid(videos), args)
    print(f'wrote {len(videos)} videos and the grid to {args.outdir}')
    if args.interpolate:
        a, b = args.interpolate
        steps = generate_videos(gen, walk(gen, a, b, args.steps))
        write_video(os.path.join(args.outdir, f'walk_{a:04d}_{b:04d}'),
                    np.concatenate(list(steps)), args)
        print(f'wrote the walk from seed {a} to seed {b} in {args.steps} steps')
    return 0


if __name__ == '__main__':
    sys.exit(main())
