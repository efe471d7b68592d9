"""Exponential moving average of the generator's weights and BatchNorm statistics.

A GAN generator oscillates from update to update (here the feature distance of
checkpoints 50 iterations apart differed by up to 9 points); the average over the
last ~1 / (1 - decay) updates is steadier. It is kept in the trainer snapshot,
so a resumed run continues the same average; a snapshot written without one
starts it from the generator it holds.

Averaged BatchNorm statistics do not fit averaged weights while the weights still
change fast (2,000 updates into a run its videos were flat grey), so what is
written and shown, `standing(iteration)`, carries statistics recomputed from the
averaged weights' own activations.
"""
import chainer.links as L
import numpy as np
from chainer import training

STATISTICS_BATCHES = 64
STATISTICS_CHUNK = 8  # batches of latents generated in one pass


def averaged_arrays(link):
    """Every array the average follows: parameters, then BatchNorm's running mean/var."""
    arrays = [param.array for _, param in sorted(link.namedparams())]
    for _, child in sorted(link.namedlinks(skipself=True)):
        arrays += [getattr(child, name) for name in sorted(child._persistent)
                   if not np.isscalar(getattr(child, name))]
    return arrays


def local_batch_norms(gen):
    """gen with every multi-node BatchNorm among its direct children (ChainerMN's, whose
    training-mode call communicates with the other ranks) replaced by Chainer's own with
    the same parameters and statistics, so that one process alone can run it; the
    saved entries are the same."""
    for name, child in list(gen.namedlinks(skipself=True)):
        name = name.lstrip('/')
        if isinstance(child, L.BatchNormalization) or '/' in name or not hasattr(child, 'avg_var'):
            continue
        local = L.BatchNormalization(child.avg_mean.shape, decay=child.decay, eps=child.eps)
        local.to_device(child.device)
        for entry in ('gamma', 'beta'):
            getattr(local, entry).array[...] = getattr(child, entry).array
        local.avg_mean[...], local.avg_var[...], local.N = child.avg_mean, child.avg_var, child.N
        delattr(gen, name)
        with gen.init_scope():
            setattr(gen, name, local)
    return gen


def recompute_statistics(gen, batch_size, seed, batches=STATISTICS_BATCHES):
    """Set every BatchNorm's running mean and variance in gen to the mean, over
    `batches` batches of latents from RandomState(seed), of the batch statistics
    training-mode BatchNorm normalises with (Generator.batch_statistics, STATISTICS_CHUNK
    batches a pass). Needs no other process under MPI: every BatchNorm normalises with
    this process's batch alone here (see local_batch_norms)."""
    gen = local_batch_norms(gen)
    rng = np.random.RandomState(seed)
    chunks = []
    for done in range(0, batches, STATISTICS_CHUNK):
        count = min(STATISTICS_CHUNK, batches - done)
        z = gen.device.send(gen.make_hidden(batch_size * count, rng))
        chunks.append(gen.batch_statistics(z, count))
    for bn, per_chunk in zip(gen.batch_norms(), zip(*chunks)):
        means, variances = zip(*per_chunk)
        bn.avg_mean[...] = gen.xp.concatenate(means).mean(axis=0)
        bn.avg_var[...] = gen.xp.concatenate(variances).mean(axis=0)
    return gen


class GeneratorAverage(training.Extension):
    """After every update: average = decay * average + (1 - decay) * generator."""

    trigger = 1, 'iteration'
    name = 'generator_average'
    priority = training.PRIORITY_WRITER + 2  # before anything of the same iteration reads it

    def __init__(self, gen, decay, batch_size, seed):
        """batch_size and seed: the latents of the recomputed statistics."""
        self.gen, self.decay = gen, decay
        self.average = gen.copy(mode='copy')
        self.batch_size, self.seed = batch_size, seed
        self._standing, self._standing_at = None, None

    def __call__(self, trainer):
        for mean, value in zip(averaged_arrays(self.average), averaged_arrays(self.gen)):
            mean *= self.decay
            mean += (1 - self.decay) * value

    def standing(self, iteration):
        """A copy of the average with recompute_statistics, made once per iteration."""
        if self._standing_at != iteration:
            self._standing = recompute_statistics(self.average.copy(mode='copy'),
                                                  self.batch_size, self.seed)
            self._standing_at = iteration
        return self._standing

    def restart_from_generator(self):
        for mean, value in zip(averaged_arrays(self.average), averaged_arrays(self.gen)):
            mean[...] = value

    def start_fresh(self):
        """Called by resume (computations/run_control.py) when the snapshot holds no
        average: start it from the generator just loaded, not the initial one."""
        self.restart_from_generator()

    def serialize(self, serializer):
        try:
            self.average.serialize(serializer['average'])
        except KeyError:  # a snapshot of a run that kept no average
            self.restart_from_generator()
