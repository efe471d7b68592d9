"""Time one WGAN-GP iteration of the project's updater, against PyTorch on the same step.

    python bench/train_step.py [--peer torch] [--plain] [--resize] [--lazy]
        [--configs tiny,small,large] [--reps 7] [--threads 2] [--default-allocator]

Each config builds the project's networks and updater on synthetic batches
(no disk). Variants: 'chainer' (the project as it trains: the fast CPU path when
torch is installed), 'plain' (Chainer's own convolutions, --plain), 'resize' (the
project with [MODEL] upsample = resize, --resize), 'lazy' (resize with the penalty once per
iteration, [ADAM] penalty_every = 5: the first run's step, --lazy) and 'torch'
(bench/torch_peer.py, --peer torch). Repetitions are interleaved in one process; the table
gives medians, the ratio to torch, peak memory per variant (measured in a child process) and the
FLOP floor of the deconv generator at the machine's measured GEMM rate. The process keeps freed
memory for reuse as main_train.py does (base/allocator.py; the peer shares the process), unless
--default-allocator.
"""
import argparse
import resource
import subprocess
import sys
import time

from base import chainer_compat  # noqa: F401  (before chainer)

import numpy as np
import chainer

from computations.trainer import make_optimizer
from computations.updater import WGANGPUpdater
from datastream.framereader import clip_converter, make_iterator
from nn.DCGAN import Critic, Generator
from base.allocator import keep_freed_memory
from base.config import AdamConfig

CONFIGS = {'tiny': dict(ch=16, frame_size=16, n_frames=16, batch=2),
           'small': dict(ch=64, frame_size=32, n_frames=16, batch=8),
           'large': dict(ch=128, frame_size=64, n_frames=32, batch=4)}


class ChainerStep:
    """One iteration of the project's own updater on random clips."""

    def __init__(self, ch, frame_size, n_frames, batch, fast=True, critic_iter=5,
                 device='@numpy', upsample='deconv', penalty_every=1):
        self.fast = fast
        gen = Generator(ch, 100, n_frames, frame_size, upsample=upsample)
        critic = Critic(ch, n_frames, frame_size)
        device = chainer.get_device(device)
        gen.to_device(device)
        critic.to_device(device)
        rng = np.random.RandomState(0)
        clips = [(rng.randint(0, 256, (3, n_frames, frame_size, frame_size), dtype=np.uint8), 0)
                 for _ in range(4 * batch)]
        optimizers = {'gen': make_optimizer(gen, AdamConfig()),
                      'critic': make_optimizer(critic, AdamConfig())}
        self.updater = WGANGPUpdater(make_iterator(clips, batch, 0, 0), optimizers,
                                     critic_iter=critic_iter, device=device,
                                     converter=clip_converter, penalty_every=penalty_every)

    def __call__(self):
        with chainer.using_config('fast_cpu', self.fast):
            self.updater.update()


def make_step(variant, config):
    if variant == 'torch':
        from bench.torch_peer import TorchStep
        return TorchStep(**config)
    if variant == 'resize':
        return ChainerStep(**config, upsample='resize')
    if variant == 'lazy':
        return ChainerStep(**config, upsample='resize', penalty_every=5)
    return ChainerStep(**config, fast=(variant == 'chainer'))


