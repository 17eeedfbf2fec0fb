"""Augmentations between the samples and D, and metric suites, contributed by plugins."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from ganzoo import Augmentation, AugmentationSpec, GanSpec, Metric, MetricSpec, Options, hookimpl, report
from ganzoo.cli import main
from ganzoo.cli.restore import restore_run
from ganzoo.errors import ConfigError, GanzooError
from ganzoo.registry.discovery import Zoo
from ganzoo.registry.registry import Source
from ganzoo.run import rundir
from ganzoo.testing import trainer


class Flip(Augmentation):
    """x -> -x, differentiable; it counts what it sees, and its count is its state."""

    def __init__(self):
        self.applied: list[torch.Tensor] = []
        self.observed = torch.zeros((), dtype=torch.long)

    def __call__(self, samples):
        self.applied.append(samples)
        return -samples

    def observe(self, real_scores):
        assert real_scores.shape == (32,) and not real_scores.requires_grad
        self.observed += 1
        report("observed", self.observed.float())

    def state_dict(self):
        return {"observed": self.observed.clone()}

    def load_state_dict(self, state):
        self.observed = state["observed"].clone()


class Recording(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Linear(2, 1)
        self.inputs: list[torch.Tensor] = []

    def forward(self, x):
        self.inputs.append(x)
        return self.net(x)


class NormOptions(Options):
    power: int = 1
    kind: str = "norm"


class Doubling(Augmentation):
    def __call__(self, samples):
        return torch.cat([samples, samples])  # not an augmentation: it changes the batch


class MeanNorm(Metric):
    def __init__(self, power: int, kind: str = "norm"):
        self.power, self.kind = power, kind

    def evaluate(self, run):
        samples = run.sample(run.settings.num_generated or 100)
        value = samples.norm(dim=1).pow(self.power).mean()
        metrics = {"norm": {"mean_norm": float(value)}, "tensor": {"mean_norm": value},
                   "nan": {"mean_norm": float("nan")}, "modes": {"modes": 3}}[self.kind]
        return metrics, {"num_generated": len(samples), "sampling_seed": run.seed, "power": self.power}


class Plugin:
    ganzoo_plugin_api = "2.0"

    @hookimpl
    def register_augmentations(self, register):
        register(AugmentationSpec(name="flip", build=lambda options: Flip(), citation="-"))
        register(AugmentationSpec(name="doubling", build=lambda options: Doubling(), citation="-"))

    @hookimpl
    def register_gans(self, register):
        register(GanSpec(name="recorded", build=lambda info, z, o: (nn.Linear(z, 2), Recording()),
                         default_objective="nonsaturating", citation="-"))

    @hookimpl
    def register_metrics(self, register):
        register(MetricSpec(name="mean-norm", build=lambda options: MeanNorm(options.power, options.kind),
                            applies=lambda data: data.info.shape == (2,), citation="-", options=NormOptions))


@pytest.fixture
def zoo():
    return Zoo(plugins=[(Plugin(), Source("extras", "ganzoo-extras", "1.0"))])


def trainer_for(zoo, tmp_path, **overrides):
    return trainer(tmp_path / "run", zoo=zoo, **{"gan": "recorded", **overrides})


def test_the_augmentation_sits_between_every_batch_and_the_discriminator(zoo, tmp_path):
    trainer = trainer_for(zoo, tmp_path, augmentation="flip", d_steps=3)
    flip, seen = trainer.augmentation, trainer.discriminator.inputs
    seen.clear()  # the shape check before training called D once, without augmentation
    trainer.train_step()
    assert len(flip.applied) == len(seen) == 3 * 2 + 1  # real and generated alike, in every step
    assert all(torch.equal(d_input, -applied) for d_input, applied in zip(seen, flip.applied))
    assert flip.observed.item() == 3  # the real scores of each discriminator step
    assert flip.applied[-1].requires_grad  # the generator's step: G learns through the augmentation


def test_the_augmentation_s_state_is_checkpointed(zoo, tmp_path):
    trainer_for(zoo, tmp_path, augmentation="flip", steps=4).fit()
    resumed = trainer_for(zoo, tmp_path, augmentation="flip", steps=6)
    resumed.prepare(resume=True)
    assert resumed.augmentation.observed.item() == 4
    resumed.fit()
    stats = rundir.read_jsonl(tmp_path / "run" / rundir.STATS)
    assert stats[-1]["observed"] == pytest.approx(6.0)
    assert resumed.provenance["augmentation"]["distribution"] == "ganzoo-extras"


def test_a_plugin_s_metric_suite_is_measured_beside_the_core_s(zoo, tmp_path):
    (mine, toy) = trainer_for(zoo, tmp_path, metrics={"options": {"mean-norm": {"power": 2}}}).fit()
    assert toy["protocol"]["suite"] == "toy-modes" and mine["protocol"]["suite"] == "mean-norm"
    assert mine["protocol"]["power"] == 2 and mine["provenance"]["metric"]["distribution"] == "ganzoo-extras"
    samples = trainer_for(zoo, tmp_path / "x").evaluator.suites  # what a fresh run of the same config would use
    assert [part.name for part, _ in samples] == ["mean-norm", "toy-modes"]
    records = rundir.read_jsonl(tmp_path / "run" / rundir.METRICS)
    assert sorted(r["protocol"]["suite"] for r in records) == ["mean-norm", "toy-modes"]


def test_metrics_suites_narrows_a_run_and_refuses_a_suite_that_does_not_apply(zoo, tmp_path):
    (record,) = trainer_for(zoo, tmp_path, metrics={"suites": ["mean-norm"], "num_generated": 40}).fit()
    assert record["metrics"]["mean_norm"] > 0 and record["protocol"]["num_generated"] == 40
    with pytest.raises(ConfigError, match="metrics.suites names 'torch-fidelity', which does not apply to data "
                                          "set 'ring8'"):
        trainer_for(zoo, tmp_path / "images", metrics={"suites": ["torch-fidelity"]})


def test_ganzoo_eval_prints_a_plugin_suite(zoo, tmp_path, capsys, monkeypatch):
    trainer_for(zoo, tmp_path, metrics={"suites": ["mean-norm"]}).fit()
    monkeypatch.setattr("ganzoo.cli.commands.get_zoo", lambda: zoo)
    assert main(["eval", str(tmp_path / "run")]) == 0
    out = capsys.readouterr().out
    assert "step 20: mean-norm: mean_norm " in out and '"suite": "mean-norm"' in out


def test_an_augmentation_that_changes_the_batch_is_refused_by_name(zoo, tmp_path):
    with pytest.raises(GanzooError, match=r"training step 1: the augmentation turned samples of shape \(32, 2\) into "
                                          r"\(64, 2\); an augmentation must keep the shape"):
        trainer_for(zoo, tmp_path, augmentation="doubling").fit()
    with pytest.raises(ConfigError, match="augmentation_options is set but no augmentation"):
        trainer_for(zoo, tmp_path / "stray", augmentation_options={"std": 1})


def test_a_suite_s_record_must_be_json_and_its_non_finite_numbers_are_null(zoo, tmp_path, capsys, monkeypatch):
    def measured(kind, folder):
        return trainer_for(zoo, tmp_path / folder, metrics={"suites": ["mean-norm"], "options": {"mean-norm": {
            "kind": kind}}}).fit()

    with pytest.raises(GanzooError, match="metric 'mean-norm' from ganzoo-extras 1.0 returned a record that is not "
                                          "JSON .*float\\(tensor\\) for a tensor"):
        measured("tensor", "tensor")
    (record,) = measured("nan", "nan")
    assert record["metrics"] == {"mean_norm": None}
    assert '"mean_norm": null' in (tmp_path / "nan" / "run" / rundir.METRICS).read_text()
    measured("modes", "modes")  # a plugin's "modes" is not the toy suite's: printed as it is
    monkeypatch.setattr("ganzoo.cli.commands.get_zoo", lambda: zoo)
    assert main(["eval", str(tmp_path / "modes" / "run")]) == 0
    assert "step 20: mean-norm: modes 3" in capsys.readouterr().out


def test_a_trained_run_is_sampled_and_measured_without_its_augmentation_installed(zoo, tmp_path, capsys):
    trainer_for(zoo, tmp_path, gan="gan", augmentation="flip").fit()
    run = restore_run(tmp_path / "run", Zoo())  # the zoo without the plugin that brought the augmentation
    assert run.generator is not None and run.plan.augmentation is None and run.plan.objective is None
    assert main(["eval", str(tmp_path / "run")]) == 0  # the installed plugins only
    assert "step 20: modes" in capsys.readouterr().out
