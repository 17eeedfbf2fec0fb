"""Paths between latent vectors: linear, and spherical (slerp).

Spherical interpolation (Shoemake 1985; proposed for GAN latents by White
2016, "Sampling Generative Networks") moves along the great circle between
``z0`` and ``z1`` at constant angular speed::

    slerp(z0, z1; t) = sin((1 - t) theta) / sin(theta) z0 + sin(t theta) / sin(theta) z1,
    theta = angle between z0 and z1

High-dimensional Gaussian vectors concentrate near the sphere of radius
sqrt(z_dim); the midpoint of a straight line between two of them lies well
inside it (norm about sqrt(z_dim / 2)), where the generator saw few latents
during training, while the slerp path keeps the norm when both ends share it.
"""

from __future__ import annotations

import torch

METHODS = ("slerp", "linear")
# Where sin(theta) falls below this, slerp's weights are 0/0: for (nearly) parallel vectors the arc is the
# chord, and for (nearly) opposite ones no single great circle joins them. Both then take the chord.
DEGENERATE_SINE = 1e-6


def linear_path(z0: torch.Tensor, z1: torch.Tensor, steps: int) -> torch.Tensor:
    """``(steps, dim)``: evenly spaced points on the segment from ``z0`` to ``z1``, both ends included."""
    t = torch.linspace(0, 1, steps, dtype=z0.dtype, device=z0.device).unsqueeze(1)
    return (1 - t) * z0 + t * z1


def slerp_path(z0: torch.Tensor, z1: torch.Tensor, steps: int) -> torch.Tensor:
    """``(steps, dim)``: evenly spaced angles on the great-circle arc from ``z0`` to ``z1``.

    A zero vector, or two parallel or opposite vectors, give the straight segment instead.
    """
    if z0.norm() == 0 or z1.norm() == 0:
        return linear_path(z0, z1, steps)
    u, v = z0 / z0.norm(), z1 / z1.norm()
    theta = 2 * torch.atan2((u - v).norm(), (u + v).norm())  # accurate near 0 and pi, unlike arccos of a dot
    if torch.sin(theta) < DEGENERATE_SINE:
        return linear_path(z0, z1, steps)
    t = torch.linspace(0, 1, steps, dtype=z0.dtype, device=z0.device).unsqueeze(1)
    return (torch.sin((1 - t) * theta) * z0 + torch.sin(t * theta) * z1) / torch.sin(theta)


def latent_paths(starts: torch.Tensor, ends: torch.Tensor, steps: int, method: str) -> torch.Tensor:
    """``(rows * steps, dim)``: one path per row of ``starts``/``ends``, row after row."""
    if method not in METHODS:
        raise ValueError(f"unknown interpolation '{method}'; use one of {', '.join(METHODS)}")
    path = slerp_path if method == "slerp" else linear_path
    return torch.cat([path(z0, z1, steps) for z0, z1 in zip(starts, ends)])
