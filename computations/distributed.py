"""Data-parallel training over MPI with ChainerMN (`mpiexec -n N python main_train.py`).

Every process (rank) trains on its own shard of the dataset with batch_size
clips; gradients are averaged across ranks by ChainerMN's multi-node optimizer,
and the generator's BatchNorm statistics are computed over all ranks' batches,
so N ranks x batch b step like 1 process x batch N*b. Random draws (latents,
interpolation factors) are made for the whole N*b batch on every rank from the
same stream, and each rank takes its slice: all ranks hold the same state, and
rank 0's snapshot resumes every rank. Only rank 0 writes logs, gifs, snapshots.
"""
from dataclasses import dataclass

import chainer.links as L
from base.errors import UserError


class DistributedError(UserError):
    """MPI or ChainerMN cannot serve the requested [SCALE] settings."""


@dataclass(frozen=True)
class World:
    """This process's place among the ranks; comm is None for a single process."""
    comm: object = None
    rank: int = 0
    size: int = 1
    intra_rank: int = 0

    @property
    def is_root(self):
        return self.rank == 0

    def any(self, flag):
        """True on every rank if flag is true on any rank (a collective call)."""
        return bool(flag) if self.comm is None else self.comm.allreduce_obj(int(flag)) > 0

    def barrier(self):
        if self.comm is not None:
            self.comm.mpi_comm.barrier()


def create_world(communicator):
    """World for [SCALE] communicator ('' = one process)."""
    if not communicator:
        return World()
    try:
        import chainermn
        comm = chainermn.create_communicator(communicator)
    except ImportError as err:
        raise DistributedError(f'[SCALE] communicator = {communicator!r} needs mpi4py and an MPI'
                               f' library (pip install mpi4py mpich): {err}') from None
    return World(comm, comm.rank, comm.size, comm.intra_rank)


def batch_normalization(size, world):
    """BatchNorm whose statistics span all ranks' batches (plain BatchNorm alone)."""
    if world.comm is None:
        return L.BatchNormalization(size)
    from chainermn.links import MultiNodeBatchNormalization
    return MultiNodeBatchNormalization(size, world.comm)


def multi_node(optimizer, world):
    """Wrap a set-up optimizer so gradients are averaged across ranks. Parameters
    are broadcast from rank 0 now, so the first update() already updates (plain
    ChainerMN spends the first call on that broadcast)."""
    if world.comm is None:
        return optimizer
    import chainermn
    wrapped = chainermn.create_multi_node_optimizer(optimizer, world.comm)
    world.comm.bcast_data(optimizer.target)
    wrapped.is_changed(optimizer.target)  # records the parameter set as broadcast
    return wrapped


def shard(dataset, world, seed):
    """This rank's disjoint, equal-length part of the dataset."""
    if world.comm is None:
        return dataset
    import chainermn
    return chainermn.scatter_dataset(dataset if world.is_root else None, world.comm,
                                     shuffle=True, seed=seed, force_equal_length=True)
