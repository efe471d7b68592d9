"""Score generated (or any) clips against held-out real ones.

    python utils/evaluate.py --model runs/x/gen_iter_N.npz [--critic runs/x/dis_iter_N.npz]
        [--root DIR --index held_out.txt] [--n 256] [--out eval.json]
    python utils/evaluate.py --fake-root DIR --fake-index FILE [--config setup.ini] ...

Prints and writes as JSON (metrics/clip_statistics.py computes it): the headline
`quality` (metrics/quality.py; lower is better, real against real scores only its
sampling noise) with its `components`,
beside it the `recognisability` (higher is better) and the tabulated real against
real at the data's look, size and --n (`reference`, metrics/reference.py; a
warning when --n is below the documented 256), and the older shrunk-clip distance
`fd`; per-frame pixel statistics of real and
judged clips (mean, standard deviation, temporal difference energy: 0 for a
still video); and, given a critic, its Wasserstein estimate E[D(real)] - E[D(fake)]
with a 95% confidence interval. With --fvd also k-NN precision/recall in a
feature space (the shipped feature network's, or your own with --features).
--fake-root/--fake-index judge clips read through the frame reader at the
config's size instead of a generator's. --model names a generator file or a run
folder (its newest gen_avg_iter_N.npz, else its newest gen_iter_N.npz). The critic,
config and data default to the run's: critic_iter_N beside gen_iter_N (critic.npz
beside generator.npz), the settings the generator file carries (else the setup.ini
beside it; the project's setup.ini for --fake-root), and its [DATA] root_dir and
index_file (data_location: a built-in dataset is made only where --config or an
absolute root_dir names it). The shipped feature network is the project's, from any
folder. --gen is the older name of --model.

At least 2 clips of each kind are needed (4 with --fvd), and an evaluation whose
clips cannot fit in this machine's memory is refused before it starts. The JSON
is strict (a non-finite number is written as null) and written atomically. It
replaces an earlier --out only when this tool wrote it for the same networks (their
sha256), clips and options (base/made_files.py), or with --overwrite one it wrote
for another; a file it did not write is never replaced.
"""
import dataclasses
import json
import math
import os
import re
import sys

from base import chainer_compat  # noqa: F401
import numpy as np

from computations.sampling import generate_float_videos
from datastream.framereader import FrameReader, clip_converter
from datastream.moving_shapes import ensure_builtin
from metrics import feature_net
from metrics.clip_statistics import collect, compare
from metrics.frechet import load_feature_function
from metrics import reference as reference_table
from metrics.quality import QualityReference
from nn.network_files import (GENERATOR_HINT, config_for, load_critic, load_generator,
                              resolve_generator)
from nn import torch_kernels
from base import cli
from base.config import KERNELS, load_config
from base.devices import device_for
from base.errors import UserError
from base.made_files import claim, file_digest, job_key
from nn.sizes import describe_size, network_bytes, video_voxels
from base.memory import require_memory
from base.project_files import locate, project_path
from base.safe_files import atomic_path, ensure_output_file

MIN_CLIPS = 2  # of each kind: the interval needs a variance
FVD_MIN_CLIPS = 4  # precision/recall's k-th nearest neighbour, k = 3
MAX_SEED = cli.MAX_SEED
TOOL = 'utils/evaluate.py'
FEATURE_NET = project_path('models', 'feature_net.npz')  # the shipped one, from anywhere
PROJECT_CONFIG = project_path('setup.ini')  # the config of --fake-root without --config


def dataset_batches(dataset, n, batch, device):
    """Float clips in [-1, 1] on the device, the first n of a FrameReader, batch by batch."""
    for start in range(0, n, batch):
        examples = [dataset[i] for i in range(start, min(n, start + batch))]
        yield clip_converter(examples, device)[0]


def fake_batches(gen, n, batch, seed):
    """n generated clips, `batch` at a time on gen's device, as the gifs show them
    (computations/sampling.generate_float_videos)."""
    rng = np.random.RandomState(seed)
    for start in range(0, n, batch):
        z = gen.make_hidden(min(batch, n - start), rng)
        yield gen.device.send(generate_float_videos(gen, z, batch))


