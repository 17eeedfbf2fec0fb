"""RSGAN and RaSGAN against the equations of Jolicoeur-Martineau 2019, written out independently here."""

from __future__ import annotations

import json
import math

import pytest
import torch

import ganzoo
from ganzoo.testing import trainer

REAL = torch.tensor([0.3, -1.2, 2.0, 0.5, -0.4], dtype=torch.float64)
FAKE = torch.tensor([1.0, 0.1, -0.7, 2.5, -3.0], dtype=torch.float64)


def log_sigmoid(a: torch.Tensor) -> torch.Tensor:
    return torch.log(torch.sigmoid(a))


def rsgan_d(real, fake):  # -E log sigmoid(C(x_r) - C(x_f)), the i-th real sample paired with the i-th fake one
    return -log_sigmoid(real - fake).mean()


def rsgan_g(real, fake):  # -E log sigmoid(C(x_f) - C(x_r))
    return -log_sigmoid(fake - real).mean()


def ragan_d(real, fake):  # -E_r log sigmoid(C_r - E_f C_f) - E_f log(1 - sigmoid(C_f - E_r C_r))
    return -log_sigmoid(real - fake.mean()).mean() - torch.log(1 - torch.sigmoid(fake - real.mean())).mean()


def ragan_g(real, fake):  # -E_f log sigmoid(C_f - E_r C_r) - E_r log(1 - sigmoid(C_r - E_f C_f))
    return -log_sigmoid(fake - real.mean()).mean() - torch.log(1 - torch.sigmoid(real - fake.mean())).mean()


CLOSED_FORMS = {"rsgan": (rsgan_d, rsgan_g), "ragan": (ragan_d, ragan_g)}


def context(phase, real_scores, fake_scores):
    """What the runner hands the objective; the losses read only the scores."""
    batch = ganzoo.Batch(torch.zeros(len(fake_scores), 2))
    return ganzoo.StepContext(None, phase, batch, fake_scores, batch, real_scores)


def losses(name, real, fake):
    objective = ganzoo.build_objective(name)
    return (objective.d_loss(context("discriminator", real, fake)),
            objective.g_loss(context("generator", real, fake)))


@pytest.mark.parametrize("name", ["rsgan", "ragan"])
def test_losses_and_their_gradients_are_the_papers(name):
    real, fake = REAL.clone().requires_grad_(True), FAKE.clone().requires_grad_(True)
    for loss, closed_form in zip(losses(name, real, fake), CLOSED_FORMS[name]):
        expected = closed_form(real, fake)
        assert loss.item() == pytest.approx(expected.item(), abs=1e-6)
        # the same gradient, in the real and the generated scores: means are not detached, real scores are used
        got = torch.autograd.grad(loss, (real, fake))
        want = torch.autograd.grad(expected, (real, fake))
        for g, w in zip(got, want):
            assert torch.allclose(g, w, atol=1e-6)


def test_rsgan_pairs_samples_one_to_one_and_ragan_compares_with_means():
    shuffled = FAKE[[2, 0, 4, 1, 3]]
    rs_d, _ = losses("rsgan", REAL, FAKE)
    rs_d_shuffled, _ = losses("rsgan", REAL, shuffled)
    assert rs_d.item() != pytest.approx(rs_d_shuffled.item(), abs=1e-3)  # who meets whom matters
    ra = losses("ragan", REAL, FAKE)
    ra_shuffled = losses("ragan", REAL, shuffled)
    for a, b in zip(ra, ra_shuffled):  # only the other batch's mean enters each term
        assert a.item() == pytest.approx(b.item(), abs=1e-9)
    with pytest.raises(ValueError, match="one to one"):
        losses("rsgan", REAL, FAKE[:3])


@pytest.mark.parametrize(("name", "terms"), [("rsgan", 1), ("ragan", 2)])
def test_indistinguishable_scores_give_log_2_per_term_and_no_divergence(name, terms):
    same = torch.full((6,), 0.8, dtype=torch.float64)
    d, g = losses(name, same, same)
    assert d.item() == pytest.approx(terms * math.log(2), abs=1e-12)
    assert g.item() == pytest.approx(terms * math.log(2), abs=1e-12)
    assert ganzoo.build_objective(name).divergence_estimate(same, same).item() == pytest.approx(0, abs=1e-12)


