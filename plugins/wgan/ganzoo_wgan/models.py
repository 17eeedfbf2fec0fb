"""Multilayer perceptrons for the Wasserstein GANs, without batch norm in the critic.

For images, sizes follow the MLP experiments of Arjovsky et al. 2017: 4 hidden
layers of 512 ReLU units. For 2D points, 3 hidden layers as in the toy
experiments of Gulrajani et al. 2017, but 128 units instead of their 512, so
the toy benchmark runs in minutes on a CPU (set ``gan_options.hidden = 512``
for theirs). A norm-free critic matters for the gradient penalty, which is
taken per sample.
"""

from __future__ import annotations

import math

import torch
from torch import nn


def mlp(widths: list[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for index, (fan_in, fan_out) in enumerate(zip(widths[:-1], widths[1:])):
        layers.append(nn.Linear(fan_in, fan_out))
        if index < len(widths) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class MLPGenerator(nn.Module):
    def __init__(self, z_dim: int, out_shape: tuple[int, ...], hidden: int, layers: int, image: bool):
        super().__init__()
        self.out_shape = out_shape
        self.net = mlp([z_dim] + [hidden] * layers + [math.prod(out_shape)])
        self.out = nn.Tanh() if image else nn.Identity()

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.out(self.net(z)).view(z.shape[0], *self.out_shape)


class MLPCritic(nn.Module):
    def __init__(self, in_shape: tuple[int, ...], hidden: int, layers: int):
        super().__init__()
        self.net = mlp([math.prod(in_shape)] + [hidden] * layers + [1])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.flatten(1)).view(-1)
