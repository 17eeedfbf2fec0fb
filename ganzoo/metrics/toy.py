"""Mode-coverage metrics for 2D Gaussian mixtures (VEEGAN / PacGAN protocol).

A sample is *high quality* when it lies within 3 standard deviations of its
nearest mode; a mode is *captured* when it is the nearest mode of at least
one high-quality sample. The reverse KL compares the histogram of
high-quality samples over the modes (q) with the uniform distribution over
the K modes (p): KL(q || p) = sum_k q_k log(K q_k).
"""

from __future__ import annotations

import torch

from ganzoo.api.specs import GaussianMixture

TOY_NUM_SAMPLES = 2500
HIGH_QUALITY_STDS = 3.0


def toy_metrics(samples: torch.Tensor, mixture: GaussianMixture) -> dict[str, float | int | None]:
    """``modes``, ``num_modes``, ``high_quality_pct`` and ``reverse_kl`` (None without high-quality samples)."""
    centers = mixture.centers.to(samples.device, samples.dtype)
    distances = torch.cdist(samples, centers)
    nearest_distance, nearest_mode = distances.min(dim=1)
    high_quality = nearest_distance <= HIGH_QUALITY_STDS * mixture.std
    counts = torch.bincount(nearest_mode[high_quality], minlength=len(centers)).double()
    total = counts.sum().item()
    reverse_kl = None
    if total > 0:
        q = counts[counts > 0] / total
        reverse_kl = float((q * (q * len(centers)).log()).sum())
    return {
        "modes": int((counts > 0).sum()),
        "num_modes": len(centers),
        "high_quality_pct": 100.0 * float(high_quality.double().mean()),
        "reverse_kl": reverse_kl,
    }
