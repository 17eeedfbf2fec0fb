"""ADA's augmentation pipeline (Karras et al. 2020, Appendix B): each transform applied to each image with
probability ``p`` (times the transform's multiplier, 1 for every transform of an enabled group).

Groups, in the order they run (the paper's ``bgc`` is blit, geom and color):

- ``blit``: x-flip, rotation by a multiple of 90 degrees, integer translation of up to 1/8 of the image;
- ``geom``: isotropic scaling (log2 std 0.2), arbitrary rotation (before and after an anisotropic scaling,
  each with probability ``1 - sqrt(1 - p)`` so that one of them happens with probability p), anisotropic
  scaling (log2 std 0.2), fractional translation (std 1/8 of the image);
- ``color``: brightness (std 0.2), contrast (log2 std 0.5), luma flip, hue rotation (up to a full turn),
  saturation (log2 std 1); hue and saturation only for RGB images;
- ``noise``: additive Gaussian noise of std ``|N(0, 0.1^2)|``;
- ``cutout``: a square of half the image's side set to zero, centred uniformly.

This follows ``AugmentPipe.forward`` of the authors' release (github.com/NVlabs/stylegan2-ada-pytorch,
training/augment.py): the same parameter distributions, drawn from torch's global generator in the same
order; blit and geom composed into one inverse transform executed once, on the image reflect-padded to cover
what the transform brings in, upsampled 2x with the symlet-6 filter, bilinearly resampled and downsampled
(:mod:`ganzoo_augment.resample`); the colour transforms composed into one affine map of RGB, averaged over
the output channels for a grayscale image. As there, an enabled group runs even at ``p = 0``, where it is the
identity up to float rounding. The release's image-space filtering group (``f``) is not implemented.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F

from ganzoo_augment.resample import downsample2x, lowpass, upsample2x

GROUPS = ("blit", "geom", "color", "noise", "cutout")
LUMA = (1 / math.sqrt(3), 1 / math.sqrt(3), 1 / math.sqrt(3), 0.0)

Entry = float | torch.Tensor


def augment(images: torch.Tensor, p: float, groups: Sequence[str]) -> torch.Tensor:
    """``images`` ``(n, c, h, w)`` with the enabled ``groups`` applied at probability ``p``."""
    if "blit" in groups or "geom" in groups:
        images = apply_geometric(images, geometric_inverse(images, p, groups))
    if "color" in groups:
        images = apply_color(images, color_map(images, p))
    if "noise" in groups:
        n, c, h, w = images.shape
        sigma = _gate(torch.randn(n, 1, 1, 1, device=images.device).abs() * 0.1, p, 0.0)
        images = images + torch.randn(n, c, h, w, device=images.device) * sigma
    if "cutout" in groups:
        images = images * _cutout_mask(images, p)
    return images


def _gate(values: torch.Tensor, p: float, neutral: float) -> torch.Tensor:
    """Each image's ``values`` with probability ``p``, else the transform's identity value."""
    chosen = torch.rand((values.shape[0],) + (1,) * (values.dim() - 1), device=values.device) < p
    return torch.where(chosen, values, torch.full_like(values, neutral))


def matrices(rows: Sequence[Sequence[Entry]], n: int, device: torch.device) -> torch.Tensor:
    """``(n, k, k)`` matrices from rows of numbers and per-image ``(n,)`` tensors."""
    entries = [torch.as_tensor(entry, dtype=torch.float32, device=device).expand(n) for row in rows for entry in row]
    return torch.stack(entries, dim=-1).reshape(n, len(rows), len(rows[0]))


def translate(tx: Entry, ty: Entry, n: int, device: torch.device) -> torch.Tensor:
    return matrices([[1, 0, tx], [0, 1, ty], [0, 0, 1]], n, device)


def scale(sx: Entry, sy: Entry, n: int, device: torch.device) -> torch.Tensor:
    return matrices([[sx, 0, 0], [0, sy, 0], [0, 0, 1]], n, device)


def rotate(theta: torch.Tensor, n: int, device: torch.device) -> torch.Tensor:
    cos, sin = torch.cos(theta), torch.sin(theta)
    return matrices([[cos, -sin, 0], [sin, cos, 0], [0, 0, 1]], n, device)


def geometric_inverse(images: torch.Tensor, p: float, groups: Sequence[str]) -> torch.Tensor:
    """The inverse transform (output pixel -> input pixel, in pixels from the centre) of each image."""
    n, _, height, width = images.shape
    dev = images.device
    inverse = torch.eye(3, device=dev).expand(n, 3, 3)
    if "blit" in groups:
        flip = _gate(torch.floor(torch.rand(n, device=dev) * 2), p, 0.0)
        inverse = inverse @ scale(1 - 2 * flip, 1, n, dev)
        quarter = _gate(torch.floor(torch.rand(n, device=dev) * 4), p, 0.0)
        inverse = inverse @ rotate(math.pi / 2 * quarter, n, dev)
        shift = _gate((torch.rand(n, 2, device=dev) * 2 - 1) * 0.125, p, 0.0)
        inverse = inverse @ translate(-torch.round(shift[:, 0] * width), -torch.round(shift[:, 1] * height), n, dev)
    if "geom" in groups:
        zoom = _gate(torch.exp2(torch.randn(n, device=dev) * 0.2), p, 1.0)
        inverse = inverse @ scale(1 / zoom, 1 / zoom, n, dev)
        p_rotate = 1 - math.sqrt(min(max(1 - p, 0.0), 1.0))
        theta = _gate((torch.rand(n, device=dev) * 2 - 1) * math.pi, p_rotate, 0.0)
        inverse = inverse @ rotate(theta, n, dev)
        stretch = _gate(torch.exp2(torch.randn(n, device=dev) * 0.2), p, 1.0)
        inverse = inverse @ scale(1 / stretch, stretch, n, dev)
        theta = _gate((torch.rand(n, device=dev) * 2 - 1) * math.pi, p_rotate, 0.0)
        inverse = inverse @ rotate(theta, n, dev)
        shift = _gate(torch.randn(n, 2, device=dev) * 0.125, p, 0.0)
        inverse = inverse @ translate(-shift[:, 0] * width, -shift[:, 1] * height, n, dev)
    return inverse


def apply_geometric(images: torch.Tensor, inverse: torch.Tensor) -> torch.Tensor:
    """Resample each image through its inverse transform at twice the resolution (see the module docstring)."""
    n, c, height, width = images.shape
    dev = images.device
    taps = lowpass(dev)
    border = len(taps) // 4
    # Reflect-pad enough to cover where the image's corners come from, plus the filter's reach
    cx, cy = (width - 1) / 2, (height - 1) / 2
    corners = torch.tensor([[-cx, -cy, 1], [cx, -cy, 1], [cx, cy, 1], [-cx, cy, 1]], device=dev)
    sources = (inverse @ corners.t())[:, :2, :].permute(1, 0, 2).flatten(1)
    reach = torch.cat([-sources, sources]).max(dim=1).values
    reach = reach + torch.tensor([border * 2 - cx, border * 2 - cy] * 2, device=dev)
    reach = reach.clamp_min(0).minimum(torch.tensor([width - 1, height - 1] * 2, device=dev, dtype=reach.dtype))
    left, top, right, bottom = (int(v) for v in reach.ceil().tolist())
    images = F.pad(images, [left, right, top, bottom], mode="reflect")
    inverse = translate((left - right) / 2, (top - bottom) / 2, 1, dev) @ inverse

    images = upsample2x(images, taps)
    inverse = scale(2, 2, 1, dev) @ inverse @ scale(0.5, 0.5, 1, dev)
    inverse = translate(-0.5, -0.5, 1, dev) @ inverse @ translate(0.5, 0.5, 1, dev)

    # affine_grid works in [-1, 1] coordinates of the output and of the (padded, upsampled) input
    size = [n, c, (height + border * 2) * 2, (width + border * 2) * 2]
    inverse = (scale(2 / images.shape[3], 2 / images.shape[2], 1, dev) @ inverse
               @ scale(size[3] / 2, size[2] / 2, 1, dev))
    grid = F.affine_grid(inverse[:, :2, :], size, align_corners=False)
    images = F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    return downsample2x(images, taps, crop=border * 2)


def color_map(images: torch.Tensor, p: float) -> torch.Tensor:
    """Each image's ``(4, 4)`` affine map of homogeneous RGB colours."""
    n, channels = images.shape[:2]
    dev = images.device
    color = brightness(_gate(torch.randn(n, device=dev) * 0.2, p, 0.0))
    color = contrast(_gate(torch.exp2(torch.randn(n, device=dev) * 0.5), p, 1.0)) @ color
    color = luma_flip(_gate(torch.floor(torch.rand(n, 1, 1, device=dev) * 2), p, 0.0)) @ color
    if channels > 1:
        color = hue_rotation(_gate((torch.rand(n, device=dev) * 2 - 1) * math.pi, p, 0.0)) @ color
        color = saturation(_gate(torch.exp2(torch.randn(n, 1, 1, device=dev)), p, 1.0)) @ color
    return color


