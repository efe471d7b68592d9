"""Rough upper estimates of the memory the networks and videos of a ModelConfig need
(checked against the machine by base/memory.py), and their size in words."""
import numpy as np

from nn.DCGAN import base_shape


def video_voxels(model):
    """Pixels of one video of the model's size, over all frames."""
    return model.n_frames * model.frame_size ** 2


def widest(model):
    """Channels of the wider network's widest layer (the critic's may differ)."""
    return max(model.ch, model.critic_ch)


def network_bytes(model, batch):
    """A rough peak of one forward pass of `batch` videos through the generator (or
    the critic, which mirrors it): its weights and, per video, the float32 outputs
    and im2col buffers of the widest layers (about (32 + ch / 4) floats per pixel)."""
    units = widest(model) * int(np.prod(base_shape(model.n_frames, model.frame_size)))
    weights = 4 * 2 * model.latent_dim * units
    return weights + batch * 4 * video_voxels(model) * (32 + widest(model) // 4)


def describe_size(model):
    """The model's video size and width as the config names them."""
    critic = f', critic_ch {model.critic_ch}' if model.critic_ch else ''
    return (f'{model.n_frames} frames of {model.frame_size}x{model.frame_size} px at ch'
            f' {model.ch}{critic} ([MODEL] n_frames, frame_size, ch)')


def training_bytes(model):
    """A rough peak of one training step: generator and critic activations for the
    real and fake batches, kept for the gradient penalty's double backward."""
    return 4 * model.batch_size * video_voxels(model) * (3 + widest(model) / 48) * 8
