"""Rough upper estimates of the memory the networks and videos of a ModelConfig need
(checked against the machine by utils/memory.py), and their size in words."""
import numpy as np

from nn.DCGAN import base_shape


def video_voxels(model):
    """Pixels of one video of the model's size, over all frames."""
    return model.n_frames * model.frame_size ** 2


def network_bytes(model, batch):
    """A rough peak of one forward pass of `batch` videos through the generator (or
    the critic, which mirrors it): its weights and, per video, the float32 outputs
    and im2col buffers of the widest layers (about (32 + ch / 4) floats per pixel)."""
    units = model.ch * int(np.prod(base_shape(model.n_frames, model.frame_size)))
    weights = 4 * 2 * model.latent_dim * units
    return weights + batch * 4 * video_voxels(model) * (32 + model.ch // 4)


def describe_size(model):
    """The model's video size and width as the config names them."""
    return (f'{model.n_frames} frames of {model.frame_size}x{model.frame_size} px at ch'
            f' {model.ch} ([MODEL] n_frames, frame_size, ch)')


def training_bytes(model):
    """A rough peak of one training step: generator and critic activations for the
    real and fake batches, kept for the gradient penalty's double backward."""
    return 4 * model.batch_size * video_voxels(model) * (3 + model.ch / 48) * 8
