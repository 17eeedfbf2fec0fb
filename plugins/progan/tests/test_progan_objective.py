"""``wgan-gp-drift``: WGAN-GP plus eps_drift E[D(x_real)^2] (Karras et al. 2018, Appendix A.1; loss.py)."""

from __future__ import annotations

import pytest
import torch

import ganzoo
from ganzoo.api.stats import Statistics, collecting
from ganzoo.testing import resolved_config


class Linear(torch.nn.Module):
    """D(x) = <w, x> + 0.7: its gradient is w everywhere, so the penalty is lambda (||w|| - gamma)^2 / gamma^2."""

    def __init__(self, weight: torch.Tensor):
        super().__init__()
        self.weight = torch.nn.Parameter(weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(1) @ self.weight + 0.7


def test_discriminator_loss_adds_the_drift_term_to_the_wasserstein_estimate():
    objective = ganzoo.build_objective("wgan-gp-drift")
    real, fake = torch.tensor([1.0, -2.0, 3.0, 0.5]), torch.tensor([0.25, 4.0, -1.0, 2.0])
    expected = fake.mean() - real.mean() + 0.001 * (1 + 4 + 9 + 0.25) / 4
    statistics = Statistics()
    with collecting(statistics):
        loss = objective.discriminator_loss(real, fake)
    assert loss.item() == pytest.approx(expected.item(), rel=1e-6)
    assert statistics.means()["penalty_drift"] == pytest.approx(0.001 * 14.25 / 4, rel=1e-6)
    assert objective.generator_loss(fake).item() == pytest.approx(-fake.mean().item())
    heavy = ganzoo.build_objective("wgan-gp-drift", drift=0.5)
    assert heavy.discriminator_loss(real, fake).item() == pytest.approx((fake.mean() - real.mean()).item() + 0.5 * 14.25 / 4)


@pytest.mark.parametrize("target", [1.0, 750.0])
def test_gradient_penalty_pulls_the_gradient_norm_towards_gamma(target):
    weight = torch.tensor([3.0, 4.0, 12.0, 0.0])  # norm 13
    objective = ganzoo.build_objective("wgan-gp-drift", target=target)
    penalty = objective.penalty(Linear(weight), torch.randn(8, 1, 2, 2), torch.randn(8, 1, 2, 2))
    assert penalty.item() == pytest.approx(10.0 * (13 - target) ** 2 / target**2, rel=1e-5)


def test_published_settings_come_with_the_objective():
    config = resolved_config(gan="wgan-gp", objective="wgan-gp-drift")  # an MLP pair that has no settings of its own
    assert config.d_steps == 1
    assert config.optimizer_d.lr == 1e-3 and config.optimizer_d.betas == (0.0, 0.99)
