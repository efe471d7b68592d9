"""PyTorch's convolution kernels inside Chainer functions: the optional accelerator.

Chainer's CPU convolutions go through numpy im2col/col2im copies, several times
slower than PyTorch's oneDNN kernels; on a GPU with CuPy 14 (which has no cuDNN)
Chainer also falls back to im2col plus tensordot. These Chainer FunctionNodes run
the same functions on PyTorch's kernels instead (oneDNN on the CPU, cuDNN on a
GPU): forward, backward and the double backward the gradient penalty needs (each
backward is written with these nodes again, as Chainer's own convolution does).
Arrays stay numpy or CuPy: torch views numpy memory directly and CuPy memory
through DLPack, without copies.

The layers that touch the clip's RGB channels run through nn/phase_conv.py where it fits.
Larger pieces also run as one node each (fused): the whole critic (`sequential`),
its gradient penalty (`input_gradient_penalty`), the generator's resize layers
(`resize_conv`) and tanh, with torch's autograd for
their backward and double backward, since Chainer's cost per function
application is a large share of a step (bench/RESULTS.md), on the CPU and even
more so on a GPU. `chainer.config.fused_nodes = False` keeps one node per function
(the kernels above still serve the convolutions).

Used (`torch_in_use`; `fused_in_use` for the fused nodes) for numpy arrays while
`chainer.config.fast_cpu` is true, for CuPy arrays while `chainer.config.fast_gpu` is true
and torch sees a CUDA device; both are set once per run by `select` from the one switch
([MODEL] kernels, the scripts' --kernels: auto, torch or chainer). Otherwise Chainer's own
functions run. The nodes are named Torch...Function, apart from the links of nn/DCGAN.py
(Conv3D, Deconv3D) that apply them.
"""
import functools

import numpy as np
import chainer
import chainer.functions as F
from chainer import function_node

from base.errors import UserError

try:
    import torch
    from nn import phase_conv
except ImportError:  # the optional accelerator is absent: Chainer's path runs
    torch = phase_conv = None

chainer.global_config.fast_cpu = True
chainer.global_config.fast_gpu = True
chainer.global_config.fused_nodes = True
chainer.global_config.phase_form = True


def torch_installed():
    """True when PyTorch is importable."""
    return torch is not None


@functools.lru_cache(maxsize=None)
def cuda_available():
    """True when PyTorch is importable and sees a CUDA device (asked once)."""
    return torch is not None and torch.cuda.is_available()


def select(kernels, on_gpu, where='[MODEL] kernels'):
    """Resolve the accelerator switch once for a run on the CPU or a GPU and apply it:
    'auto' takes PyTorch's kernels where torch is installed (and, on a GPU, sees it),
    'torch' requires them (UserError naming `where` otherwise), 'chainer' keeps Chainer's
    own. Returns 'torch' or 'chainer'."""
    ready = cuda_available() if on_gpu else torch_installed()
    if kernels == 'torch' and not ready:
        need = 'a CUDA build of torch that sees the GPU' if on_gpu else 'torch installed'
        raise UserError(f"{where} = torch: expected {need} (make setup-fast, or pip install -e"
                        " '.[fast]'); or set it to auto or chainer")
    if kernels not in ('auto', 'torch', 'chainer'):
        raise UserError(f'{where} = {kernels!r}: expected auto, torch or chainer')
    chosen = 'torch' if ready and kernels != 'chainer' else 'chainer'
    chainer.global_config.fast_cpu = chosen == 'torch' and not on_gpu
    chainer.global_config.fast_gpu = chosen == 'torch' and on_gpu
    if chosen == 'torch' and on_gpu:
        torch.backends.cudnn.benchmark = True  # the shapes repeat every step
    return chosen


def torch_in_use(x):
    """Whether PyTorch's kernels (the accelerator) serve input array x now."""
    if torch is None:
        return False
    if isinstance(x, np.ndarray):
        return chainer.config.fast_cpu
    return (chainer.config.fast_gpu and isinstance(x, chainer.backends.cuda.ndarray)
            and cuda_available())


