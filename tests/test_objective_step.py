"""Objectives at the step level: real scores in the generator's step, lazy penalties on either network with
StyleGAN2's interval scaling, objective state in checkpoints, statistics, and declared score layouts."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from safetensors import safe_open
from safetensors.torch import save_file
from torch import nn

from ganzoo import GanSpec, Objective, ObjectiveSpec, ScoreLayout, hookimpl, report
from ganzoo.errors import ConfigError, GanzooError
from ganzoo.registry.discovery import Zoo
from ganzoo.registry.registry import Source
from ganzoo.run import rundir
from ganzoo.testing import trainer
from ganzoo.training.checkpoint import load_checkpoint

INTERVAL = 4


class Watching(Objective):
    """The non-saturating loss; it sees the real scores in G's step, and lazy penalties that log when they run."""

    generator_uses_real = True
    d_penalty_every = INTERVAL
    g_penalty_every = INTERVAL

    def __init__(self):
        self.seen: list[tuple[str, int, bool]] = []
        self.d_penalties: list[int] = []
        self.g_penalties: list[int] = []
        self.calls = torch.zeros(())

    def d_loss(self, ctx):
        self.seen.append((ctx.phase, ctx.index, ctx.real_scores is not None))
        return F.softplus(-ctx.real_scores).mean() + F.softplus(ctx.fake_scores).mean()

    def g_loss(self, ctx):
        self.seen.append((ctx.phase, ctx.index, ctx.real_scores is not None))
        self.calls += 1
        report("calls", self.calls)
        report("above_nine", ctx.fake_scores[ctx.fake_scores > 9].mean())  # the mean of nothing: not a number
        return F.softplus(ctx.real_scores.detach() - ctx.fake_scores).mean()

    def d_penalty(self, ctx):
        self.d_penalties.append(ctx.index)
        real = ctx.real.samples.detach().requires_grad_(True)
        (grad,) = torch.autograd.grad(ctx.discriminate(real).sum(), real, create_graph=True)
        return grad.square().sum(dim=1).mean()

    def g_penalty(self, ctx):
        self.g_penalties.append(ctx.index)
        return ctx.step.generate().samples.square().mean()

    def state_dict(self):
        return {"calls": self.calls.clone()}

    def load_state_dict(self, state):
        self.calls = state["calls"].clone()


class FirstHead(Objective):
    """Takes two scores per sample and trains on the first (an auxiliary classifier would use the second)."""

    heads = 2

    def discriminator_loss(self, real_scores, fake_scores):
        return F.softplus(-real_scores[:, 0]).mean() + F.softplus(fake_scores[:, 0]).mean()

    def generator_loss(self, fake_scores):
        return F.softplus(-fake_scores[:, 0]).mean()


class Packed(nn.Module):
    """A PacGAN-style discriminator: one score per pack of two samples, concatenated."""

    score_layout = ScoreLayout(pack=2)

    def __init__(self):
        super().__init__()
        self.net = nn.Linear(4, 1)

    def forward(self, x):
        return self.net(x.reshape(-1, 4)).reshape(-1)


class TwoHeads(nn.Module):
    score_layout = ScoreLayout(heads=2)

    def __init__(self):
        super().__init__()
        self.net = nn.Linear(2, 2)

    def forward(self, x):
        return self.net(x)


class StepPlugin:
    ganzoo_plugin_api = "2.0"

    @hookimpl
    def register_objectives(self, register):
        register(ObjectiveSpec(name="watching", build=lambda options: Watching(), citation="-"))
        register(ObjectiveSpec(name="first-head", build=lambda options: FirstHead(), citation="-"))

    @hookimpl
    def register_gans(self, register):
        register(GanSpec(name="packed", build=lambda info, z, o: (nn.Linear(z, 2), Packed()),
                         default_objective="nonsaturating", citation="-"))
        register(GanSpec(name="two-heads", build=lambda info, z, o: (nn.Linear(z, 2), TwoHeads()),
                         default_objective="nonsaturating", citation="-"))
        register(GanSpec(name="lying", build=lambda info, z, o: (nn.Linear(z, 2), Lying()),
                         default_objective="nonsaturating", citation="-"))


class Lying(Packed):
    score_layout = ScoreLayout(pack=3)


@pytest.fixture
def zoo():
    return Zoo(plugins=[(StepPlugin(), Source("step", "ganzoo-step", "1.0"))])


def trainer_for(zoo, tmp_path, **overrides):
    return trainer(tmp_path / "run", zoo=zoo, **{"gan": "gan", **overrides})


def test_the_generator_step_sees_real_scores_and_lazy_penalties_run_every_kth_step(zoo, tmp_path):
    trainer = trainer_for(zoo, tmp_path, objective="watching", steps=9, d_steps=2, log_every=9)
    trainer.fit()
    objective = trainer.objective
    assert objective.seen[:3] == [("discriminator", 0, True), ("discriminator", 0, True), ("generator", 0, True)]
    assert objective.d_penalties == objective.g_penalties == [0, 4, 8]  # every 4th step, from the first
    # each lazy penalty is an optimizer step of its own: Adam counts 2 main + 1 penalty steps when one is due
    d_steps = trainer.optimizers["d"].state_dict()["state"][0]["step"].item()
    g_steps = trainer.optimizers["g"].state_dict()["state"][0]["step"].item()
    assert (d_steps, g_steps) == (9 * 2 + 3, 9 + 3)
    (stats,) = rundir.read_jsonl(tmp_path / "run" / rundir.STATS)
    assert {"loss_d", "loss_g", "penalty", "penalty_g", "calls"} <= set(stats)
    assert stats["calls"] == pytest.approx(5.0)  # the mean of 1..9: statistics average over their reports
    assert stats["above_nine"] is None  # not finite, logged as null; only losses and penalties mean divergence


