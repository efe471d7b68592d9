"""The generator's moving average: the update rule, its snapshot and resumes."""
import os

import chainer
import numpy as np

from computations.generator_average import GeneratorAverage, averaged_arrays
from nn.DCGAN import Generator
from tests.computations.test_updater import make_trainer


def _arrays(link):
    return [np.array(a, copy=True) for a in averaged_arrays(link)]


def test_average_moves_by_one_minus_decay_towards_the_generator():
    gen = Generator(8, 4, 16, 16)
    average = GeneratorAverage(gen, decay=0.75)
    old = _arrays(average.average)
    for array in averaged_arrays(gen):
        array += 1.0
    average(None)
    names = [n for n, _ in sorted(gen.namedparams())]
    assert '/bn0/gamma' in names and len(old) == len(names) + 2 * 4  # bn0-bn3 mean, var
    for before, now, target in zip(old, averaged_arrays(average.average), averaged_arrays(gen)):
        np.testing.assert_allclose(now, 0.75 * before + 0.25 * target, rtol=1e-6)


def test_a_snapshot_without_an_average_restarts_it_from_the_generator(tmp_path):
    gen = Generator(8, 4, 16, 16)
    average = GeneratorAverage(gen, decay=0.9)
    for array in averaged_arrays(gen):
        array += 0.5
    np.savez(tmp_path / 'old.npz', unrelated=np.zeros(1))
    with np.load(tmp_path / 'old.npz') as stored:
        average.serialize(chainer.serializers.NpzDeserializer(stored))
    for mean, value in zip(averaged_arrays(average.average), averaged_arrays(gen)):
        np.testing.assert_array_equal(mean, value)


def test_resumed_run_continues_the_same_average(shapes_dir, tmp_path):
    changes = {'MODEL.average_decay': 0.5}
    whole = str(tmp_path / 'whole')
    make_trainer(shapes_dir, whole, tmp_path, **changes, **{'MODEL.iterations': 4})[0].run()
    parts = str(tmp_path / 'parts')
    make_trainer(shapes_dir, parts, tmp_path, **changes, **{'MODEL.iterations': 2})[0].run()
    second = make_trainer(shapes_dir, parts, tmp_path, **changes, **{'MODEL.iterations': 4})[0]
    chainer.serializers.load_npz(os.path.join(parts, 'snapshot_iter_2'), second)
    second.run()
    with np.load(os.path.join(whole, 'gen_avg_iter_4.npz')) as a, \
            np.load(os.path.join(parts, 'gen_avg_iter_4.npz')) as b, \
            np.load(os.path.join(whole, 'gen_iter_4.npz')) as g:
        assert sorted(a.files) == sorted(g.files)
        for key in a.files:
            np.testing.assert_array_equal(a[key], b[key], err_msg=key)
        assert not np.array_equal(a['dc1/W'], g['dc1/W'])
