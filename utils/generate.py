"""Write videos from a trained generator.

    python utils/generate.py [--model models/generator.npz | RUN_FOLDER] [--seeds 0-15]
        [--out generated] [--interpolate 3 7 --steps 8] [--mp4] [--batch 16]

--model names a generator file or a run folder (its newest gen_avg_iter_N.npz, else its
newest gen_iter_N.npz; nn/network_files.resolve_generator); without it, the project's
shipped models/generator.npz, wherever the command runs. The architecture comes from
the settings the model file carries (every network file training writes has them), else
from --config or the setup.ini beside an older model file (every run folder has one, and
so does models/). Writes seedNNNN.gif per seed (each from its own RandomState(seed),
so a seed always gives the same video), grid.gif of the first 64 of them, and with
--interpolate A B walk_A_B.gif (seeds as plain numbers: --interpolate 3 8 writes
walk_3_8.gif): the videos along the latent path from seed A to seed B, one after another.

Seeds are 0 to 2**32 - 1, at most 10,000 per run. Videos are made --batch at a
time and each one is written as soon as it is made (under a temporary name,
renamed when complete), so Ctrl-C or SIGTERM stops between files and leaves
only whole gifs behind.

--out keeps a record of the files this tool made there and from what
(base/made_files.py: the model file's sha256, its architecture, --fps, and the grid's
seeds or the walk's steps). A file is replaced only when the same model and options
made it, so rerunning a command is repeatable; one made from another model or options
needs --overwrite, and a file this tool did not make is never replaced. Every file is
checked before the first video is made. Once a run has written all its files, the
files an earlier run of this tool made there that this one did not rewrite (other
seeds, a walk, .mp4s) are removed, so --out shows one run; any other file is kept.
"""
import re
import sys

from base import chainer_compat  # noqa: F401  (before chainer)

import numpy as np

from computations.sampling import generate_videos
from nn.network_files import (CHECK_KEYS, GENERATOR_HINT, config_for, load_generator,
                              resolve_generator)
from nn import torch_kernels
from base import cli
from base.config import KERNELS
from base.devices import device_for
from base.errors import UserError
from base.made_files import claim, file_digest, job_key
from nn.sizes import describe_size, network_bytes, video_voxels
from base.memory import require_memory
from base.project_files import project_path
from base.safe_files import ensure_output_dir
from base.video_io import mp4_available, save_gif, save_mp4, tile_grid

DEFAULT_MODEL = project_path('models', 'generator.npz')  # the shipped model, from anywhere
TOOL = 'utils/generate.py'
MAX_SEED = cli.MAX_SEED
MAX_SEEDS = 10_000  # videos per run: ask for more in several runs
MAX_STEPS = 1_000  # videos along one --interpolate walk (one gif holds them all)
GRID_MAX = 64  # grid.gif tiles the first GRID_MAX videos


_NUMBER = re.compile(r'[0-9]{1,100}')  # ASCII digits, short enough for int()


def _check_seed(seed, option):
    if not 0 <= seed <= MAX_SEED:
        raise UserError(f'{option}: seed {seed} is out of range; expected 0 to {MAX_SEED}')


def parse_seeds(spec):
    """'0-3,7' -> [0, 1, 2, 3, 7]; UserError naming what is wrong. Seeds are 0 to
    2**32 - 1 and there are at most MAX_SEEDS of them, checked before any list is made."""
    seeds = {}
    for part in spec.split(','):
        low, dash, high = part.strip().partition('-')
        if not _NUMBER.fullmatch(low) or (dash and not _NUMBER.fullmatch(high)):
            raise UserError(f'--seeds {spec!r}: expected numbers and ranges like 0-15,20,31')
        low, high = int(low), int(high) if dash else int(low)
        if high < low:
            raise UserError(f'--seeds {spec!r}: range {low}-{high} runs backwards')
        _check_seed(high, f'--seeds {spec!r}')
        if high - low + 1 > MAX_SEEDS or len(seeds) > MAX_SEEDS:
            raise UserError(f'--seeds {spec!r}: more than {MAX_SEEDS} seeds; expected at most'
                            f' {MAX_SEEDS} per run (split them over several runs)')
        seeds.update(dict.fromkeys(range(low, high + 1)))
    if len(seeds) > MAX_SEEDS:
        raise UserError(f'--seeds {spec!r}: more than {MAX_SEEDS} seeds; expected at most'
                        f' {MAX_SEEDS} per run (split them over several runs)')
    return list(seeds)


