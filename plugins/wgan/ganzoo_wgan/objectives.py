"""Wasserstein objectives: the critic's E_P[D] - E_Q[D] estimates W1(P, Q) when D is 1-Lipschitz.

Weight clipping (Arjovsky, Chintala and Bottou 2017) keeps D Lipschitz by
clamping every critic parameter to [-c, c] after each critic update. The
gradient penalty (Gulrajani et al. 2017) adds lambda * E[(||grad D(x_hat)||_2 - 1)^2]
at x_hat = eps x_real + (1 - eps) x_fake, eps ~ U[0, 1] per sample.
"""

from __future__ import annotations

import torch
from torch import nn

from ganzoo import Objective


class Wasserstein(Objective):
    """The critic maximizes E_P[D] - E_Q[D]; the generator maximizes E_Q[D]."""

    divergence_name = "W1(P, Q)"

    def discriminator_loss(self, real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
        return fake_scores.mean() - real_scores.mean()

    def generator_loss(self, fake_scores: torch.Tensor) -> torch.Tensor:
        return -fake_scores.mean()

    def divergence_estimate(self, real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
        return real_scores.mean() - fake_scores.mean()


class WeightClipping(Wasserstein):
    # a clipped critic is K-Lipschitz for some K the clip sets but does not state: W1 up to that factor
    divergence_name = "K W1(P, Q), K set by the clip"

    def __init__(self, clip: float):
        self.clip = clip

    @torch.no_grad()
    def after_discriminator_step(self, discriminator: nn.Module) -> None:
        for parameter in discriminator.parameters():
            parameter.clamp_(-self.clip, self.clip)


class GradientPenalty(Wasserstein):
    def __init__(self, weight: float):
        self.weight = weight

    def penalty(self, discriminator: nn.Module, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        shape = (real.shape[0],) + (1,) * (real.dim() - 1)
        eps = torch.rand(shape, device=real.device, dtype=real.dtype)
        mixed = (eps * real.detach() + (1 - eps) * fake.detach()).requires_grad_(True)
        (grad,) = torch.autograd.grad(discriminator(mixed).sum(), mixed, create_graph=True)
        return self.weight * ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()
