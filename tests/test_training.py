"""The shared runner: short runs, what they write, checkpoints and resume."""

from __future__ import annotations

import json
import signal
from importlib.metadata import version

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file

from conftest import toy_run
from ganzoo.errors import CheckpointError, DamagedRecordWarning, RunDirError
from ganzoo.registry.discovery import get_zoo
from ganzoo.run import rundir
from ganzoo.run.config import resolve_config
from ganzoo.training.checkpoint import load_checkpoint
from ganzoo.training.trainer import Trainer


def make_trainer(raw: dict) -> Trainer:
    zoo = get_zoo()
    return Trainer(resolve_config(raw, zoo), zoo, progress=False)


@pytest.mark.parametrize("dataset", ["ring8", "grid25"])
def test_short_run_writes_config_logs_metrics_samples_and_checkpoint(tmp_path, dataset):
    trainer = make_trainer(toy_run(tmp_path, dataset=dataset, eval_every=10))
    (final,) = trainer.fit()
    run = tmp_path / "run"
    config = json.loads((run / "config.json").read_text())
    assert (config["gan"], config["objective"], config["dataset"], config["steps"]) == (
        "gan", "nonsaturating", dataset, 20)
    stats = rundir.read_jsonl(run / "stats.jsonl")
    assert [s["step"] for s in stats] == [5, 10, 15, 20]
    assert all({"loss_d", "loss_g", "divergence"} <= set(s) for s in stats)
    metrics = rundir.read_jsonl(run / "metrics.jsonl")
    assert [m["step"] for m in metrics] == [10, 20] and final == metrics[-1]
    assert metrics[-1]["metrics"]["num_modes"] == (8 if dataset == "ring8" else 25)
    assert metrics[-1]["protocol"]["num_generated"] == 2500
    assert metrics[-1]["provenance"]["gan"] == {"name": "gan", "distribution": "ganzoo-gan", "version": version("ganzoo-gan")}
    assert (run / "samples" / "step-0000020.png").stat().st_size > 1000
    provenance = json.loads((run / "provenance.json").read_text())
    assert provenance["gan"]["distribution"] == "ganzoo-gan"


def test_checkpoint_holds_weights_optimizers_and_string_metadata(tmp_path):
    trainer = make_trainer(toy_run(tmp_path))
    trainer.fit()
    path = tmp_path / "run" / rundir.LAST_CHECKPOINT
    with safe_open(str(path), framework="pt") as handle:
        metadata = handle.metadata()
    assert all(isinstance(v, str) for v in metadata.values())
    assert json.loads(metadata["config"])["gan"] == "gan"
    assert json.loads(metadata["provenance"])["objective"]["distribution"] == "ganzoo-gan"
    assert metadata["ganzoo_version"] and metadata["step"] == "20"

    restored = make_trainer(toy_run(tmp_path))
    restored.restore(path)
    assert restored.step == 20
    for a, b in zip(trainer.generator.state_dict().values(), restored.generator.state_dict().values()):
        assert torch.equal(a, b)
    for a, b in zip(trainer.discriminator.state_dict().values(), restored.discriminator.state_dict().values()):
        assert torch.equal(a, b)
    saved, loaded = trainer.optimizers["d"].state_dict(), restored.optimizers["d"].state_dict()
    assert saved["param_groups"] == loaded["param_groups"]
    for index, state in saved["state"].items():
        for key, value in state.items():
            assert torch.equal(torch.as_tensor(value), torch.as_tensor(loaded["state"][index][key]))


def test_resume_continues_the_same_run_exactly(tmp_path):
    straight = make_trainer(toy_run(tmp_path / "a", steps=30))
    straight.fit()
    make_trainer(toy_run(tmp_path / "b", steps=10)).fit()
    resumed = make_trainer(toy_run(tmp_path / "b", steps=30))
    resumed.fit(resume=True)
    for a, b in zip(straight.generator.state_dict().values(), resumed.generator.state_dict().values()):
        assert torch.equal(a, b)
    steps = [s["step"] for s in rundir.read_jsonl(tmp_path / "b" / "run" / "stats.jsonl")]
    assert steps == [5, 10, 15, 20, 25, 30]


def test_an_existing_run_is_never_overwritten(tmp_path):
    make_trainer(toy_run(tmp_path)).fit()
    before = (tmp_path / "run" / rundir.LAST_CHECKPOINT).read_bytes()
    with pytest.raises(RunDirError, match="already holds this run; pass --resume"):
        make_trainer(toy_run(tmp_path)).fit()
    with pytest.raises(RunDirError, match=r"holds a different run \(its config differs in: seed\)"):
        make_trainer(toy_run(tmp_path, seed=3)).fit(resume=True)
    assert (tmp_path / "run" / rundir.LAST_CHECKPOINT).read_bytes() == before


