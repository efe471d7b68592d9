"""nn/phase_conv.py: the phase form computes the direct convolutions, twice differentiable."""
import pytest

torch = pytest.importorskip('torch')
import torch.nn.functional as F  # noqa: E402

from nn import phase_conv  # noqa: E402


def _double(*shape):
    return torch.randn(*shape, dtype=torch.double, requires_grad=True)


@pytest.fixture
def tensors():
    torch.manual_seed(0)
    return {'x': _double(2, 3, 4, 6, 4), 'W': _double(8, 3, 4, 4, 4), 'b': _double(8),
            'h': _double(2, 8, 2, 3, 2), 'bt': _double(3), 'gy': _double(2, 8, 2, 3, 2)}


def test_phases_and_unphased_are_adjoint(tensors):
    x = tensors['x'].detach()
    ph = phase_conv.phases(x)
    assert ph.shape == (2, 24, 3, 4, 3)
    g = torch.randn_like(ph)
    assert torch.allclose((ph * g).sum(), (x * phase_conv.unphased(g, 3)).sum())
    W = tensors['W'].detach()
    assert torch.equal(phase_conv.unphased_weight(phase_conv.phase_weight(W)), W)


def test_forwards_equal_the_direct_convolutions(tensors):
    t = tensors
    assert torch.allclose(phase_conv.rgb_conv(t['x'], t['W'], t['b']),
                          F.conv3d(t['x'], t['W'], t['b'], 2, 1))
    assert torch.allclose(phase_conv.rgb_conv_transpose(t['h'], t['W'], t['bt']),
                          F.conv_transpose3d(t['h'], t['W'], t['bt'], 2, 1))
    direct, = torch.autograd.grad(F.conv3d(t['x'], t['W'], None, 2, 1), t['W'], t['gy'])
    assert torch.allclose(phase_conv.rgb_conv_weight_grad(t['x'], t['gy']), direct)


@pytest.mark.parametrize('name, args', [('rgb_conv', ('x', 'W', 'b')),
                                        ('rgb_conv_transpose', ('h', 'W', 'bt')),
                                        ('rgb_conv_weight_grad', ('x', 'gy'))])
def test_backward_and_double_backward(tensors, name, args):
    fn, inputs = getattr(phase_conv, name), tuple(tensors[a] for a in args)
    assert torch.autograd.gradcheck(fn, inputs)
    assert torch.autograd.gradgradcheck(fn, inputs)


def test_fits_only_stride_2_rgb_layers_on_the_cpu():
    cpu = torch.device('cpu')
    assert phase_conv.fits(3, 8, (16, 32, 32), (4, 4, 4), (2, 2, 2), (1, 1, 1), cpu)
    assert not phase_conv.fits(3, 2, (16, 16, 16), (4, 4, 4), (2, 2, 2), (1, 1, 1), cpu)
    assert not phase_conv.fits(8, 16, (16, 32, 32), (4, 4, 4), (2, 2, 2), (1, 1, 1), cpu)
    assert not phase_conv.fits(4, 8, (8, 8, 8), (4, 4, 4), (2, 2, 2), (1, 1, 1), cpu)
    assert not phase_conv.fits(3, 8, (16, 32, 31), (4, 4, 4), (2, 2, 2), (1, 1, 1), cpu)
    assert not phase_conv.fits(3, 8, (16, 32, 32), (3, 3, 3), (1, 1, 1), (1, 1, 1), cpu)
    assert not phase_conv.fits(3, 8, (16, 32, 32), (4, 4, 4), (2, 2, 2), (1, 1, 1),
                               torch.device('meta'))
