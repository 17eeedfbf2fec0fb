"""``logistic-kl``: VEEGAN's adversarial losses, a logistic discriminator and a generator that minimises its logit.

The discriminator is trained as a logistic classifier (VEEGAN's O_LR; project page, akashgit/VEEGAN ``index.md``),
which at its optimum gives the log density ratio s = log p_real / p_fake as its logit. VEEGAN's generator then
minimises the mean of that ratio over its own samples, the estimate of KL(q || p) in its bound (the first term of
Ô on the project page; the released notebook's ``tf.reduce_mean(log_d_posterior)``).

ganzoo's scores are high for real samples, VEEGAN's D is high for generated ones (D = log q / p): the two differ
in sign only, so the generator's loss here is ``-mean(fake_scores)`` and D's is the usual
``softplus(-real) + softplus(fake)``. The divergence logged is that KL estimate.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ganzoo import Objective


class LogisticKL(Objective):
    """Logistic D; G minimises -E[s(G(z))] = E_q[log q / p] at D's optimum: an estimate of KL(q || p)."""

    divergence_name = "KL(Q || P) of the joints (z, x)"

    def discriminator_loss(self, real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
        return F.softplus(-real_scores).mean() + F.softplus(fake_scores).mean()

    def generator_loss(self, fake_scores: torch.Tensor) -> torch.Tensor:
        return -fake_scores.mean()

    def divergence_estimate(self, real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
        return -fake_scores.mean()