def brightness(offset: torch.Tensor) -> torch.Tensor:
    """Adds ``offset`` to every channel."""
    return matrices([[1, 0, 0, offset], [0, 1, 0, offset], [0, 0, 1, offset], [0, 0, 0, 1]],
                     len(offset), offset.device)


def contrast(factor: torch.Tensor) -> torch.Tensor:
    """Multiplies every channel by ``factor``."""
    return matrices([[factor, 0, 0, 0], [0, factor, 0, 0], [0, 0, factor, 0], [0, 0, 0, 1]],
                     len(factor), factor.device)


def luma_flip(flipped: torch.Tensor) -> torch.Tensor:
    """Householder reflection of the luma axis (1, 1, 1) where ``flipped`` ``(n, 1, 1)`` is 1."""
    along = _along_luma(flipped.device)
    return torch.eye(4, device=flipped.device) - 2 * along * flipped


def hue_rotation(theta: torch.Tensor) -> torch.Tensor:
    """Rotation by ``theta`` about the luma axis (Rodrigues' formula)."""
    x = y = z = LUMA[0]
    sin, cos = torch.sin(theta), torch.cos(theta)
    one = 1 - cos
    return matrices([[x * x * one + cos, x * y * one - z * sin, x * z * one + y * sin, 0],
                      [y * x * one + z * sin, y * y * one + cos, y * z * one - x * sin, 0],
                      [z * x * one - y * sin, z * y * one + x * sin, z * z * one + cos, 0],
                      [0, 0, 0, 1]], len(theta), theta.device)