def build_parser():
    parser = cli.parser('Write gifs from a trained generator.')
    parser.add_argument('--model', default=DEFAULT_MODEL,
                        help='generator .npz, or a run folder: its newest gen_avg_iter_N.npz,'
                        ' else its newest gen_iter_N.npz')
    parser.add_argument('--config', help="the run's setup.ini (default: the settings in"
                        ' the model file, else the setup.ini beside it)')
    parser.add_argument('--seeds', default='0-15',
                        help=f'one video per seed: 0-15 or 1,5,9-12 (at most {MAX_SEEDS})')
    parser.add_argument('--n', type=int, help='shorthand: seeds --seed .. --seed + n - 1')
    parser.add_argument('--seed', type=int, default=0, help='first seed for --n')
    parser.add_argument('--interpolate', nargs=2, type=int, metavar=('A', 'B'),
                        help='also walk_A_B.gif, the latent walk from seed A to seed B as'
                        ' one video')
    parser.add_argument('--steps', type=int, default=8, help='videos along the walk')
    parser.add_argument('--out', '--outdir', dest='outdir', default='generated',
                        help='output folder, from the current folder (--outdir: its older'
                        ' name)')
    parser.add_argument('--fps', type=float, default=10.0, help='frames per second')
    parser.add_argument('--mp4', action='store_true', help='also write .mp4 (imageio-ffmpeg)')
    parser.add_argument('--batch', type=int, default=16, help='videos made at a time')
    parser.add_argument('--gpu', type=int, default=-1, help='CUDA device, -1 for the CPU')
    parser.add_argument('--kernels', choices=KERNELS, default='auto', help=cli.KERNELS_HELP)
    parser.add_argument('--overwrite', action='store_true', help='replace files in --out that'
                        ' this tool made from another model or options (never other files)')
    return parser


def parse_args(argv):
    args = build_parser().parse_args(argv)
    cli.check_ranges(args, (('n', 1, MAX_SEEDS), ('seed', 0, MAX_SEED), ('steps', 2, MAX_STEPS),
                            ('fps', 0.1, 1000), ('batch', 1, None)))
    if args.interpolate:
        for seed in args.interpolate:
            _check_seed(seed, f'--interpolate {args.interpolate[0]} {args.interpolate[1]}')
    if args.n:
        _check_seed(args.seed + args.n - 1, f'--seed {args.seed} --n {args.n}')
        args.seeds = list(range(args.seed, args.seed + args.n))
    else:
        args.seeds = parse_seeds(args.seeds)
    if args.mp4 and not mp4_available():
        raise UserError('--mp4: needs the imageio-ffmpeg package (pip install imageio-ffmpeg)')
    return args


def generation_bytes(model, batch, n_videos, walk_steps=0):
    """network_bytes plus the uint8 frames kept: a batch, the grid's videos (kept,
    tiled and handed to the gif writer) and the walk's."""
    frames = 3 * video_voxels(model)
    kept = batch + 3 * min(n_videos, GRID_MAX) + 3 * walk_steps
    return network_bytes(model, batch) + frames * kept


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


def walk_stem(seed_a, seed_b):
    """The walk's file name without extension: walk_3_8 for --interpolate 3 8."""
    return f'walk_{seed_a}_{seed_b}'


