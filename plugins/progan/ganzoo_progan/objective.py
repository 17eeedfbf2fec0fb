"""``wgan-gp-drift``: WGAN-GP with the drift term of Karras et al. 2018 (arXiv:1710.10196), Appendix A.1.

The discriminator minimises::

    E[D(x_fake)] - E[D(x_real)] + lambda E[(||grad D(x_hat)|| - gamma)^2] / gamma^2 + eps_drift E[D(x_real)^2]

with lambda = 10 and eps_drift = 0.001 (Appendix A.1: "to keep the
discriminator output from drifting too far away from zero"; the release's
``D_wgangp_acgan`` in loss.py, ``wgan_lambda``, ``wgan_epsilon``), x_hat
uniform on the segment between a real and a generated image. The generator
minimises -E[D(x_fake)]. The first three terms are ganzoo-wgan's ``wgan-gp``
(Gulrajani et al. 2017), reused here: the penalty with target gamma equals the
gamma = 1 penalty of the critic D / gamma, since (||g|| - gamma) / gamma =
||g / gamma|| - 1. gamma is the release's ``wgan_target`` (default 1); the
paper's CIFAR-10 inception scores (section 6.4) used gamma = 750, which the
Theano release's config.py sets for them (``iwass_target = 750.0``) and
``progan-32`` sets too.

The drift term is part of the discriminator's loss at every step and is logged
as ``penalty_drift`` (eps_drift times the mean squared real score).

Published settings (``defaults``, Appendix A.1): n_critic = 1 ("we alternate
between optimizing the generator and discriminator on a per-minibatch basis"),
Adam with lr 0.001, betas (0, 0.99) and epsilon 1e-8 (PyTorch's default epsilon).
"""

from __future__ import annotations

import torch
from pydantic import Field
from torch import nn

from ganzoo import Options, report
from ganzoo_wgan.objectives import GradientPenalty

ADAM = {"kind": "adam", "lr": 1e-3, "betas": [0.0, 0.99]}
DEFAULTS = {"d_steps": 1, "optimizer_g": ADAM, "optimizer_d": ADAM}


class DriftOptions(Options):
    weight: float = Field(10.0, ge=0, le=1e6, description="lambda, the gradient penalty's weight (paper: 10)")
    drift: float = Field(0.001, ge=0, le=1e6, description="eps_drift, the weight of E[D(x_real)^2] (paper: 0.001)")
    target: float = Field(1.0, gt=0, le=1e6, description=(
        "gamma, the gradient norm the penalty pulls towards, the release's wgan_target (release: 1; the paper's "
        "CIFAR-10 runs: 750)"))


class Scaled(nn.Module):
    """``network(x) * factor``."""

    def __init__(self, network: nn.Module, factor: float):
        super().__init__()
        self.network, self.factor = network, factor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.network(x) * self.factor


class GradientPenaltyWithDrift(GradientPenalty):
    def __init__(self, weight: float, drift: float, target: float = 1.0):
        super().__init__(weight)
        self.drift, self.target = drift, target

    def discriminator_loss(self, real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
        drift = self.drift * real_scores.square().mean()
        report("penalty_drift", drift)
        return super().discriminator_loss(real_scores, fake_scores) + drift

    def penalty(self, discriminator: nn.Module, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        critic = discriminator if self.target == 1 else Scaled(discriminator, 1 / self.target)
        return super().penalty(critic, real, fake)


def build_objective(options: DriftOptions) -> GradientPenaltyWithDrift:
    return GradientPenaltyWithDrift(options.weight, options.drift, options.target)