def _tensor(array):
    """A torch tensor sharing array's memory (numpy directly, CuPy through DLPack);
    a copy first where array is not C-contiguous (ascontiguousarray alone would also
    turn a 0-d array into a 1-d one)."""
    if not array.flags.c_contiguous:
        array = chainer.backends.cuda.get_array_module(array).ascontiguousarray(array)
    if isinstance(array, np.ndarray):
        return torch.from_numpy(array)
    return torch.from_dlpack(array)


def _array(tensor):
    """The numpy or CuPy array sharing tensor's memory."""
    if tensor.is_cuda:
        return chainer.backends.cuda.cupy.from_dlpack(tensor)
    return tensor.numpy()


def _triple(value):
    """An int or a 3-sequence as a (T, H, W) tuple of ints."""
    return tuple(int(v) for v in value) if np.ndim(value) else (int(value),) * 3


def _output_padding(out_size, in_size, k, s, p):
    """Extra size a transposed convolution must add to reach out_size (per axis)."""
    return tuple(o - ((i - 1) * s_ - 2 * p_ + k_)
                 for o, i, k_, s_, p_ in zip(out_size, in_size, k, s, p))


class _TorchConvolutionFunction(function_node.FunctionNode):
    """Shared backward of TorchConv3DFunction and TorchDeconv3DFunction, written with these
    nodes again so that it is differentiable (the gradient penalty's double backward)."""

    def backward(self, indexes, grad_outputs):
        x, W = self.get_retained_inputs()
        gy, = grad_outputs
        grads = []
        if 0 in indexes:
            grads.append(self.input_grad(gy, W, x))
        if 1 in indexes:
            pair = self.weight_grad_pair(x, gy)
            grads.append(ConvGradW(W.shape, self.stride, self.pad).apply(pair)[0])
        if 2 in indexes:
            grads.append(F.sum(gy, axis=(0, 2, 3, 4)))
        return grads


class TorchConv3DFunction(_TorchConvolutionFunction):
    """y = conv3d(x, W) + b; W is (out, in, kT, kH, kW)."""

    def __init__(self, stride, pad):
        self.stride, self.pad = _triple(stride), _triple(pad)

    def forward(self, inputs):
        self.retain_inputs((0, 1))
        x, W = inputs[:2]
        b = _tensor(inputs[2]) if len(inputs) == 3 else None
        y = torch.nn.functional.conv3d(_tensor(x), _tensor(W), b, self.stride, self.pad)
        return _array(y),

    def input_grad(self, gy, W, x):
        return deconv3d(gy, W, None, self.stride, self.pad, x.shape[2:])

    def weight_grad_pair(self, x, gy):
        """(input, output) of the convolution whose weight gradient W gets."""
        return x, gy


class TorchDeconv3DFunction(_TorchConvolutionFunction):
    """y = conv_transpose3d(x, W) + b with spatial size outsize; W is (in, out, kT, kH, kW)."""

    def __init__(self, stride, pad, outsize):
        self.stride, self.pad, self.outsize = _triple(stride), _triple(pad), outsize

    def forward(self, inputs):
        self.retain_inputs((0, 1))
        x, W = inputs[:2]
        b = _tensor(inputs[2]) if len(inputs) == 3 else None
        extra = _output_padding(self.outsize, x.shape[2:], W.shape[2:], self.stride, self.pad)
        y = torch.nn.functional.conv_transpose3d(_tensor(x), _tensor(W), b, self.stride,
                                                 self.pad, extra)
        return _array(y),

    def input_grad(self, gy, W, x):
        return conv3d(gy, W, None, self.stride, self.pad)

    def weight_grad_pair(self, x, gy):
        return gy, x


