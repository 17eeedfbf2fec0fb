"""Vectorised seeds: several seeds of one run trained as one batched computation, each as it would train alone."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from ganzoo.testing import trainer
from ganzoo.training import rundir
from ganzoo.training.seeds import fit_together
from ganzoo.training.stacking import probe_problem, stack_networks, stacking_problem

# Stacked matrix products sum in another order than one seed's: after 20 steps the weights agree to ~1e-6.
ATOL = 1e-4


def seeds(tmp_path, count: int = 3, folder: str = "together", **overrides):
    return [trainer(tmp_path / folder / f"seed{seed}", seed=seed, **overrides) for seed in range(count)]


def weights(run) -> list[torch.Tensor]:
    return [t for network in run.networks.values() for t in (*network.parameters(), *network.buffers())]


@pytest.mark.parametrize("overrides", [
    {"gan": "gan"},
    {"gan": "pacgan", "gan_options": {"pack": 2}, "batch_size": 40},  # batch norm in G, packs in D
    {"gan": "wgan", "d_steps": 2},  # weight clipping clamps each seed's weights in place
    {"gan": "gan", "ema": {"enabled": True}, "lr_decay": "linear", "objective": "fgan-js"},  # an f-GAN
], ids=["gan", "pacgan", "wgan", "ema-fgan"])
def test_seeds_trained_together_train_as_each_would_alone(tmp_path, overrides):
    together = seeds(tmp_path, eval_every=10, **overrides)
    assert fit_together(together, report=pytest.fail) is None
    for run in together:
        alone = trainer(tmp_path / "alone" / run.run_dir.name, seed=run.config.seed, eval_every=10, **overrides)
        alone.fit()
        assert all(torch.allclose(a, b, rtol=0, atol=ATOL) for a, b in zip(weights(run), weights(alone)))
        mine, theirs = (sorted(p.relative_to(r.run_dir).as_posix() for p in r.run_dir.rglob("*"))
                        for r in (run, alone))
        assert mine == theirs  # the same files: config, provenance, logs, metrics, checkpoint, picture
        stats = rundir.read_jsonl(run.run_dir / rundir.STATS)
        assert [r["step"] for r in stats] == [5, 10, 15, 20] and set(stats[0]) == set(
            rundir.read_jsonl(alone.run_dir / rundir.STATS)[0])
        assert stats[-1]["loss_d"] == pytest.approx(rundir.read_jsonl(alone.run_dir / rundir.STATS)[-1]["loss_d"],
                                                    rel=1e-3)
        assert [m["step"] for m in rundir.read_jsonl(run.run_dir / rundir.METRICS)] == [10, 20]
        provenance = json.loads((run.run_dir / rundir.PROVENANCE).read_text())
        assert provenance["speed"]["seeds_together"] == 3


def test_seeds_trained_together_resume_bit_for_bit_and_alone(tmp_path):
    straight = seeds(tmp_path, folder="straight", gan="pacgan", gan_options={"pack": 2}, batch_size=40)
    fit_together(straight)
    assert fit_together(seeds(tmp_path, steps=10, gan="pacgan", gan_options={"pack": 2}, batch_size=40)) is None
    resumed = seeds(tmp_path, gan="pacgan", gan_options={"pack": 2}, batch_size=40)
    assert fit_together(resumed, resume=True) is None
    for a, b in zip(straight, resumed):
        assert all(torch.equal(x, y) for x, y in zip(weights(a), weights(b)))
        for name, optimizer in a.optimizers.items():  # the runs' optimizer states are the group's, seed by seed
            mine, theirs = (optimizer.state_dict()["state"], b.optimizers[name].state_dict()["state"])
            assert mine.keys() == theirs.keys() and len(mine) > 0
            assert all(torch.equal(mine[i][key], theirs[i][key]) for i in mine for key in mine[i])
    # each checkpoint is an ordinary run's: one seed goes on alone
    alone = trainer(tmp_path / "together" / "seed1", seed=1, steps=25, gan="pacgan", gan_options={"pack": 2},
                    batch_size=40)
    alone.fit(resume=True)
    assert alone.step == 25


def test_runs_that_cannot_train_together_train_apart_exactly_as_alone(tmp_path):
    apart = seeds(tmp_path, count=2, gan="wgan-gp")
    assert fit_together(apart) == "objective 'wgan-gp' works at the step level (a penalty, or losses of its own)"
    alone = trainer(tmp_path / "alone", seed=1, gan="wgan-gp")
    alone.fit()
    assert all(torch.equal(a, b) for a, b in zip(weights(apart[1]), weights(alone)))
    assert "seeds_together" not in json.loads((apart[1].run_dir / rundir.PROVENANCE).read_text())["speed"]
    mixed = [trainer(tmp_path / "mixed" / "a", gan="gan"), trainer(tmp_path / "mixed" / "b", gan="gan", seed=1,
                                                                   batch_size=16)]
    assert fit_together(mixed) == "the runs differ in more than their seeds"


def test_checkpoints_at_different_steps_train_apart(tmp_path):
    trainer(tmp_path / "together" / "seed0", gan="gan", steps=10).fit()
    runs = seeds(tmp_path, count=2, gan="gan")
    assert fit_together(runs, resume=True) == "their checkpoints are at different steps"
    assert [run.step for run in runs] == [20, 20]


class Centred(nn.Module):
    """Subtracts the batch mean: each output depends on the other samples of the batch."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(2, 3)

    def forward(self, x):
        out = self.linear(x)
        return out - out.mean(dim=0)


