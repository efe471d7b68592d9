"""On a CUDA machine: the GPU paths compute what the CPU path does, and how fast they are.

    python bench/gpu_check.py [--device 0] [--batches 16,64] [--reps 3] [--budget 240]
                              [--ch 512] [--upsample deconv] [--paths pytorch,torch,chainer]

--device -1 runs part 1 alone on the CPU (Chainer's own path against the
PyTorch-kernel path): a check of this script itself on a machine without a GPU.

1. Same weights, real batch, latents and interpolation factors on the CPU
   (Chainer's own functions) and on the GPU, for each GPU convolution path
   ('torch': PyTorch's cuDNN kernels on CuPy arrays, nn/torch_kernels.py, with
   its fused nodes, and 'torch unfused' with one node per function;
   'chainer': Chainer's CuPy path, cuDNN when this CuPy has it, else im2col),
   for both [MODEL] upsample modes: critic loss, the gradient penalty on its own,
   generator loss, every gradient, and the inference-mode (BatchNorm running
   statistics) generator output. TF32 is off here, so float32 tolerances hold:
   largest relative difference (to the array's largest magnitude) under 1e-3.
2. Seconds per WGAN-GP iteration at 64x64 pixels, 32 frames (--ch 512 is the
   seed's width) for each batch size and path, and the same step written in
   PyTorch (bench/torch_peer.py, deconv only) on the same card, with peak GPU
   memory; median of --reps after a warm-up; rows that would start after
   --budget seconds are skipped.
"""
import argparse
import contextlib
import copy
import sys
import time

from base import chainer_compat  # noqa: F401
import chainer
import numpy as np

from bench.train_step import ChainerStep
from computations.updater import WGANGPUpdater
from computations.trainer import make_optimizer
from datastream.framereader import clip_converter
from nn import torch_kernels
from nn.DCGAN import Critic, Generator
from base.config import AdamConfig
from base.devices import DeviceError, device_for

TOLERANCE = 1e-3
GROUPS = ('critic_loss', 'penalty', 'gen_loss', 'critic grads', 'gen grads', 'inference')


def to_cpu(array):
    return np.asarray(chainer.backends.cuda.to_cpu(array))


def quantities(gen, critic, real, device):
    """Losses, penalty, gradients and inference output of copies of gen and critic."""
    gen, critic = copy.deepcopy(gen), copy.deepcopy(critic)
    gen.to_device(device)
    critic.to_device(device)
    optimizers = {'gen': make_optimizer(gen, AdamConfig()),
                  'critic': make_optimizer(critic, AdamConfig())}
    updater = WGANGPUpdater(chainer.iterators.SerialIterator([(real[0], 0)], 1), optimizers,
                            critic_iter=1, device=device, converter=clip_converter)
    real = device.send(real)
    out = {'penalty': float(updater.gradient_penalty(real, updater._fake(len(real))).array)}
    updater.rng = np.random.RandomState(0)
    critic.cleargrads()
    loss = updater.critic_loss(real)
    loss.backward()
    out['critic_loss'] = float(loss.array)
    out['critic grads'] = {n: to_cpu(p.grad) for n, p in critic.namedparams()}
    gen.cleargrads()
    loss = updater.generator_loss(len(real))
    loss.backward()
    out['gen_loss'] = float(loss.array)
    out['gen grads'] = {n: to_cpu(p.grad) for n, p in gen.namedparams()}
    z = device.send(gen.make_hidden(len(real), np.random.RandomState(5)))
    with chainer.using_config('train', False), chainer.no_backprop_mode():
        out['inference'] = to_cpu(gen(z).array)
    return out


def relative_difference(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.abs(a - b).max() / (np.abs(a).max() + 1e-12))


def group_difference(reference, other):
    if isinstance(reference, dict):
        return max(relative_difference(reference[n], other[n]) for n in reference)
    return relative_difference(reference, other)


def trained_statistics(gen):
    """Give gen's BatchNorms running statistics that differ from the initial 0/1."""
    rng = np.random.RandomState(3)
    for _, link in gen.namedlinks():
        if isinstance(link, chainer.links.BatchNormalization):
            link.avg_mean[...] = rng.uniform(-0.1, 0.1, link.avg_mean.shape)
            link.avg_var[...] = rng.uniform(0.5, 1.5, link.avg_var.shape)


def gpu_paths(device):
    """(name, chainer config) of every path to compare against the CPU."""
    torch_paths = [('torch', {'fused_nodes': True}), ('torch unfused', {'fused_nodes': False})]
    if device.xp is np:
        return ([('cpu ' + name, dict(config, fast_cpu=True, fast_gpu=False))
                 for name, config in torch_paths] if torch_kernels.torch_installed() else [])
    chainer_path = 'gpu cuDNN' if chainer.backends.cuda.cudnn_enabled else 'gpu im2col'
    paths = [(chainer_path, {'fast_cpu': False, 'fast_gpu': False})]
    if torch_kernels.cuda_available():
        paths += [('gpu ' + name, dict(config, fast_cpu=False, fast_gpu=True))
                  for name, config in torch_paths]
    return paths


def configured(config):
    """A context in which each chainer.config key of config has its value."""
    stack = contextlib.ExitStack()
    for key, value in config.items():
        stack.enter_context(chainer.using_config(key, value))
    return stack


