"""Filtered up- and downsampling by 2 with the FIR filter [1, 3, 3, 1], in plain PyTorch.

StyleGAN2 resamples with a separable low-pass filter (Karras et al. 2020,
section 2 and Appendix B; Zhang 2019, "Making convolutional networks
shift-invariant again"), applied as in the release's ``upfirdn2d`` (file
torch_utils/ops/upfirdn2d.py of NVlabs/stylegan2-ada-pytorch): for each
channel, insert ``up - 1`` zeros after every pixel, pad with zeros, convolve
with the 2D filter (the outer product of the taps, normalised to sum 1, times
``gain``), keep every ``down``-th pixel. Upsampling uses gain up^2 so that a
constant image keeps its value. The paddings are the release's
(``upsample2d``/``downsample2d`` and ``conv2d_resample``), so a side doubles or
halves exactly and the filter stays centred.

The convolutions that change resolution (torch_utils/ops/conv2d_resample.py)
are, for a k x k kernel and "same" padding k // 2:

- up by 2: a stride-2 transposed convolution, then the filter (gain 4);
- down by 2: the filter, then a stride-2 convolution (for k = 1, the filter
  with its downsampling, then the 1x1 convolution).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

FIR_TAPS = (1.0, 3.0, 3.0, 1.0)


def fir_filter(taps: tuple[float, ...] = FIR_TAPS) -> torch.Tensor:
    """The 2D filter: the outer product of ``taps`` with itself, normalised to sum 1."""
    line = torch.tensor(taps, dtype=torch.float32)
    kernel = torch.outer(line, line)
    return kernel / kernel.sum()


def upfirdn2d(x: torch.Tensor, kernel: torch.Tensor, up: int = 1, down: int = 1,
              padding: tuple[int, int] = (0, 0), gain: float = 1.0) -> torch.Tensor:
    """Zero-insertion upsampling by ``up``, zero padding ``(before, after)`` on both axes, convolution with
    ``kernel`` times ``gain``, then keeping every ``down``-th pixel. ``x`` is ``(N, C, H, W)``; a negative
    padding crops instead."""
    n, channels, height, width = x.shape
    if up > 1:  # each pixel followed by up - 1 zeros, along both axes
        x = x.reshape(n, channels, height, 1, width, 1)
        x = F.pad(x, (0, up - 1, 0, 0, 0, up - 1))
        x = x.reshape(n, channels, height * up, width * up)
    before, after = padding
    x = F.pad(x, (max(before, 0), max(after, 0), max(before, 0), max(after, 0)))
    if before < 0 or after < 0:  # negative padding crops, as in the release
        top, bottom = max(-before, 0), max(-after, 0)
        x = x[:, :, top:x.shape[2] - bottom, top:x.shape[3] - bottom]
    # conv2d correlates; flipping the kernel makes it a true convolution (the filter is symmetric anyway)
    weight = (kernel * gain).flip(0, 1).to(x.dtype)[None, None].repeat(channels, 1, 1, 1)
    return F.conv2d(x, weight, stride=down, groups=channels)


def upsample2d(x: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """Double the side: zeros inserted, then the filter with gain 4 (the release's ``upsample2d``)."""
    taps = kernel.shape[-1]
    return upfirdn2d(x, kernel, up=2, padding=((taps + 1) // 2, (taps - 2) // 2), gain=4.0)


def downsample2d(x: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """Halve the side: the filter, then every other pixel (the release's ``downsample2d``)."""
    taps = kernel.shape[-1]
    return upfirdn2d(x, kernel, down=2, padding=((taps - 1) // 2, (taps - 2) // 2))


def conv2d_up(x: torch.Tensor, weight: torch.Tensor, kernel: torch.Tensor, groups: int = 1) -> torch.Tensor:
    """A k x k convolution at twice the resolution: stride-2 transposed convolution, then the filter.

    ``weight`` is ``(out, in / groups, k, k)`` as for ``F.conv2d``; the output side is exactly twice the input's.
    """
    out_channels, in_per_group, size, _ = weight.shape
    # conv_transpose2d wants (in, out / groups, k, k): swap the two channel axes within each group
    weight = weight.reshape(groups, out_channels // groups, in_per_group, size, size).transpose(1, 2)
    weight = weight.reshape(groups * in_per_group, out_channels // groups, size, size)
    x = F.conv_transpose2d(x, weight, stride=2, groups=groups)  # side 2H + k - 2
    taps = kernel.shape[-1]
    pad = size // 2
    before = pad + (taps + 1) // 2 - (size - 1)
    after = pad + (taps - 2) // 2 - (size - 2)
    return upfirdn2d(x, kernel, padding=(before, after), gain=4.0)


def conv2d_down(x: torch.Tensor, weight: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """A k x k convolution at half the resolution: the filter, then a stride-2 convolution."""
    size = weight.shape[-1]
    taps = kernel.shape[-1]
    if size == 1:
        return F.conv2d(downsample2d(x, kernel), weight)
    pad = size // 2
    x = upfirdn2d(x, kernel, padding=(pad + (taps - 1) // 2, pad + (taps - 2) // 2))
    return F.conv2d(x, weight, stride=2)