@pytest.mark.parametrize("name", ["rsgan", "ragan"])
def test_generator_loss_is_the_discriminator_loss_with_roles_swapped_and_needs_real_scores(name):
    d_swapped, _ = losses(name, FAKE, REAL)
    _, g = losses(name, REAL, FAKE)
    assert g.item() == pytest.approx(d_swapped.item(), abs=1e-12)
    _, g_moved = losses(name, REAL + 1.0, FAKE)  # real samples judged more real: G's loss rises
    assert g_moved.item() > g.item() + 0.1
    objective = ganzoo.build_objective(name)
    assert objective.generator_uses_real
    with pytest.raises(NotImplementedError, match="g_loss"):
        objective.generator_loss(FAKE)
    with pytest.raises(ValueError, match="generator_uses_real"):
        objective.g_loss(context("generator", None, FAKE))


@pytest.mark.parametrize("name", ["rsgan", "ragan"])
def test_losses_stay_finite_where_the_naive_form_overflows(name):
    real = torch.full((4,), -60.0)
    fake = torch.full((4,), 60.0)  # float32: sigmoid(-120) rounds to 0 and log gives -inf
    assert torch.isinf(rsgan_d(real, fake))
    d, g = losses(name, real, fake)
    terms = 1 if name == "rsgan" else 2
    assert d.item() == pytest.approx(terms * 120.0, rel=1e-6)  # -log sigmoid(-a) = a + log(1 + e^-a)
    assert g.item() == pytest.approx(0.0, abs=1e-6)


def test_rsgan_optimal_critic_on_two_atoms():
    """Two atoms with P = (p1, p2), Q = (q1, q2); over independent pairs the loss is, with d = C(1) - C(2),
    -p1 q2 log sigmoid(d) - p2 q1 log sigmoid(-d) + const, minimized where sigmoid(d) = p1 q2 / (p1 q2 + p2 q1):
    d* = log(p1 q2 / (p2 q1)), the log of the ratio of the two density ratios."""
    p, q = (0.3, 0.7), (0.6, 0.4)
    real_atoms = torch.tensor([0] * 3 + [1] * 7)  # P, as 10 equally likely draws
    fake_atoms = torch.tensor([0] * 6 + [1] * 4)  # Q
    real_index, fake_index = real_atoms.repeat_interleave(10), fake_atoms.repeat(10)  # all 100 pairs: P x Q
    scores = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.Adam([scores], lr=0.05)
    objective = ganzoo.build_objective("rsgan")
    for _ in range(1500):
        loss = objective.d_loss(context("discriminator", scores[real_index], scores[fake_index]))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    d = (scores[0] - scores[1]).item()
    assert d == pytest.approx(math.log(p[0] * q[1] / (p[1] * q[0])), abs=1e-3)


@pytest.mark.parametrize("name", ["rsgan", "ragan"])
def test_trains_with_the_gan_pair_on_ring8(tmp_path, name):
    run = trainer(tmp_path / "run", gan="gan", objective=name, steps=6, log_every=3,
                  gan_options={"g_hidden": 32, "d_hidden": 32}, metrics={"suites": []})
    seen = []
    g_loss = run.objective.g_loss

    def recording(ctx):
        seen.append(ctx.real_scores is not None and len(ctx.real) == len(ctx.fake))
        return g_loss(ctx)

    run.objective.g_loss = recording
    before = {key: [p.detach().clone() for p in net.parameters()] for key, net in run.networks.items()}
    run.fit()
    assert seen == [True] * 6  # every generator step scored a real batch of its own
    for net_name, network in run.networks.items():
        assert any(not torch.equal(a, b) for a, b in zip(before[net_name], network.parameters())), net_name
    records = [json.loads(line) for line in (tmp_path / "run" / "stats.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [3, 6]
    for record in records:
        assert all(math.isfinite(record[key]) for key in ("loss_d", "loss_g", "divergence"))