class ConvGradW(function_node.FunctionNode):
    """Weight gradient of conv3d: gW = sum over the batch of x (*) gy."""

    def __init__(self, w_shape, stride, pad):
        self.w_shape, self.stride, self.pad = tuple(w_shape), _triple(stride), _triple(pad)

    def forward(self, inputs):
        self.retain_inputs((0, 1))
        x, gy = inputs
        x = _tensor(x)
        weight = torch.empty(self.w_shape, dtype=x.dtype, device=x.device)
        _, gw, _ = torch.ops.aten.convolution_backward(
            _tensor(gy), x, weight, None, list(self.stride), list(self.pad),
            [1, 1, 1], False, [0, 0, 0], 1, [False, True, False])
        return _array(gw),

    def backward(self, indexes, grad_outputs):
        x, gy = self.get_retained_inputs()
        ggW, = grad_outputs
        grads = []
        if 0 in indexes:
            grads.append(deconv3d(gy, ggW, None, self.stride, self.pad, x.shape[2:]))
        if 1 in indexes:
            grads.append(conv3d(x, ggW, None, self.stride, self.pad))
        return grads


def conv3d(x, W, b=None, stride=1, pad=0):
    """Like F.convolution_nd for 3D; stride and pad are ints or (T, H, W) triples."""
    inputs = (x, W) if b is None else (x, W, b)
    return TorchConv3DFunction(stride, pad).apply(inputs)[0]


def deconv3d(x, W, b=None, stride=1, pad=0, outsize=None):
    """Like F.deconvolution_nd for 3D; outsize defaults to (in - 1) * s - 2p + k."""
    strides, pads = _triple(stride), _triple(pad)
    outsize = tuple(outsize or ((i - 1) * s - 2 * p + k for i, k, s, p
                                in zip(x.shape[2:], W.shape[2:], strides, pads)))
    inputs = (x, W) if b is None else (x, W, b)
    return TorchDeconv3DFunction(stride, pad, outsize).apply(inputs)[0]


class TorchLeakyReLUFunction(function_node.FunctionNode):
    """y = x if x > 0 else slope * x (slope > 0), on torch's vectorised kernel."""

    def __init__(self, slope):
        self.slope = slope

    def forward(self, inputs):
        self.retain_outputs((0,))
        y = torch.nn.functional.leaky_relu(_tensor(inputs[0]), self.slope)
        return _array(y),

    def backward(self, indexes, grad_outputs):
        y, = self.get_retained_outputs()
        return LeakyReLUGrad(y.array, self.slope).apply(grad_outputs)


class LeakyReLUGrad(function_node.FunctionNode):
    """gx = gy where y > 0, else slope * gy: linear in gy, so it is its own backward."""

    def __init__(self, y, slope):
        self.y, self.slope = y, slope

    def forward(self, inputs):
        gx = torch.ops.aten.leaky_relu_backward(_tensor(inputs[0]), _tensor(self.y),
                                                self.slope, True)
        return _array(gx),

    def backward(self, indexes, grad_outputs):
        return LeakyReLUGrad(self.y, self.slope).apply(grad_outputs)


class _TorchGraph(function_node.FunctionNode):
    """y = fn(*inputs) on torch, its autograd graph kept: the backward is torch's own,
    and where Chainer asks for a differentiable backward (the gradient penalty) it is
    _TorchGraphGrad, whose backward is torch's double backward. One node in place of
    the many Chainer composes fn from. needs: which inputs want gradients."""

    def __init__(self, fn, needs):
        self.fn, self.needs = fn, needs

    def forward(self, inputs):
        self.retain_inputs(tuple(range(len(inputs))))
        self.leaves = [_tensor(a).requires_grad_(need) for a, need in zip(inputs, self.needs)]
        with torch.set_grad_enabled(any(self.needs)):
            self.y = self.fn(*self.leaves)
        return _array(self.y.detach()),

    def backward(self, indexes, grad_outputs):
        if chainer.config.enable_backprop:
            node = _TorchGraphGrad(self, indexes)
            return node.apply(self.get_retained_inputs() + tuple(grad_outputs))
        leaves = [self.leaves[i] for i in indexes]
        grads = torch.autograd.grad(self.y, leaves, _tensor(grad_outputs[0].array),
                                    retain_graph=True, allow_unused=True)
        return tuple(None if g is None else chainer.Variable(_array(g)) for g in grads)


