"""The 2D mixture-of-Gaussians networks of the released Unrolled GAN notebook (poolio/unrolled_gan).

"Unrolled GAN demo.ipynb", cells "Generator and discriminator architectures"
and "Construct model": both networks are stacks of fully connected layers of
128 units with tanh, two hidden layers each (``generator(..., n_hidden=128,
n_layer=2)``, ``discriminator(..., n_hidden=128, n_layer=2)``), a linear output
(2 coordinates; 1 logit), weights drawn orthogonal with gain 1.4
(``tf.orthogonal_initializer(gain=1.4)``) and zero biases (slim's default).
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn


def mlp(fan_in: int, hidden: int, layers: int, fan_out: int, activation: Literal["tanh", "relu"],
        gain: float) -> nn.Sequential:
    """``layers`` hidden layers of ``hidden`` units, then a linear map to ``fan_out``; orthogonal weights times
    ``gain``, zero biases."""
    widths = [fan_in] + [hidden] * layers
    modules: list[nn.Module] = []
    for width_in, width_out in zip(widths, widths[1:]):
        modules += [nn.Linear(width_in, width_out), nn.Tanh() if activation == "tanh" else nn.ReLU()]
    modules.append(nn.Linear(widths[-1], fan_out))
    for module in modules:
        if isinstance(module, nn.Linear):
            nn.init.orthogonal_(module.weight, gain=gain)
            nn.init.zeros_(module.bias)
    return nn.Sequential(*modules)


class PointGenerator(nn.Module):
    def __init__(self, z_dim: int, width: int, hidden: int, layers: int, activation: Literal["tanh", "relu"],
                 gain: float):
        super().__init__()
        self.net = mlp(z_dim, hidden, layers, width, activation, gain)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)


class PointDiscriminator(nn.Module):
    def __init__(self, width: int, hidden: int, layers: int, activation: Literal["tanh", "relu"], gain: float):
        super().__init__()
        self.net = mlp(width, hidden, layers, 1, activation, gain)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).view(-1)