def feature_function(args, model, net):
    """The --features callable, or that of net (the feature network), or None without --fvd."""
    if not args.fvd:
        return None
    if args.features:
        try:
            return load_feature_function(args.features)
        except ValueError as err:
            raise UserError(' '.join(str(err).split())) from None
    try:  # the clip size it takes, checked on one blank clip before any work
        feature_net.prepare(np.zeros((1, 3, model.n_frames, model.frame_size, model.frame_size),
                                     np.float32))
    except ValueError as err:
        raise UserError(f'--fvd with {args.feature_net}: {err} ([MODEL] frame_size);'
                        ' pass your own --features') from None
    return lambda videos: feature_net.extract(net, videos)


def critic_beside(gen_path):
    """The critic saved with a generator: RUN/critic_iter_N.npz for RUN/gen_iter_N.npz
    (or its moving average gen_avg_iter_N.npz; dis_iter_N.npz in runs written before
    2026-11-26), critic.npz for generator.npz (the shipped models)."""
    folder, name = os.path.split(gen_path)
    if name == 'generator.npz':
        return os.path.join(folder, 'critic.npz')
    path = os.path.join(folder, re.sub(r'gen_(avg_)?iter_(\d+)\.npz$', r'critic_iter_\2.npz', name))
    older = os.path.join(folder, re.sub(r'gen_(avg_)?iter_(\d+)\.npz$', r'dis_iter_\2.npz', name))
    return older if not os.path.exists(path) and os.path.exists(older) else path


def build_parser():
    parser = cli.parser(__doc__.splitlines()[0])
    parser.add_argument('--model', '--gen', dest='gen',
                        help='generator .npz (RUN/gen_iter_N.npz), or a run folder: its newest'
                        ' gen_avg_iter_N.npz, else its newest gen_iter_N.npz')
    parser.add_argument('--fake-root', help='judge the clips listed by --fake-index in this'
                        ' folder instead of a generator (read at the config\'s size)')
    parser.add_argument('--fake-index', help='index file of those clips, relative to --fake-root')
    parser.add_argument('--critic', help='critic .npz (default: critic_iter_N.npz beside --model)')
    parser.add_argument('--config', help="the run's setup.ini; its [DATA] root_dir is read from"
                        ' the current folder and the built-in dataset made there when missing'
                        ' (default: the settings in the --model file, else the setup.ini beside'
                        " it; the project's setup.ini for --fake-root)")
    parser.add_argument('--root', help="folder of the real clips (default: the config's [DATA]"
                        ' root_dir)')
    parser.add_argument('--index', help="held-out index file, relative to --root (default: the"
                        " config's [DATA] index_file)")
    parser.add_argument('--n', type=int, default=256, help='clips of each kind (at least 2)')
    parser.add_argument('--batch', type=int, default=16, help='clips through the networks at a'
                        ' time')
    parser.add_argument('--seed', type=int, default=0, help='seed of the generated latents')
    parser.add_argument('--out', help='JSON file (default: evaluation.json beside --model)')
    parser.add_argument('--gpu', type=int, default=-1, help='CUDA device, -1 for the CPU')
    parser.add_argument('--kernels', choices=KERNELS, default='auto', help=cli.KERNELS_HELP)
    parser.add_argument('--fvd', action='store_true',
                        help='also the Fréchet distance and precision/recall of clip features')
    parser.add_argument('--feature-net', default=FEATURE_NET,
                        help='feature network of the quality score and --fvd'
                        ' (metrics/feature_net.py)')
    parser.add_argument('--features', metavar='MODULE:CALLABLE',
                        help='for --fvd: your own feature function instead (e.g. I3D)')
    parser.add_argument('--overwrite', action='store_true', help='replace an --out this tool'
                        ' wrote for other networks, clips or options (never another file)')
    return parser


def parse_args(argv):
    args = build_parser().parse_args(argv)
    cli.check_ranges(args, (('n', MIN_CLIPS, None, 'a variance needs two clips'),
                            ('batch', 1, None), ('seed', 0, MAX_SEED)))
    if bool(args.fake_root) != bool(args.fake_index):
        raise UserError('--fake-root and --fake-index: expected both (the folder and its index)')
    if bool(args.gen) == bool(args.fake_root):
        raise UserError('expected either --model GENERATOR.npz or --fake-root DIR'
                        ' --fake-index FILE')
    args.given_model = args.gen
    if args.gen:
        args.gen = resolve_generator(args.gen)
        args.critic = args.critic or critic_beside(args.gen)
    args.out = args.out or os.path.join(os.path.dirname(args.gen or args.fake_root) or '.',
                                        'evaluation.json')
    return args


