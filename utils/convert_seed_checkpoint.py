"""Convert a generator .npz saved by the seed's original code into this project's layout.

    python utils/convert_seed_checkpoint.py seed_generator.npz --out models/seed \\
        [--frame-size 64] [--n-frames 32]

The seed's generator names its layers l1, bn1 (on the linear output), dc1-dc4
and bn2-bn4, lays every video tensor out (C, W, H, T) (frames last, width before
height) and takes latents shaped (N, latent_dim, 1, 1). Ours is (C, T, H, W),
takes (N, latent_dim) and has no bias before its BatchNorms: a bias there only
shifts BatchNorm's running mean, so it is folded into avg_mean. For the same z
the converted generator makes the same video, transposed to (C, T, H, W).
Writes OUT/generator.npz and OUT/setup.ini (the architecture, for generate.py).
"""
import os
import sys

from base import chainer_compat  # noqa: F401
import numpy as np

from nn.DCGAN import base_shape
from base import cli
from base.config import Config, ModelConfig, write_config
from base.errors import UserError
from base.npz_entries import read_entries, write_entries
from base.safe_files import claim_folder

CONVERTED_MARKER = '.videogan-converted'  # claim_folder's marker: --out was made by this tool
WHT_TO_THW = (0, 1, 4, 3, 2)  # (in, out, kW, kH, kT) -> (in, out, kT, kH, kW)
BN_KEYS = ('gamma', 'beta', 'avg_mean', 'avg_var')


class CheckpointError(UserError):
    """A file that does not hold a generator in the seed's layout."""


def seed_params(path):
    """{'l1/W': array, ...} from the file, whatever prefix the seed saved them under."""
    if not os.path.isfile(path):
        raise CheckpointError(f'{path}: file not found')
    stored = read_entries(path)
    prefixes = [k[:-len('l1/W')] for k in stored if k.endswith('l1/W')]
    if not prefixes:
        raise CheckpointError(f'{path}: no l1/W parameter; expected a generator saved'
                              ' by the seed (layers l1, bn1-bn4, dc1-dc4)')
    prefix = prefixes[0]
    return {k[len(prefix):]: v for k, v in stored.items() if k.startswith(prefix)}


def _units_to_ours(array, ch, base_wht):
    """Reorder the linear layer's units from (ch, W, H, T) to (ch, T, H, W) order."""
    rest = array.shape[1:]
    return array.reshape((ch,) + base_wht + rest).transpose(
        (0, 3, 2, 1) + tuple(range(4, 4 + len(rest)))).reshape(array.shape)


def _batch_norm(seed, name, ours, bias, reorder):
    out = {f'{ours}/{key}': reorder(seed[f'{name}/{key}']) for key in BN_KEYS}
    out[f'{ours}/avg_mean'] = out[f'{ours}/avg_mean'] - reorder(bias)
    out[f'{ours}/N'] = seed.get(f'{name}/N', np.array(0))
    return out


REQUIRED = ['l1/W', 'dc1/W', 'dc2/W', 'dc3/W', 'dc4/W'] + [
    f'bn{k}/{key}' for k in (1, 2, 3, 4) for key in BN_KEYS]


def convert(seed, frame_size, n_frames):
    """Our generator's parameters (a dict for np.savez) from the seed's."""
    missing = [name for name in REQUIRED if name not in seed]
    if missing:
        raise CheckpointError(f"no parameter {missing[0]!r} ({len(missing)} missing); expected"
                              " the seed's generator layers l1, bn1-bn4, dc1-dc4")
    ch, latent = seed['dc1/W'].shape[0], seed['l1/W'].shape[1]
    t, h, w = base_shape(n_frames, frame_size)
    if seed['l1/W'].shape[0] != ch * t * h * w:
        raise CheckpointError(f"l1/W has {seed['l1/W'].shape[0]} outputs; ch {ch} at"
                              f' {n_frames} frames of {frame_size} px needs {ch * t * h * w}:'
                              ' check --frame-size and --n-frames')

    def units(a):
        return _units_to_ours(a, ch, (w, h, t))

    def channels(a):
        return a
    out = {'l0/W': units(seed['l1/W'])}
    out.update(_batch_norm(seed, 'bn1', 'bn0', seed.get('l1/b', np.zeros(len(out['l0/W']))),
                           units))
    for k in (1, 2, 3):
        out[f'dc{k}/W'] = seed[f'dc{k}/W'].transpose(WHT_TO_THW)
        bias = seed.get(f'dc{k}/b', np.zeros(seed[f'dc{k}/W'].shape[1]))
        out.update(_batch_norm(seed, f'bn{k + 1}', f'bn{k}', bias, channels))
    out['dc4/W'] = seed['dc4/W'].transpose(WHT_TO_THW)
    out['dc4/b'] = seed.get('dc4/b', np.zeros(3))
    model = ModelConfig(ch=ch, latent_dim=latent, frame_size=frame_size, n_frames=n_frames)
    return {k: np.asarray(v, dtype=np.float32) if k[-2:] != '/N' else v
            for k, v in out.items()}, model


def build_parser():
    parser = cli.parser(__doc__.splitlines()[0])
    parser.add_argument('checkpoint', help="the seed's generator .npz")
    parser.add_argument('--out', required=True, help='output folder (generator.npz and'
                        ' setup.ini are written there)')
    parser.add_argument('--frame-size', type=int, default=64, help='frame height and width'
                        ' the seed model was trained at, px (a multiple of 16)')
    parser.add_argument('--n-frames', type=int, default=32, help='frames per video the seed'
                        ' model makes (a multiple of 16)')
    return parser


def _main(argv):
    args = build_parser().parse_args(argv)
    for option, value in (('--frame-size', args.frame_size), ('--n-frames', args.n_frames)):
        if value < 16 or value % 16:
            raise UserError(f'{option} {value}: expected a multiple of 16 (>= 16)')
    seed = seed_params(args.checkpoint)
    try:
        params, model = convert(seed, args.frame_size, args.n_frames)
    except (CheckpointError, ValueError, KeyError) as err:  # named with the file
        reason = ' '.join(str(err).split()) if isinstance(err, CheckpointError) else (
            f'its parameters do not fit together ({" ".join(str(err).split())});'
            " expected the seed's generator")
        raise CheckpointError(f'{args.checkpoint}: {reason}') from None
    claim_folder(args.out, CONVERTED_MARKER, '--out')
    write_entries(os.path.join(args.out, 'generator.npz'), params)
    write_config(Config(model=model), os.path.join(args.out, 'setup.ini'))
    print(f'wrote {args.out}/generator.npz and setup.ini (ch {model.ch}, latent'
          f' {model.latent_dim}, {model.n_frames}x{model.frame_size}x{model.frame_size})')
    return 0


def main(argv=None):
    """Exit code: 0, 2 for a bad input (one line on stderr), 130 when interrupted."""
    return cli.run(_main, argv)


if __name__ == '__main__':
    sys.exit(main())
