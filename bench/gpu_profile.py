"""Seconds per WGAN-GP iteration on one device against PyTorch eager, and where a GPU's
iteration goes: the share of wall time the GPU is busy, host synchronisations and kernel
launches per iteration (torch.profiler, which sees CuPy's kernels as well as torch's).

    python bench/gpu_profile.py [--device 0] [--configs first,shapes,seed16,seed64]
        [--reps 10]

Configs: first (the first run: ch 64, 32x32x16, batch 8, resize, penalty every 5th step),
shapes (ch 256, 64x64x32, batch 32: the shapes issue's GPU size), seed16 and seed64 (the
original code's size, ch 512, 64x64x32, at batch 16 and 64). --device -1 runs the same
tables on the CPU (a check of the script; the profile then has no GPU rows).
"""
import argparse
import time

from base import chainer_compat  # noqa: F401  (before chainer)

import numpy as np
import chainer

from bench.train_step import ChainerStep

CONFIGS = {'first': dict(ch=64, frame_size=32, n_frames=16, batch=8),
           'shapes': dict(ch=256, frame_size=64, n_frames=32, batch=32),
           'seed16': dict(ch=512, frame_size=64, n_frames=32, batch=16),
           'seed64': dict(ch=512, frame_size=64, n_frames=32, batch=64),
           'tiny': dict(ch=16, frame_size=16, n_frames=16, batch=2)}
VARIANTS = {'first': dict(upsample='resize', penalty_every=5)}
SYNC_CALLS = ('cudaStreamSynchronize', 'cudaDeviceSynchronize', 'cudaEventSynchronize',
              'cuStreamSynchronize', 'cuCtxSynchronize', 'cudaMemcpy', 'cuMemcpyDtoH')
LAUNCH_CALLS = ('cudaLaunchKernel', 'cuLaunchKernel', 'cudaLaunchKernelExC', 'cuLaunchKernelEx')


def synchronise(gpu):
    if gpu >= 0:
        import torch
        chainer.backends.cuda.cupy.cuda.Device(gpu).synchronize()
        torch.cuda.synchronize(gpu)


def steps(name, gpu):
    """{variant: callable one iteration}: the project's updater and the PyTorch peer."""
    from bench.torch_peer import TorchStep
    device = f'@cupy:{gpu}' if gpu >= 0 else '@numpy'
    ours = ChainerStep(**CONFIGS[name], **VARIANTS.get(name, {}), device=device)
    peer_args = {'critic_iter': 5, 'device': f'cuda:{gpu}' if gpu >= 0 else 'cpu'}
    return {'videogan': ours, 'torch': TorchStep(**CONFIGS[name], **peer_args)}


def time_steps(step_of, gpu, reps):
    """Median seconds per iteration of each variant, interleaved, after two warm-ups."""
    for step in step_of.values():
        step()
        step()
    times = {name: [] for name in step_of}
    for _ in range(reps):
        for name, step in step_of.items():
            synchronise(gpu)
            start = time.perf_counter()
            step()
            synchronise(gpu)
            times[name].append(time.perf_counter() - start)
    return {name: float(np.median(t)) for name, t in times.items()}


def profile(step, gpu, reps):
    """(GPU busy share of wall time, host syncs / iteration, kernel launches / iteration)."""
    from torch.profiler import ProfilerActivity, profile as torch_profile
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if gpu >= 0 else [])
    synchronise(gpu)
    with torch_profile(activities=activities) as prof:
        start = time.perf_counter()
        for _ in range(reps):
            step()
        synchronise(gpu)
        wall = time.perf_counter() - start
    events = prof.events()
    busy = sum(e.device_time for e in events if _on_gpu(e)) / 1e6
    syncs = sum(1 for e in events if e.name.startswith(SYNC_CALLS))
    launches = sum(1 for e in events if e.name in LAUNCH_CALLS)
    return busy / wall, syncs / reps, launches / reps


def _on_gpu(event):
    kind = str(getattr(event, 'device_type', ''))
    return kind.endswith('CUDA') and getattr(event, 'device_time', 0) > 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--device', type=int, default=0, help='CUDA device, -1 for the CPU')
    parser.add_argument('--configs', default='first,shapes,seed16,seed64',
                        help=f'comma-separated names from {", ".join(CONFIGS)}')
    parser.add_argument('--reps', type=int, default=10, help='timed iterations per variant')
    args = parser.parse_args()
    names = args.configs.split(',')
    for name in names:
        if name not in CONFIGS:
            parser.error(f'--configs {name!r}: expected names from {", ".join(CONFIGS)}')
    if args.device >= 0:
        chainer.get_device(f'@cupy:{args.device}').use()
    print('| config | videogan s/iter | it/s | torch s/iter | x torch | GPU busy |'
          ' host syncs / iter | kernel launches / iter |')
    print('|---|---|---|---|---|---|---|---|')
    for name in names:
        step_of = steps(name, args.device)
        medians = time_steps(step_of, args.device, args.reps)
        busy, syncs, launches = profile(step_of['videogan'], args.device, max(2, args.reps // 3))
        ours, peer = medians['videogan'], medians['torch']
        ratio = '-' if name in VARIANTS else f'{ours / peer:.2f}'  # the peer's step differs
        print(f'| {name} {CONFIGS[name]} | {ours:.4f} | {1 / ours:.1f} | {peer:.4f} |'
              f' {ratio} | {busy:.0%} | {syncs:.0f} | {launches:.0f} |', flush=True)


if __name__ == '__main__':
    main()
