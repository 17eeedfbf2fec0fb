"""The first-party ``gan`` plugin: networks and objectives against the paper's definitions."""

from __future__ import annotations

import math

import pytest
import torch

import ganzoo
from ganzoo.layers import Maxout
from ganzoo_gan.objectives import Minimax, NonSaturating


def test_builds_for_points_and_images():
    G, D = ganzoo.build_gan("gan", ganzoo.DataInfo((2,)), z_dim=3)
    assert G(torch.randn(5, 3)).shape == (5, 2)
    assert D(torch.randn(5, 2)).shape == (5,)
    G, D = ganzoo.build_gan("gan", ganzoo.DataInfo((1, 28, 28)), z_dim=100)
    images = G(torch.randn(4, 100))
    assert images.shape == (4, 1, 28, 28) and images.abs().max() <= 1
    assert D(images).shape == (4,)
    assert G.net[0].out_features == 1200 and D.net[2].units == 240  # the paper's sizes for images
    with pytest.raises(ValueError, match="points .* or images"):
        ganzoo.build_gan("gan", ganzoo.DataInfo((3, 4)))


def test_maxout_takes_the_max_over_pieces():
    layer = Maxout(3, units=2, pieces=4)
    x = torch.randn(6, 3)
    pieces = (x @ layer.linear.weight.T + layer.linear.bias).view(6, 2, 4)
    assert torch.equal(layer(x), pieces.max(dim=2).values)


def test_losses_are_the_value_function_of_the_paper():
    real, fake = torch.randn(64), torch.randn(64)
    d_real, d_fake = torch.sigmoid(real), torch.sigmoid(fake)
    value = d_real.log().mean() + (1 - d_fake).log().mean()
    assert Minimax().discriminator_loss(real, fake).item() == pytest.approx(-value.item(), rel=1e-5)
    assert Minimax().generator_loss(fake).item() == pytest.approx((1 - d_fake).log().mean().item(), rel=1e-5)
    assert NonSaturating().generator_loss(fake).item() == pytest.approx(-d_fake.log().mean().item(), rel=1e-5)


def test_nonsaturating_keeps_its_gradient_when_the_discriminator_wins():
    # D(G(z)) near 0: log(1 - D) saturates, -log D does not (the paper's section 3)
    confident = torch.full((8,), -12.0, requires_grad=True)
    (g_minimax,) = torch.autograd.grad(Minimax().generator_loss(confident), confident)
    (g_nonsat,) = torch.autograd.grad(NonSaturating().generator_loss(confident), confident)
    assert g_minimax.abs().max() < 1e-5 < 0.1 < g_nonsat.abs().min()


def test_optimal_discriminator_turns_the_value_into_jensen_shannon():
    # P = N(0, 1), Q = N(1, 1); D*(x) = p / (p + q) has logit log p(x) - log q(x) = 0.5 - x
    gen = torch.Generator().manual_seed(0)
    n = 400_000
    real = torch.randn(n, generator=gen, dtype=torch.float64)
    fake = torch.randn(n, generator=gen, dtype=torch.float64) + 1
    estimate = Minimax().divergence_estimate(0.5 - real, 0.5 - fake).item()
    x = torch.linspace(-12, 13, 200_001, dtype=torch.float64)
    p = torch.exp(-x**2 / 2) / math.sqrt(2 * math.pi)
    q = torch.exp(-(x - 1) ** 2 / 2) / math.sqrt(2 * math.pi)
    m = (p + q) / 2
    jsd = 0.5 * torch.trapezoid(p * (p / m).log(), x) + 0.5 * torch.trapezoid(q * (q / m).log(), x)
    assert estimate == pytest.approx(jsd.item(), abs=3e-3)  # Monte-Carlo sd is below 1e-3 here