class _TorchGraphGrad(function_node.FunctionNode):
    """The gradients of a _TorchGraph node's inputs (indexes) given gy, kept
    differentiable once more through torch's autograd (create_graph)."""

    def __init__(self, forward_node, indexes):
        self.forward_node, self.indexes = forward_node, tuple(indexes)

    def forward(self, inputs):
        node = self.forward_node
        self.gy = _tensor(inputs[-1]).requires_grad_()
        with torch.enable_grad():
            leaves = [node.leaves[i] for i in self.indexes]
            grads = torch.autograd.grad(node.y, leaves, self.gy, create_graph=True,
                                        retain_graph=True, allow_unused=True)
        # an input y does not depend on has a zero gradient, constant in every input
        self.grads = [torch.zeros_like(x) if g is None else g for x, g in zip(leaves, grads)]
        return tuple(_array(g.detach()) for g in self.grads)

    def backward(self, indexes, grad_outputs):
        if chainer.config.enable_backprop:
            raise NotImplementedError('a third derivative through _TorchGraph')
        pairs = [(g, _tensor(gg.array)) for g, gg in zip(self.grads, grad_outputs)
                 if gg is not None and g.requires_grad]
        if not pairs:
            return (None,) * len(indexes)
        sources = self.forward_node.leaves + [self.gy]
        outputs, seeds = zip(*pairs)
        grads = torch.autograd.grad(outputs, [sources[i] for i in indexes], seeds,
                                    retain_graph=True, allow_unused=True)
        return tuple(None if g is None else chainer.Variable(_array(g)) for g in grads)


def fused(fn, inputs):
    """fn(*tensors) -> tensor, computed on torch as one Chainer node (_TorchGraph),
    differentiable twice."""
    needs = tuple(chainer.config.enable_backprop and isinstance(v, chainer.Variable)
                  and v.requires_grad for v in inputs)
    return _TorchGraph(fn, needs).apply(inputs)[0]


def fused_in_use(x):
    """Whether the fused nodes serve input array x now (PyTorch's kernels serve it and
    chainer.config.fused_nodes is on)."""
    return chainer.config.fused_nodes and torch_in_use(x)


def tanh(x):
    """F.tanh, on torch's vectorised kernel where the fused nodes serve x (numpy's
    tanh is single-threaded and about 3x slower on the generator's output)."""
    if fused_in_use(chainer.as_array(x)):
        return fused(torch.tanh, (x,))
    return F.tanh(x)


def sequential(steps):
    """A torch function fn(x, *params) applying steps in order, each taking its
    parameters from params in turn: ('conv', stride, pad) a 3D convolution (W, b),
    ('norm', eps) per-sample normalisation with a per-channel affine (gamma, beta;
    GroupNorm with one group), ('leaky', slope) LeakyReLU, ('linear',) the flattened
    input times W transposed plus b (W, b), as Chainer's Linear."""
    functional = torch.nn.functional
    steps = [(step[0], _triple(step[1]), _triple(step[2])) if step[0] == 'conv' else step
             for step in steps]

    def fn(x, *params):
        params = iter(params)
        for step in steps:
            if step[0] == 'conv':
                x = _conv(x, next(params), next(params), step[1], step[2])
            elif step[0] == 'norm':
                x = functional.group_norm(x, 1, next(params), next(params), step[1])
            elif step[0] == 'leaky':
                x = functional.leaky_relu(x, step[1])
            elif step[0] == 'linear':
                x = functional.linear(x.flatten(1), next(params), next(params))
            else:
                raise ValueError(f'unknown step {step!r}')
        return x
    return fn


