"""The ``stylegan2`` objective: path-length regularisation against eq. 4 and the release's formula on generators
whose Jacobian is known, its running mean as checkpointed state, and the lazy schedule in a real run."""

from __future__ import annotations

import json
import math

import pytest
import torch
from torch import nn

import ganzoo
from ganzoo.testing import train
from ganzoo.testing.kit import kit_zoo

H = W = 4


class LinearGenerator(nn.Module):
    """x = sum_l A_l w_l (an image of 1 x H x W), w_l = M z for every layer l: the Jacobian of x in w_l is A_l."""

    def __init__(self, z_dim=3, w_dim=5, layers=3, per_layer=True):
        super().__init__()
        self.M = nn.Parameter(torch.randn(w_dim, z_dim, dtype=torch.float64))
        self.A = nn.Parameter(torch.randn(layers, H * W, w_dim, dtype=torch.float64))
        self.layers = layers
        if not per_layer:
            self.training_ws = None  # only mapping: the penalty differentiates by the one code

    def mapping(self, z, labels=None):
        return z @ self.M.T

    def training_ws(self, z, labels=None):
        return self.mapping(z).unsqueeze(1).repeat(1, self.layers, 1)

    def synthesis(self, ws):
        ws = ws.unsqueeze(1).expand(-1, self.layers, -1) if ws.dim() == 2 else ws
        return torch.einsum("lpd,nld->np", self.A, ws).reshape(len(ws), 1, H, W).contiguous()  # randn_like: row order


class Step:
    """Stands in for the runner's step: the networks, the batch size and latent codes from the prior."""

    def __init__(self, generator, batch_size=8):
        self.networks, self.batch_size, self.drawn = {"generator": generator}, batch_size, []

    def latents(self, n=None):
        z = torch.randn(n, 3, dtype=torch.float64)
        self.drawn.append(z)
        return ganzoo.Batch(z, None, z)


def penalty(objective, generator, seed=0):
    step = Step(generator)
    batch = ganzoo.Batch(torch.zeros(8, 1, H, W))
    ctx = ganzoo.StepContext(step, "generator", batch, torch.zeros(8))
    torch.manual_seed(seed)
    value = objective.g_penalty(ctx)
    return value, step.drawn[0]


def expected_lengths(generator, seed, n, per_layer=True):
    """sqrt(mean_l ||A_l^T y||^2) with y the penalty's own draw of N(0, I) / sqrt(H W)."""
    torch.manual_seed(seed)
    torch.randn(n, 3, dtype=torch.float64)  # the codes the stand-in step drew first
    y = torch.randn(n, H * W, dtype=torch.float64) / math.sqrt(H * W)
    A = generator.A.detach()
    per_layer_grads = torch.einsum("lpd,np->nld", A, y)  # J_l^T y for each layer
    if per_layer:
        return per_layer_grads.square().sum(-1).mean(-1).sqrt()
    return per_layer_grads.sum(1).square().sum(-1).sqrt()  # one code feeding every layer: the Jacobians add


def build(**options):
    return ganzoo.build_objective("stylegan2", **options)


@pytest.mark.parametrize("per_layer", [True, False])
def test_path_length_penalty_follows_the_release_formula(per_layer):
    torch.manual_seed(1)
    generator = LinearGenerator(per_layer=per_layer)
    objective = build(pl_weight=2.0, pl_decay=0.01, pl_batch_shrink=2)
    objective.pl_mean = torch.tensor(0.7, dtype=torch.float64)
    value, z = penalty(objective, generator, seed=5)
    assert len(z) == 4  # batch 8 shrunk by 2
    lengths = expected_lengths(generator, 5, 4, per_layer)
    mean = 0.7 + 0.01 * (lengths.mean() - 0.7)  # mu moves first, then (a - mu)^2
    assert value.item() == pytest.approx(2.0 * (lengths - mean).square().mean().item(), rel=1e-10)
    assert objective.pl_mean.item() == pytest.approx(mean.item(), rel=1e-12)
    assert not objective.pl_mean.requires_grad
    # its gradient reaches the synthesis weights (the penalty trains G), through a graph of the Jacobian
    (grad,) = torch.autograd.grad(value, generator.A)
    assert grad.abs().sum() > 0


def test_path_lengths_of_an_orthogonal_jacobian_are_constant():
    # eq. 4's motivation: a Jacobian that is a scaled orthogonal map gives the same length for every y
    generator = LinearGenerator(w_dim=16, layers=1)
    with torch.no_grad():
        q, _ = torch.linalg.qr(torch.randn(16, 16, dtype=torch.float64))
        generator.A.copy_(3.0 * q.unsqueeze(0))  # J^T y = 3 Q^T y, so |J^T y| = 3 |y|
    objective = build(pl_weight=1.0, pl_decay=1.0)  # decay 1: mu is this batch's mean
    value, _ = penalty(objective, generator, seed=2)
    torch.manual_seed(2)
    torch.randn(4, 3, dtype=torch.float64)  # the codes, drawn first
    lengths = 3 * (torch.randn(4, 16, dtype=torch.float64) / 4).norm(dim=1)  # 3 |y|, y the penalty's draw
    assert value.item() == pytest.approx(lengths.var(unbiased=False).item(), rel=1e-10)


def test_penalty_is_off_at_weight_zero_and_refuses_generators_without_the_split():
    assert build(pl_weight=0.0).g_penalty(None) is None
    mlp = nn.Sequential(nn.Linear(3, 16))
    ctx = ganzoo.StepContext(Step(mlp), "generator", ganzoo.Batch(torch.zeros(8, 16)), torch.zeros(8))
    with pytest.raises(ValueError, match=r"needs a generator with mapping\(z, labels\) and synthesis\(w\).*pl_weight"):
        build().g_penalty(ctx)


def test_running_mean_is_the_objectives_state():
    objective = build()
    assert objective.state_dict() == {"pl_mean": torch.zeros(())}
    objective.load_state_dict({"pl_mean": torch.tensor(1.25)})
    assert objective.state_dict()["pl_mean"].item() == 1.25
    for bad in ({}, {"pl_mean": torch.zeros(2)}, {"pl_mean": torch.zeros(()), "other": torch.zeros(())}):
        with pytest.raises(ValueError, match="pl_mean"):
            objective.load_state_dict(bad)


def test_lazy_intervals_and_weights():
    objective = build()
    assert (objective.d_penalty_every, objective.g_penalty_every, objective.gamma) == (16, 4, 10.0)
    assert (objective.pl_weight, objective.pl_batch_shrink, objective.pl_decay) == (2.0, 2, 0.01)


def test_penalties_fall_due_on_the_release_schedule_in_a_run(tmp_path):
    # R1 at steps 0, 16, ...; path length at 0, 4, 8 (stats.jsonl counts steps from 1)
    run = train(tmp_path / "run", zoo=kit_zoo(), gan="stylegan2", steps=9, batch_size=4, log_every=1,
                dataset="conformance-data", dataset_options={"shape": [1, 64, 64]},
                gan_options={"w_dim": 8, "channel_base": 64, "channel_max": 8}, objective_options={"r1_interval": 8},
                metrics={"suites": []})
    records = [json.loads(line) for line in (tmp_path / "run" / "stats.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records if "penalty" in r] == [1, 9]
    assert [r["step"] for r in records if "penalty_g" in r] == [1, 5, 9]
    assert run.objective.pl_mean.item() == pytest.approx(records[-1]["pl_mean"])
    assert run.objective.pl_mean.item() > 0
