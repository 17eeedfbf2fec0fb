"""The multilayer perceptrons of Goodfellow et al. 2014.

The paper's MNIST model (goodfeli/adversarial, mnist.yaml): a generator with
two rectified-linear layers of 1200 units on 100-dimensional Gaussian noise
and a sigmoid output; a discriminator with two maxout layers of 240 units and
5 pieces, dropout (keep 0.8 at the input, 0.5 elsewhere) and a sigmoid output.

ganzoo scales images to [-1, 1], so the generator ends in tanh, the same
function as the sigmoid up to an affine map (tanh(x) = 2 sigmoid(2x) - 1).
Points in the plane get a linear output. The discriminator returns a logit;
the objectives apply the sigmoid inside a numerically stable loss.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ganzoo.layers import Maxout


class MLPGenerator(nn.Module):
    def __init__(self, z_dim: int, out_shape: tuple[int, ...], hidden: int, image: bool):
        super().__init__()
        self.out_shape = out_shape
        self.net = nn.Sequential(
            nn.Linear(z_dim, hidden), nn.ReLU(),
            nn.Linear(hidden, hidden), nn.ReLU(),
            nn.Linear(hidden, math.prod(out_shape)),
            nn.Tanh() if image else nn.Identity(),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z).view(z.shape[0], *self.out_shape)


class MaxoutDiscriminator(nn.Module):
    def __init__(self, in_shape: tuple[int, ...], hidden: int, pieces: int, input_dropout: float, dropout: float):
        super().__init__()
        self.net = nn.Sequential(
            nn.Flatten(),
            nn.Dropout(input_dropout),
            Maxout(math.prod(in_shape), hidden, pieces),
            nn.Dropout(dropout),
            Maxout(hidden, hidden, pieces),
            nn.Dropout(dropout),
            nn.Linear(hidden, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).view(-1)
