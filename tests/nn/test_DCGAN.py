import numpy as np
import pytest
import chainer
import chainer.functions as F
from chainer import gradient_check

from nn.DCGAN import (Critic, Generator, ResizeConv3D, base_shape, build_generator,
                      check_upsample, frame_laplacian)
from base.config import ConfigError, ModelConfig


def upsample_nearest(x):
    """The literal doubling ResizeConv3D stands for: (N, C, T, H, W) -> (N, C, 2T, 2H, 2W),
    each value repeated in a 2x2x2 block."""
    n, c, t, h, w = x.shape
    blocks = F.broadcast_to(F.reshape(x, (n, c, t, 1, h, 1, w, 1)), (n, c, t, 2, h, 2, w, 2))
    return F.reshape(blocks, (n, c, 2 * t, 2 * h, 2 * w))


@pytest.mark.parametrize('upsample', ['deconv', 'resize'])
@pytest.mark.parametrize('frame_size,n_frames', [(16, 16), (32, 16), (16, 32)])
def test_output_shapes(frame_size, n_frames, upsample):
    gen = Generator(ch=8, latent_dim=4, n_frames=n_frames, frame_size=frame_size,
                    upsample=upsample)
    critic = Critic(ch=8, n_frames=n_frames, frame_size=frame_size)
    z = gen.make_hidden(3, np.random.RandomState(0))
    video = gen(z)
    assert video.shape == (3, 3, n_frames, frame_size, frame_size)
    assert float(abs(video.array).max()) <= 1.0
    assert critic(video).shape == (3, 1)


def test_upsample_nearest_repeats_each_value_in_a_2x2x2_block():
    x = np.arange(2 * 3 * 2 * 3 * 4, dtype=np.float32).reshape(2, 3, 2, 3, 4)
    y = upsample_nearest(x).array
    assert y.shape == (2, 3, 4, 6, 8)
    for dt, dy, dx in np.ndindex(2, 2, 2):
        np.testing.assert_array_equal(y[:, :, dt::2, dy::2, dx::2], x)


def test_upsample_nearest_gradient_sums_each_block():
    x = chainer.Variable(np.zeros((1, 1, 1, 1, 2), np.float32))
    weights = np.arange(8 * 2, dtype=np.float32).reshape(1, 1, 2, 2, 4)
    F.sum(upsample_nearest(x) * weights).backward()
    np.testing.assert_array_equal(x.grad.ravel(), [weights[..., :2].sum(), weights[..., 2:].sum()])


@pytest.mark.parametrize('fast', [True, False])
def test_resize_conv_equals_nearest_doubling_then_convolution(fast):
    """Forward and both gradients of the transposed-convolution form match the
    literal nearest doubling + 3x3x3 convolution."""
    rng = np.random.RandomState(0)
    layer = ResizeConv3D(5, 4, chainer.initializers.Normal(1.0))
    layer.b.array[...] = rng.standard_normal(4)
    x = chainer.Variable(rng.standard_normal((2, 5, 3, 4, 5)).astype(np.float32))
    weights = rng.standard_normal((2, 4, 6, 8, 10)).astype(np.float32)
    results = []
    for literal in (True, False):
        layer.cleargrads()
        x.grad = None
        with chainer.using_config('fast_cpu', fast):
            y = (F.convolution_nd(upsample_nearest(x), layer.W, layer.b, 1, 1) if literal
                 else layer(x))
        F.sum(y * weights).backward()
        results.append((y.array, x.grad, layer.W.grad))
    for literal, transposed in zip(*results):
        np.testing.assert_allclose(transposed, literal, rtol=1e-4, atol=1e-4)


def test_an_unknown_upsampling_is_one_line_naming_the_key():
    """The networks own the names of [MODEL] upsample: the check names the file it is
    given, and building a generator from any config checks it too."""
    with pytest.raises(ConfigError, match=r"^run/setup.ini \[MODEL\] upsample = 'bilinear':"
                                          r" expected one of deconv, resize$"):
        check_upsample('bilinear', 'run/setup.ini')
    check_upsample('resize', 'run/setup.ini')
    with pytest.raises(ConfigError, match=r"^\[MODEL\] upsample = 'bilinear': expected one of"):
        build_generator(ModelConfig(ch=8, latent_dim=4, n_frames=16, frame_size=16,
                                    upsample='bilinear'))


def test_latents_lie_on_the_unit_sphere():
    z = Generator(ch=8, latent_dim=5, n_frames=16, frame_size=16).make_hidden(
        4, np.random.RandomState(1))
    assert z.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(z, axis=1), 1, rtol=1e-6)


def test_sizes_must_be_multiples_of_16():
    with pytest.raises(ValueError, match='multiples of 16'):
        base_shape(24, 64)


