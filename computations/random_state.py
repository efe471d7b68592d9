"""A numpy RandomState saved in and restored from Chainer snapshots."""
import chainer
import numpy as np


def serialize_random_state(serializer, rng):
    """Save rng through a Chainer serializer (entries rng_keys and rng_rest), or
    restore it when the serializer is a deserializer."""
    _, keys, pos, has_gauss, cached = rng.get_state()
    keys = serializer('rng_keys', keys)
    rest = serializer('rng_rest', np.array([pos, has_gauss, cached], dtype=np.float64))
    if isinstance(serializer, chainer.serializer.Deserializer):
        rng.set_state(('MT19937', keys, int(rest[0]), int(rest[1]), float(rest[2])))
