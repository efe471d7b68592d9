"""The headline quality grows with the damage a viewer sees (metrics/ladder.py)."""
import os

import pytest

from metrics import feature_net, ladder
from metrics.quality import QualityReference
from tests.conftest import ROOT

NET = os.path.join(ROOT, 'models', 'feature_net.npz')


@pytest.fixture(scope='module')
def scores():
    if not os.path.isfile(NET):
        pytest.skip('models/feature_net.npz absent')
    reference = QualityReference(feature_net.load(NET),
                                 ladder.to_float(ladder.real_clips(0, 96, 16, 32)))
    other = ladder.real_clips(1, 96, 16, 32)
    found = {'real': reference.score(ladder.to_float(other))}
    for name, clips in ladder.ladder(other).items():
        found[name] = reference.score(ladder.to_float(clips))
    return found


def test_each_step_stands_well_apart_from_real(scores):
    real = scores['real']['quality']
    for name in ('blur sigma 1.5', 'no motion', 'flicker', 'frames shuffled'):
        assert scores[name]['quality'] > 2 * real, name


def test_quality_grows_with_the_damage(scores):
    order = ['real', 'blur sigma 1.5', 'blur sigma 3', 'uniform noise']
    values = [scores[name]['quality'] for name in order]
    assert values == sorted(values), dict(zip(order, values))


def test_motion_is_what_tells_a_frozen_clip(scores):
    real, frozen = scores['real'], scores['no motion']
    assert frozen['motion'] > 10 * real['motion']
    assert frozen['quality'] == pytest.approx(
        frozen['semantic'] + frozen['texture'] + frozen['motion'])
