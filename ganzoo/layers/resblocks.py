"""The residual blocks of the 32x32 ResNet GANs (Gulrajani et al. 2017; Miyato et al. 2018).

Both papers use the same pre-activation blocks (the WGAN-GP authors'
gan_cifar_resnet.py, and SNGAN's Table 4 with pfnet-research/sngan_projection):

- up block (generator): BN, ReLU, nearest-neighbour upsampling, 3x3 conv,
  BN, ReLU, 3x3 conv, added to a shortcut of upsampling then a 1x1 conv; its
  batch norms are conditional when ``num_classes`` is set (Miyato & Koyama 2018);
- optimised first down block (discriminator): 3x3 conv, ReLU, 3x3 conv, 2x2
  average pooling, added to a shortcut of pooling then a 1x1 conv. No
  activation comes before its first conv, which would only clip the image;
- down block (discriminator): ReLU, 3x3 conv, ReLU, 3x3 conv, then pooling if
  it downsamples; the shortcut is a 1x1 conv (then pooling) where the block
  downsamples or changes width, the identity elsewhere. No normalisation: a
  critic under a per-sample gradient penalty must not mix samples (WGAN-GP
  section 4), and SNGAN normalises the weights instead.

Weights are Glorot-uniform with gain sqrt(2) inside residual branches (each
conv is followed by a ReLU) and 1 on shortcuts, as in both authors' code.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ganzoo.layers import batch_norm_2d

RESIDUAL_GAIN = math.sqrt(2)


def glorot(layer: nn.Conv2d | nn.Linear, gain: float = 1.0) -> nn.Module:
    """``layer`` with Glorot-uniform weights of the given gain and zero bias."""
    nn.init.xavier_uniform_(layer.weight, gain=gain)
    if layer.bias is not None:
        nn.init.zeros_(layer.bias)
    return layer


def upsample(x: torch.Tensor) -> torch.Tensor:
    return F.interpolate(x, scale_factor=2, mode="nearest")


class UpBlock(nn.Module):
    """Doubles the side; called as ``block(h, labels)``, ``labels`` None unless conditional."""

    def __init__(self, fan_in: int, fan_out: int, num_classes: int | None = None):
        super().__init__()
        self.norm1 = batch_norm_2d(fan_in, num_classes)
        self.conv1 = glorot(nn.Conv2d(fan_in, fan_out, 3, padding=1), RESIDUAL_GAIN)
        self.norm2 = batch_norm_2d(fan_out, num_classes)
        self.conv2 = glorot(nn.Conv2d(fan_out, fan_out, 3, padding=1), RESIDUAL_GAIN)
        self.shortcut = glorot(nn.Conv2d(fan_in, fan_out, 1))

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        h = self.conv1(upsample(F.relu(self.norm1(x, labels))))
        h = self.conv2(F.relu(self.norm2(h, labels)))
        return h + self.shortcut(upsample(x))


class OptimizedDownBlock(nn.Module):
    """The discriminator's first block: halves the side."""

    def __init__(self, fan_in: int, fan_out: int):
        super().__init__()
        self.conv1 = glorot(nn.Conv2d(fan_in, fan_out, 3, padding=1), RESIDUAL_GAIN)
        self.conv2 = glorot(nn.Conv2d(fan_out, fan_out, 3, padding=1), RESIDUAL_GAIN)
        self.shortcut = glorot(nn.Conv2d(fan_in, fan_out, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.avg_pool2d(self.conv2(F.relu(self.conv1(x))), 2)
        return h + self.shortcut(F.avg_pool2d(x, 2))


class DownBlock(nn.Module):
    """A discriminator block, halving the side if ``downsample``."""

    def __init__(self, fan_in: int, fan_out: int, downsample: bool):
        super().__init__()
        self.downsample = downsample
        self.conv1 = glorot(nn.Conv2d(fan_in, fan_in, 3, padding=1), RESIDUAL_GAIN)
        self.conv2 = glorot(nn.Conv2d(fan_in, fan_out, 3, padding=1), RESIDUAL_GAIN)
        learned = downsample or fan_in != fan_out
        self.shortcut = glorot(nn.Conv2d(fan_in, fan_out, 1)) if learned else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv2(F.relu(self.conv1(F.relu(x))))
        skip = self.shortcut(x)
        if self.downsample:
            h, skip = F.avg_pool2d(h, 2), F.avg_pool2d(skip, 2)
        return h + skip


def discriminator_blocks(channels: int, width: int) -> nn.Sequential:
    """32x32 -> 8x8 with ``width`` channels: optimised block, then down, none, none (both papers)."""
    return nn.Sequential(
        OptimizedDownBlock(channels, width),        # 32 -> 16
        DownBlock(width, width, downsample=True),   # 16 -> 8
        DownBlock(width, width, downsample=False),
        DownBlock(width, width, downsample=False),
    )
