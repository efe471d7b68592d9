"""The fast CPU path computes the same functions as Chainer's own convolutions."""
import numpy as np
import pytest
import chainer
import chainer.functions as F
from chainer import gradient_check

from nn import torch_kernels
from nn.DCGAN import RESIZE_KERNEL, Critic, Generator, ResizeConv3D

pytestmark = pytest.mark.skipif(not torch_kernels.torch_installed(),
                                reason='PyTorch is not installed')

TOL = {'dtype': np.float64, 'atol': 1e-5, 'rtol': 1e-4}


def _rand(rng, *shape):
    return rng.standard_normal(shape)


@pytest.mark.parametrize('stride,pad,k', [(2, 1, (4, 4, 4)), (1, 1, (3, 3, 3)),
                                          ((1, 2, 2), (0, 1, 1), (1, 4, 4))])
def test_conv3d_matches_chainer_forward_backward_double(stride, pad, k):
    """Cubic kernels, and a stride, pad and kernel of their own per axis."""
    rng = np.random.RandomState(0)
    x, W, b = _rand(rng, 2, 3, 6, 8, 8), _rand(rng, 4, 3, *k), _rand(rng, 4)
    ours = torch_kernels.conv3d(x, W, b, stride, pad).array
    reference = F.convolution_nd(x, W, b, stride=stride, pad=pad).array
    np.testing.assert_allclose(ours, reference, rtol=1e-10, atol=1e-10)
    gy, ggx, ggW, ggb = (_rand(rng, *a.shape) for a in (ours, x, W, b))

    def conv(x, W, b):
        return torch_kernels.conv3d(x, W, b, stride, pad)
    gradient_check.check_backward(conv, (x, W, b), gy, **TOL)
    gradient_check.check_double_backward(conv, (x, W, b), gy, (ggx, ggW, ggb), **TOL)


def test_deconv3d_matches_chainer_forward_backward_double():
    rng = np.random.RandomState(1)
    x, W, b = _rand(rng, 2, 4, 3, 4, 4), _rand(rng, 4, 3, 4, 4, 4), _rand(rng, 3)
    ours = torch_kernels.deconv3d(x, W, b, 2, 1).array
    reference = F.deconvolution_nd(x, W, b, stride=2, pad=1).array
    assert ours.shape == (2, 3, 6, 8, 8)
    np.testing.assert_allclose(ours, reference, rtol=1e-10, atol=1e-10)
    gy, ggx, ggW, ggb = (_rand(rng, *a.shape) for a in (ours, x, W, b))

    def deconv(x, W, b):
        return torch_kernels.deconv3d(x, W, b, 2, 1)
    gradient_check.check_backward(deconv, (x, W, b), gy, **TOL)
    gradient_check.check_double_backward(deconv, (x, W, b), gy, (ggx, ggW, ggb), **TOL)


def test_leaky_relu_matches_chainer_forward_backward_double():
    rng = np.random.RandomState(3)
    x = rng.uniform(-1, 1, (3, 4, 5))
    x[np.abs(x) < 0.05] = 0.5  # keep finite differences away from the kink
    np.testing.assert_array_equal(torch_kernels.leaky_relu(x, 0.2).array,
                                  F.leaky_relu(x, 0.2).array)
    gy, ggx = _rand(rng, *x.shape), _rand(rng, *x.shape)

    def leaky(x):
        return torch_kernels.leaky_relu(x, 0.2)
    gradient_check.check_backward(leaky, x, gy, **TOL)
    gradient_check.check_double_backward(leaky, x, gy, ggx, **TOL)


def _penalty_grads(critic, x, own=False):
    """The penalty and its weight gradients: Critic.gradient_penalty when own, else
    Chainer's double backward through the critic's graph."""
    critic.cleargrads()
    if own:
        penalty = critic.gradient_penalty(x)
    else:
        x = chainer.Variable(x)
        grad, = chainer.grad([critic(x)], [x], enable_double_backprop=True)
        penalty = F.mean((F.sqrt(F.sum(grad * grad, axis=(1, 2, 3, 4)) + 1e-12) - 1) ** 2)
    penalty.backward()
    return float(penalty.array), {name: p.grad.copy() for name, p in critic.namedparams()
                                  if p.grad is not None}


