"""WGAN-GP updater: critic_iter critic steps, then one generator step.

Critic loss:    E[D(G(z))] - E[D(x)] + lambda * E[(||grad D(x_hat)||_2 - 1)^2]
                with x_hat = eps * x + (1 - eps) * G(z), eps ~ U(0, 1) per sample.
Generator loss: -E[D(G(z))].
With penalty_every = k > 1 the penalty term is computed on every k-th critic step only
(counted over the whole run), weighted by k (lazy regularisation, as StyleGAN2 does
for its R1 penalty); k = 1 is the seed's WGAN-GP.
The fakes of an iteration's critic steps are generated together (their latents drawn
first), each batch normalised as if generated alone.
Every random draw (latents, eps) comes from the updater's own RandomState,
which is saved in snapshots, so a resumed run continues the same run.
"""
import numpy as np
import chainer
import chainer.functions as F
from chainer import training

from base.errors import UserError
from computations.random_state import serialize_random_state


FAKE_BYTES = 64 << 20  # the most generated clips made at once for the critic's steps


class Diverged(UserError):
    """Training produced a non-finite loss or weight."""


class WGANGPUpdater(training.StandardUpdater):
    """Iterator 'main' yields (clip, n_skipped) examples; optimizers are
    'gen' and 'critic'. A non-finite loss stops training (Diverged) at the end of
    its iteration, before any extension can write what it changed; skipped_clips counts
    the unreadable clips skipped so far."""

    def __init__(self, iterator, optimizers, *, critic_iter=5, penalty_coeff=10.0,
                 seed=0, device=None, converter=None, rank=0, size=1, penalty_every=1):
        """penalty_every: see the module's docstring. rank, size: this process among
        `size` data-parallel ranks (see computations/distributed.py); every rank draws the
        random numbers of the whole size x batch and uses its own slice."""
        kwargs = {'converter': converter} if converter else {}
        super().__init__(iterator, optimizers, device=device, **kwargs)
        self.gen = optimizers['gen'].target
        self.critic = optimizers['critic'].target
        self.critic_iter = critic_iter
        self.penalty_coeff = penalty_coeff
        self.penalty_every = penalty_every
        self.rng = np.random.RandomState(seed)
        self.rank, self.size = rank, size
        self.skipped_clips = 0

    def _to_device(self, array):
        return self.device.send(array)

    def _my_slice(self, draws, batch):
        return draws[self.rank * batch:(self.rank + 1) * batch]

    def _latents(self, batch, count=1):
        """`count` batches of latents on the device, each drawn for every rank and this
        rank's slice kept."""
        z = self.gen.make_hidden(batch * self.size * count, self.rng)
        return self._to_device(np.concatenate([self._my_slice(part, batch)
                                               for part in np.split(z, count)]))

    def _fake(self, batch):
        """Generated clips (N, C, T, H, W) with no graph back to the generator."""
        return self._fakes(batch, 1)[0]

    def _fakes(self, batch, count):
        """`count` batches of generated clips, no graph back to the generator, drawn and
        generated at once (Generator.forward_groups: each as if generated alone)."""
        z = self._latents(batch, count)
        with chainer.no_backprop_mode():
            fakes = self.gen.forward_groups(z, count).array
        return list(fakes.reshape((count, batch) + fakes.shape[1:]))

    def _fake_batches(self, real, steps):
        """How many critic steps' fakes to generate together, for real batches like
        `real` and `steps` steps left in the iteration: all of them, as long as they take
        at most FAKE_BYTES together."""
        return max(1, min(steps, FAKE_BYTES // max(real.nbytes, 1)))

    def _eps(self, real):
        """The interpolation weights of the penalty's clips, one per sample (N, 1, 1, 1, 1)."""
        eps = self.rng.uniform(0, 1, (len(real) * self.size, 1, 1, 1, 1)).astype(real.dtype)
        return self._to_device(self._my_slice(eps, len(real)))

    def gradient_penalty(self, real, fake):
        """E[(||grad D(x_hat)||_2 - 1)^2] at x_hat drawn uniformly between each real and
        fake clip (Critic.gradient_penalty), differentiable."""
        eps = self._eps(real)
        return self.critic.gradient_penalty(eps * real + (1 - eps) * fake)

    def critic_loss(self, real, penalised=True, fake=None):
        """One critic loss on a real batch and a fake one (generated here when None), with
        the penalty term when penalised (weighted by penalty_every; Critic.wgan_loss);
        reports against the critic (gp only when computed)."""
        fake = self._fake(len(real)) if fake is None else fake
        eps = self._eps(real) if penalised else None
        loss, wdist, penalty = self.critic.wgan_loss(
            real, fake, eps, self.penalty_every * self.penalty_coeff)
        if penalty is not None:
            chainer.report({'gp': penalty, 'loss': self.penalty_coeff * penalty - wdist},
                           self.critic)
        chainer.report({'wdist': wdist}, self.critic)
        return loss

    def generator_loss(self, batch):
        z = self._latents(batch)
        loss = -F.mean(self.critic(self.gen(z)))
        chainer.report({'loss': loss}, self.gen)
        return loss

    def _real_batch(self, iterator):
        """Next real batch on the device; counts clips the loader had to skip."""
        real, skipped = self.converter(iterator.next(), self.device)
        self.skipped_clips += int(skipped.sum())
        return real

    def update_core(self):
        critic_opt = self.get_optimizer('critic')
        gen_opt = self.get_optimizer('gen')
        iterator = self.get_iterator('main')
        self._losses = []
        first = self.iteration * self.critic_iter
        fakes = []
        for step in range(first, first + self.critic_iter):
            real = self._real_batch(iterator)
            if not fakes:
                left = first + self.critic_iter - step
                fakes = self._fakes(len(real), self._fake_batches(real, left))
            critic_opt.update(self._kept(self.critic_loss, 'critic'), real,
                              step % self.penalty_every == 0, fakes.pop(0))
        gen_opt.update(self._kept(self.generator_loss, 'generator'), iterator.batch_size)
        self._check_finite()

    def _kept(self, loss_of, name):
        """loss_of, its loss kept on the device for the one finiteness check of the
        iteration (reading each loss would make the host wait for the device six times)."""
        def kept_loss(*args):
            loss = loss_of(*args)
            self._losses.append((name, loss.array))
            return loss
        return kept_loss

    def _check_finite(self):
        """Diverged, naming the iteration and the first non-finite loss, when any loss of
        this iteration was not finite: read as one flag. The finite_weights extension
        (computations/trainer.py) runs before every snapshot, so none of the weights
        such a loss moved is ever written."""
        xp = chainer.backends.cuda.get_array_module(self._losses[0][1])
        if bool(xp.isfinite(xp.stack([value for _, value in self._losses])).all()):
            return
        name, value = next((n, float(v)) for n, v in self._losses if not np.isfinite(float(v)))
        raise Diverged(f'training diverged at iteration {self.iteration + 1}: the {name}'
                       f' loss is {value}; no snapshot of it was written. Resume the last'
                       ' snapshot with a lower [ADAM] learning_rate')

    def serialize(self, serializer):
        super().serialize(serializer)
        serialize_random_state(serializer, self.rng)
        self.skipped_clips = int(serializer('skipped_clips', self.skipped_clips))
