"""The building blocks of Karras et al. 2018 (arXiv:1710.10196), section 4 and Appendix A.1.

- Equalised learning rate (section 4.1): every weight is drawn from N(0, 1) and
  multiplied at run time by He's constant ``gain / sqrt(fan_in)`` (gain
  sqrt(2) unless a layer says otherwise), so that Adam, which normalises each
  update by the gradient's scale, moves every layer at the same speed. Biases
  start at 0 and are not scaled. Released code: ``get_weight`` with
  ``use_wscale=True`` and ``apply_bias`` in networks.py.
- Pixelwise feature normalisation (section 4.2): each pixel's feature vector
  divided by the root of its mean square over channels, with epsilon 1e-8
  (``pixel_norm`` in networks.py).
- Minibatch standard deviation (section 3): the standard deviation of every
  feature and pixel over a group of samples, averaged into one number per
  group and appended as one more feature map. Groups of 4 (``mbstd_group_size``
  in networks.py), formed as the release does: the batch is read as
  ``(group, batch / group, ...)``, so sample n belongs to group n mod (batch / group).
  A batch that is not a multiple of the group size is refused, as the release's
  reshape refuses it; a batch smaller than the group is one group.
- Resampling (Appendix A.1): upsampling is 2x2 replication (nearest neighbour),
  downsampling 2x2 average pooling (``upscale2d`` and ``downscale2d``).
- The channel rule of the release (``nf`` in networks.py):
  ``min(int(fmap_base / 2 ** (stage * fmap_decay)), fmap_max)``.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

HE_GAIN = math.sqrt(2.0)
LEAKY_SLOPE = 0.2  # Appendix A.1: leaky ReLU with leakiness 0.2 everywhere but the last layers
PIXEL_NORM_EPSILON = 1e-8
STDDEV_EPSILON = 1e-8


def feature_maps(stage: int, fmap_base: int, fmap_decay: float, fmap_max: int) -> int:
    """Feature maps of the layers at stage ``stage`` (resolution 2^(stage + 1)), by the release's rule."""
    return min(int(fmap_base / 2.0 ** (stage * fmap_decay)), fmap_max)


class EqualizedConv2d(nn.Module):
    """A square convolution, 'same' padding, weights N(0, 1) scaled at run time by gain / sqrt(fan_in)."""

    def __init__(self, in_channels: int, out_channels: int, kernel: int, gain: float = HE_GAIN):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel, kernel))
        self.bias = nn.Parameter(torch.zeros(out_channels))
        self.scale = gain / math.sqrt(in_channels * kernel * kernel)
        self.padding = kernel // 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.weight * self.scale, self.bias, padding=self.padding)


class EqualizedLinear(nn.Module):
    """A dense layer, weights N(0, 1) scaled at run time by gain / sqrt(fan_in)."""

    def __init__(self, in_features: int, out_features: int, gain: float = HE_GAIN):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_features, in_features))
        self.bias = nn.Parameter(torch.zeros(out_features))
        self.scale = gain / math.sqrt(in_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight * self.scale, self.bias)


def leaky_relu(x: torch.Tensor) -> torch.Tensor:
    return F.leaky_relu(x, LEAKY_SLOPE)


def pixel_norm(x: torch.Tensor, epsilon: float = PIXEL_NORM_EPSILON) -> torch.Tensor:
    """``x`` divided, at every pixel, by the root mean square of its features (axis 1)."""
    return x * torch.rsqrt(x.square().mean(dim=1, keepdim=True) + epsilon)


def minibatch_stddev(x: torch.Tensor, group_size: int = 4) -> torch.Tensor:
    """``x`` with one more feature map: each group's average standard deviation over its samples."""
    batch, channels, height, width = x.shape
    group = min(group_size, batch)
    if batch % group:
        raise ValueError(f"minibatch standard deviation takes groups of {group} samples, and a batch of {batch} "
                         f"does not split into them; set batch_size to a multiple of {group}")
    y = x.float().reshape(group, batch // group, channels, height, width)
    y = y - y.mean(dim=0, keepdim=True)
    y = (y.square().mean(dim=0) + STDDEV_EPSILON).sqrt()  # population deviation, per group, feature and pixel
    y = y.mean(dim=(1, 2, 3)).to(x.dtype).reshape(-1, 1, 1, 1)  # one number per group
    return torch.cat([x, y.repeat(group, 1, height, width)], dim=1)


def upscale(x: torch.Tensor, factor: int) -> torch.Tensor:
    """Each pixel repeated into a ``factor`` x ``factor`` square."""
    return x if factor == 1 else F.interpolate(x, scale_factor=factor, mode="nearest")


def downscale(x: torch.Tensor, factor: int) -> torch.Tensor:
    """The mean of each ``factor`` x ``factor`` square."""
    return x if factor == 1 else F.avg_pool2d(x, factor)


def images_at_lod(images: torch.Tensor, lod: float) -> torch.Tensor:
    """Full-resolution images as the networks see the data at level of detail ``lod``.

    The release's ``process_reals`` (train.py): the images at resolution
    ``side / 2^floor(lod)`` (its data sets store each level as 2x2 means of the
    one above), blended towards their own 2x2 means, replicated back, by the
    fraction ``lod - floor(lod)``, then replicated up to full resolution. So a
    real image fades in exactly as the generator's output does.
    """
    whole = math.floor(lod)
    fraction = lod - whole
    low = downscale(images, 2**whole)
    if fraction > 0:
        low = torch.lerp(low, upscale(downscale(low, 2), 2), fraction)
    return upscale(low, 2**whole)