def test_damaged_checkpoints_give_one_line_errors(tmp_path):
    garbage = tmp_path / "garbage.safetensors"
    garbage.write_bytes(b"\x00\x01not a checkpoint")
    with pytest.raises(CheckpointError, match="not a readable safetensors file"):
        load_checkpoint(garbage)
    foreign = tmp_path / "foreign.safetensors"
    save_file({"w": torch.zeros(2)}, str(foreign), metadata={"format": "other"})
    with pytest.raises(CheckpointError, match="not a ganzoo checkpoint"):
        load_checkpoint(foreign)
    with pytest.raises(CheckpointError, match="checkpoint not found"):
        load_checkpoint(tmp_path / "absent.safetensors")

    make_trainer(toy_run(tmp_path)).fit()
    path = tmp_path / "run" / rundir.LAST_CHECKPOINT
    truncated = tmp_path / "truncated.safetensors"
    truncated.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(CheckpointError, match="not a readable safetensors file"):
        load_checkpoint(truncated)
    wider = make_trainer(toy_run(tmp_path / "other", gan_options={"g_hidden": 64}))
    with pytest.raises(CheckpointError, match=r"belongs to a different run \(its config differs in: gan_options\)"):
        wider.restore(path)


def tampered(path, tmp_path, change) -> object:
    """A copy of the checkpoint at ``path`` with ``change`` applied to its tensors."""
    with safe_open(str(path), framework="pt") as handle:
        metadata, tensors = handle.metadata(), {k: handle.get_tensor(k) for k in handle.keys()}
    change(tensors)
    copy = tmp_path / "tampered.safetensors"
    save_file(tensors, str(copy), metadata=metadata)
    return copy


@pytest.mark.parametrize(("change", "message"), [
    (lambda t: t.pop("generator/net.0.weight"), r"generator weights do not fit the model: Missing key"),
    (lambda t: t.update({"discriminator/net.6.bias": torch.zeros(3)}), r"discriminator weights do not fit .*size mismatch"),
    (lambda t: t.update({"optimizer_g/0/exp_avg": torch.zeros(3)}), r"optimizer_g state 'exp_avg' of parameter 0 has shape \(3,\)"),
    (lambda t: t.update({"optimizer_d/x/exp_avg": torch.zeros(3)}), r"damaged optimizer_d state \(ValueError"),
    (lambda t: t.pop("rng/noise"), r"damaged random-number state \(KeyError"),
])
def test_resume_loads_every_part_strictly(tmp_path, change, message):
    make_trainer(toy_run(tmp_path)).fit()
    copy = tampered(tmp_path / "run" / rundir.LAST_CHECKPOINT, tmp_path, change)
    with pytest.raises(CheckpointError, match=message):
        make_trainer(toy_run(tmp_path)).restore(copy)


def test_any_objective_pairs_with_the_gan(tmp_path):
    trainer = make_trainer(toy_run(tmp_path, objective="minimax", steps=5))
    trainer.fit()
    assert trainer.config.objective == "minimax"
    assert json.loads((tmp_path / "run" / "provenance.json").read_text())["objective"]["name"] == "minimax"


@pytest.mark.slow
def test_the_gan_learns_the_ring(tmp_path):
    fresh = make_trainer(toy_run(tmp_path / "untrained"))
    (untrained,) = fresh.evaluator.evaluate(fresh.generator, fresh.prior, step=0, provenance=fresh.provenance)
    (trained,) = make_trainer(toy_run(tmp_path / "trained", steps=2000, batch_size=100)).fit()
    untrained, trained = untrained["metrics"], trained["metrics"]
    assert untrained["high_quality_pct"] < 1
    assert trained["modes"] >= 6 and trained["high_quality_pct"] > 5


def test_an_interrupted_run_saves_a_checkpoint_and_resumes(tmp_path, monkeypatch):
    trainer = make_trainer(toy_run(tmp_path, checkpoint_every=100))
    real_step = trainer.train_step

    def interrupt_at_seven():
        if trainer.step == 7:
            raise KeyboardInterrupt
        return real_step()

    monkeypatch.setattr(trainer, "train_step", interrupt_at_seven)
    with pytest.raises(KeyboardInterrupt):
        trainer.fit()
    assert load_checkpoint(tmp_path / "run" / rundir.LAST_CHECKPOINT).step == 7
    resumed = make_trainer(toy_run(tmp_path, checkpoint_every=100))
    resumed.fit(resume=True)
    assert resumed.step == 20 and load_checkpoint(tmp_path / "run" / rundir.LAST_CHECKPOINT).step == 20


