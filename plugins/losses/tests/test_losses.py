"""The hinge and least-squares objectives against their analytic optima."""

from __future__ import annotations

import pytest
import torch

import ganzoo


def optimal_scores(objective, p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """Minimize the discriminator loss over free per-atom scores for discrete P and Q."""
    scores = torch.zeros(len(p), requires_grad=True)
    optimizer = torch.optim.Adam([scores], lr=0.05)
    for _ in range(2000):
        # weighted means over atoms stand in for the expectations: atoms carry weights p and q
        loss = objective.discriminator_loss(scores.repeat_interleave(_counts(p)), scores.repeat_interleave(_counts(q)))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return scores.detach()


def _counts(weights: torch.Tensor) -> torch.Tensor:
    return (weights * 100).round().long()


P = torch.tensor([0.1, 0.2, 0.3, 0.4])
Q = torch.tensor([0.4, 0.3, 0.2, 0.1])


@pytest.mark.parametrize(("name", "a", "b"), [("lsgan", 0.0, 1.0), ("lsgan-pearson", -1.0, 1.0)])
def test_least_squares_optimal_discriminator(name, a, b):
    # Mao et al. 2017, eq. 4: D*(x) = (b p(x) + a q(x)) / (p(x) + q(x))
    scores = optimal_scores(ganzoo.build_objective(name), P, Q)
    assert torch.allclose(scores, (b * P + a * Q) / (P + Q), atol=1e-3)


def test_hinge_optimal_discriminator_is_the_sign_of_p_minus_q():
    scores = optimal_scores(ganzoo.build_objective("hinge"), P, Q)
    assert torch.allclose(scores, torch.sign(P - Q), atol=0.06)


def test_generator_losses():
    fake = torch.tensor([-1.0, 0.5, 2.0])
    assert ganzoo.build_objective("hinge").generator_loss(fake).item() == pytest.approx(-0.5)
    assert ganzoo.build_objective("lsgan").generator_loss(fake).item() == pytest.approx(0.5 * (4 + 0.25 + 1) / 3)
    pearson = ganzoo.build_objective("lsgan-pearson")
    assert pearson.generator_loss(fake).item() == pytest.approx(0.5 * (1 + 0.25 + 4) / 3)
