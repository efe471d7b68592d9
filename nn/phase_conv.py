"""The layers that touch the clip's RGB channels, computed through the clip's phases.

A stride-2, pad-1, 4x4x4 convolution of x equals a stride-1, 2x2x2 convolution of x's
phases: x padded by 1 with the 8 voxels of each 2x2x2 block as channels (8x the
channels at half the size and the same multiply-adds); its transposed convolution is
the adjoint. On the CPU oneDNN computes the products that land on few channels (the
critic's first layer's input and weight gradients, the generator's last layer) several
times slower than the same products over the phases' 8x channels, while the forward
convolution from few channels is fastest as it is (research/speed-log.md). So:

- rgb_conv(x, W, b): the convolution; forward direct, its gradients through the phases;
- rgb_conv_transpose(h, W): its transposed convolution (h has W's out channels),
  through the phases;
- rgb_conv_weight_grad(x, gy): its weight gradient, through the phases.

Each one's backward is written with these three, so torch differentiates them twice
(the gradient penalty's double backward). Torch functions of torch tensors, used by
nn/torch_kernels.py's fused nodes where `fits` says the phase form serves a layer.
"""
import torch
import torch.nn.functional as F

_STRIDE, _PAD = 2, 1


def fits(narrow, wide, spatial, kernel, stride, pad, device):
    """Whether a layer between `narrow` channels (the clip's side) and `wide` ones, over
    spatial sizes `spatial` (the narrow side's), takes the phase form: a stride-2, pad-1,
    4x4x4 layer on the CPU from the clip's 3 channels to at least 8, sizes even (between 4
    and 8 channels, tiny's middle layers, the phases lost to the direct form)."""
    return (device.type == 'cpu' and narrow <= 3 and wide >= 8 and tuple(kernel) == (4, 4, 4)
            and tuple(stride) == (2, 2, 2) and tuple(pad) == (1, 1, 1)
            and all(s % 2 == 0 for s in spatial))


def phases(x):
    """x (N, C, T, H, W) of even sizes, padded by 1 and split into its 2x2x2 phases:
    (N, 8C, T/2 + 1, H/2 + 1, W/2 + 1), phase (p, q, r) of channel c at c * 8 + 4p + 2q + r."""
    x = F.pad(x, (1, 1) * 3)
    n, c, t, h, w = x.shape
    x = x.reshape(n, c, t // 2, 2, h // 2, 2, w // 2, 2).permute(0, 1, 3, 5, 7, 2, 4, 6)
    return x.reshape(n, c * 8, t // 2, h // 2, w // 2)


def unphased(x, channels):
    """The adjoint of phases: (N, 8C, T2, H2, W2) -> (N, C, 2 T2 - 2, 2 H2 - 2, 2 W2 - 2)."""
    n, _, t, h, w = x.shape
    x = x.reshape(n, channels, 2, 2, 2, t, h, w).permute(0, 1, 5, 2, 6, 3, 7, 4)
    return x.reshape(n, channels, 2 * t, 2 * h, 2 * w)[:, :, 1:-1, 1:-1, 1:-1]


def phase_weight(W):
    """(O, C, 4, 4, 4) taps -> (O, 8C, 2, 2, 2): tap (2a + p, 2b + q, 2d + r) of channel c
    becomes tap (a, b, d) of phase channel c * 8 + 4p + 2q + r."""
    o, c = W.shape[:2]
    return W.reshape(o, c, 2, 2, 2, 2, 2, 2).permute(0, 1, 3, 5, 7, 2, 4, 6).reshape(
        o, c * 8, 2, 2, 2)


def unphased_weight(W):
    """The inverse of phase_weight: (O, 8C, 2, 2, 2) -> (O, C, 4, 4, 4)."""
    o, c = W.shape[0], W.shape[1] // 8
    return W.reshape(o, c, 2, 2, 2, 2, 2, 2).permute(0, 1, 5, 2, 6, 3, 7, 4).reshape(
        o, c, 4, 4, 4)


class _Conv(torch.autograd.Function):
    """y = conv3d(x, W, b, stride 2, pad 1); W (O, C, 4, 4, 4), x with C channels."""

    @staticmethod
    def forward(ctx, x, W, b):
        ctx.save_for_backward(x, W)
        ctx.has_bias = b is not None
        return F.conv3d(x, W, b, _STRIDE, _PAD)

    @staticmethod
    def backward(ctx, gy):
        x, W = ctx.saved_tensors
        gx = gW = gb = None
        if ctx.needs_input_grad[0]:
            gx = _ConvTranspose.apply(gy, W)
        if ctx.needs_input_grad[1]:
            gW = _WeightGrad.apply(x, gy)
        if ctx.has_bias and ctx.needs_input_grad[2]:
            gb = gy.sum((0, 2, 3, 4))
        return gx, gW, gb


class _ConvTranspose(torch.autograd.Function):
    """The adjoint of _Conv in x: h (N, O, ...) -> (N, C, 2x the sizes)."""

    @staticmethod
    def forward(ctx, h, W):
        ctx.save_for_backward(h, W)
        return unphased(F.conv_transpose3d(h, phase_weight(W)), W.shape[1])

    @staticmethod
    def backward(ctx, gy):
        h, W = ctx.saved_tensors
        gh = gW = None
        if ctx.needs_input_grad[0]:
            gh = _Conv.apply(gy, W, None)
        if ctx.needs_input_grad[1]:
            gW = _WeightGrad.apply(gy, h)
        return gh, gW


class _WeightGrad(torch.autograd.Function):
    """The gradient of _Conv's W given its input x and output gradient gy."""

    @staticmethod
    def forward(ctx, x, gy):
        ctx.save_for_backward(x, gy)
        weight = x.new_empty((gy.shape[1], x.shape[1] * 8, 2, 2, 2))
        _, gW, _ = torch.ops.aten.convolution_backward(
            gy, phases(x), weight, None, [1, 1, 1], [0, 0, 0], [1, 1, 1], False, [0, 0, 0], 1,
            [False, True, False])
        return unphased_weight(gW)

    @staticmethod
    def backward(ctx, ggW):
        x, gy = ctx.saved_tensors
        gx = g_gy = None
        if ctx.needs_input_grad[0]:
            gx = _ConvTranspose.apply(gy, ggW)
        if ctx.needs_input_grad[1]:
            g_gy = _Conv.apply(x, ggW, None)
        return gx, g_gy


def rgb_conv(x, W, b=None):
    """conv3d(x, W, b, stride=2, padding=1) for a 4x4x4 W, differentiable twice."""
    return _Conv.apply(x, W, b)


def rgb_conv_transpose(h, W, b=None):
    """conv_transpose3d(h, W, b, stride=2, padding=1) for W (in, out, 4, 4, 4), h with W's
    `in` channels, differentiable twice."""
    y = _ConvTranspose.apply(h, W)
    return y if b is None else y + b.reshape(1, -1, 1, 1, 1)


def rgb_conv_weight_grad(x, gy):
    """The weight gradient of rgb_conv given its input x and output gradient gy."""
    return _WeightGrad.apply(x, gy)
