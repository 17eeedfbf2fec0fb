"""DiffAugment (Zhao, Liu, Lin, Zhu and Han 2020): cheap differentiable transforms of every image D sees.

Each transform draws its parameters per image and is differentiable with respect to the image, so the
generator learns through it. As in the authors' released code (github.com/mit-han-lab/data-efficient-gans,
``DiffAugment_pytorch.py``, commit 297dc8c), on images in [-1, 1] of shape ``(batch, channels, height, width)``:

- ``color``: brightness ``x + U(-0.5, 0.5)``; saturation ``m_c + (x - m_c) * U(0, 2)`` with ``m_c`` the mean over
  the channels at each pixel; contrast ``m + (x - m) * U(0.5, 1.5)`` with ``m`` the image's mean;
- ``translation``: an integer shift of up to ``height // 8`` rows and ``width // 8`` columns either way, each
  drawn uniformly, the uncovered border filled with zeros;
- ``cutout``: a ``height // 2`` by ``width // 2`` rectangle of zeros centred uniformly on the image (its centre
  may lie on the last row or column + 1 for even sizes), clipped to the image.

The draws come from torch's global generator in the released code's order (brightness, saturation, contrast,
row shift, column shift, cutout row, cutout column), so checkpoints keep their state.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from ganzoo import Augmentation


def brightness(x: torch.Tensor) -> torch.Tensor:
    return x + (_uniform(x) - 0.5)


def saturation(x: torch.Tensor) -> torch.Tensor:
    centre = x.mean(dim=1, keepdim=True)
    return (x - centre) * (_uniform(x) * 2) + centre


def contrast(x: torch.Tensor) -> torch.Tensor:
    centre = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - centre) * (_uniform(x) + 0.5) + centre


def translation(x: torch.Tensor) -> torch.Tensor:
    batch, _, height, width = x.shape
    reach_rows, reach_cols = height // 8, width // 8
    rows = _positions(height, torch.randint(-reach_rows, reach_rows + 1, (batch,), device=x.device))
    cols = _positions(width, torch.randint(-reach_cols, reach_cols + 1, (batch,), device=x.device))
    inside = ((rows >= 0) & (rows < height))[:, :, None] & ((cols >= 0) & (cols < width))[:, None, :]
    picked = x[torch.arange(batch, device=x.device)[:, None, None], :,
               rows.clamp(0, height - 1)[:, :, None], cols.clamp(0, width - 1)[:, None, :]]  # (batch, H, W, C)
    return picked.permute(0, 3, 1, 2) * inside[:, None].to(x.dtype)


def cutout(x: torch.Tensor) -> torch.Tensor:
    batch, _, height, width = x.shape
    size_rows, size_cols = height // 2, width // 2
    centre_rows = torch.randint(0, height + 1 - size_rows % 2, (batch,), device=x.device)
    centre_cols = torch.randint(0, width + 1 - size_cols % 2, (batch,), device=x.device)
    in_rows = _within(height, centre_rows - size_rows // 2, size_rows)
    in_cols = _within(width, centre_cols - size_cols // 2, size_cols)
    keep = ~(in_rows[:, :, None] & in_cols[:, None, :])
    return x * keep[:, None].to(x.dtype)


def _uniform(x: torch.Tensor) -> torch.Tensor:
    return torch.rand(x.shape[0], 1, 1, 1, dtype=x.dtype, device=x.device)


def _positions(size: int, shift: torch.Tensor) -> torch.Tensor:
    """``(batch, size)``: the source index of each output index, shifted by each image's ``shift``."""
    return torch.arange(size, device=shift.device)[None, :] + shift[:, None]


def _within(size: int, start: torch.Tensor, length: int) -> torch.Tensor:
    """``(batch, size)``: which indices lie in ``[start, start + length)`` for each image."""
    index = torch.arange(size, device=start.device)[None, :]
    return (index >= start[:, None]) & (index < start[:, None] + length)


POLICIES: dict[str, tuple[Callable[[torch.Tensor], torch.Tensor], ...]] = {
    "color": (brightness, saturation, contrast),
    "translation": (translation,),
    "cutout": (cutout,),
}


class DiffAugment(Augmentation):
    """The transforms of ``policy`` (names from :data:`POLICIES`), in order, to every batch D scores."""

    def __init__(self, policy: tuple[str, ...]):
        self.transforms = [transform for name in policy for transform in POLICIES[name]]

    def __call__(self, samples: torch.Tensor) -> torch.Tensor:
        if samples.dim() != 4:
            raise ValueError(f"DiffAugment transforms images (batch, channels, height, width), got shape "
                             f"{tuple(samples.shape)}; use it with an image data set")
        for transform in self.transforms:
            samples = transform(samples)
        return samples
