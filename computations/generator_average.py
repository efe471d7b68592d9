"""Exponential moving average of the generator's weights and BatchNorm statistics.

A GAN generator oscillates from update to update (here the feature distance of
checkpoints 50 iterations apart differed by up to 9 points); the average over the
last ~1 / (1 - decay) updates is steadier. It is kept in the trainer snapshot,
so a resumed run continues the same average; a snapshot written without one
starts it from the generator it holds.
"""
import numpy as np
from chainer import training


def averaged_arrays(link):
    """Every array the average follows: parameters, then BatchNorm's running mean/var."""
    arrays = [param.array for _, param in sorted(link.namedparams())]
    for _, child in sorted(link.namedlinks(skipself=True)):
        arrays += [getattr(child, name) for name in sorted(child._persistent)
                   if not np.isscalar(getattr(child, name))]
    return arrays


class GeneratorAverage(training.Extension):
    """After every update: average = decay * average + (1 - decay) * generator."""

    trigger = 1, 'iteration'
    name = 'generator_average'

    def __init__(self, gen, decay):
        self.gen, self.decay = gen, decay
        self.average = gen.copy(mode='copy')

    def __call__(self, trainer):
        for mean, value in zip(averaged_arrays(self.average), averaged_arrays(self.gen)):
            mean *= self.decay
            mean += (1 - self.decay) * value

    def restart_from_generator(self):
        for mean, value in zip(averaged_arrays(self.average), averaged_arrays(self.gen)):
            mean[...] = value

    def serialize(self, serializer):
        try:
            self.average.serialize(serializer['average'])
        except KeyError:  # a snapshot of a run that kept no average
            self.restart_from_generator()
