"""Widen a trained generator and critic (ch -> factor x ch) keeping what they compute.

    python tools/widen_model.py runs/a/snapshot_iter_9681 --out runs/b/snapshot_iter_9681 \\
        [--factor 2] [--noise 0.05] [--seed 0]
    python main_train.py --set MODEL.ch=128 --set SAVING.out_dir=runs/b   # resumes there

Every hidden channel is repeated `factor` times (Net2WiderNet): a layer's output
channels and its BatchNorm / SampleNorm parameters are tiled, and the next layer's
weights for the copies of an input channel are divided by `factor`, so with
--noise 0 the wider networks compute exactly what the narrow ones did (BatchNorm
sees identical statistics per copy; SampleNorm's mean and variance over (C, T, H, W)
do not change when every channel appears `factor` times). --noise adds Gaussian
noise of that fraction of each tiled weight's std, so the copies learn apart.

The input is a trainer snapshot (snapshot_iter_N: both networks, their Adam
moments and the generator's moving average are widened; everything else —
iteration, data order, random state, logs — is kept, so main_train.py resumes
from it at the new ch) or one network's .npz
(gen_iter_N.npz / generator.npz, critic_iter_N.npz / critic.npz), whose settings, when it
carries them (nn/network_files.py), get the new ch too.
"""
import argparse
import dataclasses
import os
import sys

import numpy as np

from nn.network_files import SETTINGS_ENTRY
from base import cli
from base.config import config_from_text, format_config
from base.errors import UserError
from base.npz_entries import read_entries, write_entries
from base.safe_files import ensure_output_file

SNAPSHOT_MODEL = 'updater/model:{}/'
SNAPSHOT_OPTIMIZER = 'updater/optimizer:{}/'
SNAPSHOT_AVERAGE = 'extensions/generator_average/average/'
NORM_KEYS = ('gamma', 'beta', 'avg_mean', 'avg_var')
# (layer, its input comes from a widened layer, its output is widened)
GENERATOR_LAYERS = [('l0', False, True), ('dc1', True, True), ('dc2', True, True),
                    ('dc3', True, True), ('dc4', True, False)]
GENERATOR_NORMS = {'l0': 'bn0', 'dc1': 'bn1', 'dc2': 'bn2', 'dc3': 'bn3'}
CRITIC_LAYERS = [('c1', False, True), ('c2', True, True), ('c3', True, True),
                 ('c4', True, True), ('c5', True, False)]
CRITIC_NORMS = {'c2': 'ln2', 'c3': 'ln3', 'c4': 'ln4'}


class WidenError(UserError):
    """A file that holds neither a snapshot nor one of our networks."""


