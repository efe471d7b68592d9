"""3D-convolutional DCGAN generator and WGAN-GP critic for videos.

Every video tensor is laid out (N, C, T, H, W): batch, RGB channels, frames,
height, width. Frame size and frame count must be multiples of 16: the
generator upsamples four times by 2 and the critic downsamples four times.
"""
import numpy as np
import chainer
import chainer.functions as F
import chainer.links as L
from chainer import function_node

from nn import torch_kernels
from base.config import check_choice

LEAKY_SLOPE = 0.2  # of every LeakyReLU in both networks
UPSAMPLING = ('deconv', 'resize')  # the generator's layers that double T, H, W ([MODEL] upsample)


def check_upsample(upsample, source=''):
    """ConfigError naming [MODEL] upsample (in source, a setup.ini) unless it is one of
    UPSAMPLING."""
    check_choice(upsample, UPSAMPLING, source, 'MODEL', 'upsample')


class Conv3D(L.ConvolutionND):
    """3D convolution (stride and pad an int or one per axis); runs on PyTorch's kernels
    (nn/torch_kernels.py) when they are in use."""

    def forward(self, x):
        if torch_kernels.torch_in_use(chainer.as_array(x)) and self.W.array is not None:
            return torch_kernels.conv3d(x, self.W, self.b, self.stride, self.pad)
        return super().forward(x)


class Deconv3D(L.DeconvolutionND):
    """3D transposed convolution, on PyTorch's kernels like Conv3D."""

    def forward(self, x):
        if torch_kernels.torch_in_use(chainer.as_array(x)) and self.W.array is not None:
            return torch_kernels.deconv3d(x, self.W, self.b, self.stride, self.pad, self.outsize)
        return super().forward(x)