@pytest.mark.parametrize('fused,own', [(True, True), (True, False), (False, True)])
def test_critic_penalty_and_its_weight_gradients_agree_with_chainer_path(fused, own):
    """Critic.gradient_penalty (one fused node), Chainer's double backward through the
    fused critic, and the torch kernels unfused, each against Chainer's own path."""
    critic = Critic(ch=8, n_frames=16, frame_size=16)
    x = np.random.RandomState(2).uniform(-1, 1, (2, 3, 16, 16, 16)).astype(np.float32)
    with chainer.using_config('fused_nodes', fused):
        fast = _penalty_grads(critic, x, own)
    with chainer.using_config('fast_cpu', False):
        slow = _penalty_grads(critic, x)
    assert fast[0] == pytest.approx(slow[0], rel=1e-4)
    assert len(fast[1]) >= len(slow[1]) > 10
    for name in fast[1].keys() | slow[1].keys():  # a missing gradient is a zero one
        expected = slow[1].get(name, np.zeros_like(fast[1].get(name)))
        np.testing.assert_allclose(fast[1].get(name, np.zeros_like(expected)), expected,
                                   rtol=2e-3, atol=1e-5, err_msg=name)


def _nodes(variable):
    """Every function node in the graph behind variable."""
    nodes, stack = {}, [variable.creator_node]
    while stack:
        node = stack.pop()
        if node is None or id(node) in nodes:
            continue
        nodes[id(node)] = node
        stack.extend(inp.creator_node for inp in node.inputs)
    return list(nodes.values())


def _conv_creators(variable):
    """Class names of every function in the graph behind variable."""
    return {type(node).__name__ for node in _nodes(variable)}


def test_fast_path_is_used_on_cpu_and_the_switch_turns_it_off():
    gen = Generator(ch=8, latent_dim=4, n_frames=16, frame_size=16)
    critic = Critic(ch=8, n_frames=16, frame_size=16)
    score = critic(gen(gen.make_hidden(2)))
    assert _conv_creators(score) == {'_TorchGraph'}  # the whole critic, the whole generator
    assert score.creator_node.inputs[0].creator_node.__class__.__name__ == '_TorchGraph'
    with chainer.using_config('fused_nodes', False):
        score = critic(gen(gen.make_hidden(2)))
    assert {'TorchConv3DFunction', 'TorchDeconv3DFunction', 'TorchLeakyReLUFunction',
            'LayerNormalization'} <= _conv_creators(score)
    assert '_TorchGraph' not in _conv_creators(score)
    with chainer.using_config('fast_cpu', False):
        score = critic(gen(gen.make_hidden(2)))
    assert {'ConvolutionND', 'DeconvolutionND', 'LeakyReLU'} <= _conv_creators(score)
    assert not {'TorchConv3DFunction', 'TorchDeconv3DFunction', 'TorchLeakyReLUFunction',
                '_TorchGraph'} & _conv_creators(score)


