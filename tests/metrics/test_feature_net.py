"""The shipped feature network makes an honest metric on the built-in data."""
import os

import numpy as np
import pytest

from datastream.moving_shapes import numbered_clip
from metrics import feature_net
from metrics.frechet import frechet_distance, precision_recall
from tests.conftest import ROOT

NET = os.path.join(ROOT, 'models', 'feature_net.npz')
pytestmark = pytest.mark.skipif(not os.path.isfile(NET), reason='models/feature_net.npz absent')


def clips(seed, count):
    return np.stack([numbered_clip(seed, i, n_frames=16, size=32)[0]
                     .transpose(3, 0, 1, 2).astype(np.float32) / 127.5 - 1
                     for i in range(count)])


@pytest.fixture(scope='module')
def features():
    net = feature_net.load(NET)
    real_a, real_b = clips(5000, 128), clips(6000, 128)
    still = real_b[:, :, np.random.RandomState(0).permutation(16)]  # frames shuffled
    noise = np.random.RandomState(1).uniform(-1, 1, real_b.shape).astype(np.float32)
    return {name: feature_net.extract(net, videos) for name, videos in
            (('a', real_a), ('b', real_b), ('shuffled', still), ('noise', noise))}


def test_real_vs_real_is_near_zero_and_shuffled_frames_and_noise_are_worse(features):
    real = frechet_distance(features['a'], features['b'])
    shuffled = frechet_distance(features['a'], features['shuffled'])
    noise = frechet_distance(features['a'], features['noise'])
    assert shuffled > 2 * real, (real, shuffled)
    assert noise > 10 * real and noise > shuffled, (real, noise)


def test_precision_and_recall_separate_real_from_noise(features):
    real = precision_recall(features['a'], features['b'])
    noise = precision_recall(features['a'], features['noise'])
    assert real['precision'] > 0.5 and real['recall'] > 0.5
    assert noise['precision'] < 0.1 and noise['recall'] < 0.1


def test_any_clip_size_is_prepared_to_the_network_input():
    assert feature_net.prepare(np.zeros((2, 3, 32, 64, 64))).shape == (2, 3, 16, 32, 32)
    assert feature_net.prepare(np.zeros((1, 3, 16, 16, 16))).shape == (1, 3, 16, 32, 32)
    with pytest.raises(ValueError, match='expected 16x16 or multiples of 32x32'):
        feature_net.prepare(np.zeros((1, 3, 16, 48, 48)))


def test_training_script_checks_its_options_before_work(tmp_path, capsys):
    from metrics.train_feature_net import main
    (tmp_path / 'file').write_text('x')
    assert main(['--out', str(tmp_path / 'file' / 'net.npz')]) == 2
    assert 'error: --out' in capsys.readouterr().err
    assert main(['--train', '0', '--out', str(tmp_path / 'net.npz')]) == 2
    assert capsys.readouterr().err == 'error: --train 0: expected a value >= 1\n'
    assert main(['--train', '4', '--test', '2', '--epochs', '1', '--batch', '2',
                 '--out', str(tmp_path / 'net.npz')]) == 0
    assert (tmp_path / 'net.npz').is_file() and (tmp_path / 'net.json').is_file()
