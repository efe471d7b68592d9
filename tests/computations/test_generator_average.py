"""The generator's moving average: the update rule, its snapshot and resumes."""
import os

import chainer
import numpy as np

from computations.generator_average import GeneratorAverage, averaged_arrays, recompute_statistics
from computations.run_control import resume
from nn.DCGAN import Generator
from nn.network_files import SETTINGS_ENTRY
from tests.conftest import make_trainer


def _arrays(link):
    return [np.array(a, copy=True) for a in averaged_arrays(link)]


def test_average_moves_by_one_minus_decay_towards_the_generator():
    gen = Generator(8, 4, 16, 16)
    average = GeneratorAverage(gen, 0.75, batch_size=2, seed=0)
    old = _arrays(average.average)
    for array in averaged_arrays(gen):
        array += 1.0
    average(None)
    names = [n for n, _ in sorted(gen.namedparams())]
    assert '/bn0/gamma' in names and len(old) == len(names) + 2 * 4  # bn0-bn3 mean, var
    for before, now, target in zip(old, averaged_arrays(average.average), averaged_arrays(gen)):
        np.testing.assert_allclose(now, 0.75 * before + 0.25 * target, rtol=1e-6)


def test_recomputed_statistics_are_the_batches_own():
    gen = Generator(8, 4, 16, 16)
    rng = np.random.RandomState(7)
    z = np.concatenate([gen.make_hidden(3, rng) for _ in range(2)])
    h = gen.l0(z).array
    recompute_statistics(gen, batch_size=3, seed=7, batches=2)
    halves = h[:3], h[3:]
    np.testing.assert_allclose(gen.bn0.avg_mean, sum(x.mean(0) for x in halves) / 2, rtol=1e-5)
    np.testing.assert_allclose(gen.bn0.avg_var, sum(x.var(0, ddof=1) for x in halves) / 2,
                               rtol=1e-4)
    assert 'forward' not in vars(gen.bn0), 'the BatchNorm links are restored'


def test_recomputed_statistics_make_test_mode_videos_those_of_training_mode():
    """Stale statistics (as an average's are early in a run) are replaced: on the
    same batch, inference then gives what training-mode BatchNorm gives."""
    gen = Generator(8, 4, 16, 16)
    for bn in (gen.bn0, gen.bn1, gen.bn2, gen.bn3):
        bn.avg_mean[...], bn.avg_var[...] = 3.0, 50.0
    z = gen.make_hidden(256, np.random.RandomState(1))

    def videos(train):
        with chainer.using_config('train', train), chainer.no_backprop_mode():
            return gen(z).array
    training = videos(True)
    scale = np.abs(training).mean()
    assert np.abs(videos(False) - training).mean() > 0.5 * scale
    recompute_statistics(gen, batch_size=256, seed=1, batches=1)
    assert np.abs(videos(False) - training).mean() < 0.01 * scale


def test_standing_average_is_a_recomputed_copy_made_once_per_iteration():
    gen = Generator(8, 4, 16, 16)
    average = GeneratorAverage(gen, 0.9, batch_size=4, seed=0)
    before = _arrays(average.average)
    first = average.standing(10)
    assert average.standing(10) is first and average.standing(11) is not first
    for old, now in zip(before, averaged_arrays(average.average)):
        np.testing.assert_array_equal(old, now)
    assert not np.array_equal(first.bn1.avg_var, average.average.bn1.avg_var)


def test_a_snapshot_without_an_average_restarts_it_from_the_generator(tmp_path):
    gen = Generator(8, 4, 16, 16)
    average = GeneratorAverage(gen, 0.9, batch_size=2, seed=0)
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
        for key in set(a.files) - {SETTINGS_ENTRY}:  # the settings name each run's folder
            np.testing.assert_array_equal(a[key], b[key], err_msg=key)
        assert not np.array_equal(a['dc1/W'], g['dc1/W'])


def test_an_average_turned_on_when_resuming_starts_from_the_trained_generator(
        shapes_dir, tmp_path):
    parts = str(tmp_path / 'parts')
    make_trainer(shapes_dir, parts, tmp_path, **{'MODEL.iterations': 2})[0].run()
    trainer, gen, _ = make_trainer(shapes_dir, parts, tmp_path, **{
        'MODEL.average_decay': 0.5, 'MODEL.iterations': 4})
    assert resume(trainer, parts, 'latest').endswith('snapshot_iter_2')
    average = trainer.get_extension(GeneratorAverage.name)
    with np.load(os.path.join(parts, 'gen_iter_2.npz')) as trained:
        np.testing.assert_array_equal(average.average.dc1.W.array, trained['dc1/W'])
    for mean, value in zip(averaged_arrays(average.average), averaged_arrays(gen)):
        np.testing.assert_array_equal(mean, value)
