"""Look at a dataset before training on it: one grid gif of its clips, read as training reads them.

    python utils/preview_data.py [--config setup.ini] [--root DIR] [--index index.txt]
        [--n 16] [--start 0 | --shuffle SEED] [--out data_preview.gif] [--fps 10]

Clips come through the frame reader at the config's [MODEL] frame_size and
n_frames, so the gif shows exactly what the critic will see (square crop,
resize, padding of short clips). Unreadable clips are skipped with a warning,
as in training, and counted in the printed summary.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from utils import chainer_compat  # noqa: E402,F401
import numpy as np  # noqa: E402

from datastream.framereader import DataError, FrameReader  # noqa: E402
from utils.config_parse import ConfigError, load_config  # noqa: E402
from utils.video_io import save_gif, tile_grid  # noqa: E402


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--config', default='setup.ini', help='setup.ini giving data and sizes')
    parser.add_argument('--root', help="clip folder (default: the config's [DATA] root_dir)")
    parser.add_argument('--index', help="index file in --root (default: [DATA] index_dir)")
    parser.add_argument('--n', type=int, default=16, help='clips in the grid')
    parser.add_argument('--start', type=int, default=0, help='first clip, in index order')
    parser.add_argument('--shuffle', type=int, metavar='SEED',
                        help='pick n clips at random with this seed instead of in order')
    parser.add_argument('--out', default='data_preview.gif', help='gif to write')
    parser.add_argument('--fps', type=float, default=10.0, help='frames per second')
    args = parser.parse_args(argv)
    for name, low in (('n', 1), ('start', 0), ('fps', 0.1)):
        if getattr(args, name) < low:
            parser.error(f'--{name} {getattr(args, name)}: expected a value >= {low}')
    return args


def chosen_clips(n_listed, n, start, shuffle):
    """Indices of the clips to show: n in index order from start, or n at random."""
    n = min(n, n_listed)
    if shuffle is None:
        return [(start + i) % n_listed for i in range(n)]
    return sorted(np.random.RandomState(shuffle).choice(n_listed, n, replace=False).tolist())


def read_clips(dataset, indices):
    """(the readable clips as uint8 (T, H, W, 3) arrays, how many were unreadable)."""
    clips = [dataset.read_uint8(i) for i in indices]
    readable = [clip.transpose(1, 2, 3, 0) for clip in clips if clip is not None]
    return readable, len(clips) - len(readable)


def main(argv=None):
    args = parse_args(argv)
    try:
        config = load_config(args.config)
        root, index = args.root or config.data.root_dir, args.index or config.data.index_dir
        dataset = FrameReader(root, index, config.model.n_frames, config.model.frame_size)
    except (ConfigError, DataError, OSError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 2
    clips, unreadable = read_clips(dataset, chosen_clips(len(dataset), args.n, args.start,
                                                         args.shuffle))
    if not clips:
        print(f'error: none of the {unreadable} chosen clips is readable; try other'
              ' --start or --shuffle values', file=sys.stderr)
        return 2
    save_gif(args.out, tile_grid(np.stack(clips)), args.fps)
    frames, size = config.model.n_frames, config.model.frame_size
    print(f'wrote {args.out}: {len(clips)} clips of {os.path.join(root, index)}'
          f' ({len(dataset)} listed, {unreadable} of those chosen unreadable),'
          f' {frames} frames of {size}x{size}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
