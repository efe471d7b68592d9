"""The files in models/ fit together: the generator, critic and trainer snapshot
match the architecture models/setup.ini describes, so `python utils/generate.py`,
utils/evaluate.py and resuming the run work as the README says."""
import os

import chainer
import numpy as np
import pytest

from base.config import load_config
from nn.network_files import SETTINGS_ENTRY, load_critic, load_generator
from utils.generate import latents_for

MODELS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'models')
pytestmark = pytest.mark.skipif(not os.path.isfile(os.path.join(MODELS, 'generator.npz')),
                                reason='models/generator.npz absent')


@pytest.fixture(scope='module')
def config():
    return load_config(os.path.join(MODELS, 'setup.ini'))


def test_shipped_generator_makes_videos_of_the_configured_size(config):
    gen = load_generator(os.path.join(MODELS, 'generator.npz'), config.model)
    with chainer.using_config('train', False), chainer.no_backprop_mode():
        video = gen(latents_for(gen, [0])).array
    m = config.model
    assert video.shape == (1, 3, m.n_frames, m.frame_size, m.frame_size)
    assert np.isfinite(video).all() and video.std() > 0.05


def test_shipped_critic_matches_the_config(config):
    critic = load_critic(os.path.join(MODELS, 'critic.npz'), config.model)
    m = config.model
    clip = np.zeros((1, 3, m.n_frames, m.frame_size, m.frame_size), np.float32)
    with chainer.no_backprop_mode():
        assert np.isfinite(critic(clip).array).all()


def test_shipped_generator_carries_the_settings_of_models_setup_ini(config):
    from nn.network_files import config_for
    assert config_for(os.path.join(MODELS, 'generator.npz')).model == config.model