def test_a_lazy_penalty_is_scaled_by_its_interval(zoo, tmp_path):
    trainer = trainer_for(zoo, tmp_path, objective="watching", steps=1)
    objective, penalties, steps = trainer.objective, {}, []
    for side in ("d", "g"):
        def keep(ctx, original=getattr(objective, f"{side}_penalty"), side=side):
            penalties[side] = original(ctx)
            return penalties[side]

        setattr(objective, f"{side}_penalty", keep)
    trainer.services.optimize = lambda name, loss: steps.append((name, loss.detach()))  # look, do not step
    trainer.train_step()  # step 0: both lazy penalties are due
    assert [name for name, _ in steps] == ["d", "d", "g", "g"]
    assert torch.equal(steps[1][1], INTERVAL * penalties["d"].detach())
    assert torch.equal(steps[3][1], INTERVAL * penalties["g"].detach())


def test_objective_state_is_checkpointed_and_resumed(zoo, tmp_path):
    straight = trainer_for(zoo, tmp_path / "a", objective="watching", steps=10)
    straight.fit()
    trainer_for(zoo, tmp_path / "b", objective="watching", steps=6).fit()
    checkpoint = load_checkpoint(tmp_path / "b" / "run" / rundir.LAST_CHECKPOINT)
    assert checkpoint.state_dict("objective")["calls"].item() == 6
    resumed = trainer_for(zoo, tmp_path / "b", objective="watching", steps=10)
    resumed.fit(resume=True)
    assert resumed.objective.calls.item() == 10
    for a, b in zip(straight.generator.state_dict().values(), resumed.generator.state_dict().values()):
        assert torch.equal(a, b)


def test_state_a_plugin_does_not_keep_is_refused_on_resume(zoo, tmp_path):
    trainer_for(zoo, tmp_path, steps=4).fit()
    path = tmp_path / "run" / rundir.LAST_CHECKPOINT
    with safe_open(str(path), framework="pt") as handle:
        metadata, tensors = handle.metadata(), {key: handle.get_tensor(key) for key in handle.keys()}
    save_file({**tensors, "objective/calls": torch.zeros(())}, str(path), metadata=metadata)
    with pytest.raises(GanzooError, match="objective state does not fit .*keeps no state, but was given calls"):
        trainer_for(zoo, tmp_path, steps=4).restore(path)


def test_a_packing_discriminator_gets_one_score_per_pack(zoo, tmp_path):
    trainer = trainer_for(zoo, tmp_path, gan="packed", batch_size=8, steps=3)
    real = trainer.services.real()
    assert trainer.services.discriminate(real.samples).shape == (4,)
    trainer.fit()
    with pytest.raises(ConfigError, match="batch_size 7 is not a multiple of 2, the samples discriminator scores "
                                          "together"):
        trainer_for(zoo, tmp_path / "odd", gan="packed", batch_size=7)
    with pytest.raises(GanzooError, match=r"discriminator gives 3 scores for 6 samples; its ScoreLayout\(pack=3, "
                                          r"heads=1\) promises 2"):
        trainer_for(zoo, tmp_path / "lying", gan="lying", batch_size=6)


def test_an_objective_must_take_the_scores_the_discriminator_gives(zoo, tmp_path):
    with pytest.raises(ConfigError, match="discriminator gives 2 scores per sample and the objective takes 1"):
        trainer_for(zoo, tmp_path, gan="two-heads")
    trainer = trainer_for(zoo, tmp_path, gan="two-heads", objective="first-head", steps=2)
    assert trainer.services.discriminate(trainer.services.real().samples).shape == (32, 2)
    trainer.fit()


def test_an_update_computes_gradients_only_for_the_weights_it_updates(tmp_path):
    """The generator's update leaves the discriminator's weight gradients uncomputed, and updates the generator
    exactly as a backward pass into every weight would."""
    import copy

    run = trainer(tmp_path / "run", gan="gan", steps=1)
    G, D = run.generator, run.discriminator
    G2, D2 = copy.deepcopy(G), copy.deepcopy(D)
    adam = run.optimizers["g"]
    adam2 = torch.optim.Adam(G2.parameters(), lr=adam.defaults["lr"], betas=adam.defaults["betas"])
    z = torch.randn(16, run.config.z_dim)
    torch.manual_seed(0)
    run.services.optimize("g", F.softplus(-D(G(z))).mean())
    assert all(p.grad is None for p in D.parameters()) and all(p.grad is not None for p in G.parameters())
    torch.manual_seed(0)  # the same dropout masks in D
    adam2.zero_grad()
    F.softplus(-D2(G2(z))).mean().backward()  # into every weight, D's too
    adam2.step()
    assert all(p.grad is not None for p in D2.parameters())
    assert all(torch.equal(a, b) for a, b in zip(G.parameters(), G2.parameters()))
