"""R1 (Mescheder et al. 2018, eq. 9) on critics whose input gradient is known, and its lazy schedule in real runs."""

from __future__ import annotations

import json
import math

import pytest
import torch
from pydantic import ValidationError

import ganzoo
from ganzoo.testing import trainer


class Scoring:
    """Stands in for the runner's step: ``discriminate`` is the only way the penalty reaches the critic."""

    def __init__(self, critic, pack: int = 1):
        self.critic, self.pack, self.labels = critic, pack, []

    def discriminate(self, samples, labels=None, **_):
        self.labels.append(labels)
        return self.critic(samples.reshape(len(samples) // self.pack, -1))


def penalty(critic, samples, gamma=10.0, pack=1, labels=None):
    step = Scoring(critic, pack)
    batch = ganzoo.Batch(samples, labels)
    ctx = ganzoo.StepContext(step, "discriminator", batch, torch.zeros(len(samples)), batch, torch.zeros(len(samples)))
    return ganzoo.build_objective("r1", gamma=gamma, interval=1).d_penalty(ctx), step


@pytest.mark.parametrize("shape", [(2,), (3, 4, 4)])
def test_linear_critic_gives_gamma_over_2_times_the_squared_weight_norm(shape):
    # D(x) = <w, x> + b has grad_x D = w everywhere
    w = torch.randn(*shape, dtype=torch.float64, requires_grad=True)
    x = torch.randn(7, *shape, dtype=torch.float64)
    value, _ = penalty(lambda s: (s.reshape(len(s), -1) @ w.reshape(-1)) + 0.3, x, gamma=3.0)
    assert value.item() == pytest.approx(1.5 * w.square().sum().item(), rel=1e-12)
    (grad,) = torch.autograd.grad(value, w)  # create_graph: the penalty trains the critic, d/dw = gamma w
    assert torch.allclose(grad, 3.0 * w, atol=1e-12)


def test_squared_norm_critic_gives_gamma_over_2_times_the_mean_squared_norm():
    # D(x) = ||x||^2 / 2 has grad_x D = x: R1 = gamma/2 E||x||^2, the expectation over the batch
    x = torch.randn(9, 2, dtype=torch.float64)
    value, _ = penalty(lambda s: 0.5 * s.square().sum(1), x, gamma=10.0)
    assert value.item() == pytest.approx(5.0 * x.square().sum(1).mean().item(), rel=1e-12)


def test_penalty_is_taken_at_the_samples_detached_from_what_made_them_with_their_labels():
    weight = torch.tensor(2.0, requires_grad=True)  # "the generator": the samples depend on it
    x = weight * torch.randn(5, 2, dtype=torch.float64)
    labels = torch.arange(5)
    value, step = penalty(lambda s: 0.5 * s.square().sum(1), x, gamma=2.0, labels=labels)
    assert value.item() == pytest.approx(x.square().sum(1).mean().item(), rel=1e-12)  # grad_x D = x
    (to_generator,) = torch.autograd.grad(value, weight, allow_unused=True)
    assert to_generator is None  # x was detached: nothing flows back to what made the samples
    assert step.labels == [labels]


def test_packed_critic_takes_the_expectation_over_packs():
    # pairs scored by D(x1, x2) = <w, (x1, x2)>: the gradient per pack is w, so R1 = gamma/2 ||w||^2, as unpacked
    w = torch.randn(4, dtype=torch.float64)
    x = torch.randn(8, 2, dtype=torch.float64)
    value, _ = penalty(lambda s: s @ w, x, gamma=4.0, pack=2)
    assert value.item() == pytest.approx(2.0 * w.square().sum().item(), rel=1e-12)


def test_options():
    objective = ganzoo.build_objective("r1")
    assert (objective.gamma, objective.d_penalty_every, objective.g_penalty_every) == (10.0, 16, 1)
    for bad in ({"gamma": -1.0}, {"interval": 0}, {"interval": True}, {"every": 4}):
        with pytest.raises(ValidationError):
            ganzoo.build_objective("r1", **bad)
    zero, _ = penalty(lambda s: s.sum(1), torch.randn(3, 2), gamma=0.0)
    assert zero is None  # nothing to add, and no lazy optimizer step of its own


def test_non_saturating_losses_and_the_jensen_shannon_estimate():
    real, fake = torch.randn(64, dtype=torch.float64), torch.randn(64, dtype=torch.float64)
    objective = ganzoo.build_objective("r1")
    value = torch.log(torch.sigmoid(real)).mean() + torch.log(1 - torch.sigmoid(fake)).mean()  # V(D, G)
    assert objective.discriminator_loss(real, fake).item() == pytest.approx(-value.item(), rel=1e-12)
    g_expected = -torch.log(torch.sigmoid(fake)).mean()
    assert objective.generator_loss(fake).item() == pytest.approx(g_expected.item(), rel=1e-12)
    # Goodfellow et al. 2014, Theorem 1: V = 2 JS - log 4 at the optimal D; D = 1/2 everywhere gives JS = 0
    assert objective.divergence_estimate(real, fake).item() == pytest.approx((value.item() + math.log(4)) / 2)
    zeros = torch.zeros(8)
    assert objective.divergence_estimate(zeros, zeros).item() == pytest.approx(0.0, abs=1e-7)


SMALL = {"gan_options": {"g_hidden": 32, "d_hidden": 32}, "metrics": {"suites": []}}  # a few CPU seconds


def records(folder):
    return [json.loads(line) for line in (folder / "stats.jsonl").read_text().splitlines()]


@pytest.mark.parametrize(("interval", "steps", "due"), [(4, 9, [0, 4, 8]), (1, 3, [0, 1, 2])])
def test_schedule_and_weight_of_the_penalty_in_a_run(tmp_path, interval, steps, due):
    """With plain SGD, the lazy step moves D by exactly -lr * k * grad R1: the runner's factor k, applied once,
    to the penalty this objective returns (gamma/2 E||grad D||^2, not yet multiplied)."""
    lr = 0.01
    run = trainer(tmp_path / "run", gan="gan", objective="r1", steps=steps, log_every=1, batch_size=8, **SMALL,
                  objective_options={"gamma": 10.0, "interval": interval}, optimizer_d={"kind": "sgd", "lr": lr})
    objective, critic = run.objective, run.networks["discriminator"]
    calls, moves = [], []
    d_penalty, after = objective.d_penalty, objective.after_discriminator_step

    def recording(ctx):
        value = d_penalty(ctx)
        x = ctx.real.samples.detach().clone().requires_grad_(True)  # R1 again, independently: no augmentation here
        (grad_x,) = torch.autograd.grad(critic(x).sum(), x, create_graph=True)
        expected = 5.0 * grad_x.square().sum(1).mean()
        assert value.item() == pytest.approx(expected.item(), rel=1e-5)
        grads = torch.autograd.grad(expected, list(critic.parameters()), allow_unused=True)
        calls.append((ctx.index, ctx.phase, [p.detach().clone() for p in critic.parameters()], grads))
        return value

    def after_step(discriminator):
        if interval > 1 and calls and len(moves) < len(calls):  # the update right after a lazy penalty
            moves.append([p.detach().clone() for p in discriminator.parameters()])
        after(discriminator)

    objective.d_penalty, objective.after_discriminator_step = recording, after_step
    run.fit()
    assert [index for index, *_ in calls] == due
    assert {phase for _, phase, *_ in calls} == {"discriminator"}
    logged = records(tmp_path / "run")
    assert [r["step"] - 1 for r in logged if "penalty" in r] == due
    for (_, _, start, grads), end in zip(calls, moves):
        for a, b, g in zip(start, end, grads):
            assert torch.allclose(b - a, -lr * interval * (torch.zeros_like(a) if g is None else g), atol=1e-6)
        assert max((b - a).abs().max().item() for a, b in zip(start, end)) > 1e-3  # a step large enough to tell
    assert len(moves) == (len(due) if interval > 1 else 0)


def test_trains_with_the_gan_pair_on_ring8(tmp_path):
    run = trainer(tmp_path / "run", gan="gan", objective="r1", steps=6, log_every=3, **SMALL,
                  objective_options={"interval": 2})
    before = {name: [p.detach().clone() for p in net.parameters()] for name, net in run.networks.items()}
    run.fit()
    for name, network in run.networks.items():
        assert any(not torch.equal(a, b) for a, b in zip(before[name], network.parameters())), name
    logged = records(tmp_path / "run")
    assert [r["step"] for r in logged] == [3, 6]
    for record in logged:
        assert {"loss_d", "loss_g", "penalty", "divergence"} <= set(record)
        assert all(math.isfinite(value) for value in record.values())