def evaluation_bytes(model, n, batch, fvd=False):
    """A rough peak of an evaluation: n real and n generated clips kept as float32,
    the float64 copy and frame differences metrics/clip_statistics.pixel_stats makes of
    one kind, one batch through the networks and, with --fvd, precision/recall's
    n x n x D distances (D = 128, the shipped feature network's)."""
    clips = n * 3 * video_voxels(model) * (2 * 4 + 2 * 8)
    return clips + network_bytes(model, batch) + (n * n * 128 * 8 if fvd else 0)


def finite_or_none(value):
    """The result with every non-finite number (NaN, inf) replaced by None (JSON null)."""
    if isinstance(value, dict):
        return {key: finite_or_none(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_or_none(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_json(path, result):
    """The result as strict JSON (non-finite numbers as null), written atomically."""
    text = json.dumps(finite_or_none(result), indent=1, allow_nan=False)
    with atomic_path(path) as partial:
        with open(partial, 'w', encoding='utf-8') as out:
            out.write(text + '\n')


def _config(args):
    if args.gen:
        return config_for(args.gen, args.config, 'generator', GENERATOR_HINT)
    return load_config(args.config or PROJECT_CONFIG)


def _networks(args, config):
    """(generator or None, critic or None, device): the networks, checked and on --gpu."""
    gen = load_generator(args.gen, config.model) if args.gen else None
    critic = load_critic(args.critic, config.model) if args.critic else None
    torch_kernels.select(args.kernels, args.gpu >= 0, '--kernels')
    device = device_for(args.gpu, '--gpu')
    for net in (gen, critic):
        if net is not None:
            net.to_device(device)
    return gen, critic, device


def _judged(args, config, gen, device, dataset_size):
    """(batches of judged clips on the device, n): gen's, or the clips of
    --fake-root/--fake-index."""
    n = min(args.n, dataset_size)
    if gen is not None:
        return fake_batches(gen, n, args.batch, args.seed), n
    judged = FrameReader(args.fake_root, args.fake_index, config.model.n_frames,
                         config.model.frame_size)
    n = min(n, len(judged))
    return dataset_batches(judged, n, args.batch, device), n


def data_location(args, config):
    """(root, index, build) of the real clips: their folder and index file, and whether the
    built-in dataset (builtin = yes) may be made there when missing: only where the user
    named the folder. --root names it (never made: it holds your clips); so does the
    [DATA] root_dir of a --config, read from the current folder as training reads it,
    and an absolute root_dir in the model's settings. A relative root_dir of the model's
    settings (or of the project's setup.ini) is used where it is found, from the current
    folder or the project folder (base/project_files.locate), and never made; UserError
    saying what to pass when it is found in neither."""
    data = config.data
    index = args.index or data.index_file
    if args.root:
        return args.root, index, False
    build = data.builtin and not args.index
    if args.config or os.path.isabs(data.root_dir):
        return data.root_dir, index, build
    found = locate(data.root_dir)
    if found is None:
        source = f'--model {args.given_model}' if args.gen else PROJECT_CONFIG
        made = ' (the built-in dataset is made only where you name it)' if build else ''
        raise UserError(f'{source}: [DATA] root_dir {data.root_dir!r} is in neither the current'
                        f' folder nor the project folder {project_path()}{made}; pass --root DIR'
                        ' with the real clips, or --config SETUP.INI whose root_dir names'
                        ' where they are or are to be made')
    return found, index, False


def _real_clips(config, root, index, build):
    """The FrameReader of the real clips in root/index, whose built-in dataset is made
    first when build (data_location) and it is missing."""
    if build:
        ensure_builtin(dataclasses.replace(config.data, root_dir=root), config.model.seed)
    return FrameReader(root, index, config.model.n_frames, config.model.frame_size)


def _check_count(args, n, index_path, listed):
    least = FVD_MIN_CLIPS if args.fvd else MIN_CLIPS
    if n < least:
        raise UserError(f'--n {args.n}: {n} clip(s) of each kind can be had'
                        f' ({index_path} lists {listed}); an evaluation'
                        f'{" with --fvd" if args.fvd else ""} needs at least {least} clips'
                        ' of each kind')


def output_jobs(args, config, root, index):
    """{--out's file name: job key}: what decides the result (the network files' sha256,
    the sizes, the clips judged and compared, --n, --seed, --fvd, --features)."""
    files = {name: file_digest(path) for name, path in (
        ('model', args.gen), ('critic', args.critic), ('feature_net', args.feature_net)) if path}
    fake = [os.path.abspath(args.fake_root), args.fake_index] if args.fake_root else None
    key = job_key(files, repr(config.model), [os.path.abspath(root), index], fake,
                  args.n, args.seed, args.fvd, args.features)
    return {os.path.basename(args.out): key}


def claim_out(args, config, root, index):
    """The Record that writes --out, checked for this evaluation (base/made_files.py)."""
    folder = os.path.dirname(os.path.abspath(args.out))
    about = f'--model {args.gen}' if args.gen else f'--fake-root {args.fake_root}'
    return claim(folder, output_jobs(args, config, root, index), TOOL, args.overwrite, '--out',
                 about=about, shown=args.out)


def _score(net, real_batches, judged_batches, critic, features, look=None):
    """The report (metrics/clip_statistics.compare) of the clips the two batch streams
    give, with the critic's scores."""
    real, real_scores = collect(real_batches, critic)
    judged, judged_scores = collect(judged_batches, critic)
    return compare(real, judged, QualityReference(net, real), (real_scores, judged_scores),
                   features, look)


def _main(argv):
    args = parse_args(argv)
    if args.gen != args.given_model:
        print(f'--model {args.given_model}: using {args.gen}')
    config = _config(args)
    root, index, build = data_location(args, config)
    require_memory(network_bytes(config.model, args.batch),  # before the networks are built
                   f'--batch {args.batch} of {describe_size(config.model)}')
    ensure_output_file(args.out, '--out')  # --out and the networks before any clip is made
    gen, critic, device = _networks(args, config)
    net = feature_net.check_feature_net(args.feature_net, '--feature-net')
    record = claim_out(args, config, root, index)
    dataset = _real_clips(config, root, index, build)
    batches, n = _judged(args, config, gen, device, len(dataset))
    _check_count(args, n, os.path.join(root, index), len(dataset))
    require_memory(evaluation_bytes(config.model, n, args.batch, args.fvd),
                   f'--n {n} clips and --batch {args.batch} of {describe_size(config.model)}')
    features = feature_function(args, config.model, net)
    result = _score(net, dataset_batches(dataset, n, args.batch, device), batches, critic,
                    features, config.data.builtin_look if config.data.builtin else None)
    record.write(os.path.basename(args.out), lambda path: write_json(path, result))
    report(result, args.out)
    return 0


def main(argv=None):
    """Exit code: 0, 2 for a bad input (one line on stderr), 130 when interrupted."""
    return cli.run(_main, argv)


def report(result, path):
    real, fake = result['pixels']['real'], result['pixels']['generated']
    parts = ', '.join(f'{name} {value:.2f}' for name, value in result['components'].items())
    ref = result['reference']
    against = reference_table.describe(ref['look'], ref['n_frames'], ref['frame_size'],
                                       result['n'])
    print(f"quality {result['quality']:.2f} over {result['n']} + {result['n']} clips (lower is"
          f" better; {against}): {parts}; shrunk-clip distance fd {result['fd']:.2f}")
    print(f"recognisability {result['recognisability']:.2f} (higher is better, at most 1: the"
          f" share of clips whose shape kinds the feature net names frame after frame, matched"
          f" to the real clips' kinds; named before matching {result['recognised']:.2f})")
    warning = reference_table.small_n_warning(result['n'])
    if warning:
        print(warning)
    if 'wasserstein_estimate' in result:
        w = result['wasserstein_estimate']
        print(f"Wasserstein estimate over {result['n']} + {result['n']} clips: {w['mean']:.4f}"
              f" (95% CI {w['ci95'][0]:.4f} to {w['ci95'][1]:.4f})")
    for name in ('mean', 'std', 'temporal_energy', 'edge_contrast', 'alternation'):
        print(f'  pixel {name:16s} real {real[name]:.4f}  judged {fake[name]:.4f}')
    if 'fvd' in result:
        fvd = result['fvd']
        print(f"  feature Fréchet distance {fvd['frechet_distance']:.4f}, precision"
              f" {fvd['precision']:.3f}, recall {fvd['recall']:.3f}")
    print(f'written to {path}')


if __name__ == '__main__':
    sys.exit(main())
