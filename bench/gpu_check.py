"""On a CUDA machine: the GPU path computes what the CPU path does, and how fast it is.

    python bench/gpu_check.py [--device 0] [--batches 16,64] [--reps 5]

--device -1 runs part 1 alone on the CPU (Chainer's own path against the fast
CPU path): a check of this script itself on a machine without a GPU.

1. Same weights, same real batch, latents and interpolation factors on CPU and
   GPU: critic loss, gradient penalty, generator loss and every gradient agree
   to float32 tolerance (a table of the largest relative differences).
2. Seconds per WGAN-GP iteration at the seed's size (ch 512, 64x64 pixels,
   32 frames) for each batch size, median of --reps after a warm-up.
"""
import argparse
import copy
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from utils import chainer_compat  # noqa: E402,F401
import chainer  # noqa: E402
import numpy as np  # noqa: E402

from bench.train_step import ChainerStep  # noqa: E402
from computations.updater import WGANGPUpdater  # noqa: E402
from computations.trainer import make_optimizer  # noqa: E402
from datastream.framereader import clip_converter  # noqa: E402
from nn.DCGAN import Critic, Generator  # noqa: E402
from utils.config_parse import AdamConfig  # noqa: E402
from utils.devices import DeviceError, device_for  # noqa: E402


def losses_and_grads(gen, critic, real, device):
    """Critic loss (with its penalty) and generator loss with all their gradients."""
    gen, critic = copy.deepcopy(gen), copy.deepcopy(critic)
    gen.to_device(device)
    critic.to_device(device)
    optimizers = {'gen': make_optimizer(gen, AdamConfig()),
                  'critic': make_optimizer(critic, AdamConfig())}
    updater = WGANGPUpdater(chainer.iterators.SerialIterator([(real[0], 0)], 1), optimizers,
                            1, 10.0, 0, device, clip_converter)
    out = {}
    critic.cleargrads()
    loss = updater.critic_loss(device.send(real))
    loss.backward()
    out['critic_loss'] = float(loss.array)
    out.update({'critic' + n: chainer.backends.cuda.to_cpu(p.grad)
                for n, p in critic.namedparams()})
    gen.cleargrads()
    loss = updater.generator_loss(len(real))
    loss.backward()
    out['gen_loss'] = float(loss.array)
    out.update({'gen' + n: chainer.backends.cuda.to_cpu(p.grad) for n, p in gen.namedparams()})
    return out


def compare(device):
    np.random.seed(0)
    gen, critic = Generator(64, 100, 32, 64), Critic(64, 32, 64)
    real = np.random.RandomState(1).uniform(-1, 1, (4, 3, 32, 64, 64)).astype(np.float32)
    with chainer.using_config('fast_cpu', False):
        cpu = losses_and_grads(gen, critic, real, chainer.get_device('@numpy'))
    gpu = losses_and_grads(gen, critic, real, device)
    worst = 0.0
    print('| quantity | CPU | GPU | max rel. diff |\n|---|---|---|---|')
    for name in cpu:
        a, b = np.asarray(cpu[name]), np.asarray(gpu[name])
        diff = float(np.abs(a - b).max() / (np.abs(a).max() + 1e-12))
        worst = max(worst, diff)
        if np.ndim(a) == 0 or diff > 1e-3:
            print(f'| {name} | {np.abs(a).max():.6g} | {np.abs(b).max():.6g} | {diff:.2e} |')
    print(f'\nlargest relative difference over all gradients: {worst:.2e}')
    return worst


def time_step(device, batch, reps):
    step = ChainerStep(512, 64, 32, batch, fast=False, device=device)
    step()
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        step()
        device.device.synchronize()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--device', type=int, default=0)
    parser.add_argument('--batches', default='16,64')
    parser.add_argument('--reps', type=int, default=5)
    args = parser.parse_args()
    try:
        device = device_for(args.device, '--device')
    except DeviceError as err:
        print(f'error: {err}', file=sys.stderr)
        return 2
    device.use()
    cuda = chainer.backends.cuda
    cupy_version = cuda.cupy.__version__ if cuda.available else 'absent'
    print(f'chainer {chainer.__version__}, cupy {cupy_version},'
          f' cuDNN {"on" if cuda.cudnn_enabled else "off"}, numpy {np.__version__}')
    worst = compare(device)
    if args.device < 0:
        return 0 if worst < 1e-2 else 1
    print('\n| ch 512, 64x64x32, batch | s/iter |\n|---|---|')
    for batch in map(int, args.batches.split(',')):
        print(f'| {batch} | {time_step(device, batch, args.reps):.3f} |', flush=True)
    return 0 if worst < 1e-2 else 1


if __name__ == '__main__':
    sys.exit(main())