def base_shape(n_frames, frame_size):
    """(T, H, W) of the smallest feature map, 1/16 of the video in each axis."""
    if n_frames % 16 or frame_size % 16:
        raise ValueError(f'n_frames ({n_frames}) and frame_size ({frame_size})'
                         ' must be multiples of 16')
    return (n_frames // 16, frame_size // 16, frame_size // 16)


# Per axis, nearest doubling then a 3-tap correlation w equals a stride-2, pad-1
# transposed convolution whose 4 taps are (w2, w1 + w2, w0 + w1, w0): even outputs
# see x[i-1] and x[i], odd ones x[i] and x[i+1].
_RESIZE_TAPS = np.array([[0, 0, 1], [0, 1, 1], [1, 1, 0], [1, 0, 0]], np.float32)
RESIZE_KERNEL = np.einsum('ai,bj,ck->abcijk', *[_RESIZE_TAPS] * 3).reshape(64, 27)


class ResizeConv3D(L.ConvolutionND):
    """Nearest-neighbour doubling of T, H and W, then a 3x3x3 convolution: the
    usual alternative to transposed convolutions against their checkerboard
    patterns (Odena et al. 2016, "Deconvolution and Checkerboard Artifacts").
    Computed as the equal 4x4x4 stride-2 transposed convolution (RESIZE_KERNEL),
    3.4x fewer multiply-adds than convolving the doubled video; one fused node where
    the fused nodes serve x (nn/torch_kernels.py)."""

    def __init__(self, in_ch, out_ch, init, nobias=False):
        super().__init__(3, in_ch, out_ch, ksize=3, stride=1, pad=1, nobias=nobias,
                         initialW=init)

    def _kernel(self):
        """RESIZE_KERNEL on this layer's device, in its weights' dtype."""
        return self.xp.asarray(RESIZE_KERNEL, dtype=self.W.dtype)

    def transposed_kernel(self):
        """W (out, in, 3, 3, 3) -> the transposed convolution's (in, out, 4, 4, 4)."""
        out_ch, in_ch = self.W.shape[:2]
        kernel = self._kernel()
        flat = F.matmul(F.reshape(self.W, (out_ch * in_ch, 27)), kernel, transb=True)
        return F.transpose(F.reshape(flat, (out_ch, in_ch, 4, 4, 4)), (1, 0, 2, 3, 4))

    def forward(self, x):
        if torch_kernels.fused_in_use(chainer.as_array(x)):
            return torch_kernels.resize_conv(x, self.W, self.b, self._kernel())
        W = self.transposed_kernel()
        outsize = tuple(2 * n for n in x.shape[2:])
        if torch_kernels.torch_in_use(chainer.as_array(x)):
            return torch_kernels.deconv3d(x, W, self.b, 2, 1, outsize)
        return F.deconvolution_nd(x, W, self.b, stride=2, pad=1, outsize=outsize)


def _up(in_ch, out_ch, init, upsample, nobias=False):
    """A layer that doubles T, H and W: the seed's stride-2 transposed 3D
    convolution ('deconv') or ResizeConv3D ('resize')."""
    check_upsample(upsample)
    if upsample == 'resize':
        return ResizeConv3D(in_ch, out_ch, init, nobias)
    return Deconv3D(3, in_ch, out_ch, ksize=4, stride=2, pad=1, nobias=nobias, initialW=init)


def _down(in_ch, out_ch, init):
    """3D convolution that halves T, H and W."""
    return Conv3D(3, in_ch, out_ch, ksize=4, stride=2, pad=1, initialW=init)


class SampleNorm(chainer.Link):
    """Layer normalisation of each sample over (C, T, H, W), then a learned
    per-channel scale and shift. Built from differentiable functions so the
    gradient penalty can backpropagate through it twice. Where the fused nodes serve
    (nn/torch_kernels.py) the critic runs it inside its one fused node instead."""

    def __init__(self, channels, eps=1e-5):
        super().__init__()
        self.eps = eps
        with self.init_scope():
            self.gamma = chainer.Parameter(chainer.initializers.One(), (channels,))
            self.beta = chainer.Parameter(chainer.initializers.Zero(), (channels,))

    def forward(self, x):
        flat = F.reshape(x, (len(x), -1))
        xp = self.xp
        ones = xp.ones(flat.shape[1], dtype=x.dtype)
        zeros = xp.zeros(flat.shape[1], dtype=x.dtype)
        h = F.reshape(F.layer_normalization(flat, ones, zeros, self.eps), x.shape)
        channel = (1, -1, 1, 1, 1)
        return (h * F.broadcast_to(F.reshape(self.gamma, channel), x.shape)
                + F.broadcast_to(F.reshape(self.beta, channel), x.shape))


class Generator(chainer.Chain):
    """Latent vector (N, latent_dim) -> video (N, 3, T, H, W) in [-1, 1]. Layers
    followed by BatchNorm have no bias: BatchNorm's shift takes its place."""

    def __init__(self, ch=512, latent_dim=100, n_frames=32, frame_size=64,
                 batch_norm=L.BatchNormalization, upsample='deconv'):
        """batch_norm(size) makes each BatchNorm (a multi-node one under MPI);
        upsample is one of UPSAMPLING (see _up)."""
        super().__init__()
        self.ch, self.latent_dim = ch, latent_dim
        self.base = base_shape(n_frames, frame_size)
        units = ch * int(np.prod(self.base))
        init = chainer.initializers.Normal(0.02)
        with self.init_scope():
            self.l0 = L.Linear(latent_dim, units, nobias=True, initialW=init)
            self.bn0 = batch_norm(units)
            self.dc1 = _up(ch, ch // 2, init, upsample, nobias=True)
            self.bn1 = batch_norm(ch // 2)
            self.dc2 = _up(ch // 2, ch // 4, init, upsample, nobias=True)
            self.bn2 = batch_norm(ch // 4)
            self.dc3 = _up(ch // 4, ch // 8, init, upsample, nobias=True)
            self.bn3 = batch_norm(ch // 8)
            self.dc4 = _up(ch // 8, 3, init, upsample)

    def make_hidden(self, batch, rng=np.random):
        """Latent vectors on the unit sphere, as numpy float32 (batch, latent_dim)."""
        z = rng.standard_normal((batch, self.latent_dim)).astype(np.float32)
        return z / np.linalg.norm(z, axis=1, keepdims=True)

    def forward(self, z):
        if self._fused_serves(z):
            return torch_kernels.fused(torch_kernels.upsampling(self._torch_steps()),
                                       (z,) + self._torch_params())
        h = torch_kernels.leaky_relu(self.bn0(self.l0(z)), LEAKY_SLOPE)
        h = F.reshape(h, (len(z), self.ch) + self.base)
        h = torch_kernels.leaky_relu(self.bn1(self.dc1(h)), LEAKY_SLOPE)
        h = torch_kernels.leaky_relu(self.bn2(self.dc2(h)), LEAKY_SLOPE)
        h = torch_kernels.leaky_relu(self.bn3(self.dc3(h)), LEAKY_SLOPE)
        return torch_kernels.tanh(self.dc4(h))

    def forward_groups(self, z, groups):
        """forward on `groups` equal batches of z at once (the updater's fakes of several
        critic steps): each batch normalised by its own BatchNorm statistics and the
        running ones updated batch by batch in order, so it equals concatenating forward
        on each; one fused node where the fused nodes serve."""
        if groups == 1:
            return self(z)
        if len(z) % groups:
            raise ValueError(f'{len(z)} latent vectors do not split into {groups} batches')
        if self._fused_serves(z):
            return torch_kernels.fused(torch_kernels.upsampling(self._torch_steps(), groups),
                                       (z,) + self._torch_params())
        return F.concat([self(part) for part in F.split_axis(z, groups, axis=0)], axis=0)

    def batch_statistics(self, z, groups):
        """Per BatchNorm (bn0 to bn3), (means, unbiased variances), each (groups, C): the
        statistics training-mode BatchNorm normalises each of `groups` equal batches of z
        with; no running statistics change. One torch pass where the fused nodes serve."""
        if self._fused_serves(z):
            params = [param.array for param in self._torch_params()]
            return torch_kernels.upsampling_statistics(self._torch_steps(), z, params, groups)
        collected = {id(bn): [] for bn in self.batch_norms()}
        for bn in self.batch_norms():
            bn.forward = _collecting_forward(bn, collected[id(bn)])
        try:
            with chainer.using_config('train', True), chainer.no_backprop_mode():
                size = len(z) // groups
                for start in range(0, len(z), size):
                    self(z[start:start + size])
        finally:
            for bn in self.batch_norms():
                del bn.forward
        return [tuple(self.xp.stack(arrays) for arrays in zip(*collected[id(bn)]))
                for bn in self.batch_norms()]

    def batch_norms(self):
        """bn0 to bn3, in the order the generator applies them."""
        return (self.bn0, self.bn1, self.bn2, self.bn3)

    def _ups(self):
        return (self.dc1, self.dc2, self.dc3, self.dc4)

    def _fused_serves(self, z):
        """Whether one fused node computes forward on latents z here."""
        return torch_kernels.fused_in_use(chainer.as_array(z)) and self._fusable()

    def _fusable(self):
        """Whether the fused node computes what forward's layers would: Chainer's own
        BatchNorm everywhere (not ChainerMN's, whose statistics span the ranks, nor one
        whose forward was replaced), every weight initialised."""
        return (all(type(bn) is L.BatchNormalization and 'forward' not in vars(bn)
                    for bn in self.batch_norms())
                and all(param.array is not None for param in self.params()))

    def _torch_steps(self):
        """forward as torch_kernels.upsampling steps (the running statistics included)."""
        train = chainer.config.train

        def norm(bn):
            return ('batch_norm', bn.avg_mean, bn.avg_var, bn.decay, bn.eps, train)

        def up(layer):
            bias = layer.b is not None
            if isinstance(layer, ResizeConv3D):
                return ('resize', layer._kernel(), bias)
            return ('deconv', bias)
        steps = [('linear',), norm(self.bn0), ('leaky', LEAKY_SLOPE), ('reshape', (self.ch,) + self.base)]
        for layer, bn in zip(self._ups()[:3], self.batch_norms()[1:]):
            steps += [up(layer), norm(bn), ('leaky', LEAKY_SLOPE)]
        return steps + [up(self.dc4), ('tanh',)]

    def _torch_params(self):
        """The parameters of _torch_steps, in their order."""
        params = [self.l0.W, self.bn0.gamma, self.bn0.beta]
        for layer, bn in zip(self._ups()[:3], self.batch_norms()[1:]):
            params += [layer.W, bn.gamma, bn.beta]
        return tuple(params + [self.dc4.W] + ([self.dc4.b] if self.dc4.b is not None else []))


def _collecting_forward(bn, collected):
    """A forward for BatchNorm link bn that normalises with the batch's statistics,
    as training does, and appends (mean, unbiased variance) to collected."""
    def forward(x, **_):
        axes = (0,) + tuple(range(2, x.ndim))
        mean, var = x.array.mean(axis=axes), x.array.var(axis=axes)
        count = x.size // mean.size
        collected.append((mean, var * count / max(count - 1, 1)))
        return F.fixed_batch_normalization(x, bn.gamma, bn.beta, mean, var, bn.eps)
    return forward


def _laplacian(x):
    """Each frame's 4-neighbour Laplacian of array x (N, C, T, H, W), edges repeated."""
    xp = chainer.backend.get_array_module(x)
    p = xp.pad(x, ((0, 0),) * 3 + ((1, 1), (1, 1)), mode='edge')
    return p[..., :-2, 1:-1] + p[..., 2:, 1:-1] + p[..., 1:-1, :-2] + p[..., 1:-1, 2:] - 4 * x


class FrameLaplacian(function_node.FunctionNode):
    """_laplacian as a Chainer function. With edges repeated it is the Laplacian of the
    pixel grid graph, a symmetric operator, so its backward applies it again."""

    def forward(self, inputs):
        return _laplacian(inputs[0]),

    def backward(self, indexes, grad_outputs):
        return FrameLaplacian().apply(grad_outputs)


def frame_laplacian(x):
    """The 4-neighbour Laplacian of every frame of x (N, C, T, H, W), edges repeated."""
    return FrameLaplacian().apply((x,))[0]


class Critic(chainer.Chain):
    """Video (N, 3, T, H, W) -> score (N, 1). No BatchNorm: the gradient
    penalty is per sample, so each sample is layer-normalised on its own."""

    def __init__(self, ch=512, n_frames=32, frame_size=64, weight_scale=1.0, edge_gain=0.0):
        """edge_gain: see sharpen."""
        super().__init__()
        self.edge_gain = edge_gain
        base = base_shape(n_frames, frame_size)
        init = chainer.initializers.HeNormal(weight_scale)
        with self.init_scope():
            self.c1 = _down(3, ch // 8, init)
            self.c2 = _down(ch // 8, ch // 4, init)
            self.ln2 = SampleNorm(ch // 4)
            self.c3 = _down(ch // 4, ch // 2, init)
            self.ln3 = SampleNorm(ch // 2)
            self.c4 = _down(ch // 2, ch, init)
            self.ln4 = SampleNorm(ch)
            self.c5 = Conv3D(3, ch, 1, ksize=3, stride=1, pad=1, initialW=init)
            self.l6 = L.Linear(int(np.prod(base)), 1, initialW=init)

    def sharpen(self, x):
        """x - edge_gain * (each frame's 4-neighbour Laplacian): the clip as the critic
        sees it. The gradient penalty holds the critic to slope 1 in this sharpened
        space, so a difference at edges may cost it up to 1 + 8 * edge_gain times what
        the same plain-pixel difference may (a Sobolev-type norm); 0 = the seed's L2."""
        if not self.edge_gain:
            return x
        return x - self.edge_gain * frame_laplacian(x)

    def forward(self, x):
        return self._score(self.sharpen(x))

    def _score(self, x):
        """The score of a clip as the critic sees it (after sharpen)."""
        if torch_kernels.fused_in_use(chainer.as_array(x)):
            return torch_kernels.fused(self._torch_function(), (x,) + self._torch_params())
        return self.l6(self.c5(_apply(self._layers(), x)))

    def wgan_loss(self, real, fake, eps=None, weight=10.0):
        """(loss, wdist, penalty) of real and fake arrays (N, 3, T, H, W): wdist =
        E[D(real)] - E[D(fake)], and loss = -wdist + weight * penalty with the gradient
        penalty at eps * real + (1 - eps) * fake, eps (N, 1, 1, 1, 1); without eps, loss
        = -wdist and penalty None. loss is a Variable; one fused node where the fused
        nodes serve."""
        if torch_kernels.fused_in_use(real):
            real, fake = (chainer.as_array(self.sharpen(a)) for a in (real, fake))
            terms = torch_kernels.wgan_critic_loss(self._torch_function(), real, fake, eps,
                                                   weight, self._torch_params())
            return terms[0], terms.array[1], None if eps is None else terms.array[2]
        d_real, d_fake = F.split_axis(self(F.concat([real, fake], axis=0)), [len(real)], axis=0)
        wdist = F.mean(d_real) - F.mean(d_fake)
        if eps is None:
            return -wdist, wdist, None
        penalty = self.gradient_penalty(eps * real + (1 - eps) * fake)
        return -wdist + weight * penalty, wdist, penalty

    def gradient_penalty(self, x):
        """E[(||grad D(x)||_2 - 1)^2] over the (C, T, H, W) axes, differentiable: one
        fused node where the fused nodes serve x, else Chainer's double backward."""
        x = chainer.as_array(self.sharpen(chainer.as_array(x)))
        if torch_kernels.fused_in_use(x):
            return torch_kernels.input_gradient_penalty(self._torch_function(), x,
                                                        self._torch_params())
        x = chainer.Variable(x)
        grad, = chainer.grad([self._score(x)], [x], enable_double_backprop=True)
        norm = F.sqrt(F.sum(grad * grad, axis=(1, 2, 3, 4)) + 1e-12)
        return F.mean((norm - 1) ** 2)

    def _layers(self):
        """(convolution, SampleNorm or None) of each downsampling layer."""
        return ((self.c1, None), (self.c2, self.ln2), (self.c3, self.ln3), (self.c4, self.ln4))

    def _torch_function(self):
        """_score as one torch function of (x, *self._torch_params())."""
        return torch_kernels.sequential(
            _steps(self._layers()) + [('conv', self.c5.stride, self.c5.pad), ('linear',)])

    def _torch_params(self):
        """The parameters _torch_function takes after x, in its order."""
        return tuple(_params(self._layers()) + [self.c5.W, self.c5.b, self.l6.W, self.l6.b])


def _apply(layers, h):
    """h through (convolution, SampleNorm or None) layers, each followed by LeakyReLU."""
    for conv, norm in layers:
        h = conv(h)
        h = torch_kernels.leaky_relu(norm(h) if norm else h, LEAKY_SLOPE)
    return h


def _steps(layers):
    """_apply's layers as torch_kernels.sequential steps."""
    steps = []
    for conv, norm in layers:
        steps.append(('conv', conv.stride, conv.pad))
        steps += [('norm', norm.eps)] if norm else []
        steps.append(('leaky', LEAKY_SLOPE))
    return steps


def _params(layers):
    """The parameters of _steps(layers), in their order."""
    params = []
    for conv, norm in layers:
        params += [conv.W, conv.b] + ([norm.gamma, norm.beta] if norm else [])
    return params


def build_critic(model):
    """The Critic for a ModelConfig."""
    return Critic(model.critic_ch or model.ch, model.n_frames, model.frame_size, model.weight_scale,
                  model.critic_edge_gain)


def build_generator(model, batch_norm=L.BatchNormalization):
    """The Generator for a ModelConfig."""
    return Generator(model.ch, model.latent_dim, model.n_frames, model.frame_size, batch_norm,
                     model.upsample)


def build_networks(model, batch_norm=L.BatchNormalization):
    """(Generator, Critic) for a ModelConfig."""
    return build_generator(model, batch_norm), build_critic(model)
