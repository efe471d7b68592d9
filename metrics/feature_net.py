"""A small 3D-conv network that reads the built-in clips' generating factors.

Trained on fresh built-in clips (datastream/moving_shapes.py) to predict which
shape kinds and colours a clip holds, how many shapes, the first shape's
velocity and the background drift. Its pooled penultimate activations are the
features of the Fréchet distance (metrics/frechet.py): they respond to shape,
colour and motion, the things a video GAN on this data must get right. Beside
it, a per-frame recogniser (the `k*` layers, 2D convolutions applied to every
frame on its own, trained after the rest on single frames of both looks) names
how many circles, squares and triangles each frame shows: `kind_probabilities`,
the quality's `kinds` part and its recognisability (metrics/quality.py).
`extract` takes clips resized by `prepare` to 16x32x32 (the literature-style
distance, `fd`); `native_features` reads clips at their own size, every frame
(the headline quality, metrics/quality.py).
"""
import os

import chainer
import chainer.functions as F
import chainer.links as L
import numpy as np

from datastream.moving_shapes import KINDS, PALETTE
from nn import torch_kernels
from nn.DCGAN import Conv3D
from nn.network_files import load_weights
from base.errors import UserError

INPUT = (16, 32, 32)  # frames, height, width
N_LABELS = len(KINDS) + len(PALETTE) + 1  # kinds present, colours present, two shapes
N_VALUES = 4  # first shape's velocity (y, x) and background drift (y, x)
MAX_COUNT = 2  # shapes of one kind in a frame: the recogniser names 0 to MAX_COUNT of each
FRAME = 32  # the recogniser reads frames at FRAME x FRAME (prepare's frame size)
EXPECTED = 'the .npz that `python metrics/train_feature_net.py` writes'