def output_jobs(args, model, digest):
    """{file name: job key} of every file this run writes in --out: a seed's video
    depends on the model file (its sha256 digest), its architecture and --fps; the
    grid also on its seeds, the walk on its steps."""
    arch = {key: getattr(model, key) for key in CHECK_KEYS['generator'].split(', ')}
    base = (digest, arch, args.fps)
    stems = {f'seed{seed:04d}': job_key(*base) for seed in args.seeds}
    stems['grid'] = job_key(*base, args.seeds[:GRID_MAX])
    if args.interpolate:
        stems[walk_stem(*args.interpolate)] = job_key(*base, args.steps)
    extensions = ('.gif', '.mp4') if args.mp4 else ('.gif',)
    return {stem + ext: key for stem, key in stems.items() for ext in extensions}


def claim_outputs(args, model):
    """The Record that writes this run's files in --out, each checked before any video
    is made (base/made_files.py); OutputError naming the first refused."""
    digest = file_digest(args.model)
    return claim(args.outdir, output_jobs(args, model, digest), TOOL, args.overwrite, '--out',
                 about=f'--model {args.model} of sha256 {digest[:12]}')


def write_video(record, stem, frames, args):
    """STEM.gif, and STEM.mp4 with --mp4, in --out (each written whole or not at all,
    and recorded as made by this job)."""
    record.write(stem + '.gif', lambda path: save_gif(path, frames, args.fps))
    if args.mp4:
        record.write(stem + '.mp4', lambda path: save_mp4(path, frames, args.fps))


def write_seed_videos(gen, seeds, args, record):
    """Make the seeds' videos --batch at a time, writing each as soon as it is made;
    the first GRID_MAX videos, kept for the grid."""
    grid = []
    for start in range(0, len(seeds), args.batch):
        chunk = seeds[start:start + args.batch]
        videos = generate_videos(gen, latents_for(gen, chunk), batch_size=args.batch)
        for seed, video in zip(chunk, videos):
            write_video(record, f'seed{seed:04d}', video, args)
        grid.extend(video.copy() for video in videos[:GRID_MAX - len(grid)])
    return np.stack(grid)


def _main(argv):
    args = parse_args(argv)
    given, args.model = args.model, resolve_generator(args.model)
    if args.model != given:
        print(f'--model {given}: using {args.model}')
    config = config_for(args.model, args.config, 'generator', GENERATOR_HINT)
    walk_steps = args.steps if args.interpolate else 0
    require_memory(generation_bytes(config.model, args.batch, len(args.seeds), walk_steps),
                   f'--batch {args.batch} videos of {describe_size(config.model)}'
                   + (f' and a walk of --steps {walk_steps}' if walk_steps else ''))
    gen = load_generator(args.model, config.model)
    torch_kernels.select(args.kernels, args.gpu >= 0, '--kernels')
    gen.to_device(device_for(args.gpu, '--gpu'))
    ensure_output_dir(args.outdir, '--outdir')
    record = claim_outputs(args, config.model)
    grid = write_seed_videos(gen, args.seeds, args, record)
    write_video(record, 'grid', tile_grid(grid), args)
    shown = '' if len(args.seeds) <= GRID_MAX else f' (the first {GRID_MAX})'
    print(f'wrote {len(args.seeds)} videos and the grid{shown} to {args.outdir}')
    if args.interpolate:
        a, b = args.interpolate
        steps = generate_videos(gen, walk(gen, a, b, args.steps), batch_size=args.batch)
        write_video(record, walk_stem(a, b), np.concatenate(list(steps)), args)
        print(f'wrote the walk from seed {a} to seed {b} in {args.steps} steps')
    removed = record.remove_others()
    if removed:
        print(f'removed {len(removed)} files an earlier run of {TOOL} made in {args.outdir}'
              f' and this one did not: {", ".join(removed[:8])}'
              + (', ...' if len(removed) > 8 else ''))
    return 0


def main(argv=None):
    """Exit code: 0, 2 for a bad input (one line on stderr), 130 when interrupted."""
    return cli.run(_main, argv)


if __name__ == '__main__':
    sys.exit(main())