def upsampling(steps, groups=1, statistics=None):
    """A torch function fn(z, *params) for the generator's layers, in order, each taking
    its parameters from params in turn: ('linear',) z times W transposed (no bias),
    ('batch_norm', mean, var, decay, eps, train) BatchNorm over every axis but the
    second (gamma, beta) with chainer's semantics: batch statistics when train (the
    running mean and variance, numpy or CuPy arrays, then updated in place as
    chainer's BatchNormalization updates them), else the running ones; ('leaky',
    slope); ('reshape', shape) to (N,) + shape; ('deconv', bias) a stride-2, pad-1
    transposed convolution (W, then b when bias); ('resize', kernel, bias) the same
    with ResizeConv3D's tap mapping (resize_conv); ('tanh',). With groups > 1, z holds
    that many equal batches, each normalised by its own statistics and the running ones
    updated batch by batch in order: fn equals concatenating fn on each batch. With a list
    `statistics`, every BatchNorm normalises each batch by its own statistics, leaves the
    running ones alone, and appends to it (means, unbiased variances), each (groups, C)."""
    functional = torch.nn.functional

    def collecting_norm(x, gamma, beta, eps):
        parts = x.chunk(groups)
        axes = (0,) + tuple(range(2, x.dim()))
        count = parts[0].numel() // parts[0].shape[1]
        statistics.append((torch.stack([part.mean(dim=axes) for part in parts]),
                           torch.stack([part.var(dim=axes, correction=0) for part in parts])
                           * (count / max(count - 1, 1))))
        return torch.cat([functional.batch_norm(part, None, None, gamma, beta, True, 0.0, eps)
                          for part in parts])

    def batch_norm(x, step, gamma, beta):
        _, mean, var, decay, eps, train = step
        if statistics is not None:
            return collecting_norm(x, gamma, beta, eps)
        mean, var = _tensor(mean), _tensor(var)
        parts = [functional.batch_norm(part, mean, var, gamma, beta, train, 1 - decay, eps)
                 for part in (x.chunk(groups) if train and groups > 1 else (x,))]
        return parts[0] if len(parts) == 1 else torch.cat(parts)

    def transposed(x, step, params):
        W = next(params)
        if step[0] == 'resize':
            W = _resize_taps(W, _tensor(step[1]))
        return _up_conv(x, W, next(params) if step[-1] else None)

    def fn(z, *params):
        params, x = iter(params), z
        for step in steps:
            if step[0] == 'linear':
                x = functional.linear(x, next(params))
            elif step[0] == 'batch_norm':
                x = batch_norm(x, step, next(params), next(params))
            elif step[0] == 'leaky':
                x = functional.leaky_relu(x, step[1])
            elif step[0] == 'reshape':
                x = x.reshape((len(x),) + step[1])
            elif step[0] in ('deconv', 'resize'):
                x = transposed(x, step, params)
            elif step[0] == 'tanh':
                x = torch.tanh(x)
            else:
                raise ValueError(f'unknown step {step!r}')
        return x
    return fn


def _conv(x, W, b, stride, pad):
    """conv3d; the critic's first layer in phase_conv's form where it fits."""
    if chainer.config.phase_form and phase_conv.fits(x.shape[1], W.shape[0], x.shape[2:],
                                                     W.shape[2:], stride, pad, x.device):
        return phase_conv.rgb_conv(x, W, b)
    return torch.nn.functional.conv3d(x, W, b, stride, pad)


def _up_conv(x, W, b):
    """The stride-2, pad-1 transposed convolution (W: in, out, 4, 4, 4); the generator's
    last layer in phase_conv's form where it fits."""
    if chainer.config.phase_form and phase_conv.fits(
            W.shape[1], W.shape[0], [2 * s for s in x.shape[2:]], W.shape[2:], (2, 2, 2),
            (1, 1, 1), x.device):
        return phase_conv.rgb_conv_transpose(x, W, b)
    return torch.nn.functional.conv_transpose3d(x, W, b, 2, 1)