def saturation(factor: torch.Tensor) -> torch.Tensor:
    """Scales each colour's distance from the luma axis by ``factor`` ``(n, 1, 1)``."""
    along = _along_luma(factor.device)
    return along + (torch.eye(4, device=factor.device) - along) * factor


def _along_luma(device: torch.device) -> torch.Tensor:
    luma = torch.tensor(LUMA, device=device)
    return torch.outer(luma, luma)


def apply_color(images: torch.Tensor, color: torch.Tensor) -> torch.Tensor:
    n, channels, height, width = images.shape
    flat = images.reshape(n, channels, height * width)
    if channels == 3:
        flat = color[:, :3, :3] @ flat + color[:, :3, 3:]
    elif channels == 1:  # the map's mean output channel, applied to gray as to (g, g, g)
        mean = color[:, :3, :].mean(dim=1, keepdim=True)
        flat = flat * mean[:, :, :3].sum(dim=2, keepdim=True) + mean[:, :, 3:]
    else:
        raise ValueError(f"ADA's color transforms take RGB or grayscale images, not {channels} channels; "
                         "leave \"color\" out of augmentation_options.pipeline")
    return flat.reshape(n, channels, height, width)


def _cutout_mask(images: torch.Tensor, p: float) -> torch.Tensor:
    n, _, height, width = images.shape
    dev = images.device
    size = _gate(torch.full((n, 2, 1, 1, 1), 0.5, device=dev), p, 0.0)
    centre = torch.rand(n, 2, 1, 1, 1, device=dev)
    columns = (torch.arange(width, device=dev).reshape(1, 1, 1, -1) + 0.5) / width
    rows = (torch.arange(height, device=dev).reshape(1, 1, -1, 1) + 0.5) / height
    outside = ((columns - centre[:, 0]).abs() >= size[:, 0] / 2) | ((rows - centre[:, 1]).abs() >= size[:, 1] / 2)
    return outside.to(images.dtype)
