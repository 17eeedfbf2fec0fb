"""The networks of PacGAN's 2D experiments (Lin et al. 2018, Table 1; fjxmlzn/PacGAN, synthetic_data_experiments).

From the released code (``2DGrid_GAN&PacGAN/pacgan_task.py`` and ``config.py``,
the same for the ring):

- generator: 4 hidden layers of 400 units, each linear (no bias), batch norm,
  ReLU; a linear output of 2 units with a bias. Input: 2-dimensional N(0, I).
- discriminator: 3 maxout layers of 200 units with 5 pieces each, then a
  linear layer to one logit. Its input is a pack of m samples concatenated
  along the feature axis (2m inputs). No batch norm and no dropout: the code
  defines dropout (0.2 on the input, 0.5 inside) but builds both of its
  models with ``with_dropout=False``.
- every weight drawn from N(0, 0.02^2), every bias 0 (``weights_init_std``,
  ``biases_init``); batch norm starts at scale 1, shift 0 (Blocks' default).

Blocks' batch norm adds epsilon 1e-4 to the variance and the code moves the
population statistics by 0.05 of the batch's each step; the same values are
used here (torch's defaults are 1e-5 and 0.1) so sampling in eval mode sees
statistics averaged as the authors' were.
"""

from __future__ import annotations

import torch
from torch import nn

from ganzoo import ScoreLayout
from ganzoo.layers import Maxout

INIT_STD = 0.02  # weights_init_std in the authors' config.py
BN_EPS = 1e-4  # Blocks' BatchNormalization default
BN_MOMENTUM = 0.05  # population statistics: p * 0.95 + batch * 0.05 (pacgan_task.py, bn_updates)


def _init(module: nn.Module) -> None:
    """N(0, 0.02^2) weights and zero biases for every linear map, as the authors' IsotropicGaussian(0.02)."""
    for layer in module.modules():
        if isinstance(layer, nn.Linear):
            nn.init.normal_(layer.weight, 0.0, INIT_STD)
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)


class Generator(nn.Module):
    """An MLP of ``layers`` batch-normalised ReLU layers of ``hidden`` units and a linear output: points may
    lie anywhere in the plane, so the output is not squashed."""

    def __init__(self, z_dim: int, out_features: int, hidden: int, layers: int):
        super().__init__()
        blocks: list[nn.Module] = []
        width = z_dim
        for _ in range(layers):
            # no bias before batch norm: its shift does that job (use_bias=False in the authors' MLP)
            blocks += [nn.Linear(width, hidden, bias=False), nn.BatchNorm1d(hidden, eps=BN_EPS, momentum=BN_MOMENTUM),
                       nn.ReLU()]
            width = hidden
        self.net = nn.Sequential(*blocks, nn.Linear(width, out_features))
        _init(self)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)


class PackedDiscriminator(nn.Module):
    """Scores packs of ``pack`` samples, one logit per pack.

    A batch of n samples (n a multiple of m) is read as n / m packs of
    consecutive samples; each pack becomes one row of m * d features, the
    samples concatenated in order, as the authors' code concatenates its m
    generated (or real) points along the feature axis. ``net`` is the
    unpacked network on such rows. ``score_layout`` tells the runner, which
    then refuses batch sizes that are not a multiple of m and hands the
    objective n / m scores. With ``pack = 1`` this is the plain GAN
    discriminator of the paper's baseline rows.
    """

    def __init__(self, in_features: int, pack: int, hidden: int, layers: int, pieces: int):
        super().__init__()
        self.score_layout = ScoreLayout(pack=pack)
        maxouts = [Maxout(in_features * pack if i == 0 else hidden, hidden, pieces) for i in range(layers)]
        self.net = nn.Sequential(*maxouts, nn.Linear(hidden, 1))
        _init(self)

    @property
    def pack(self) -> int:
        return self.score_layout.pack

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if len(x) % self.pack:
            raise ValueError(f"a batch of {len(x)} samples is not a whole number of packs of {self.pack}")
        return self.net(x.reshape(len(x) // self.pack, -1)).view(-1)