def test_critic_normalises_each_sample_on_its_own():
    critic = Critic(ch=8, n_frames=16, frame_size=16)
    x = np.random.RandomState(0).uniform(-1, 1, (2, 3, 16, 16, 16)).astype(np.float32)
    alone = critic(x[:1]).array
    together = critic(x).array[:1]
    np.testing.assert_allclose(alone, together, rtol=1e-5, atol=1e-6)


def test_frame_laplacian_is_each_frames_4_neighbour_laplacian_with_edges_repeated():
    """Pixel by pixel: the sum over the 4 neighbours inside the frame of (neighbour - pixel)."""
    x = np.random.RandomState(0).standard_normal((2, 3, 4, 5, 6)).astype(np.float32)
    height, width = x.shape[3:]
    expected = np.zeros_like(x)
    for i in range(height):
        for j in range(width):
            for di, dj in ((-1, 0), (1, 0), (0, -1), (0, 1)):
                if 0 <= i + di < height and 0 <= j + dj < width:
                    expected[..., i, j] += x[..., i + di, j + dj] - x[..., i, j]
    np.testing.assert_allclose(frame_laplacian(x).array, expected, atol=1e-5)


def test_frame_laplacian_gradients_match_finite_differences():
    """Its backward applies the operator again (it is symmetric with repeated edges)."""
    rng = np.random.RandomState(1)
    x, gy, ggx = (rng.standard_normal((2, 3, 2, 5, 6)) for _ in range(3))
    gradient_check.check_backward(frame_laplacian, x, gy, dtype=np.float64)
    gradient_check.check_double_backward(frame_laplacian, x, gy, ggx, dtype=np.float64)


@pytest.mark.parametrize('fast', [True, False])
def test_an_edge_gain_critic_scores_and_penalises_the_sharpened_clip(fast):
    """With critic_edge_gain g the critic is the plain critic of x - g * laplacian(x), and
    its gradient penalty is the plain critic's at that sharpened clip: slope 1 is asked
    for in the sharpened space, not in pixels."""
    np.random.seed(0)  # the initial weights: some leave both penalties near 1 (slopes near 0)
    sharp = Critic(ch=8, n_frames=16, frame_size=16, edge_gain=2.0)
    plain = Critic(ch=8, n_frames=16, frame_size=16)
    plain.copyparams(sharp)
    x = np.random.RandomState(4).uniform(-1, 1, (2, 3, 16, 16, 16)).astype(np.float32)
    sharpened = x - 2.0 * frame_laplacian(x).array
    with chainer.using_config('fast_cpu', fast):
        np.testing.assert_allclose(sharp(x).array, plain(sharpened).array, rtol=1e-4, atol=1e-4)
        penalty = float(sharp.gradient_penalty(x).array)
        assert penalty == pytest.approx(float(plain.gradient_penalty(sharpened).array), rel=1e-4)
        assert penalty != pytest.approx(float(plain.gradient_penalty(x).array), rel=1e-2)


def _grad_norm(critic, x):
    x = chainer.Variable(x)
    grad, = chainer.grad([critic(x)], [x], enable_double_backprop=True)
    return F.sqrt(F.sum(grad * grad, axis=(1, 2, 3, 4))), grad


def test_gradient_penalty_matches_numerical_gradient():
    """The input gradient behind the penalty agrees with finite differences
    (numerical_grad over 256 random voxels, float64), and its norm is the
    L2 norm over (C, T, H, W)."""
    critic = Critic(ch=8, n_frames=16, frame_size=16)
    for param in critic.params():
        param.array = param.array.astype(np.float64)
    rng = np.random.RandomState(2)
    x = rng.uniform(-1, 1, (1, 3, 16, 16, 16))
    norm, grad = _grad_norm(critic, x)
    voxels = rng.choice(x.size, 256, replace=False)
    values = x.ravel()[voxels].copy()

    def score():
        probe = x.copy()
        probe.ravel()[voxels] = values
        return (critic(probe).array,)

    numeric, = gradient_check.numerical_grad(score, (values,), (np.ones((1, 1)),), eps=1e-4)
    np.testing.assert_allclose(grad.array.ravel()[voxels], numeric, rtol=1e-4, atol=1e-8)
    np.testing.assert_allclose(norm.array[0], np.sqrt((grad.array ** 2).sum()), rtol=1e-10)


def test_double_backprop_reaches_every_critic_weight():
    critic = Critic(ch=8, n_frames=16, frame_size=16)
    x = np.random.RandomState(3).uniform(-1, 1, (2, 3, 16, 16, 16)).astype(np.float32)
    norm, _ = _grad_norm(critic, x)
    critic.cleargrads()
    F.mean((norm - 1) ** 2).backward()
    for name, param in critic.namedparams():
        # Shifts at or after the last LeakyReLU only move its kink: the input
        # gradient does not depend on them smoothly, so no gradient reaches them.
        if name in ('/ln4/beta', '/c5/b', '/l6/b'):
            continue
        assert param.grad is not None and np.abs(param.grad).max() > 0, name