@pytest.mark.parametrize('normalised', [True, False])
def test_sequential_matches_chainer_forward_backward_double(normalised):
    """The steps the critic is fused from (convolution, per-sample normalisation with a
    per-channel affine, LeakyReLU, linear) against Chainer's composed functions."""
    rng = np.random.RandomState(6)
    x, W, b = _rand(rng, 2, 2, 4, 4, 4), _rand(rng, 3, 2, 4, 4, 4), _rand(rng, 3)
    gamma, beta = _rand(rng, 3), _rand(rng, 3)
    W2, b2 = _rand(rng, 1, 24), _rand(rng, 1)
    steps = [('conv', 2, 1)] + [('norm', 1e-5)] * normalised + [('leaky', 0.2), ('linear',)]
    inputs = (x, W, b) + (gamma, beta) * normalised + (W2, b2)

    def fused(*inputs):
        return torch_kernels.fused(torch_kernels.sequential(steps), inputs)

    def composed(x, W, b, *rest):
        h = F.convolution_nd(x, W, b, stride=2, pad=1)
        if normalised:
            flat = F.layer_normalization(F.reshape(h, (len(h), -1)), np.ones(h[0].size),
                                         np.zeros(h[0].size), 1e-5)
            h = (F.reshape(flat, h.shape) * rest[0].reshape(1, -1, 1, 1, 1)
                 + rest[1].reshape(1, -1, 1, 1, 1))
        return F.linear(F.leaky_relu(h, 0.2), rest[-2], rest[-1])
    ours = fused(*inputs)
    assert _conv_creators(ours) == {'_TorchGraph'}  # one node for the whole stack
    np.testing.assert_allclose(ours.array, composed(*inputs).array, rtol=1e-7, atol=1e-9)
    gy = _rand(rng, *ours.shape)
    ggs = tuple(_rand(rng, *a.shape) for a in inputs)
    gradient_check.check_backward(fused, inputs, gy, **TOL)
    gradient_check.check_double_backward(fused, inputs, gy, ggs, **TOL)


def test_input_gradient_penalty_matches_chainer_and_its_gradients_are_right():
    """The fused penalty of a small fused stack equals the penalty Chainer computes by
    double backward through the same stack, and its gradient (torch's double backward)
    passes a numerical check for the input and every parameter."""
    rng = np.random.RandomState(8)
    x, W, b = _rand(rng, 2, 2, 4, 4, 4), _rand(rng, 3, 2, 4, 4, 4), _rand(rng, 3)
    W2, b2 = _rand(rng, 1, 24), _rand(rng, 1)
    fn = torch_kernels.sequential([('conv', 2, 1), ('leaky', 0.2), ('linear',)])

    def fused_penalty(x, *params):
        return torch_kernels.input_gradient_penalty(fn, x, params)

    def chainer_penalty(x, *params):
        x = chainer.Variable(x)
        grad, = chainer.grad([torch_kernels.fused(fn, (x,) + params)], [x],
                             enable_double_backprop=True)
        return F.mean((F.sqrt(F.sum(grad * grad, axis=(1, 2, 3, 4)) + 1e-12) - 1) ** 2)
    inputs = (x, W, b, W2, b2)
    assert float(fused_penalty(*inputs).array) == pytest.approx(
        float(chainer_penalty(*inputs).array), rel=1e-10)
    gradient_check.check_backward(fused_penalty, inputs, np.array(1.0), **TOL)


@pytest.mark.parametrize('bias', [True, False])
def test_resize_conv_matches_chainer_forward_backward_double(bias):
    """ResizeConv3D's fused node (tap mapping and transposed convolution) against
    Chainer's composed functions, and a numerical check of its first two derivatives."""
    rng = np.random.RandomState(9)
    layer = ResizeConv3D(3, 2, chainer.initializers.Normal(1.0), nobias=not bias)
    for param in layer.params():
        param.array = rng.standard_normal(param.shape)
    x = _rand(rng, 2, 3, 2, 3, 2)
    ours = layer(x)
    assert ours.creator_node.__class__.__name__ == '_TorchGraph'
    with chainer.using_config('fast_cpu', False):
        np.testing.assert_allclose(ours.array, layer(x).array, rtol=1e-10, atol=1e-12)
    inputs = (x, layer.W.array) + ((layer.b.array,) if bias else ())

    def fused(x, W, *b):
        return torch_kernels.resize_conv(x, W, b[0] if b else None, RESIZE_KERNEL.astype(x.dtype))
    gy = _rand(rng, *ours.shape)
    ggs = tuple(_rand(rng, *a.shape) for a in inputs)
    gradient_check.check_backward(fused, inputs, gy, **TOL)
    gradient_check.check_double_backward(fused, inputs, gy, ggs, **TOL)