def _resize_taps(W, kernel):
    """ResizeConv3D's (out, in, 3, 3, 3) taps W mapped through kernel (64, 27) to the
    (in, out, 4, 4, 4) taps of its stride-2 transposed convolution."""
    out_ch, in_ch = W.shape[:2]
    return (W.reshape(out_ch * in_ch, 27) @ kernel.t()).reshape(
        out_ch, in_ch, 4, 4, 4).transpose(0, 1)


def resize_conv(x, W, b, kernel):
    """The stride-2, pad-1 transposed convolution of x whose (in, out, 4, 4, 4) taps are
    W's (out, in, 3, 3, 3) taps mapped through kernel (64, 27), doubling T, H and W:
    ResizeConv3D as one fused node, the mapping included. b may be None."""
    def layer(x, W, kernel, *b):
        return _up_conv(x, _resize_taps(W, kernel), b[0] if b else None)
    return fused(layer, (x, W, kernel) + (() if b is None else (b,)))


def input_gradient_penalty(fn, x, params):
    """E[(||d fn(x) / dx||_2 - 1)^2], the norm over every axis but the first, as one
    fused node: torch's double backward differentiates it, as PyTorch's own WGAN-GP
    step does. fn(x, *params) -> (N, 1) scores, each depending on its own sample."""
    def penalty(x, *params):
        with torch.enable_grad():
            if not x.requires_grad:
                x = x.detach().requires_grad_()
            grad, = torch.autograd.grad(fn(x, *params).sum(), x, create_graph=True)
            norm = torch.sqrt((grad * grad).sum(dim=tuple(range(1, grad.dim()))) + 1e-12)
            return ((norm - 1) ** 2).mean()
    return fused(penalty, (x,) + tuple(params))


def wgan_critic_loss(fn, real, fake, eps, weight, params):
    """[loss, wdist, penalty] as one fused node (fn(x, *params) -> (N, 1) scores):
    wdist = mean fn(real) - mean fn(fake); without eps (None) loss = -wdist and penalty
    0, else the gradient penalty at eps * real + (1 - eps) * fake (as
    input_gradient_penalty) and loss = -wdist + weight * penalty. The critic's parameters
    then get their gradient from one node, not summed over two."""
    def terms(real, fake, *rest):
        eps, params = (rest[0], rest[1:]) if has_eps else (None, rest)
        scores = fn(torch.cat([real, fake]), *params)
        wdist = scores[:len(real)].mean() - scores[len(real):].mean()
        if eps is None:
            return torch.stack([-wdist, wdist, torch.zeros_like(wdist)])
        with torch.enable_grad():
            x = (eps * real + (1 - eps) * fake).detach().requires_grad_()
            grad, = torch.autograd.grad(fn(x, *params).sum(), x, create_graph=True)
        norm = torch.sqrt((grad * grad).sum(dim=tuple(range(1, grad.dim()))) + 1e-12)
        penalty = ((norm - 1) ** 2).mean()
        return torch.stack([-wdist + weight * penalty, wdist, penalty])
    has_eps = eps is not None
    return fused(terms, (real, fake) + ((eps,) if has_eps else ()) + tuple(params))


def upsampling_statistics(steps, z, params, groups):
    """The BatchNorm statistics of upsampling(steps) on array z (groups equal batches)
    with parameter arrays params, each batch normalised by its own: per BatchNorm, in
    order, (means, unbiased variances) arrays of shape (groups, C); nothing is updated."""
    statistics = []
    with torch.no_grad():
        upsampling(steps, groups, statistics)(_tensor(z), *(_tensor(p) for p in params))
    return [(_array(mean), _array(var)) for mean, var in statistics]


def leaky_relu(x, slope=0.2):
    """F.leaky_relu on the accelerator when it is in use, else Chainer's own."""
    if torch_in_use(chainer.as_array(x)):
        return TorchLeakyReLUFunction(slope).apply((x,))[0]
    return F.leaky_relu(x, slope)
