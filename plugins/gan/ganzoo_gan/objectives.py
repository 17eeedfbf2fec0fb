"""The value function of Goodfellow et al. 2014 and its non-saturating variant.

V(D, G) = E_data[log D(x)] + E_z[log(1 - D(G(z)))], with D(x) = sigmoid(s(x))
for the discriminator's logit s. The discriminator maximizes V; written with
softplus, log sigmoid(s) = -softplus(-s) and log(1 - sigmoid(s)) = -softplus(s).

For the optimal discriminator, V = 2 JSD(P_data || P_G) - log 4 (the paper's
Theorem 1), so (V + log 4) / 2 estimates the Jensen-Shannon divergence.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ganzoo import Objective


def value(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """V(D, G) estimated on one batch of each."""
    return -F.softplus(-real_scores).mean() - F.softplus(fake_scores).mean()


class Minimax(Objective):
    """G minimizes E[log(1 - D(G(z)))]: the saddle-point game as written in the paper."""

    divergence_name = "JS(P, Q)"  # (V + log 4) / 2 at the optimal D; JS with its usual 1/2 weights

    def discriminator_loss(self, real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
        return -value(real_scores, fake_scores)

    def generator_loss(self, fake_scores: torch.Tensor) -> torch.Tensor:
        return -F.softplus(fake_scores).mean()

    def divergence_estimate(self, real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
        return (value(real_scores, fake_scores) + math.log(4)) / 2


class NonSaturating(Minimax):
    """G maximizes E[log D(G(z))]: the paper's practical variant, with strong gradients early on."""

    def generator_loss(self, fake_scores: torch.Tensor) -> torch.Tensor:
        return F.softplus(-fake_scores).mean()