def test_tanh_matches_chainer_forward_backward_double():
    rng = np.random.RandomState(7)
    x = rng.uniform(-2, 2, (3, 4, 5))
    ours = torch_kernels.tanh(x)
    assert _conv_creators(ours) == {'_TorchGraph'}
    np.testing.assert_allclose(ours.array, F.tanh(x).array, rtol=1e-12)
    gy, ggx = _rand(rng, *x.shape), _rand(rng, *x.shape)
    gradient_check.check_backward(torch_kernels.tanh, x, gy, **TOL)
    gradient_check.check_double_backward(torch_kernels.tanh, x, gy, ggx, **TOL)


@pytest.mark.parametrize('upsample,ch', [('deconv', 16), ('resize', 16), ('deconv', 64),
                                        ('resize', 64)])
def test_the_fused_generator_agrees_with_chainers_layers(upsample, ch):
    """Generator.forward as one fused node against its layers one node each: output,
    weight gradients, the running statistics it updates, and test mode after them (at ch
    64 the last layer, 8 channels to 3, takes nn/phase_conv.py's form)."""
    np.random.seed(0)
    plain = Generator(ch, 8, 16, 16, upsample=upsample)
    fused = plain.copy(mode='copy')
    z = np.random.RandomState(1).randn(3, 8).astype(np.float32)
    outputs = {}
    for name, gen, on in (('plain', plain, False), ('fused', fused, True)):
        with chainer.using_config('fused_nodes', on):
            gen.cleargrads()
            y = gen(z)
            F.sum(y * np.random.RandomState(2).randn(*y.shape).astype(np.float32)).backward()
            with chainer.using_config('train', False):
                outputs[name] = y.array, gen(z).array
    assert fused._fusable()
    for got, want in zip(outputs['fused'], outputs['plain']):
        np.testing.assert_allclose(got, want, atol=1e-5, rtol=1e-4)
    for (name, want), (_, got) in zip(plain.namedparams(), fused.namedparams()):
        np.testing.assert_allclose(got.grad, want.grad, atol=1e-4, rtol=1e-3, err_msg=name)
    for bn in ('bn0', 'bn1', 'bn3'):
        for stat in ('avg_mean', 'avg_var'):
            want, got = getattr(getattr(plain, bn), stat), getattr(getattr(fused, bn), stat)
            assert not np.allclose(want, {'avg_mean': 0, 'avg_var': 1}[stat])
            np.testing.assert_allclose(got, want, atol=1e-6, rtol=1e-5, err_msg=f'{bn} {stat}')


@pytest.mark.parametrize('fused_on', [False, True])
def test_generated_groups_equal_each_batch_generated_alone(fused_on):
    """Generator.forward_groups on 3 batches at once (fused or its Chainer twin) against
    forward on each batch in turn with fused nodes off: the clips, the running statistics
    updated batch by batch, and the weight gradients."""
    np.random.seed(0)
    alone = Generator(64, 8, 16, 16)
    grouped = alone.copy(mode='copy')
    z = np.random.RandomState(1).randn(6, 8).astype(np.float32)
    weights = np.random.RandomState(2).randn(6, 3, 16, 16, 16).astype(np.float32)
    with chainer.using_config('fused_nodes', False):
        y_alone = F.concat([alone(part) for part in np.split(z, 3)], axis=0)
        F.sum(y_alone * weights).backward()
    with chainer.using_config('fused_nodes', fused_on):
        y_grouped = grouped.forward_groups(z, 3)
        F.sum(y_grouped * weights).backward()
    assert (_conv_creators(y_grouped) == {'_TorchGraph'}) == fused_on
    np.testing.assert_allclose(y_grouped.array, y_alone.array, atol=1e-5, rtol=1e-4)
    for bn in ('bn0', 'bn1', 'bn3'):
        for stat in ('avg_mean', 'avg_var'):
            want, got = getattr(getattr(alone, bn), stat), getattr(getattr(grouped, bn), stat)
            np.testing.assert_allclose(got, want, atol=1e-6, rtol=1e-5, err_msg=f'{bn} {stat}')
    for (name, want), (_, got) in zip(alone.namedparams(), grouped.namedparams()):
        np.testing.assert_allclose(got.grad, want.grad, atol=1e-4, rtol=1e-3, err_msg=name)


