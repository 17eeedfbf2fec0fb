"""GAN inversion: the latent codes whose images are closest to given images.

Two ways, as the literature has them (Zhu et al. 2016, "Generative Visual Manipulation on the Natural Image
Manifold", section 3; Donahue et al. 2017 and Dumoulin et al. 2017 for an encoder trained with the GAN):

- by optimisation, for any generator: starting from a draw of the prior, Adam minimises, per image,
  ``mean((G(z) - x)^2) + feature_weight * mean((F(G(z)) - F(x))^2)``, with F the pool3 features of the Inception
  network the metrics use (images brought to [0, 255] and resized to 299x299 as torch-fidelity does), scaled by
  the features' mean square on the targets so that the weight does not depend on their magnitude. Codes of a
  uniform prior are kept in its box [-1, 1];
- with the run's encoder, where the algorithm trained one (a network named ``encoder``): ``z = E(x)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ganzoo.api.prior import Prior, forward
from ganzoo.utils import eval_mode


@dataclass(frozen=True)
class Inversion:
    """Codes ``(n, z_dim)``, their images, and each image's mean squared pixel error against its target."""

    codes: torch.Tensor
    reconstructions: torch.Tensor
    errors: torch.Tensor


def invert_by_optimisation(generator: nn.Module, prior: Prior, images: torch.Tensor,
                           labels: torch.Tensor | None = None, *, steps: int = 300, lr: float = 0.05,
                           feature_weight: float = 0.0, features: nn.Module | None = None,
                           seed: int = 0) -> Inversion:
    """Codes for ``images`` (on the prior's device) by ``steps`` Adam steps from a seeded draw of the prior."""
    if feature_weight > 0 and features is None:
        raise ValueError("a feature loss needs the feature network")
    images = images.to(prior.device)
    codes = prior.sample(len(images), torch.Generator(device=prior.device).manual_seed(seed)).requires_grad_(True)
    optimizer = torch.optim.Adam([codes], lr=lr)
    with torch.no_grad():
        target_features = features(images) if feature_weight > 0 and features is not None else None
    generator.requires_grad_(False)
    try:
        with eval_mode(generator):
            for _ in range(steps):
                optimizer.zero_grad(set_to_none=True)
                made = forward(generator, codes, labels)
                loss = F.mse_loss(made, images)
                if target_features is not None and features is not None:
                    scale = target_features.square().mean().clamp_min(1e-12)
                    loss = loss + feature_weight * F.mse_loss(features(made), target_features) / scale
                loss.backward()
                optimizer.step()
                if prior.kind == "uniform":
                    with torch.no_grad():
                        codes.clamp_(-1, 1)
    finally:
        generator.requires_grad_(True)
    return finish(generator, codes.detach(), images, labels)


@torch.no_grad()
def invert_with_encoder(encoder: nn.Module, generator: nn.Module, images: torch.Tensor, device: torch.device,
                        labels: torch.Tensor | None = None) -> Inversion:
    """Codes for ``images`` from the run's encoder, ``z = E(x)``."""
    images = images.to(device)
    with eval_mode(encoder):
        codes = encoder(images)
    if not isinstance(codes, torch.Tensor) or codes.dim() != 2 or len(codes) != len(images):
        raise ValueError(f"the run's encoder gave {type(codes).__name__} of shape "
                         f"{tuple(getattr(codes, 'shape', ()))} for {len(images)} images, not (n, z_dim) codes")
    return finish(generator, codes, images, labels)


@torch.no_grad()
def finish(generator: nn.Module, codes: torch.Tensor, images: torch.Tensor, labels: torch.Tensor | None) -> Inversion:
    with eval_mode(generator):
        made = forward(generator, codes, labels)
    errors = (made - images).square().flatten(1).mean(dim=1)
    return Inversion(codes.cpu(), made.cpu(), errors.cpu())
