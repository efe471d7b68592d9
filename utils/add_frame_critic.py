"""Give a run in progress a frame critic ([MODEL] frame_critic_every), keeping everything else.

    python utils/add_frame_critic.py runs/a/snapshot_iter_15153 --config runs/a/setup.ini \\
        --every 2 --out runs/b/snapshot_iter_15153
    python main_train.py --config runs/a/setup.ini --set MODEL.frame_critic_every=2 \\
        --set SAVING.out_dir=runs/b                                  # resumes there

The trainer snapshot gets the critic's FrameCritic layers, freshly initialised as a
new run would (HeNormal of [MODEL] weight_scale, seeded by --seed), and fresh Adam
states for them (m = v = 0, t = 0, so their first steps are bias-corrected as in
any new run). The video critic, the generator, their Adam moments, the moving
average, the iteration, the data order and the random state are copied as they are.
"""
import argparse
import os
import sys

from utils import chainer_compat  # noqa: F401  (before any chainer import)

import chainer
import numpy as np

from nn.DCGAN import FrameCritic
from utils import cli
from utils.config_parse import load_config
from utils.errors import UserError
from utils.npz_entries import read_entries, write_entries
from utils.safe_files import ensure_output_file

CRITIC = 'updater/model:critic/'
CRITIC_OPTIMIZER = 'updater/optimizer:critic/'


class FrameCriticError(UserError):
    """A snapshot that cannot take a frame critic."""


def fresh_frame_critic(model, every, seed):
    """({'f1/W': array, ..., 'rng_keys': ...}, parameter names) of a newly
    initialised FrameCritic for a ModelConfig."""
    np.random.seed(seed)  # chainer's initializers draw from numpy's global generator
    init = chainer.initializers.HeNormal(model.weight_scale)
    critic = FrameCritic(model.ch, model.frame_size, every, init, model.seed)
    serializer = chainer.serializers.DictionarySerializer()
    serializer.save(critic)
    return serializer.target, [name.lstrip('/') for name, _ in critic.namedparams()]


def add_frame_critic(stored, model, every, seed, source='snapshot'):
    """The snapshot's entries plus the frame critic's parameters and Adam states."""
    if not any(k.startswith(CRITIC) for k in stored):
        raise FrameCriticError(f'{source}: not a trainer snapshot (no {CRITIC}* entries)')
    if any(k.startswith(CRITIC + 'frames/') for k in stored):
        raise FrameCriticError(f'{source}: the critic already has a frame critic')
    if CRITIC + 'c4/W' not in stored:
        raise FrameCriticError(f'{source}: no {CRITIC}c4/W entry; expected a snapshot of'
                               " this project's critic (c1-c5)")
    stored_ch = stored[CRITIC + 'c4/W'].shape[0]
    if stored_ch != model.ch:
        raise FrameCriticError(f'{source}: the critic has ch {stored_ch}, the config ch'
                               f' {model.ch}; pass the run\'s own setup.ini')
    out = dict(stored)
    entries, params = fresh_frame_critic(model, every, seed)
    out.update({f'{CRITIC}frames/{name}': value for name, value in entries.items()})
    for name in params:
        state = f'{CRITIC_OPTIMIZER}frames/{name}/'
        out[state + 'm'] = np.zeros_like(entries[name])
        out[state + 'v'] = np.zeros_like(entries[name])
        out[state + 't'] = np.array(0)
    return out


def add_to_file(source, config_path, every, target, seed=0):
    """Read the snapshot at source, write it with a frame critic to target."""
    model = load_config(config_path).model
    if not os.path.isfile(source):
        raise FrameCriticError(f'{source}: file not found')
    out = add_frame_critic(read_entries(source), model, every, seed, source)
    write_entries(target, out)
    return out


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('source', help='a trainer snapshot, snapshot_iter_N')
    parser.add_argument('--config', required=True, help="the run's setup.ini (ch, frame_size)")
    parser.add_argument('--every', type=int, default=2, help='score every k-th frame (default 2)')
    parser.add_argument('--out', required=True, help='where to write the new snapshot')
    parser.add_argument('--seed', type=int, default=0, help='seed of the new layers')
    args = parser.parse_args(argv)
    if args.every < 1:
        raise FrameCriticError(f'--every {args.every}: expected an integer of at least 1')
    if not 0 <= args.seed <= 2 ** 32 - 1:
        raise FrameCriticError(f'--seed {args.seed}: expected a value from 0 to {2 ** 32 - 1}')
    if os.path.abspath(args.out) == os.path.abspath(args.source):
        raise FrameCriticError(f'--out {args.out}: expected a path other than the source')
    return args


def _main(argv):
    args = parse_args(argv)
    load_config(args.config)  # a bad config is reported before anything is written
    if not os.path.isfile(args.source):
        raise FrameCriticError(f'{args.source}: file not found')
    ensure_output_file(args.out, '--out')
    add_to_file(args.source, args.config, args.every, args.out, args.seed)
    print(f'wrote {args.out}: train on with --set MODEL.frame_critic_every={args.every}')
    return 0


def main(argv=None):
    """Exit code: 0, 2 for a bad input (one line on stderr), 130 when interrupted."""
    return cli.run(_main, argv)


if __name__ == '__main__':
    sys.exit(main())
