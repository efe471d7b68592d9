"""One WGAN-GP iteration, run by test_distributed.py under mpiexec -n 2 (batch b per
rank) or as one process (batch 2b) on the same clips, latents and interpolation
factors; rank 0 saves every parameter to the .npz named on the command line.

    python mpi_step.py OUT.npz COMMUNICATOR GLOBAL_BATCH
"""
import os
import sys
from functools import partial

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from base import chainer_compat  # noqa: E402,F401
import chainer  # noqa: E402
import numpy as np  # noqa: E402

from computations.distributed import batch_normalization, create_world, multi_node  # noqa: E402
from computations.trainer import make_optimizer  # noqa: E402
from computations.updater import WGANGPUpdater  # noqa: E402
from datastream.framereader import clip_converter  # noqa: E402
from nn.DCGAN import Critic, Generator  # noqa: E402
from base.config import AdamConfig  # noqa: E402

CRITIC_ITER = 2


def rank_clips(world, global_batch):
    """This rank's part of each critic step's global batch, in step order."""
    clips = np.random.RandomState(123).randint(
        0, 256, (CRITIC_ITER * global_batch, 3, 16, 16, 16), dtype=np.uint8)
    batch = global_batch // world.size
    mine = [clips[step * global_batch + world.rank * batch:][:batch]
            for step in range(CRITIC_ITER)]
    return [(clip, 0) for clip in np.concatenate(mine)], batch


def main(out_path, communicator, global_batch):
    # ChainerMN's BatchNorm keeps the generator out of the fused node; one process runs the
    # same unfused functions, so the two differ only by the data split (Adam's first step
    # turns any rounding difference of a near-zero gradient into a full step)
    chainer.global_config.fused_nodes = False
    world = create_world(communicator)
    examples, batch = rank_clips(world, global_batch)
    np.random.seed(0)
    gen = Generator(8, 4, 16, 16, partial(batch_normalization, world=world))
    critic = Critic(8, 16, 16)
    optimizers = {'gen': multi_node(make_optimizer(gen, AdamConfig()), world),
                  'critic': multi_node(make_optimizer(critic, AdamConfig()), world)}
    iterator = chainer.iterators.SerialIterator(examples, batch, shuffle=False)
    updater = WGANGPUpdater(iterator, optimizers, critic_iter=CRITIC_ITER, device='@numpy',
                            converter=clip_converter, rank=world.rank, size=world.size)
    updater.update()
    if world.is_root:
        params = {'gen' + n: p.array for n, p in gen.namedparams()}
        params.update({'critic' + n: p.array for n, p in critic.namedparams()})
        params.update({'gen_mean' + n: l.avg_mean for n, l in gen.namedlinks()
                       if hasattr(l, 'avg_mean')})
        np.savez(out_path, **params)


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
