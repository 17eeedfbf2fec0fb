"""BigGAN's off-diagonal orthogonal regularisation (paper, section 3.1, eq. 3; ajbrock/BigGAN-PyTorch, utils.ortho)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
from torch import nn

import ganzoo
from ganzoo import StepContext
from ganzoo.registry.discovery import get_zoo
from ganzoo.testing import resolved_config
from ganzoo_biggan.ortho import OrthogonalHinge, off_diagonal_energy, orthogonal_penalty, regularised_weights

BETA = 1e-4


def pairwise_energy(weight: torch.Tensor) -> torch.Tensor:
    """sum over i != j of <w_i, w_j>^2, the rows w_i of the weight read as (out, in * kh * kw): eq. 3's norm."""
    rows = weight.flatten(1)
    total = torch.zeros((), dtype=weight.dtype)
    for i in range(len(rows)):
        for j in range(len(rows)):
            if i != j:
                total = total + (rows[i] @ rows[j]) ** 2
    return total


def release_gradient(weight: torch.Tensor, strength: float) -> torch.Tensor:
    """What utils.ortho adds to a parameter's gradient: strength * 2 (W W^T ⊙ (1 - I)) W, W = (out, rest)."""
    w = weight.flatten(1)
    return (strength * 2 * ((w @ w.T) * (1 - torch.eye(len(w), dtype=w.dtype))) @ w).view_as(weight)


class Holder(nn.Module):
    def __init__(self, weight: torch.Tensor):
        super().__init__()
        self.weight = nn.Parameter(weight.clone())


SHAPES = [(3, 5), (6, 2), (4, 2, 3, 3), (5, 1)]  # fewer rows than columns, more, a conv kernel, a column


@pytest.mark.parametrize("shape", SHAPES)
def test_value_is_beta_over_two_times_the_off_diagonal_energy(shape):
    weight = torch.randn(shape, dtype=torch.float64)
    assert torch.allclose(off_diagonal_energy(weight), pairwise_energy(weight))
    assert torch.allclose(orthogonal_penalty(Holder(weight), BETA), BETA / 2 * pairwise_energy(weight))


@pytest.mark.parametrize("shape", SHAPES)
def test_gradient_is_the_release_s_closed_form(shape):
    holder = Holder(torch.randn(shape, dtype=torch.float64))
    (grad,) = torch.autograd.grad(orthogonal_penalty(holder, BETA), holder.weight)
    assert torch.allclose(grad, release_gradient(holder.weight.detach(), BETA), rtol=1e-10, atol=1e-14)


def test_zero_for_orthogonal_filters_whatever_their_norms():
    q, _ = torch.linalg.qr(torch.randn(7, 4, dtype=torch.float64))  # 4 orthonormal columns
    filters = q.T  # 4 orthonormal rows of 7
    assert off_diagonal_energy(filters).item() == pytest.approx(0, abs=1e-24)
    scaled = torch.diag(torch.tensor([3.0, 0.5, 1.0, 2.0], dtype=torch.float64)) @ filters
    assert off_diagonal_energy(scaled).item() == pytest.approx(0, abs=1e-24)  # the norms are not constrained...
    assert (scaled @ scaled.T - torch.eye(4, dtype=torch.float64)).square().sum() > 1  # ...as ||W W^T - I|| would
    assert off_diagonal_energy(filters + 0.1).item() > 1e-3


def test_covers_every_weight_matrix_of_g_but_its_shared_embedding():
    torch.manual_seed(0)
    G, _ = ganzoo.build_gan("biggan-32", ganzoo.DataInfo((3, 32, 32), num_classes=10, conditional=True),
                            g_channels=8, d_channels=8, g_attention=(16,))
    names = [name for name, _ in regularised_weights(G)]
    expected = [name for name, p in G.named_parameters() if p.dim() >= 2 and name != "shared.weight"]
    assert names == expected and len(names) == 1 + 3 * 7 + 4 + 1
    assert all(name.endswith("parametrizations.weight.original") for name in names)  # the raw weights
    assert "blocks.0.norm1.gain.parametrizations.weight.original" in names
    assert "attention.1.query.parametrizations.weight.original" in names
    parameters = dict(G.named_parameters())
    total = sum(BETA / 2 * off_diagonal_energy(parameters[name].detach().double()) for name in expected)
    assert orthogonal_penalty(G, BETA).item() == pytest.approx(total.item(), rel=1e-4)


def test_objective_adds_the_penalty_to_the_generator_step_only():
    torch.manual_seed(0)
    G = nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 3))
    fake = ganzoo.Batch(torch.randn(5, 3))
    ctx = StepContext(SimpleNamespace(networks={"generator": G}), "generator", fake, torch.randn(5))
    objective = OrthogonalHinge(BETA)
    assert torch.equal(objective.g_penalty(ctx), orthogonal_penalty(G, BETA))
    assert objective.d_penalty(StepContext(ctx.step, "discriminator", fake, torch.randn(5), fake,
                                           torch.randn(5))) is None
    assert OrthogonalHinge(0.0).g_penalty(ctx) is None
    real_scores, fake_scores = torch.tensor([2.0, 0.5]), torch.tensor([-2.0, 0.5])
    assert objective.discriminator_loss(real_scores, fake_scores).item() == pytest.approx((0.5 + 1.5) / 2)
    assert objective.generator_loss(fake_scores).item() == pytest.approx(0.75)
    with pytest.raises(ValueError, match="has none; use the hinge objective"):
        objective.g_penalty(StepContext(SimpleNamespace(networks={}), "generator", fake, torch.randn(5)))


def test_both_gans_default_to_it_with_beta_1e4():
    for gan in ("biggan-32", "biggan-128"):
        assert resolved_config(gan=gan).objective == "biggan-hinge"
    spec = get_zoo().objectives.get("biggan-hinge")
    assert spec.options().beta == 1e-4