def tile(array, axis, factor, block=1):
    """Repeat the channels along `axis` `factor` times (new channel c is old c % C);
    each channel spans `block` consecutive entries (the linear layer's units)."""
    shape = array.shape
    grouped = array.reshape(shape[:axis] + (shape[axis] // block, block) + shape[axis + 1:])
    tiled = np.concatenate([grouped] * factor, axis=axis)
    return tiled.reshape(shape[:axis] + (shape[axis] * factor,) + shape[axis + 1:])


def _axes(name, params):
    """(input axis, output axis) of a layer's W: Linear and Conv are (out, in, ...),
    Deconv is (in, out, ...). The generator's dc layers are 4x4x4 transposed
    convolutions, or 3x3x3 convolutions with [MODEL] upsample = resize."""
    transposed = name.startswith('dc') and params[f'{name}/W'].shape[-1] == 4
    return (0, 1) if transposed else (1, 0)


class Widening:
    """How one parameter grows: which axes are tiled, the factor its values are
    scaled by (1/factor on the copies of a widened input) and the factor its
    gradients are (1/factor into a widened output: the next layer halves them)."""

    def __init__(self, factor, in_axis=None, out_axis=None, block=1):
        self.factor, self.in_axis, self.out_axis, self.block = factor, in_axis, out_axis, block
        self.value_scale = 1 / factor if in_axis is not None else 1
        self.grad_scale = 1 / factor if out_axis is not None else 1

    def tile(self, array):
        if self.in_axis is not None:
            array = tile(array, self.in_axis, self.factor)
        if self.out_axis is not None:
            array = tile(array, self.out_axis, self.factor, self.block)
        return array


def widening_plan(params, kind, factor):
    """{parameter name: Widening} for every parameter of one network that grows."""
    layers, norms = ((GENERATOR_LAYERS, GENERATOR_NORMS) if kind == 'generator'
                     else (CRITIC_LAYERS, CRITIC_NORMS))
    if kind == 'generator':
        units = params['l0/W'].shape[0] // params['dc1/W'].shape[_axes('dc1', params)[0]]
    else:
        units = 1
    plan = {}
    for name, wide_input, wide_output in layers:
        in_axis, out_axis = _axes(name, params)
        block = units if name == 'l0' else 1
        plan[f'{name}/W'] = Widening(factor, in_axis if wide_input else None,
                                     out_axis if wide_output else None, block)
        if wide_output and f'{name}/b' in params:
            plan[f'{name}/b'] = Widening(factor, out_axis=0)
    for name, norm in norms.items():
        for key in NORM_KEYS:
            if f'{norm}/{key}' in params:
                plan[f'{norm}/{key}'] = Widening(factor, out_axis=0,
                                                 block=units if name == 'l0' else 1)
    return plan


def widen_network(params, kind, factor, noise, rng):
    """{'l0/W': array, ...} of one network -> the same names at factor x ch."""
    return widen_by_plan(params, widening_plan(params, kind, factor), noise, rng)


def widen_by_plan(params, plan, noise, rng):
    """The parameters grown as the plan says, noise added to the tiled weights."""
    wide = dict(params)
    for name, how in plan.items():
        value = how.tile(params[name]) * how.value_scale
        if name.endswith('/W') and how.out_axis is not None:
            value = value + noise * value.std() * rng.standard_normal(value.shape)
        wide[name] = value.astype(params[name].dtype)
    return wide


def network_kind(params, source):
    """'generator' or 'critic' from the parameter names."""
    if 'l0/W' in params and 'dc1/W' in params:
        return 'generator'
    if 'c1/W' in params and 'c5/W' in params:
        return 'critic'
    raise WidenError(f'{source}: holds neither our generator (l0, dc1-dc4) nor our'
                     ' critic (c1-c5, l6), nor a trainer snapshot of them')


def widen_optimizer_state(stored, prefix, plan):
    """Adam moments of the widened parameters: tiled like them, m scaled like their
    gradients and v by its square, so the first steps after widening are no larger
    than before; t and everything else carry over."""
    state = {}
    for name, value in _entries(stored, prefix).items():
        param, _, slot = name.rpartition('/')
        if param in plan and slot in ('m', 'v', 'vhat'):
            how = plan[param]
            power = 1 if slot == 'm' else 2
            state[prefix + name] = (how.tile(value) * how.grad_scale ** power).astype(value.dtype)
    return state


def _entries(stored, prefix):
    """{name after prefix: array} of the entries under prefix."""
    return {k[len(prefix):]: v for k, v in stored.items() if k.startswith(prefix)}


def widen_snapshot(stored, factor, noise, rng):
    """Every entry of a trainer snapshot, with both networks and their Adam states
    widened, and the generator's moving average (if kept) widened without noise, so
    it still computes the average the run had."""
    out = dict(stored)
    for name in ('gen', 'critic'):
        prefix = SNAPSHOT_MODEL.format(name)
        params = _entries(stored, prefix)
        plan = widening_plan(params, network_kind(params, prefix), factor)
        out.update({prefix + k: v for k, v in widen_by_plan(params, plan, noise, rng).items()})
        out.update(widen_optimizer_state(stored, SNAPSHOT_OPTIMIZER.format(name), plan))
    average = _entries(stored, SNAPSHOT_AVERAGE)
    if average:
        out.update({SNAPSHOT_AVERAGE + k: v
                    for k, v in widen_network(average, 'generator', factor, 0.0, rng).items()})
    return out


def widened_settings(text, factor, source):
    """setup.ini text a network file carries, with [MODEL] ch and critic_ch times factor."""
    config = config_from_text(text, f'{source} (its settings)')
    model = dataclasses.replace(config.model, ch=config.model.ch * factor,
                                critic_ch=config.model.critic_ch * factor)
    return format_config(dataclasses.replace(config, model=model))


def widen_file(source, target, factor=2, noise=0.05, seed=0):
    """Read source (snapshot or one network's .npz), write the widened one to target."""
    if not os.path.isfile(source):
        raise WidenError(f'{source}: file not found')
    stored = read_entries(source)
    rng = np.random.RandomState(seed)
    try:
        if any(k.startswith(SNAPSHOT_MODEL.format('gen')) for k in stored):
            wide = widen_snapshot(stored, factor, noise, rng)
        else:
            wide = widen_network(stored, network_kind(stored, source), factor, noise, rng)
    except UserError:
        raise
    except (KeyError, ValueError, IndexError) as err:  # entries missing or of odd shapes
        raise WidenError(f'{source}: its networks are incomplete or of unexpected shapes'
                         f' ({type(err).__name__}: {" ".join(str(err).split())})') from None
    if SETTINGS_ENTRY in stored:
        wide[SETTINGS_ENTRY] = np.array(widened_settings(str(stored[SETTINGS_ENTRY]), factor,
                                                         source))
    write_entries(target, wide)
    return wide


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('source', help='snapshot_iter_N, or a generator / critic .npz')
    parser.add_argument('--out', required=True, help='where to write the widened file')
    parser.add_argument('--factor', type=int, default=2, help='ch multiplier (default 2)')
    parser.add_argument('--noise', type=float, default=0.05,
                        help="fraction of each tiled weight's std added as noise (default 0.05)")
    parser.add_argument('--seed', type=int, default=0, help='seed of that noise')
    args = parser.parse_args(argv)
    if args.factor < 2:
        raise WidenError(f'--factor {args.factor}: expected an integer of at least 2')
    if not args.noise >= 0 or args.noise == float('inf'):
        raise WidenError(f'--noise {args.noise}: expected a finite fraction of at least 0')
    if not 0 <= args.seed <= 2 ** 32 - 1:
        raise WidenError(f'--seed {args.seed}: expected a value from 0 to {2 ** 32 - 1}')
    if os.path.abspath(args.out) == os.path.abspath(args.source):
        raise WidenError(f'--out {args.out}: expected a path other than the source')
    return args


def _main(argv):
    args = parse_args(argv)
    if not os.path.isfile(args.source):
        raise WidenError(f'{args.source}: file not found')
    ensure_output_file(args.out, '--out')
    widen_file(args.source, args.out, args.factor, args.noise, args.seed)
    print(f'wrote {args.out}: ch x {args.factor} (set [MODEL] ch, and critic_ch if set,'
          ' to match)')
    return 0


def main(argv=None):
    """Exit code: 0, 2 for a bad input (one line on stderr), 130 when interrupted."""
    return cli.run(_main, argv)


if __name__ == '__main__':
    sys.exit(main())
