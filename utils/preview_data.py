"""Look at a dataset before training on it: one grid gif of its clips, read as training reads them.

    python utils/preview_data.py [--config setup.ini] [--root DIR] [--index index.txt]
        [--n 16] [--start 0 | --shuffle SEED] [--out data_preview.gif] [--fps 10]

Clips come through the frame reader at the config's [MODEL] frame_size and
n_frames, so the gif shows exactly what the critic will see (square crop,
resize, padding of short clips). Unreadable clips are skipped with a warning,
as in training, and counted in the printed summary. --out ends in .gif, or in
.mp4 where imageio-ffmpeg is installed; at most 256 clips make one grid. An
earlier --out is replaced only when this tool made it with the same clips and
options (base/made_files.py), or with --overwrite one it made with others; a file
it did not make is never replaced. Without --config it reads the project's setup.ini,
from any folder; a relative root_dir of that file is found from the current folder or
the project folder (base/project_files.locate), that of a --config you name from the
current folder, as training reads it.
"""
import os
import sys

from base import chainer_compat  # noqa: F401
import numpy as np

from datastream.framereader import DataError, FrameReader
from base import cli
from base.config import load_config
from base.errors import UserError
from base.made_files import claim, job_key
from nn.sizes import video_voxels
from base.memory import require_memory
from base.project_files import locate, project_path
from base.safe_files import ensure_output_file
from base.video_io import channels_last, mp4_available, save_gif, save_mp4, tile_grid

EXTENSIONS = ('.gif', '.mp4')
MAX_CLIPS = 256
TOOL = 'utils/preview_data.py'


PROJECT_CONFIG = project_path('setup.ini')


def build_parser():
    parser = cli.parser(__doc__.splitlines()[0])
    parser.add_argument('--config', help="setup.ini giving data and sizes (default: the"
                        f" project's, {PROJECT_CONFIG})")
    parser.add_argument('--root', help="clip folder (default: the config's [DATA] root_dir)")
    parser.add_argument('--index', help="index file in --root (default: [DATA] index_file)")
    parser.add_argument('--n', type=int, default=16,
                        help=f'clips in the grid (at most {MAX_CLIPS})')
    parser.add_argument('--start', type=int, default=0, help='first clip, in index order')
    parser.add_argument('--shuffle', type=int, metavar='SEED',
                        help='pick n clips at random with this seed instead of in order')
    parser.add_argument('--out', default='data_preview.gif', help='gif (or mp4) to write')
    parser.add_argument('--fps', type=float, default=10.0, help='frames per second')
    parser.add_argument('--overwrite', action='store_true', help='replace an --out this tool'
                        ' made from other clips or options (never another file)')
    return parser


def parse_args(argv):
    args = build_parser().parse_args(argv)
    cli.check_ranges(args, (('n', 1, MAX_CLIPS), ('start', 0, None), ('fps', 0.1, 1000),
                            ('shuffle', 0, cli.MAX_SEED)))
    if not args.out.lower().endswith(EXTENSIONS):
        raise UserError(f'--out {args.out}: expected a file name ending in'
                        f' {" or ".join(EXTENSIONS)}')
    if args.out.lower().endswith('.mp4') and not mp4_available():
        raise UserError(f'--out {args.out}: an .mp4 needs the imageio-ffmpeg package'
                        ' (pip install imageio-ffmpeg); or write a .gif')
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
    readable = [channels_last(clip) for clip in clips if clip is not None]
    return readable, len(clips) - len(readable)


def claim_out(args, config, root, index):
    """The Record that writes --out, checked for this preview (base/made_files.py).
    The job: the clips' folder and index, their size and the options."""
    folder, name = os.path.split(os.path.abspath(args.out))
    key = job_key(os.path.abspath(root), index, config.model.frame_size,
                  config.model.n_frames, args.n, args.start, args.shuffle, args.fps)
    return claim(folder, {name: key}, TOOL, args.overwrite, '--out',
                 about=f'clips of {os.path.join(root, index)}', shown=args.out)


def _main(argv):
    args = parse_args(argv)
    config = load_config(args.config or PROJECT_CONFIG)
    root, index = args.root or config.data.root_dir, args.index or config.data.index_file
    if not args.root and not args.config:  # the project's relative paths, from anywhere
        root = locate(root) or root
    dataset = FrameReader(root, index, config.model.n_frames, config.model.frame_size)
    n, size, frames = min(args.n, len(dataset)), config.model.frame_size, config.model.n_frames
    require_memory(3 * n * 3 * video_voxels(config.model),  # the clips, stacked, tiled
                   f'--n {n} clips of {frames} frames of {size}x{size} px'
                   ' ([MODEL] n_frames, frame_size)')
    ensure_output_file(args.out, '--out', EXTENSIONS)
    record = claim_out(args, config, root, index)
    clips, unreadable = read_clips(dataset, chosen_clips(len(dataset), args.n, args.start,
                                                         args.shuffle))
    if not clips:
        raise DataError(f'none of the {unreadable} chosen clips is readable; try other'
                        ' --start or --shuffle values')
    save = save_mp4 if args.out.lower().endswith('.mp4') else save_gif
    grid = tile_grid(np.stack(clips))
    record.write(os.path.basename(args.out), lambda path: save(path, grid, args.fps))
    print(f'wrote {args.out}: {len(clips)} clips of {os.path.join(root, index)}'
          f' ({len(dataset)} listed, {unreadable} of those chosen unreadable),'
          f' {frames} frames of {size}x{size}')
    return 0


def main(argv=None):
    """Exit code: 0, 2 for a bad input (one line on stderr), 130 when interrupted."""
    return cli.run(_main, argv)


if __name__ == '__main__':
    sys.exit(main())
