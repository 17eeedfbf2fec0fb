"""Embedded 2D toy data: Gaussian mixtures generated in code, no download.

Both follow the mode-collapse benchmarks of VEEGAN (Srivastava et al. 2017)
and PacGAN (Lin et al. 2018).
"""

from __future__ import annotations

import math

import torch
from pydantic import Field

from ganzoo.api.options import Options
from ganzoo.api.specs import DataInfo, DatasetSpec, GaussianMixture, LoadedData

VEEGAN = "Srivastava et al. 2017, VEEGAN: Reducing Mode Collapse in GANs using Implicit Variational Learning"
PACGAN = "Lin et al. 2018, PacGAN: The power of two samples in generative adversarial networks"


class ToyOptions(Options):
    num_samples: int = Field(100_000, gt=0, description="points drawn once, then sampled with replacement")
    seed: int = Field(0, ge=0, description="seed of the draw; fixed so every run sees the same data")


def ring8_centers() -> torch.Tensor:
    """8 modes evenly spaced on the unit circle."""
    angles = torch.arange(8, dtype=torch.float64) * (2 * math.pi / 8)
    return torch.stack([angles.cos(), angles.sin()], dim=1).float()


def grid25_centers() -> torch.Tensor:
    """25 modes at (-4 + 2i, -4 + 2j) for i, j in 0..4."""
    axis = torch.arange(-4.0, 5.0, 2.0)
    return torch.cartesian_prod(axis, axis)


def sample_mixture(mixture: GaussianMixture, n: int, generator: torch.Generator) -> torch.Tensor:
    """``n`` points from the equal-weight mixture."""
    modes = torch.randint(len(mixture.centers), (n,), generator=generator)
    noise = torch.randn(n, mixture.centers.shape[1], generator=generator)
    return mixture.centers[modes] + mixture.std * noise


def _loader(centers: torch.Tensor, std: float):
    def build(options: ToyOptions) -> LoadedData:
        mixture = GaussianMixture(centers=centers, std=std)
        generator = torch.Generator().manual_seed(options.seed)
        points = sample_mixture(mixture, options.num_samples, generator)
        return LoadedData(torch.utils.data.TensorDataset(points), DataInfo(shape=(2,)), mixture)

    return build


TOY_DATASETS = [
    DatasetSpec(
        name="ring8",
        build=_loader(ring8_centers(), 0.01),
        citation=VEEGAN,
        description="8 Gaussians on a circle of radius 1, std 0.01",
        options=ToyOptions,
    ),
    DatasetSpec(
        name="grid25",
        build=_loader(grid25_centers(), 0.05),
        citation=PACGAN,
        description="25 Gaussians on a 5x5 grid with spacing 2, std 0.05",
        options=ToyOptions,
    ),
]
