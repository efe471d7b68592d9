import numpy as np
import pytest

from metrics.frechet import (MetricError, frechet_distance, load_feature_function,
                             precision_recall)


def test_frechet_distance_of_known_gaussians():
    rng = np.random.RandomState(0)
    a = rng.normal(size=(40000, 2)) * [1, 2]
    b = rng.normal(size=(40000, 2)) * [2, 1] + [3, 0]
    # |mu|^2 = 9; Tr(diag(1,4) + diag(4,1) - 2 diag(2,2)) = 2
    assert frechet_distance(a, b) == pytest.approx(11, rel=0.03)
    assert frechet_distance(a, a) == pytest.approx(0, abs=1e-6)


def test_frechet_distance_is_stable_for_singular_covariances():
    rng = np.random.RandomState(1)
    low_rank = rng.normal(size=(50, 3)) @ rng.normal(size=(3, 20))  # rank 3 in 20 dims
    assert np.isfinite(frechet_distance(low_rank, low_rank + 0.01))
    assert frechet_distance(low_rank, low_rank) == pytest.approx(0, abs=1e-6)


def test_precision_recall_of_matching_and_disjoint_sets():
    rng = np.random.RandomState(2)
    real = rng.normal(size=(200, 4))
    assert precision_recall(real, real) == {'precision': 1.0, 'recall': 1.0}
    far = precision_recall(real, real + 100)
    assert far == {'precision': 0.0, 'recall': 0.0}
    narrow = precision_recall(real, real[:, :] * 0.1)  # all fakes near the real mode
    assert narrow['precision'] > 0.9 and narrow['recall'] < 0.5


def test_feature_function_seam():
    assert load_feature_function('numpy:mean') is np.mean
    with pytest.raises(ValueError, match='expected MODULE:CALLABLE'):
        load_feature_function('numpy.mean')
    with pytest.raises(ValueError, match='--features'):
        load_feature_function('numpy:no_such_function')


@pytest.mark.parametrize('real,fake,message', [
    (np.ones((1, 3)), np.ones((4, 3)), 'real clips: 1 clip.s.; expected at least 2'),
    (np.ones((4, 3)), np.ones((1, 3)), 'judged clips: 1 clip.s.; expected at least 2'),
    (np.full((4, 3), np.nan), np.ones((4, 3)), 'real clips: the features hold NaN'),
    (np.ones((4,)), np.ones((4, 3)), r'real clips: features of shape \(4,\); expected'),
    (np.ones((4, 2)), np.ones((4, 3)), 'features of 2 and 3 values; expected the same')])
def test_features_a_distance_cannot_use_are_one_line(real, fake, message):
    with pytest.raises(MetricError, match=message):
        frechet_distance(real, fake)


def test_precision_recall_needs_more_clips_than_k():
    rng = np.random.RandomState(3)
    with pytest.raises(MetricError, match='judged clips: 3 clip.s.; expected at least 4'):
        precision_recall(rng.normal(size=(4, 2)), rng.normal(size=(3, 2)))