def test_a_layer_that_mixes_the_samples_of_a_batch_is_found_by_the_probe():
    copies = [nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.BatchNorm1d(4)) for _ in range(3)]
    stacked = stack_networks(copies)
    probe = torch.randn(12, 2)
    assert probe_problem(stacked, copies, probe) is None
    assert all(torch.equal(c[2].running_mean, torch.zeros(4)) for c in copies)  # the probe moved no statistics
    mixing = [Centred() for _ in range(3)]
    assert "a layer mixes the samples" in probe_problem(stack_networks(mixing), mixing, probe)


def test_layers_that_cannot_be_stacked_are_named():
    assert "Conv2d" in stacking_problem(nn.Sequential(nn.Conv2d(1, 2, 3)))
    assert "hooks or parametrizations" in stacking_problem(nn.utils.parametrizations.spectral_norm(nn.Linear(2, 2)))
    assert "random masks" in stacking_problem(nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5)))
    assert stacking_problem(nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.0), nn.BatchNorm1d(2))) is None


def test_a_seed_that_diverges_leaves_the_group_and_the_others_finish(tmp_path):
    runs = seeds(tmp_path, gan="gan")
    objective = runs[1].objective
    own_loss = objective.discriminator_loss

    def breaks_at_step_three(real_scores, fake_scores):
        loss = own_loss(real_scores, fake_scores)
        return loss * float("nan") if runs[1].step >= 3 else loss

    objective.discriminator_loss = breaks_at_step_three  # type: ignore[method-assign]
    said: list[str] = []
    assert fit_together(runs, report=said.append) is None
    assert len(said) == 1 and "training diverged: loss_d" in said[0] and "at step 5" in said[0]
    assert (runs[1].run_dir / rundir.DIVERGED).is_file()
    for run in (runs[0], runs[2]):
        assert run.step == 20 and not (run.run_dir / rundir.DIVERGED).exists()
        assert [r["step"] for r in rundir.read_jsonl(run.run_dir / rundir.STATS)][-1] == 20
        assert all(torch.isfinite(t).all() for t in weights(run))  # the broken seed's NaNs stay in its slices


def test_a_benchmark_trains_seeds_apart_when_the_run_cannot_stack_and_says_why(tmp_path, capsys):
    from ganzoo.bench.launch import train_seeds
    from ganzoo.testing import quick_config

    raws = [quick_config(tmp_path / f"seed{seed}", gan="wgan-gp", seed=seed) for seed in range(2)]
    assert train_seeds(raws, progress=False) is None
    out = capsys.readouterr().out
    assert "seeds one after another: objective 'wgan-gp' works at the step level" in out
    assert all((tmp_path / f"seed{seed}" / rundir.LAST_CHECKPOINT).is_file() for seed in range(2))
    together = [quick_config(tmp_path / f"gan{seed}", gan="gan", seed=seed) for seed in range(2)]
    assert train_seeds(together, progress=False) is None
    assert "2 seeds together" in capsys.readouterr().out