class FeatureNet(chainer.Chain):
    def __init__(self, width=32):
        super().__init__()
        with self.init_scope():
            self.c1 = Conv3D(3, 3, width // 2, ksize=4, stride=2, pad=1)
            self.c2 = Conv3D(3, width // 2, width, ksize=4, stride=2, pad=1)
            self.c3 = Conv3D(3, width, 2 * width, ksize=4, stride=2, pad=1)
            self.c4 = Conv3D(3, 2 * width, 4 * width, ksize=3, stride=1, pad=1)
            self.labels = L.Linear(4 * width, N_LABELS)
            self.values = L.Linear(4 * width, N_VALUES)
            # the per-frame recogniser: kernels one frame deep, batch-normalised
            self.k1 = Conv3D(3, 3, width // 2, ksize=(1, 4, 4), stride=(1, 2, 2), pad=(0, 1, 1))
            self.n1 = L.BatchNormalization(width // 2)
            self.k2 = Conv3D(3, width // 2, width, ksize=(1, 4, 4), stride=(1, 2, 2), pad=(0, 1, 1))
            self.n2 = L.BatchNormalization(width)
            self.k3 = Conv3D(3, width, 2 * width, ksize=(1, 4, 4), stride=(1, 2, 2), pad=(0, 1, 1))
            self.n3 = L.BatchNormalization(2 * width)
            self.k4 = Conv3D(3, 2 * width, 2 * width, ksize=(1, 3, 3), stride=1, pad=(0, 1, 1))
            self.n4 = L.BatchNormalization(2 * width)
            self.kinds = L.Linear(4 * width, len(KINDS) * (MAX_COUNT + 1))

    def activations(self, x):
        """The activations of c2, c3 and c4, each (N, C, T', H', W')."""
        h1 = torch_kernels.leaky_relu(self.c1(x))
        h2 = torch_kernels.leaky_relu(self.c2(h1))
        h3 = torch_kernels.leaky_relu(self.c3(h2))
        return h2, h3, torch_kernels.leaky_relu(self.c4(h3))

    def features(self, x):
        """(N, 4 * width) pooled activations."""
        return F.mean(self.activations(x)[-1], axis=(2, 3, 4))

    def forward(self, x):
        h = self.features(x)
        return self.labels(h), self.values(h)

    def kind_logits(self, x):
        """(N, T, len(KINDS), MAX_COUNT + 1): for every frame of (N, 3, T, 32, 32) clips,
        the logits of showing 0, 1, ... MAX_COUNT shapes of each kind."""
        h = x
        for conv, norm in ((self.k1, self.n1), (self.k2, self.n2), (self.k3, self.n3),
                           (self.k4, self.n4)):
            h = torch_kernels.leaky_relu(norm(conv(h)))
        h = F.concat([F.mean(h, axis=(3, 4)), F.max(h, axis=(3, 4))], axis=1)  # (N, C, T)
        n, c, t = h.shape
        logits = self.kinds(F.reshape(F.transpose(h, (0, 2, 1)), (n * t, c)))
        return F.reshape(logits, (n, t, len(KINDS), MAX_COUNT + 1))


def prepare(videos):
    """(N, 3, T, H, W) in [-1, 1] -> (N, 3, 16, 32, 32): frames strided (the last one
    repeated if fewer), frames area-averaged down (or 16x16 ones doubled) to 32x32."""
    videos = np.asarray(videos, dtype=np.float32)
    stride = max(1, videos.shape[2] // INPUT[0])
    videos = videos[:, :, ::stride][:, :, :INPUT[0]]
    if videos.shape[2] < INPUT[0]:
        pad = np.repeat(videos[:, :, -1:], INPUT[0] - videos.shape[2], axis=2)
        videos = np.concatenate([videos, pad], axis=2)
    return frames_at_input_size(videos)


def frames_at_input_size(videos):
    """(N, 3, T, H, W) -> (N, 3, T, 32, 32): every frame area-averaged down (or a 16x16
    one doubled) to 32x32."""
    videos = np.asarray(videos, dtype=np.float32)
    n, c, t, h, w = videos.shape
    if h < INPUT[1] and INPUT[1] % h == 0 and h == w:
        videos = videos.repeat(INPUT[1] // h, axis=3).repeat(INPUT[2] // w, axis=4)
    elif (h, w) != INPUT[1:]:
        fy, fx = h // INPUT[1], w // INPUT[2]
        if fy < 1 or fx < 1 or h % INPUT[1] or w % INPUT[2]:
            raise ValueError(f'frames of {h}x{w}: expected 16x16 or multiples of 32x32')
        videos = videos.reshape(n, c, t, INPUT[1], fy, INPUT[2], fx).mean(axis=(4, 6))
    return np.ascontiguousarray(videos)


def targets(factors):
    """(labels float32 (N_LABELS,), values float32 (N_VALUES,)) of one clip's factors."""
    shapes = factors['shapes']
    kinds = [float(any(s['kind'] == k for s in shapes)) for k in KINDS]
    colours = [float(any(s['colour'] == c for s in shapes)) for c in PALETTE]
    labels = np.array(kinds + colours + [float(len(shapes) > 1)], np.float32)
    values = np.array(list(shapes[0]['velocity']) + list(factors['drift']), np.float32)
    return labels, values


def check_feature_net(path, option):
    """The FeatureNet in the file at path, the one way to load it: read without unpickling
    and checked entry by entry (nn/network_files.load_weights; a few MB read, nothing run);
    else one UserError line `OPTION PATH: ...` saying what is wrong and what was expected.
    option names where the path came from, e.g. '[SAVING] feature_net =' or '--feature-net'."""
    if not os.path.isfile(path):
        found = 'is a folder' if os.path.isdir(path) else 'feature network not found'
        raise UserError(f'{option} {path}: {found}; expected {EXPECTED}')
    try:
        return load_weights(FeatureNet(), path, 'feature network')
    except UserError as err:
        reason = str(err).removeprefix(f'{path}: ')
        raise UserError(f'{option} {path}: {reason}; expected {EXPECTED}') from None


def extract(net, videos, batch=32):
    """Features (N, D) of float (N, 3, T, H, W) videos in [-1, 1], on the CPU."""
    out = []
    with chainer.using_config('train', False), chainer.no_backprop_mode():
        for start in range(0, len(videos), batch):
            out.append(net.features(prepare(videos[start:start + batch])).array)
    return np.concatenate(out).astype(np.float64)


def kind_targets(factors):
    """int32 (len(KINDS),): how many shapes of each kind a clip's factors hold (every
    shape is in every frame), capped at MAX_COUNT."""
    return np.array([min(MAX_COUNT, sum(s['kind'] == k for s in factors['shapes']))
                     for k in KINDS], np.int32)


def kind_probabilities(net, videos, batch=32):
    """float64 (N, T, len(KINDS), MAX_COUNT + 1): for every frame of float (N, 3, T, H, W)
    videos in [-1, 1] (read at 32x32, frames_at_input_size), the recogniser's
    probabilities of 0, 1, ... MAX_COUNT shapes of each kind."""
    out = []
    with chainer.using_config('train', False), chainer.no_backprop_mode():
        for start in range(0, len(videos), batch):
            x = frames_at_input_size(videos[start:start + batch])
            out.append(F.softmax(net.kind_logits(x), axis=3).array)
    return np.concatenate(out).astype(np.float64)


def _spatial_stats(h):
    """(N, 2C): each channel's mean and standard deviation over time and space."""
    flat = h.reshape(h.shape[0], h.shape[1], -1)
    return np.concatenate([flat.mean(axis=-1), flat.std(axis=-1)], axis=1)


def native_features(net, videos, batch=32):
    """{'semantic': (N, 4 * width) pooled c4 activations, 'texture': (N, 2 * (C2 + C3))
    per-channel means and deviations of c2 and c3} of float (N, 3, T, H, W) videos in
    [-1, 1] read at their own size and frame rate (no resizing, every frame), so
    sharpness and motion reach the features as a viewer sees them."""
    semantic, texture = [], []
    with chainer.using_config('train', False), chainer.no_backprop_mode():
        for start in range(0, len(videos), batch):
            x = np.ascontiguousarray(videos[start:start + batch], dtype=np.float32)
            h2, h3, h4 = (h.array for h in net.activations(x))
            semantic.append(h4.mean(axis=(2, 3, 4)))
            texture.append(np.concatenate([_spatial_stats(h2), _spatial_stats(h3)], axis=1))
    return {'semantic': np.concatenate(semantic).astype(np.float64),
            'texture': np.concatenate(texture).astype(np.float64)}
