"""The StyleGAN2 discriminator: residual (Figure 7c of Karras et al. 2020) or 'orig', as the release builds them.

From the release's training/networks.py (``DiscriminatorBlock``,
``DiscriminatorEpilogue``, ``Discriminator``): one block per resolution R, ...,
8, each with tmp = min(channel_base / res, channel_max) channels and
min(channel_base / (res / 2), channel_max) out. The first block starts with
fromRGB (1x1 conv, leaky ReLU); every block has a 3x3 conv and a 3x3 conv
that halves the side (the [1, 3, 3, 1] filter, then stride 2), each with the
scaled leaky ReLU.

- ``resnet`` (the paper's choice): a shortcut of the same filtered
  downsampling and a 1x1 conv without bias, and both branches scaled by
  sqrt(1/2) before they are added.
- ``orig``: no shortcut (StyleGAN's discriminator; the release's CIFAR-10 config).

Then, at 4x4: minibatch standard deviation (groups of ``mbstd_group``,
``mbstd_channels`` features), a 3x3 conv, a dense layer with leaky ReLU and a
dense layer to one score. Conditional (the release's projection form): the
label goes through a mapping network of its own (one-hot -> dense embedding,
normalised, then 8 dense leaky-ReLU layers with learning-rate multiplier 0.01
to cmap_dim = the 4x4 channel count); the last dense layer gives cmap_dim
features, and the score is their dot product with the mapped label divided by
sqrt(cmap_dim).
"""

from __future__ import annotations

import math
from typing import Literal

import torch
from torch import nn

from ganzoo.layers import check_labels
from ganzoo_stylegan2.generator import MappingNetwork, channels_at
from ganzoo_stylegan2.layers import EqualConv2d, EqualLinear, MinibatchStd

Architecture = Literal["resnet", "orig"]
LABEL_MAPPING_LAYERS = 8  # the release's MappingNetwork default; train.py sets no other for D
HALF = math.sqrt(0.5)


class DiscriminatorBlock(nn.Module):
    def __init__(self, in_channels: int, tmp_channels: int, out_channels: int, image_channels: int,
                 architecture: Architecture, clamp: float | None):
        super().__init__()
        self.fromrgb = EqualConv2d(image_channels, tmp_channels, 1, clamp=clamp) if in_channels == 0 else None
        self.conv0 = EqualConv2d(tmp_channels, tmp_channels, 3, clamp=clamp)
        self.conv1 = EqualConv2d(tmp_channels, out_channels, 3, down=True, clamp=clamp)
        self.skip = EqualConv2d(tmp_channels, out_channels, 1, bias=False, leaky=False, down=True) \
            if architecture == "resnet" else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.fromrgb is not None:
            x = self.fromrgb(x)
        if self.skip is None:
            return self.conv1(self.conv0(x))
        return self.skip(x, gain=HALF) + self.conv1(self.conv0(x), gain=HALF)


class Discriminator(nn.Module):
    def __init__(self, image_shape: tuple[int, int, int], *, channel_base: int, channel_max: int,
                 architecture: Architecture, mbstd_group: int, mbstd_channels: int, num_classes: int | None = None,
                 mapping_lr_multiplier: float = 0.01, clamp: float | None = None):
        super().__init__()
        channels, resolution, _ = image_shape
        self.num_classes = num_classes
        widths = {res: channels_at(res, channel_base, channel_max) for res in (2**i for i in range(2, 16))}
        top = widths[4]
        if mbstd_channels and top % mbstd_channels:
            raise ValueError(f"mbstd_channels = {mbstd_channels} must divide the discriminator's {top} channels at "
                             "4x4; set gan_options.mbstd_channels to a divisor (the release uses 1)")
        self.blocks = nn.Sequential(*[
            DiscriminatorBlock(0 if res == resolution else widths[res], widths[res], widths[res // 2], channels,
                               architecture, clamp)
            for res in (2**i for i in range(resolution.bit_length() - 1, 2, -1))])
        self.mbstd = MinibatchStd(mbstd_group, mbstd_channels) if mbstd_channels else None
        self.conv = EqualConv2d(top + mbstd_channels, top, 3, clamp=clamp)
        self.fc = EqualLinear(top * 16, top, leaky=True)
        self.cmap_dim = top if num_classes else 0
        self.out = EqualLinear(top, self.cmap_dim or 1)
        self.label_mapping = MappingNetwork(0, top, LABEL_MAPPING_LAYERS, num_classes, mapping_lr_multiplier,
                                            w_avg_beta=None) if num_classes else None

    def forward(self, images: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        check_labels(labels, self.num_classes, "this discriminator")
        x = self.blocks(images)
        if self.mbstd is not None:
            x = self.mbstd(x)
        x = self.out(self.fc(self.conv(x).flatten(1)))
        if self.label_mapping is None:
            return x.squeeze(1)
        cmap = self.label_mapping(None, labels)
        return (x * cmap).sum(dim=1) / math.sqrt(self.cmap_dim)
