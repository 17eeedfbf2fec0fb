"""The generator and discriminator of Karras et al. 2018 (arXiv:1710.10196), Table 2, for any power-of-two side.

Both networks hold their level of detail ``lod`` in a buffer: 0 is the full
resolution, ``log2(side) - 2`` is 4x4. At ``lod = k + t`` (k whole, 0 <= t < 1)
the networks work at side / 2^k, and a fraction ``t`` of the layers of the level
below is still blended in (section 2, Figure 2: the new layers' weight alpha is
``1 - t``). As in the release (networks.py, ``structure='recursive'``):

- G computes its blocks up to side / 2^k only; its image is
  ``lerp(toRGB_hi(x_hi), upsample(toRGB_lo(x_lo)), t)``, then replicated up to
  the full side, so it always returns full-resolution images;
- D takes full-resolution images, averages them down to side / 2^k for its first
  block, and blends that block's output with ``fromRGB_lo`` of the images
  averaged down once more, by ``t``.

A network keeps its lod in checkpoints and in the moving average of G (the
runner copies buffers), so ``ganzoo sample`` draws at the resolution training
reached. A freshly built pair works at full resolution (lod 0): the
``progressive`` algorithm sets the lod before every step, from 4x4 at the
first; under another algorithm (``alternating``) the pair trains at full
resolution throughout, without growing.

Generator (Table 2, the release's ``G_paper``): the latent is pixel-normalised;
a dense layer (gain sqrt(2) / 4, as the release, "to match the original Theano
implementation") to a 4x4 map, leaky ReLU, pixel norm; a 3x3 convolution; then
per level, 2x upsampling and two 3x3 convolutions, each followed by leaky ReLU
and pixel norm. toRGB: a 1x1 convolution, gain 1, linear.

Discriminator (the release's ``D_paper``): fromRGB, a 1x1 convolution with
leaky ReLU; per level, two 3x3 convolutions then 2x2 average pooling; at 4x4,
minibatch standard deviation, a 3x3 convolution, a dense layer, and a dense
layer to the score (gain 1, linear). Leaky ReLU 0.2 throughout.

D's blocks apply leaky ReLU, then the 2x2 average pooling, as the Theano
release's ``D_paper`` does (progan-32's configuration). The TensorFlow
release's fused downsampling convolution (``fused_scale``, its default) pools
before the activation: a departure for progan-128. In G the
fused and separate upsampling layers compute the same.

The generator's output is linear while training, as in the release, whose D
sees unclipped images; in eval mode (pictures, metrics, ``ganzoo sample``) it
is clipped to [-1, 1], as the release clips when it writes images
(misc.convert_to_pil_image).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ganzoo.layers import check_labels
from ganzoo_progan.layers import (
    EqualizedConv2d,
    EqualizedLinear,
    downscale,
    feature_maps,
    leaky_relu,
    minibatch_stddev,
    pixel_norm,
    upscale,
)

FIRST = 2  # log2 of the first resolution, 4x4


class Growing(nn.Module):
    """A network for ``2^levels``-pixel sides that works at a level of detail kept in the ``lod`` buffer."""

    lod: torch.Tensor

    def __init__(self, levels: int):
        super().__init__()
        self.levels = levels
        self.register_buffer("lod", torch.tensor(0.0))

    @property
    def max_lod(self) -> float:
        """The lod of the first resolution, 4x4."""
        return float(self.levels - FIRST)

    def set_lod(self, lod: float) -> None:
        if not 0 <= lod <= self.max_lod:
            raise ValueError(f"lod must lie in [0, {self.max_lod:g}] for {2**self.levels}x{2**self.levels} images, "
                             f"got {lod}")
        self.lod.fill_(lod)

    def level(self) -> tuple[int, float]:
        """(the finest resolution used, as log2 of its side; the fraction of the level below still blended in)."""
        lod = float(self.lod)
        whole = math.floor(lod)
        return self.levels - whole, lod - whole


class UpBlock(nn.Module):
    """G's layers of one level: 2x upsampling, then two 3x3 convolutions, each with leaky ReLU and pixel norm."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.conv0 = EqualizedConv2d(in_channels, out_channels, 3)
        self.conv1 = EqualizedConv2d(out_channels, out_channels, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = pixel_norm(leaky_relu(self.conv0(upscale(x, 2))))
        return pixel_norm(leaky_relu(self.conv1(x)))


class DownBlock(nn.Module):
    """D's layers of one level: two 3x3 convolutions with leaky ReLU, then 2x2 average pooling."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.conv0 = EqualizedConv2d(in_channels, in_channels, 3)
        self.conv1 = EqualizedConv2d(in_channels, out_channels, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return downscale(leaky_relu(self.conv1(leaky_relu(self.conv0(x)))), 2)


class Generator(Growing):
    def __init__(self, z_dim: int, channels: int, levels: int, widths: dict[int, int], normalize_latents: bool = True):
        super().__init__(levels)
        self.normalize_latents = normalize_latents
        self.top = widths[FIRST]
        self.dense = EqualizedLinear(z_dim, self.top * 16, gain=math.sqrt(2.0) / 4)
        self.first_conv = EqualizedConv2d(self.top, self.top, 3)
        # blocks[i] and to_rgb[i] make the images of side 2^(i + 2)
        self.blocks = nn.ModuleList(UpBlock(widths[res - 1], widths[res]) for res in range(FIRST + 1, levels + 1))
        self.to_rgb = nn.ModuleList(EqualizedConv2d(widths[res], channels, 1, gain=1.0)
                                    for res in range(FIRST, levels + 1))

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        check_labels(labels, None, "this generator")
        finest, fraction = self.level()
        x = pixel_norm(z) if self.normalize_latents else z
        x = pixel_norm(leaky_relu(self.dense(x).view(len(z), self.top, 4, 4)))
        x = pixel_norm(leaky_relu(self.first_conv(x)))
        previous = x
        for block in self.blocks[:finest - FIRST]:
            previous, x = x, block(x)
        images = self.to_rgb[finest - FIRST](x)
        if fraction > 0:
            images = torch.lerp(images, upscale(self.to_rgb[finest - FIRST - 1](previous), 2), fraction)
        images = upscale(images, 2 ** (self.levels - finest))
        return images if self.training else images.clamp(-1.0, 1.0)


class Discriminator(Growing):
    def __init__(self, channels: int, levels: int, widths: dict[int, int], group_size: int = 4):
        super().__init__(levels)
        self.group_size = group_size
        self.from_rgb = nn.ModuleList(EqualizedConv2d(channels, widths[res], 1) for res in range(FIRST, levels + 1))
        # blocks[i] takes the features at side 2^(i + 3) to side 2^(i + 2)
        self.blocks = nn.ModuleList(DownBlock(widths[res], widths[res - 1]) for res in range(FIRST + 1, levels + 1))
        stddev = 1 if group_size > 1 else 0
        self.last_conv = EqualizedConv2d(widths[FIRST] + stddev, widths[FIRST], 3)
        self.dense = EqualizedLinear(widths[FIRST] * 16, widths[FIRST - 1])
        self.score = EqualizedLinear(widths[FIRST - 1], 1, gain=1.0)

    def forward(self, images: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        check_labels(labels, None, "this discriminator")
        finest, fraction = self.level()
        shrink = 2 ** (self.levels - finest)
        x = leaky_relu(self.from_rgb[finest - FIRST](downscale(images, shrink)))
        for res in range(finest, FIRST, -1):
            x = self.blocks[res - FIRST - 1](x)
            if res == finest and fraction > 0:
                lower = leaky_relu(self.from_rgb[finest - FIRST - 1](downscale(images, 2 * shrink)))
                x = torch.lerp(x, lower, fraction)
        if self.group_size > 1:
            x = minibatch_stddev(x, self.group_size)
        x = leaky_relu(self.last_conv(x))
        x = leaky_relu(self.dense(x.flatten(1)))
        return self.score(x).view(-1)


def level_widths(levels: int, fmap_base: int, fmap_decay: float, fmap_max: int) -> dict[int, int]:
    """Feature maps of the layers at side 2^res, for res = 1 (D's dense layer) to ``levels``: the release's
    ``nf(res - 1)``. ValueError if a level would have none."""
    widths = {res: feature_maps(res - 1, fmap_base, fmap_decay, fmap_max) for res in range(FIRST - 1, levels + 1)}
    empty = [res for res, width in widths.items() if width < 1]
    if empty:
        side = 2 ** empty[0]
        raise ValueError(f"fmap_base {fmap_base} with fmap_decay {fmap_decay:g} leaves no feature maps at "
                         f"{side}x{side}; raise fmap_base or lower fmap_decay")
    return widths