@pytest.mark.parametrize('upsample', ['deconv', 'resize'])
def test_fused_batch_statistics_agree_with_chainers_layers(upsample):
    """Generator.batch_statistics in one torch pass against its Chainer twin: each of 3
    batches' means and unbiased variances at every BatchNorm; no running statistic moves."""
    np.random.seed(0)
    gen = Generator(64, 8, 16, 16, upsample=upsample)
    z = np.random.RandomState(1).randn(6, 8).astype(np.float32)
    running = [bn.avg_mean.copy() for bn in gen.batch_norms()]
    results = {}
    for on in (False, True):
        with chainer.using_config('fused_nodes', on):
            results[on] = gen.batch_statistics(z, 3)
    assert len(results[True]) == 4
    for (mean, var), (want_mean, want_var) in zip(results[True], results[False]):
        assert mean.shape == want_mean.shape == (3, want_mean.shape[1])
        np.testing.assert_allclose(mean, want_mean, atol=1e-6, rtol=1e-4)
        np.testing.assert_allclose(var, want_var, atol=1e-7, rtol=1e-4)
    assert not np.allclose(results[True][1][0][0], results[True][1][0][1])
    for bn, before in zip(gen.batch_norms(), running):
        np.testing.assert_array_equal(bn.avg_mean, before)


def test_batches_that_do_not_split_evenly_are_refused():
    with pytest.raises(ValueError, match='5 latent vectors do not split into 2 batches'):
        Generator(16, 8, 16, 16).forward_groups(np.zeros((5, 8), np.float32), 2)


def test_a_generator_whose_batch_norm_was_replaced_runs_its_layers():
    gen = Generator(16, 8, 16, 16)
    gen.bn2.forward = lambda x, **_: x
    assert not gen._fusable()


@pytest.mark.parametrize('penalised,ch', [(True, 16), (False, 16), (True, 64)])
def test_the_fused_critic_loss_agrees_with_chainers_path(penalised, ch):
    """Critic.wgan_loss as one fused node against Chainer's functions (the critic with
    edge gain): the loss, wdist, penalty and every weight gradient (at ch 64 the first
    layer, 3 channels to 8, takes nn/phase_conv.py's form)."""
    np.random.seed(0)
    plain = Critic(ch, 16, 16, edge_gain=1.0)
    fused = plain.copy(mode='copy')
    rng = np.random.RandomState(3)
    real, fake = (rng.uniform(-1, 1, (2, 3, 16, 16, 16)).astype(np.float32) for _ in range(2))
    eps = rng.uniform(0, 1, (2, 1, 1, 1, 1)).astype(np.float32) if penalised else None
    results = []
    for critic, on in ((plain, False), (fused, True)):
        with chainer.using_config('fused_nodes', on):
            critic.cleargrads()
            loss, wdist, penalty = critic.wgan_loss(real, fake, eps, 40.0)
            loss.backward()
        results.append((float(loss.array), float(chainer.as_array(wdist)),
                        -1.0 if penalty is None else float(chainer.as_array(penalty))))
    assert results[1] == pytest.approx(results[0], rel=1e-4, abs=1e-6)
    assert (results[0][2] == -1.0) == (not penalised)
    for (name, want), (_, got) in zip(plain.namedparams(), fused.namedparams()):
        np.testing.assert_allclose(got.grad, want.grad, atol=1e-5, rtol=1e-3, err_msg=name)


def test_the_switch_is_resolved_once_and_applied(monkeypatch):
    try:
        assert torch_kernels.select('chainer', False) == 'chainer'
        assert not chainer.config.fast_cpu and not torch_kernels.torch_in_use(np.zeros(1))
        assert torch_kernels.select('auto', False) == 'torch'
        assert chainer.config.fast_cpu and torch_kernels.torch_in_use(np.zeros(1))
        monkeypatch.setattr(torch_kernels, 'torch', None)
        assert torch_kernels.select('auto', False) == 'chainer'
        with pytest.raises(torch_kernels.UserError, match=r'--kernels = torch: expected torch'):
            torch_kernels.select('torch', False, '--kernels')
    finally:
        chainer.global_config.fast_cpu = True