def test_an_interrupt_inside_a_step_keeps_the_last_checkpoint_so_a_resume_repeats_the_run(tmp_path):
    straight = make_trainer(toy_run(tmp_path / "a", steps=12, checkpoint_every=5))
    straight.fit()
    interrupted = make_trainer(toy_run(tmp_path / "b", steps=12, checkpoint_every=5))
    loss = interrupted.objective.generator_loss

    def interrupt_at_eight(fake_scores):  # two Ctrl-C after the discriminator's update of step 8: half a step
        if interrupted.step == 7:
            signal.raise_signal(signal.SIGINT)
            signal.raise_signal(signal.SIGINT)
        return loss(fake_scores)

    interrupted.objective.generator_loss = interrupt_at_eight
    with pytest.raises(KeyboardInterrupt):
        interrupted.fit()
    assert load_checkpoint(tmp_path / "b" / "run" / rundir.LAST_CHECKPOINT).step == 5  # not the half step
    resumed = make_trainer(toy_run(tmp_path / "b", steps=12, checkpoint_every=5))
    resumed.fit(resume=True)
    for name in ("generator", "discriminator"):
        for a, b in zip(straight.networks[name].state_dict().values(), resumed.networks[name].state_dict().values()):
            assert torch.equal(a, b)


def test_files_of_a_run_without_its_config_are_not_overwritten(tmp_path):
    make_trainer(toy_run(tmp_path)).fit()
    (tmp_path / "run" / "config.json").unlink()
    before = (tmp_path / "run" / rundir.LAST_CHECKPOINT).read_bytes()
    for resume in (False, True):
        with pytest.raises(RunDirError, match="holds no ganzoo run"):
            make_trainer(toy_run(tmp_path, steps=3)).fit(resume=resume)
    assert (tmp_path / "run" / rundir.LAST_CHECKPOINT).read_bytes() == before


def test_resume_refuses_to_restart_a_run_whose_checkpoint_is_gone_or_ahead(tmp_path):
    make_trainer(toy_run(tmp_path)).fit()
    with pytest.raises(RunDirError, match="already at step 20, past steps = 10"):
        make_trainer(toy_run(tmp_path, steps=10)).fit(resume=True)
    (tmp_path / "run" / rundir.LAST_CHECKPOINT).unlink()
    metrics = (tmp_path / "run" / "metrics.jsonl").read_text()
    with pytest.raises(RunDirError, match="has logs up to step 20 but no checkpoint"):
        make_trainer(toy_run(tmp_path, steps=30)).fit(resume=True)
    assert (tmp_path / "run" / "metrics.jsonl").read_text() == metrics


def test_resume_survives_a_log_line_cut_short_and_ignores_ad_hoc_evaluations(tmp_path):
    make_trainer(toy_run(tmp_path)).fit()
    with (tmp_path / "run" / "metrics.jsonl").open("a") as handle:
        handle.write('{"step": 20, "metrics": {}, "source": "ganzoo eval"}\n{"step": 20, "metr')
    trainer = make_trainer(toy_run(tmp_path))
    with pytest.warns(DamagedRecordWarning, match=r"metrics.jsonl, line 3: damaged record skipped"):
        (result,) = trainer.fit(resume=True)
    assert result["protocol"]["sampling_seed"] == 12345 and "source" not in result


def test_a_checkpoint_from_before_a_config_key_existed_resumes_with_that_key_s_default(tmp_path):
    make_trainer(toy_run(tmp_path, steps=2)).fit()
    path = tmp_path / "run" / rundir.LAST_CHECKPOINT
    with safe_open(str(path), framework="pt") as handle:
        metadata, tensors = handle.metadata(), {k: handle.get_tensor(k) for k in handle.keys()}
    stored = json.loads(metadata["config"])
    del stored["lr_decay_start"]  # as ganzoo 0.2.4 wrote it
    save_file(tensors, str(path), metadata={**metadata, "config": json.dumps(stored)})
    resumed = make_trainer(toy_run(tmp_path, steps=4))
    resumed.fit(resume=True)
    assert resumed.step == 4
    stored["lr_decay_start"] = 0.5  # a real difference is still one
    save_file(tensors, str(path), metadata={**metadata, "config": json.dumps(stored)})
    with pytest.raises(CheckpointError, match=r"its config differs in: lr_decay_start\)"):
        make_trainer(toy_run(tmp_path, steps=4)).restore(path)
