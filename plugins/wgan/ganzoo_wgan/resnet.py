"""The CIFAR-10 ResNet pair of Gulrajani et al. 2017 (arXiv:1704.00028, described in its appendix;
code: igul222/improved_wgan_training, gan_cifar_resnet.py), for 32x32 images.

Generator: z in R^128; dense to a 4x4x128 map; three residual blocks that
each double the side (pre-activation: BN, ReLU, nearest-neighbour upsampling
and 3x3 conv, BN, ReLU, 3x3 conv; shortcut upsampling and 1x1 conv); BN, ReLU,
3x3 conv to the image's channels, tanh.

Critic: no batch norm (the gradient penalty is taken per sample, and batch norm
would make each score depend on the rest of the batch: section 4, "No critic batch normalization").
Four residual blocks of 128 channels: an optimised first block (3x3 conv,
ReLU, 3x3 conv, 2x2 mean pooling; shortcut mean pooling then 1x1 conv), then
blocks resampling "down", none, none (ReLU, 3x3 conv, ReLU, 3x3 conv, mean
pooling when down; shortcut a 1x1 conv then pooling when down, the identity
otherwise); ReLU, global mean pooling, a dense layer to one score.

Initialisation as in the authors' tflib: Glorot-uniform, with gain sqrt(2)
("he_init") for the convs inside residual branches, 1 for shortcuts and the
input and output layers; zero biases.

The authors trained it with Adam (lr 2e-4 decayed linearly to 0 over 100k
generator steps, betas 0 and 0.9), 5 critic steps per generator step, critic
batch 64 and generator batch 128. ganzoo decays the learning rates linearly
too (``lr_decay = "linear"``) but uses one batch size; the ``wgan-gp``
objective's defaults (lr 1e-4, the paper's Algorithm 1) apply unless the
config sets ``optimizer_g.lr`` and ``optimizer_d.lr`` to 2e-4. The blocks are
:mod:`ganzoo.layers.resblocks`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ganzoo.layers.resblocks import UpBlock, discriminator_blocks, glorot


class ResNetGenerator(nn.Module):
    def __init__(self, z_dim: int, channels: int, width: int = 128):
        super().__init__()
        self.width = width
        self.project = glorot(nn.Linear(z_dim, width * 4 * 4))
        self.blocks = nn.ModuleList([UpBlock(width, width) for _ in range(3)])  # 4 -> 8 -> 16 -> 32
        self.norm = nn.BatchNorm2d(width)
        self.out = glorot(nn.Conv2d(width, channels, 3, padding=1))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.project(z).view(z.shape[0], self.width, 4, 4)
        for block in self.blocks:
            h = block(h)
        return torch.tanh(self.out(F.relu(self.norm(h))))


class ResNetCritic(nn.Module):
    def __init__(self, channels: int, width: int = 128):
        super().__init__()
        self.blocks = discriminator_blocks(channels, width)
        self.out = glorot(nn.Linear(width, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(F.relu(self.blocks(x)).mean(dim=(2, 3))).view(-1)
