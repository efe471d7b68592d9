"""The shipped feature network makes an honest metric on the built-in data."""
import json
import os
import pickle

import chainer
import numpy as np
import pytest

from base.video_io import frames_to_float
from datastream.moving_shapes import numbered_clip
from metrics import feature_net
from metrics.frechet import frechet_distance, precision_recall
from nn.DCGAN import Generator
from tests.conftest import ROOT
from base.errors import UserError

NET = os.path.join(ROOT, 'models', 'feature_net.npz')


def clips(seed, count):
    return np.stack([frames_to_float(numbered_clip(seed, i, n_frames=16, size=32)[0])
                     for i in range(count)])


@pytest.fixture(scope='module')
def features():
    if not os.path.isfile(NET):
        pytest.skip('models/feature_net.npz absent')
    net = feature_net.check_feature_net(NET, '[SAVING] feature_net =')
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
                 '--kind-frames', '8', '--kind-rounds', '1',
                 '--out', str(tmp_path / 'net.npz')]) == 0
    assert (tmp_path / 'net.npz').is_file() and (tmp_path / 'net.json').is_file()
    before = dict(np.load(tmp_path / 'net.npz'))
    changed = {**before, 'c4/b': before['c4/b'] + 1, 'k1/W': before['k1/W'] + 1}
    np.savez(tmp_path / 'net.npz', **changed)
    assert main(['--kinds-only', '--test', '2', '--kind-frames', '8', '--kind-rounds', '1',
                 '--out', str(tmp_path / 'net.npz')]) == 0
    after = dict(np.load(tmp_path / 'net.npz'))
    assert all(np.array_equal(changed[k], after[k]) for k in before
               if k[0] not in 'kn'), 'the rest of the network is kept as it was'
    assert all(np.array_equal(before[k], after[k]) for k in before
               if k[0] in 'kn'), 'the recogniser (k*, n*, kinds) is trained afresh, repeatably'
    assert 'kind_count_accuracy' in json.loads((tmp_path / 'net.json').read_text())['held_out']


class Planted:
    """Unpickling it makes a folder: a file that is unpickled would run code."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.mkdir, (self.marker,)


def saved_net(folder, width=32, change=None):
    """Path of a fresh FeatureNet(width) saved as chainer does, entries changed by change."""
    path = str(folder / f'net{width}.npz')
    chainer.serializers.save_npz(path, feature_net.FeatureNet(width))
    if change:
        entries = dict(np.load(path))
        change(entries)
        np.savez(path, **entries)
    return path


def test_a_feature_net_file_is_loaded_whole(tmp_path):
    saved, path = feature_net.FeatureNet(), str(tmp_path / 'net.npz')
    saved.n1.avg_mean[:] = 0.5  # a running statistic, not a parameter, travels too
    chainer.serializers.save_npz(path, saved)
    net = feature_net.check_feature_net(path, '[SAVING] feature_net =')
    videos = np.random.RandomState(0).uniform(-1, 1, (2, 3, 16, 32, 32)).astype(np.float32)
    np.testing.assert_array_equal(feature_net.extract(net, videos),
                                  feature_net.extract(saved, videos))
    np.testing.assert_array_equal(feature_net.kind_probabilities(net, videos),
                                  feature_net.kind_probabilities(saved, videos))


def _bad_file(tmp_path, kind):
    """A path that is not a feature network, of the given kind."""
    marker = str(tmp_path / 'code-ran')
    path = tmp_path / f'{kind}.npz'
    if kind == 'generator':
        chainer.serializers.save_npz(str(path), Generator(8, 4, 16, 16))
    elif kind == 'random bytes':
        path.write_bytes(np.random.RandomState(0).bytes(5000))
    elif kind == 'pickle':
        path.write_bytes(pickle.dumps({'c1/W': Planted(marker)}))
    elif kind == 'pickled entry':
        path = tmp_path / saved_net(tmp_path, change=lambda e: e.update(
            {'c1/W': np.array([Planted(marker)], dtype=object)}))
    elif kind == 'other width':
        path = tmp_path / saved_net(tmp_path, width=16)
    elif kind == 'nan':
        path = tmp_path / saved_net(tmp_path, change=lambda e: e['c4/b'].fill(np.nan))
    elif kind == 'folder':
        path.mkdir()
    return str(path), marker


@pytest.mark.parametrize('kind,reason', [
    ('missing', 'feature network not found'), ('folder', 'is a folder'),
    ('generator', "no parameter 'c1/W' (not a feature network file?)"),
    ('random bytes', 'not a readable .npz (not a zip archive'),
    ('pickle', 'not a readable .npz (not a zip archive'),
    ('pickled entry', 'not a readable .npz ('),
    ('other width', "parameter 'c1/W' has shape (8, 3, 4, 4, 4), the configured network"
                    ' expects (16, 3, 4, 4, 4)'),
    ('nan', "parameter 'c4/b' holds NaN or infinite values")])
def test_anything_but_a_feature_net_is_one_line_and_never_run(tmp_path, kind, reason):
    path, marker = _bad_file(tmp_path, kind)
    with pytest.raises(UserError) as err:
        feature_net.check_feature_net(path, '[SAVING] feature_net =')
    message = str(err.value)
    assert message.startswith(f'[SAVING] feature_net = {path}: {reason}'), message
    assert message.endswith('; expected the .npz that `python metrics/train_feature_net.py`'
                            ' writes') and '\n' not in message
    assert not os.path.exists(marker), 'nothing in the file was unpickled'
