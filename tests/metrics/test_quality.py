"""The headline quality's motion part on clips whose real statistics do not vary, and the
recognisability beside it."""
import os

import numpy as np
import pytest

from base.video_io import frames_to_float
from datastream.moving_shapes import Look, numbered_clip
from metrics import feature_net
from metrics.frechet import MetricError
from metrics.quality import (CONFIDENT, MIN_CLIPS, QualityReference, motion_statistics,
                             named_kinds, recognisability)
from tests.conftest import ROOT

NET = os.path.join(ROOT, 'models', 'feature_net.npz')
STILL = Look(radius=(0.16, 0.26), max_shapes=1, background=0.0)  # one shape, flat background


def still_background_clips(seed, n):
    """float (n, 3, 16, 32, 32) clips of one moving shape over a flat background."""
    clips = [numbered_clip(seed, i, STILL, 16, 32)[0] for i in range(n)]
    return frames_to_float(np.stack(clips))


def test_a_still_background_makes_a_statistic_every_real_clip_shares():
    median_change = motion_statistics(still_background_clips(0, 8))[:, 3]
    assert np.all(median_change == 0), 'log2(0 + the floor of one level)'


@pytest.fixture(scope='module')
def reference():
    if not os.path.isfile(NET):
        pytest.skip('models/feature_net.npz absent')
    net = feature_net.check_feature_net(NET, '[SAVING] feature_net =')
    return QualityReference(net, still_background_clips(0, 64))


def test_a_slight_flicker_over_a_still_background_costs_points_not_millions(reference):
    real = reference.score(still_background_clips(1, 64))
    flicker = still_background_clips(1, 64)
    flicker[:, :, 1::2] += 4 / 127.5  # every other frame 4 levels brighter
    flickering = reference.score(np.clip(flicker, -1, 1))
    assert real['motion'] < 1
    assert 10 * max(real['motion'], 1) < flickering['motion'] < 100


def test_no_motion_at_all_costs_what_is_missing_not_more_than_noise(reference):
    clips = still_background_clips(1, 64)
    frozen = reference.score(np.repeat(clips[:, :, :1], clips.shape[2], axis=2))
    noise = reference.score(np.random.RandomState(0).uniform(-1, 1, clips.shape))
    real = reference.score(clips)
    assert 10 * max(real['motion'], 1) < frozen['motion'] < noise['motion'] < 1000


def _frames(counts, confidence):
    """Per-frame probabilities (T, 3 kinds, 3 counts) naming these counts of each kind."""
    probabilities = np.full((len(counts), 3, 3), (1 - confidence) / 2)
    for t, frame in enumerate(counts):
        probabilities[t, np.arange(3), frame] = confidence
    return probabilities


def test_a_clip_is_named_only_when_most_frames_name_the_same_kinds_with_confidence():
    circle, square = (1, 0, 0), (0, 1, 0)
    clips = np.stack([_frames([circle] * 8, 0.95), _frames([circle] * 6 + [square] * 2, 0.95),
                      _frames([circle] * 5 + [square] * 3, 0.95), _frames([circle] * 8, 0.6),
                      _frames([(0, 0, 0)] * 8, 0.99)])
    assert CONFIDENT > 0.6
    assert named_kinds(clips) == [circle, circle, None, None, None]


def test_recognisability_counts_each_named_set_at_most_as_often_as_real_clips_show_it():
    circle, square, both = (1, 0, 0), (0, 1, 0), (1, 1, 0)
    real = [circle, square, both, None]
    assert recognisability(real, real) == 0.75
    assert recognisability([circle] * 4, real) == 0.25, 'only discs: the share of disc clips'
    assert recognisability([None] * 4, real) == 0
    assert recognisability([square, circle, (2, 0, 0), both], real) == 0.75


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
