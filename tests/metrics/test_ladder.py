"""The headline quality grows with the damage a viewer sees, and the recognisability
beside it falls with the shapes' kinds (metrics/ladder.py, docs/quality.md)."""
import os

import numpy as np
import pytest

from base.video_io import frames_to_float
from computations.sampling import generate_float_videos
from metrics import feature_net, ladder
from metrics.quality import COMPONENTS, QualityReference
from nn.network_files import config_for, load_generator
from tests.conftest import ROOT

NET = os.path.join(ROOT, 'models', 'feature_net.npz')
GENERATOR = os.path.join(ROOT, 'models', 'generator.npz')


def _net():
    if not os.path.isfile(NET):
        pytest.skip('models/feature_net.npz absent')
    return feature_net.check_feature_net(NET, '[SAVING] feature_net =')


@pytest.fixture(scope='module')
def scores():
    reference = QualityReference(_net(), frames_to_float(ladder.real_clips(0, 96, 16, 32)))
    other = ladder.real_clips(1, 96, 16, 32)
    found = {'real': reference.score(frames_to_float(other))}
    discs = ladder.real_clips(1, 96, 16, 32, discs=True)
    for name, clips in ladder.ladder(other, discs=discs).items():
        found[name] = reference.score(frames_to_float(clips))
    return found


def test_each_step_stands_well_apart_from_real(scores):
    real = scores['real']['quality']
    for name in ('blur sigma 1.5', 'no motion', 'flicker', 'frames shuffled', 'discs'):
        assert scores[name]['quality'] > 2 * real, name


def test_quality_grows_with_the_damage(scores):
    order = ['real', 'blur sigma 1.5', 'blur sigma 3', 'uniform noise']
    values = [scores[name]['quality'] for name in order]
    assert values == sorted(values), dict(zip(order, values))


def test_a_still_clip_whose_shapes_can_be_named_stays_far_better_than_noise(scores):
    for name in ('no motion', 'flicker', 'frames shuffled'):
        assert scores[name]['quality'] < scores['uniform noise']['quality'] / 10, name
        assert scores[name]['motion'] < scores['uniform noise']['motion'], name


def test_motion_is_what_tells_a_frozen_clip(scores):
    real, frozen = scores['real'], scores['no motion']
    assert frozen['motion'] > 10 * max(real['motion'], 1)
    assert frozen['quality'] == pytest.approx(sum(frozen[name] for name in COMPONENTS))


def test_kinds_are_what_tells_discs(scores):
    real, discs = scores['real'], scores['discs']
    assert discs['kinds'] > 10 * max(real['kinds'], 1)
    assert discs['kinds'] > discs['semantic'] + discs['texture'] + discs['motion']


def test_recognisability_separates_real_clips_from_discs_blur_and_noise(scores):
    real = scores['real']['recognisability']
    assert real > 0.35
    for name in ('discs', 'blur sigma 3', 'uniform noise'):
        assert scores[name]['recognisability'] < real / 2, name
    assert scores['no motion']['recognisability'] > real / 2, 'still shapes can be named'


def test_the_shipped_generator_is_less_recognisable_than_real_clips_at_its_size():
    if not os.path.isfile(GENERATOR):
        pytest.skip('models/generator.npz absent')
    net = _net()
    reference = QualityReference(net, frames_to_float(ladder.real_clips(0, 32, 32, 64)))
    real = reference.score(frames_to_float(ladder.real_clips(1, 32, 32, 64)))
    gen = load_generator(GENERATOR, config_for(GENERATOR).model)
    shipped = reference.score(generate_float_videos(gen, gen.make_hidden(
        32, np.random.RandomState(1))))
    assert shipped['recognisability'] < real['recognisability'] / 2
    assert shipped['quality'] > 2 * real['quality']
