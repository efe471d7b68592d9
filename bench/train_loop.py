"""What the training loop's extensions add to the bare step, on a config's own run.

    python bench/train_loop.py [--config setup.ini] [--iterations 400] [--threads 2]

Builds what main_train.py builds from the config (its dataset, networks, trainer and
every extension it turns on: log, progress bar, plots, sample gifs, run page, snapshots,
network files, the moving average, the quality score), in a temporary run folder. Then
it times `iterations` bare updater steps (data loading included) and `iterations` more
of trainer.run with every extension at the config's intervals, and prints both per
iteration, their ratio, and each extension's time in the run (what a GPU run, whose step is
many times shorter, would add per iteration). The printed report goes to /dev/null; freed
memory is kept for reuse as in main_train.py (base/allocator.py).
"""
import argparse
import contextlib
import os
import sys
import tempfile
import time

from base import chainer_compat  # noqa: F401  (before chainer)

import chainer

import main_train
from computations.distributed import World
from computations.trainer import build_trainer
from datastream.framereader import make_iterator
from nn import torch_kernels
from base.allocator import keep_freed_memory
from base.config import load_config
from base.devices import device_for

WARM_UP = 5


def build(config_path, iterations, out_dir):
    config = load_config(config_path, [f'MODEL.iterations={WARM_UP + 2 * iterations}',
                                       f'SAVING.out_dir={out_dir}', 'SAVING.resume=none'])
    world = World()
    dataset = main_train.prepare_data(config, world)
    device = device_for(config.model.use_gpu)
    torch_kernels.select(config.model.kernels, config.model.use_gpu >= 0)
    gen, critic = main_train.build_models(config.model, device, world)
    iterator = make_iterator(dataset, config.model.batch_size, config.data.workers,
                             config.model.seed)
    trainer, _ = build_trainer(config, gen, critic, iterator, device, out_dir, sys.stdout,
                               world, dataset)
    return trainer


class Timed:
    """An extension, its calls timed; everything else of it as it is."""

    def __init__(self, extension):
        self.extension, self.calls, self.seconds = extension, 0, 0.0

    def __call__(self, trainer):
        start = time.perf_counter()
        try:
            return self.extension(trainer)
        finally:
            self.calls += 1
            self.seconds += time.perf_counter() - start

    def __getattr__(self, name):
        return getattr(self.extension, name)


def time_extensions(trainer):
    """{name: Timed} for every extension of trainer, each now timed."""
    timed = {}
    for name, entry in trainer._extensions.items():
        entry.extension = timed[name] = Timed(entry.extension)
    return timed


def measure(config_path, iterations):
    """(bare seconds per iteration, seconds per iteration with every extension,
    {extension name: (calls, seconds)} over the loop)."""
    with tempfile.TemporaryDirectory() as out_dir, open(os.devnull, 'w') as report, \
            contextlib.redirect_stdout(report), contextlib.redirect_stderr(report):
        trainer = build(config_path, iterations, out_dir)
        for _ in range(WARM_UP):
            trainer.updater.update()
        start = time.perf_counter()
        for _ in range(iterations):
            trainer.updater.update()
        bare = (time.perf_counter() - start) / iterations
        timed = time_extensions(trainer)
        start = time.perf_counter()
        trainer.run()
        loop = (time.perf_counter() - start) / iterations
    return bare, loop, {name: (t.calls, t.seconds) for name, t in timed.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--config', default='setup.ini')
    parser.add_argument('--iterations', type=int, default=400)
    parser.add_argument('--threads', type=int, default=2)
    args = parser.parse_args()
    try:
        import torch
        torch.set_num_threads(args.threads)
    except ImportError:
        pass
    keep_freed_memory()  # as main_train.train does
    bare, loop, extensions = measure(args.config, args.iterations)
    print(f'{args.config}, {args.iterations} iterations each: bare step {bare:.4f} s,'
          f' loop with every extension {loop:.4f} s, loop / step {loop / bare:.3f}\n')
    print('| extension | calls | s in the loop | ms per iteration |')
    print('|---|---|---|---|')
    for name, (calls, seconds) in sorted(extensions.items(), key=lambda item: -item[1][1]):
        print(f'| {name} | {calls} | {seconds:.2f} | {1000 * seconds / args.iterations:.2f} |')


if __name__ == '__main__':
    sys.exit(main())
