"""The project's networks and WGAN-GP step written again in PyTorch, for timing only.

Same layers, sizes, initialisation scales and step as nn/DCGAN.py and
computations/updater.py: critic_iter critic steps with gradient penalty, then one
generator step, Adam on both.
"""
import numpy as np
import torch
from torch import nn


def generator(ch, latent_dim, n_frames, frame_size):
    base = (n_frames // 16, frame_size // 16, frame_size // 16)
    units = ch * int(np.prod(base))

    def up(i, o):
        return nn.ConvTranspose3d(i, o, 4, 2, 1)
    return nn.Sequential(
        nn.Linear(latent_dim, units), nn.BatchNorm1d(units), nn.LeakyReLU(0.2),
        nn.Unflatten(1, (ch,) + base),
        up(ch, ch // 2), nn.BatchNorm3d(ch // 2), nn.LeakyReLU(0.2),
        up(ch // 2, ch // 4), nn.BatchNorm3d(ch // 4), nn.LeakyReLU(0.2),
        up(ch // 4, ch // 8), nn.BatchNorm3d(ch // 8), nn.LeakyReLU(0.2),
        up(ch // 8, 3), nn.Tanh())


def critic(ch, n_frames, frame_size):
    base = (n_frames // 16) * (frame_size // 16) ** 2

    def down(i, o):
        return nn.Conv3d(i, o, 4, 2, 1)
    return nn.Sequential(
        down(3, ch // 8), nn.LeakyReLU(0.2),
        down(ch // 8, ch // 4), nn.GroupNorm(1, ch // 4), nn.LeakyReLU(0.2),
        down(ch // 4, ch // 2), nn.GroupNorm(1, ch // 2), nn.LeakyReLU(0.2),
        down(ch // 2, ch), nn.GroupNorm(1, ch), nn.LeakyReLU(0.2),
        nn.Conv3d(ch, 1, 3, 1, 1), nn.Flatten(), nn.Linear(base, 1))


class TorchStep:
    """One WGAN-GP iteration in PyTorch on synthetic batches."""

    def __init__(self, ch, frame_size, n_frames, batch, critic_iter=5, latent_dim=100,
                 penalty=10.0, device='cpu'):
        self.device = torch.device(device)
        self.gen = generator(ch, latent_dim, n_frames, frame_size).to(self.device)
        self.critic = critic(ch, n_frames, frame_size).to(self.device)
        self.opt_g = torch.optim.Adam(self.gen.parameters(), 2e-4, betas=(0.5, 0.999))
        self.opt_c = torch.optim.Adam(self.critic.parameters(), 2e-4, betas=(0.5, 0.999))
        self.shape = (batch, 3, n_frames, frame_size, frame_size)
        self.batch, self.latent_dim = batch, latent_dim
        self.critic_iter, self.penalty = critic_iter, penalty

    def _z(self):
        z = torch.randn(self.batch, self.latent_dim, device=self.device)
        return z / z.norm(dim=1, keepdim=True)

    def _critic_step(self):
        real = torch.rand(self.shape, device=self.device) * 2 - 1
        with torch.no_grad():
            fake = self.gen(self._z())
        scores = self.critic(torch.cat([real, fake]))
        wdist = scores[:self.batch].mean() - scores[self.batch:].mean()
        eps = torch.rand(self.batch, 1, 1, 1, 1, device=self.device)
        x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
        grad, = torch.autograd.grad(self.critic(x_hat).sum(), x_hat, create_graph=True)
        norm = torch.sqrt((grad ** 2).sum(dim=(1, 2, 3, 4)) + 1e-12)
        loss = -wdist + self.penalty * ((norm - 1) ** 2).mean()
        self.opt_c.zero_grad()
        loss.backward()
        self.opt_c.step()

    def __call__(self):
        for _ in range(self.critic_iter):
            self._critic_step()
        loss = -self.critic(self.gen(self._z())).mean()
        self.opt_g.zero_grad()
        loss.backward()
        self.opt_g.step()
