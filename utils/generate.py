"""Write gifs from a trained generator.

    python utils/generate.py --model runs/moving_shapes/gen_iter_300.npz --n 16

The architecture comes from --config, by default the setup.ini beside the
model (every run folder has one). Writes sample_NNNN.gif per video and grid.gif.
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
from utils.video_io import save_gif, tile_grid  # noqa: E402

DEFAULT_MODEL = os.path.join('models', 'generator.npz')


class ModelError(ValueError):
    """A generator file that is missing or does not fit the configured network."""


def parse_args(argv):
    parser = argparse.ArgumentParser(description='Write gifs from a trained generator.')
    parser.add_argument('--model', default=DEFAULT_MODEL, help='generator .npz')
    parser.add_argument('--config', help='setup.ini of the run (default: beside the model)')
    parser.add_argument('--n', type=int, default=16, help='number of videos')
    parser.add_argument('--outdir', default='generated', help='output folder')
    parser.add_argument('--seed', type=int, default=0, help='seed of the latent vectors')
    parser.add_argument('--gpu', type=int, default=-1, help='CUDA device, -1 for the CPU')
    args = parser.parse_args(argv)
    if args.n < 1:
        parser.error(f'--n {args.n}: expected at least 1 video')
    if args.seed < 0:
        parser.error(f'--seed {args.seed}: expected a value >= 0')
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
                                 ' (check ch, latent_dim, frame_size, n_frames)')


def load_generator(model_path, config):
    """A Generator built from config.model with the weights in model_path."""
    if not os.path.isfile(model_path):
        raise ModelError(f'{model_path}: generator file not found; train one with'
                         ' `python main_train.py` and pass --model RUN/gen_iter_N.npz')
    m = config.model
    gen = Generator(m.ch, m.latent_dim, m.n_frames, m.frame_size)
    check_shapes(gen, model_path)
    chainer.serializers.load_npz(model_path, gen)
    return gen


def write_gifs(videos, outdir):
    """sample_NNNN.gif for each video and grid.gif of them all; returns the grid path."""
    os.makedirs(outdir, exist_ok=True)
    for i, video in enumerate(videos):
        save_gif(os.path.join(outdir, f'sample_{i:04d}.gif'), video)
    grid_path = os.path.join(outdir, 'grid.gif')
    save_gif(grid_path, tile_grid(videos))
    return grid_path


def main(argv=None):
    args = parse_args(argv)
    try:
        config = load_config(config_path_for(args.model, args.config))
        gen = load_generator(args.model, config)
        gen.to_device(device_for(args.gpu, '--gpu'))
    except (ConfigError, ModelError, DeviceError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 2
    z = gen.make_hidden(args.n, np.random.RandomState(args.seed))
    grid = write_gifs(generate_videos(gen, z), args.outdir)
    print(f'wrote {args.n} gifs and {grid}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
