"""Wasserstein, hinge and least-squares objectives against their analytic properties."""

from __future__ import annotations

import pytest
import torch

import ganzoo
from conftest import toy_run
from ganzoo.registry.discovery import get_zoo
from ganzoo.training.config import resolve_config
from ganzoo.training.trainer import Trainer


class Linear(torch.nn.Module):
    def __init__(self, weight: torch.Tensor):
        super().__init__()
        self.weight = torch.nn.Parameter(weight)

    def forward(self, x):
        return x.flatten(1) @ self.weight + 0.7


@pytest.mark.parametrize("shape", [(2,), (1, 4, 4)])
def test_gradient_penalty_of_a_linear_critic(shape):
    # grad D = w everywhere, so the penalty is lambda (||w|| - 1)^2 whatever the interpolates
    size = torch.Size(shape).numel()
    weight = torch.arange(1.0, size + 1) / size
    objective = ganzoo.build_objective("wgan-gp", weight=10.0)
    penalty = objective.penalty(Linear(weight), torch.randn(16, *shape), torch.randn(16, *shape))
    assert penalty.item() == pytest.approx(10.0 * (weight.norm().item() - 1) ** 2, rel=1e-6)


def test_gradient_penalty_vanishes_for_a_unit_gradient_norm_critic_and_is_differentiable():
    # D(x) = ||x - m|| has a unit-norm gradient wherever x != m
    class Distance(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.m = torch.nn.Parameter(torch.tensor([5.0, 5.0]))

        def forward(self, x):
            return (x - self.m).norm(dim=1)

    critic = Distance()
    penalty = ganzoo.build_objective("wgan-gp").penalty(critic, torch.randn(32, 2), torch.randn(32, 2))
    assert penalty.item() == pytest.approx(0.0, abs=1e-10)
    linear = Linear(torch.tensor([3.0, 4.0]))
    ganzoo.build_objective("wgan-gp").penalty(linear, torch.randn(8, 2), torch.randn(8, 2)).backward()
    # d/dw of 10 (||w|| - 1)^2 = 20 (||w|| - 1) w / ||w||
    assert torch.allclose(linear.weight.grad, 20 * 4 * torch.tensor([3.0, 4.0]) / 5)


def test_clipping_keeps_every_critic_weight_within_c(tmp_path):
    zoo = get_zoo()
    raw = toy_run(tmp_path, gan="wgan", steps=3, optimizer_d={"kind": "sgd", "lr": 1.0},
                  gan_options={"hidden": 16})
    trainer = Trainer(resolve_config(raw, zoo), zoo, progress=False)
    assert trainer.config.d_steps == 5 and trainer.objective.clip == 0.01
    trainer.fit()
    weights = torch.cat([p.detach().flatten() for p in trainer.discriminator.parameters()])
    assert weights.abs().max().item() <= 0.01
    assert (weights.abs() == 0.01).sum().item() > 0  # the lr is large enough that clipping did bite


def test_wasserstein_critic_with_penalty_estimates_w1_of_a_shift():
    # W1(N(0, 1), N(1, 1)) = 1, attained by the critic D(x) = -x. The penalty is soft: a critic of
    # slope -s gains s but pays lambda (s - 1)^2, so the best s is 1 + 1 / (2 lambda) = 1.05 for lambda = 10.
    torch.manual_seed(0)
    objective = ganzoo.build_objective("wgan-gp")
    critic = torch.nn.Sequential(torch.nn.Linear(1, 32), torch.nn.Tanh(), torch.nn.Linear(32, 1))
    optimizer = torch.optim.Adam(critic.parameters(), lr=3e-3)
    for _ in range(800):
        real, fake = torch.randn(256, 1), torch.randn(256, 1) + 1
        loss = objective.discriminator_loss(critic(real).view(-1), critic(fake).view(-1))
        loss = loss + objective.penalty(critic, real, fake)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        real, fake = torch.randn(200_000, 1), torch.randn(200_000, 1) + 1
        estimate = objective.divergence_estimate(critic(real).view(-1), critic(fake).view(-1)).item()
    assert estimate == pytest.approx(1.05, abs=0.01)


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
    assert ganzoo.build_objective("wgan").generator_loss(fake).item() == pytest.approx(-0.5)
    assert ganzoo.build_objective("lsgan").generator_loss(fake).item() == pytest.approx(0.5 * (4 + 0.25 + 1) / 3)
    pearson = ganzoo.build_objective("lsgan-pearson")
    assert pearson.generator_loss(fake).item() == pytest.approx(0.5 * (1 + 0.25 + 4) / 3)