def compare(device):
    """Print one table of largest relative differences; returns the worst one."""
    torch = torch_kernels.torch
    if torch is not None:
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cuda.matmul.allow_tf32 = False
    paths = gpu_paths(device)
    print('| upsample | quantity | ' + ' | '.join(p[0] for p in paths) + ' |')
    print('|---|---|' + '---|' * len(paths))
    worst = 0.0
    for upsample in ('deconv', 'resize'):
        np.random.seed(0)
        gen, critic = Generator(64, 100, 32, 64, upsample=upsample), Critic(64, 32, 64)
        trained_statistics(gen)
        real = np.random.RandomState(1).uniform(-1, 1, (4, 3, 32, 64, 64)).astype(np.float32)
        with chainer.using_config('fast_cpu', False):
            reference = quantities(gen, critic, real, chainer.get_device('@numpy'))
        results = []
        for _, config in paths:
            with configured(config):
                results.append(quantities(gen, critic, real, device))
        for group in GROUPS:
            diffs = [group_difference(reference[group], r[group]) for r in results]
            worst = max([worst] + diffs)
            print(f'| {upsample} | {group} | ' + ' | '.join(f'{d:.1e}' for d in diffs) + ' |')
    if torch is not None:
        torch.backends.cudnn.allow_tf32 = True
    print(f'\nlargest relative difference: {worst:.2e} (tolerance {TOLERANCE:g})', flush=True)
    return worst


def synchronize():
    chainer.backends.cuda.cupy.cuda.Device().synchronize()
    if torch_kernels.cuda_available():
        torch_kernels.torch.cuda.synchronize()


def reset_memory():
    cupy, torch = chainer.backends.cuda.cupy, torch_kernels.torch
    cupy.get_default_memory_pool().free_all_blocks()
    if torch_kernels.cuda_available():
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()


def peak_memory_gb():
    """CuPy's pool (held since the last reset) plus PyTorch's peak, in GB."""
    held = chainer.backends.cuda.cupy.get_default_memory_pool().total_bytes()
    if torch_kernels.cuda_available():
        held += torch_kernels.torch.cuda.max_memory_allocated()
    return held / 1e9


def make_timed_step(path, batch, device, ch, upsample):
    if path == 'pytorch':
        from bench.torch_peer import TorchStep
        return TorchStep(ch, 64, 32, batch, device='cuda')
    step = ChainerStep(ch, 64, 32, batch, fast=False, device=device, upsample=upsample)
    config = {'fast_gpu': path.startswith('torch'), 'fused_nodes': path == 'torch'}

    def run():
        with configured(config):
            step()
    return run


def time_step(path, batch, device, reps, ch, upsample):
    reset_memory()
    step = make_timed_step(path, batch, device, ch, upsample)
    step()
    synchronize()
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        step()
        synchronize()
        times.append(time.perf_counter() - start)
    return float(np.median(times)), peak_memory_gb()


def timed_paths(wanted, upsample):
    """The timing rows to run, the PyTorch peer first (the ratios' reference; its
    generator upsamples with transposed convolutions only)."""
    chainer_path = 'chainer cuDNN' if chainer.backends.cuda.cudnn_enabled else 'chainer im2col'
    paths = ['pytorch'] * (upsample == 'deconv') + ['torch', 'torch unfused', chainer_path]
    if not torch_kernels.cuda_available():
        paths = [chainer_path]
    return [p for p in paths if p.split()[0] in wanted]


def timings(device, args, deadline):
    print(f'\n| ch {args.ch}, 64x64x32, {args.upsample}, batch | path | s/iter | x pytorch'
          ' | peak GPU GB |')
    print('|---|---|---|---|---|')
    for batch in [int(b) for b in args.batches.split(',')]:
        measured = {}
        for path in timed_paths(args.paths.split(','), args.upsample):
            if time.monotonic() > deadline:
                print(f'| {batch} | {path} | skipped (--budget) | | |', flush=True)
                continue
            seconds, memory = time_step(path, batch, device, args.reps, args.ch, args.upsample)
            measured[path] = seconds
            ratio = f'{seconds / measured["pytorch"]:.2f}' if 'pytorch' in measured else '-'
            print(f'| {batch} | {path} | {seconds:.3f} | {ratio} | {memory:.1f} |', flush=True)


def describe_versions():
    cuda = chainer.backends.cuda
    cupy_version = cuda.cupy.__version__ if cuda.available else 'absent'
    torch = torch_kernels.torch
    torch_version = torch.__version__ if torch is not None else 'absent'
    card = torch.cuda.get_device_name() if torch_kernels.cuda_available() else '-'
    return (f'chainer {chainer.__version__}, cupy {cupy_version}, chainer cuDNN'
            f' {"on" if cuda.cudnn_enabled else "off"}, numpy {np.__version__},'
            f' torch {torch_version}, card {card}')


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--device', type=int, default=0)
    parser.add_argument('--batches', default='16,64')
    parser.add_argument('--reps', type=int, default=3)
    parser.add_argument('--ch', type=int, default=512, help='channels of the timed networks')
    parser.add_argument('--upsample', default='deconv', choices=('deconv', 'resize'))
    parser.add_argument('--paths', default='pytorch,torch,chainer',
                        help='timed paths: pytorch, torch (fused and unfused), chainer')
    parser.add_argument('--budget', type=float, default=240.0,
                        help='seconds after which no further timing row starts')
    args = parser.parse_args()
    deadline = time.monotonic() + args.budget
    try:
        device = device_for(args.device, '--device')
    except DeviceError as err:
        print(f'error: {err}', file=sys.stderr)
        return 2
    device.use()
    print(describe_versions(), flush=True)
    worst = compare(device)
    if args.device >= 0:
        timings(device, args, deadline)
    return 0 if worst < TOLERANCE else 1


if __name__ == '__main__':
    sys.exit(main())
