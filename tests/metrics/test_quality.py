"""The headline quality's motion part on clips whose real statistics do not vary."""
import os

import numpy as np
import pytest

from datastream.moving_shapes import Look, numbered_clip
from metrics import feature_net, ladder
from metrics.frechet import MetricError
from metrics.quality import MIN_CLIPS, MOTION_SPREAD_FLOOR, QualityReference, motion_statistics
from tests.conftest import ROOT

NET = os.path.join(ROOT, 'models', 'feature_net.npz')
STILL = Look(radius=(0.16, 0.26), max_shapes=1, background=0.0)  # one shape, flat background


def still_background_clips(seed, n):
    """float (n, 3, 16, 32, 32) clips of one moving shape over a flat background."""
    clips = [numbered_clip(seed, i, STILL, 16, 32)[0] for i in range(n)]
    return ladder.to_float(np.stack(clips))


def test_a_still_background_makes_a_statistic_every_real_clip_shares():
    median_change = motion_statistics(still_background_clips(0, 8))[:, 3]
    assert np.all(median_change == 0)


@pytest.fixture(scope='module')
def reference():
    if not os.path.isfile(NET):
        pytest.skip('models/feature_net.npz absent')
    return QualityReference(feature_net.load(NET), still_background_clips(0, 64))


def test_shared_statistics_are_measured_in_the_floor_spread(reference):
    assert reference.motion_scale[1][3] == MOTION_SPREAD_FLOOR


def test_a_slight_flicker_over_a_still_background_costs_points_not_millions(reference):
    real = reference.score(still_background_clips(1, 64))
    flicker = still_background_clips(1, 64)
    flicker[:, :, 1::2] += 4 / 127.5  # every other frame 4 levels brighter
    flickering = reference.score(np.clip(flicker, -1, 1))
    assert real['motion'] < 5
    assert 20 * max(real['motion'], 1) < flickering['motion'] < 1000


def test_one_clip_of_either_kind_is_one_line_not_a_linalg_error():
    net = feature_net.FeatureNet()  # any weights: the count is checked first
    with pytest.raises(MetricError, match='the quality score needs at least 2 real clips,'
                                          r' got 1 \(a covariance needs two\)'):
        QualityReference(net, still_background_clips(0, 1))
    reference = QualityReference(net, still_background_clips(0, 2))
    with pytest.raises(MetricError, match='needs at least 2 judged clips, got 1'):
        reference.score(still_background_clips(1, 1))
    assert np.isfinite(reference.score(still_background_clips(1, 2))['quality'])
    assert MIN_CLIPS == 2