def conv_flops(ch, frame_size, n_frames, batch):
    """(generator, critic) forward multiply-adds x 2 for one sample."""
    voxels = n_frames * frame_size ** 2
    widths = [3, ch // 8, ch // 4, ch // 2, ch]
    critic = sum(2 * (voxels // 8 ** (i + 1)) * widths[i] * widths[i + 1] * 64 for i in range(4))
    critic += 2 * (voxels // 8 ** 4) * ch * 27
    gen_widths = [ch, ch // 2, ch // 4, ch // 8, 3]
    gen = sum(2 * (voxels // 8 ** (4 - i)) * gen_widths[i] * gen_widths[i + 1] * 64
              for i in range(4))
    gen += 2 * 100 * ch * (voxels // 8 ** 4)
    return gen, critic


def iteration_flops(config, critic_iter=5):
    """Approximate FLOPs of one iteration: each critic step runs G forward, the
    critic forward+backward on 2B and the penalty's double backward on B
    (about 12 critic forwards per sample); the generator step about 3G + 3C."""
    gen, critic = conv_flops(**config)
    batch = config['batch']
    return critic_iter * batch * (gen + 12 * critic) + batch * (3 * gen + 3 * critic)


def gemm_rate(threads):
    """Best measured float32 GEMM rate in FLOP/s (numpy, and torch if present)."""
    a = np.random.rand(1024, 1024).astype(np.float32)
    rates = []
    for _ in range(5):
        start = time.perf_counter()
        a @ a
        rates.append(2 * 1024 ** 3 / (time.perf_counter() - start))
    try:
        import torch
        torch.set_num_threads(threads)
        t = torch.from_numpy(a)
        for _ in range(5):
            start = time.perf_counter()
            t @ t
            rates.append(2 * 1024 ** 3 / (time.perf_counter() - start))
    except ImportError:
        pass
    return max(rates)


def peak_memory_mb(variant, name, default_allocator):
    """Peak RSS (MB) of a child process that runs 2 iterations of the variant."""
    out = subprocess.run([sys.executable, __file__, '--memory-of', variant, '--configs', name]
                         + ['--default-allocator'] * default_allocator,
                         capture_output=True, text=True, check=True).stdout
    return float(out.strip().splitlines()[-1])


def measure_memory(variant, name):
    step = make_step(variant, CONFIGS[name])
    step()
    step()
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def time_config(name, variants, reps):
    steps = {v: make_step(v, CONFIGS[name]) for v in variants}
    for step in steps.values():
        step()  # warm-up: allocations, kernel selection
    times = {v: [] for v in variants}
    for _ in range(reps):
        for variant, step in steps.items():
            start = time.perf_counter()
            step()
            times[variant].append(time.perf_counter() - start)
    return {v: float(np.median(t)) for v, t in times.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--peer', choices=['torch'], help='also time the PyTorch step')
    parser.add_argument('--plain', action='store_true', help="also time Chainer's own convs")
    parser.add_argument('--resize', action='store_true', help='also time upsample = resize')
    parser.add_argument('--lazy', action='store_true',
                        help='also time resize with the penalty once per iteration')
    parser.add_argument('--configs', default='small,large', help='small, large or both')
    parser.add_argument('--reps', type=int, default=7)
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--default-allocator', action='store_true',
                        help="keep glibc's own mmap and trim thresholds (base/allocator.py)")
    parser.add_argument('--memory-of', help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not args.default_allocator:
        keep_freed_memory()
    names = args.configs.split(',')
    for name in names:
        if name not in CONFIGS:
            parser.error(f'--configs {name!r}: expected names from {", ".join(CONFIGS)}')
    try:
        import torch
        torch.set_num_threads(args.threads)
    except ImportError:
        if args.peer:
            parser.error('--peer torch: torch is not installed (pip install -r requirements-fast.txt)')
    if args.memory_of:
        return measure_memory(args.memory_of, names[0])
    variants = (['chainer'] + ['plain'] * args.plain + ['resize'] * args.resize
                + ['lazy'] * args.lazy + ([args.peer] if args.peer else []))
    report(names, variants, args)


def report(names, variants, args):
    rate = gemm_rate(args.threads)
    print(f'threads {args.threads}, chainer {chainer.__version__}, numpy {np.__version__},'
          f' GEMM {rate / 1e9:.1f} GFLOP/s, medians of {args.reps} interleaved iterations')
    print('| config | variant | s/iter | x torch | peak MB | FLOP floor s |')
    print('|---|---|---|---|---|---|')
    for name in names:
        medians = time_config(name, variants, args.reps)
        floor = iteration_flops(CONFIGS[name]) / rate
        for variant in variants:
            ratio = (f'{medians[variant] / medians["torch"]:.2f}' if 'torch' in medians else '-')
            peak = peak_memory_mb(variant, name, args.default_allocator)
            print(f'| {name} {CONFIGS[name]} | {variant} | {medians[variant]:.3f} | {ratio} |'
                  f' {peak:.0f} | {floor:.3f} |', flush=True)


if __name__ == '__main__':
    main()
