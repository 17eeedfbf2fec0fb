"""Filtered 2x resampling of images with a separable FIR filter, as ADA's geometric transforms need.

ADA (Karras et al. 2020, Appendix B.1) samples geometric transforms at twice the resolution: the image is
upsampled 2x with the low-pass filter of the symlet-6 wavelet, resampled bilinearly, and downsampled 2x with
the same filter, which keeps aliasing out. The orthogonal wavelet's filter h satisfies
``sum_k h[k] h[k - 2n] = [n == 0]`` (times 2 once normalised to unit sum), so upsampling then downsampling
with it returns the original samples exactly: an identity transform leaves the image as it was.

The two functions follow the semantics of ``upsample2d`` and ``downsample2d`` of stylegan2-ada-pytorch
(torch_utils/ops/upfirdn2d.py): insert zeros, pad, filter each axis, keep every second sample; the
upsampling filter is convolved with gain 2 per axis, the downsampling one correlated (``flip_filter=True``)
with gain 1.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

# Low-pass decomposition filter of the symlet-6 wavelet (as tabulated by PyWavelets; stylegan2-ada-pytorch,
# training/augment.py, ``wavelets['sym6']``).
SYM6 = (0.015404109327027373, 0.0034907120842174702, -0.11799011114819057, -0.048311742585633,
        0.4910559419267466, 0.787641141030194, 0.3379294217276218, -0.07263752278646252,
        -0.021060292512300564, 0.04472490177066578, 0.0017677118642428036, -0.007800708325034148)


def lowpass(device: torch.device | None = None, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """The symlet-6 filter normalised to unit sum (a constant image keeps its value)."""
    taps = torch.tensor(SYM6, dtype=torch.float64)
    return (taps / taps.sum()).to(device=device, dtype=dtype)


def upsample2x(images: torch.Tensor, taps: torch.Tensor) -> torch.Tensor:
    """``(n, c, h, w)`` to ``(n, c, 2h, 2w)``: zeros inserted after each sample, then convolved with ``taps``."""
    n, c, h, w = images.shape
    spread = F.pad(images.reshape(n, c, h, 1, w, 1), [0, 1, 0, 0, 0, 1]).reshape(n, c, 2 * h, 2 * w)
    size = len(taps)
    return _separable(spread, taps.flip(0) * 2, before=(size + 1) // 2, after=(size - 2) // 2)


def downsample2x(images: torch.Tensor, taps: torch.Tensor, crop: int = 0) -> torch.Tensor:
    """``(n, c, h, w)`` correlated with ``taps`` and every second sample kept, after cropping ``crop`` samples
    from each side (its ``padding=-crop``)."""
    size = len(taps)
    filtered = _separable(images, taps, before=(size - 1) // 2 - crop, after=(size - 2) // 2 - crop)
    return filtered[:, :, ::2, ::2]


def _separable(images: torch.Tensor, taps: torch.Tensor, *, before: int, after: int) -> torch.Tensor:
    """Pad (a negative amount crops) each side of both axes, then correlate each axis with ``taps``."""
    images = F.pad(images, [max(before, 0), max(after, 0)] * 2)
    height, width = images.shape[2:]
    images = images[:, :, max(-before, 0):height - max(-after, 0), max(-before, 0):width - max(-after, 0)]
    channels = images.shape[1]
    kernel = taps.to(images.dtype)
    images = F.conv2d(images, kernel.view(1, 1, 1, -1).expand(channels, 1, 1, -1), groups=channels)
    return F.conv2d(images, kernel.view(1, 1, -1, 1).expand(channels, 1, -1, 1), groups=channels)
