"""The documentation's code works as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import toy_run
from ganzoo.registry.discovery import Zoo
from ganzoo.run import rundir
from ganzoo.run.config import resolve_config
from ganzoo.training.checkpoint import load_checkpoint
from ganzoo.training.trainer import Trainer

ROOT = Path(__file__).resolve().parents[1]
AUTHORS = ROOT / "docs" / "plugin-authors.md"


def code_blocks(path: Path, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", path.read_text(), flags=re.S)


@pytest.fixture
def documented(make_distribution) -> Zoo:
    """Every plugin of docs/plugin-authors.md installed as a distribution of its own."""
    example, *capabilities = code_blocks(AUTHORS, "python")
    pyproject, _suites = code_blocks(AUTHORS, "toml")
    assert 'example = "ganzoo_example"' in pyproject
    make_distribution("ganzoo-example", "0.1.0", "ganzoo_example", example, entry_point="example")
    for source in capabilities:
        module = re.match(r"# module: (\w+)\n", source)
        assert module, "each plugin block of the page starts with '# module: <name>'"
        make_distribution(module[1].replace("_", "-"), "0.1.0", module[1], source)
    zoo = Zoo()
    assert not [record.errors for record in zoo.records if record.errors]
    return zoo


def train(zoo: Zoo, tmp_path: Path, **overrides) -> Trainer:
    raw = toy_run(tmp_path, **{"gan": "example-mlp", **overrides})
    trainer = Trainer(resolve_config(raw, zoo), zoo, progress=False)
    trainer.fit()
    return trainer


def test_the_plugin_authors_example_installs_and_trains(documented, tmp_path):
    record = next(r for r in documented.records if r.source.distribution == "ganzoo-example")
    assert record.contributes == {"gans": ["example-mlp"], "objectives": ["example-ls"], "datasets": ["example-circle"]}
    for dataset in ("example-circle", "ring8"):
        trainer = train(documented, tmp_path / dataset, dataset=dataset, steps=5)
        assert trainer.config.z_dim == 8 and trainer.config.objective == "example-ls" and trainer.step == 5


def test_the_relativistic_objective_trains(documented, tmp_path):
    trainer = train(documented, tmp_path, objective="example-rsgan", steps=5)
    assert trainer.objective.generator_uses_real and trainer.step == 5


def test_the_lazy_penalty_runs_every_kth_step(documented, tmp_path):
    trainer = train(documented, tmp_path, objective="example-r1", objective_options={"interval": 4}, steps=9,
                    log_every=9)
    (stats,) = rundir.read_jsonl(tmp_path / "run" / rundir.STATS)
    assert trainer.objective.d_penalty_every == 4 and stats["penalty"] > 0
    assert trainer.optimizers["d"].state_dict()["state"][0]["step"].item() == 9 + 3  # steps 0, 4 and 8


def test_the_packing_discriminator_scores_packs(documented, tmp_path):
    trainer = train(documented, tmp_path, gan="example-packed", batch_size=100, steps=5)
    assert trainer.services.discriminate(trainer.services.real().samples).shape == (50,)


def test_the_augmentation_anneals_and_is_checkpointed(documented, tmp_path):
    train(documented, tmp_path, augmentation="example-noise", steps=5)
    checkpoint = load_checkpoint(tmp_path / "run" / rundir.LAST_CHECKPOINT)
    assert checkpoint.state_dict("augmentation")["std"].item() == pytest.approx(0.1 * 0.999**5)
    assert checkpoint.provenance["augmentation"]["distribution"] == "ganzoo-example-noise"


def test_the_algorithm_trains_its_encoder(documented, tmp_path):
    trainer = train(documented, tmp_path, algorithm="example-inverting", steps=5)
    checkpoint = load_checkpoint(tmp_path / "run" / rundir.LAST_CHECKPOINT)
    assert {"encoder", "optimizer_e"} <= set(checkpoint.tensors)
    assert checkpoint.state_dict("algorithm")["updates"].item() == 5
    assert trainer.optimizers["e"].param_groups[0]["lr"] == 1e-3
    assert {"loss_d", "loss_g", "loss_e"} <= set(rundir.read_jsonl(tmp_path / "run" / rundir.STATS)[-1])


def test_every_pin_of_the_core_follows_from_the_plugin_api_it_needs(tmp_path):
    from ganzoo.api.version import PLUGIN_API, core_requirement
    from ganzoo.cli.scaffold import write_plugin
    from ganzoo.registry.discovery import get_zoo

    example, suites = code_blocks(AUTHORS, "toml")
    declared = re.search(r'ganzoo_plugin_api = "([0-9.]+)"', code_blocks(AUTHORS, "python")[0]).group(1)
    assert f'"{core_requirement(declared)}"' in example
    assert f'"{core_requirement("2.1")}"' in suites and "package-data" in suites
    assert core_requirement("2.2") == "ganzoo-core>=0.2.6,<0.3"
    scaffolded = write_plugin("pinned", tmp_path, get_zoo()) / "pyproject.toml"
    assert f'"{core_requirement(PLUGIN_API)}"' in scaffolded.read_text()


def test_the_plugin_list_names_every_first_party_plugin():
    listed = [line.split()[-1] for line in (ROOT / "plugins" / "requirements.txt").read_text().splitlines()
              if line.startswith("-e ")]
    folders = sorted(f"plugins/{path.parent.name}" for path in (ROOT / "plugins").glob("*/pyproject.toml"))
    assert sorted(listed) == folders and len(set(listed)) == len(listed)
    for command in code_blocks(ROOT / "README.md", "bash")[:2]:
        assert "-r plugins/requirements.txt" in command and "-e plugins/" not in command


def test_ci_runs_readme_command_two():
    commands = code_blocks(ROOT / "README.md", "bash")
    ci = (ROOT / ".ci" / "run").read_text().strip().splitlines()[-1]
    assert commands[1].strip() == ci
    assert commands[0].strip().endswith("ganzoo bench toy")


def test_the_evaluation_input_table_names_every_field():
    import dataclasses

    from ganzoo import EvaluationInput

    text = AUTHORS.read_text()
    table = text[text.index("| field | what it is |"):text.index("and returns `(metrics, protocol)`")]
    rows = [row for row in table.splitlines()[2:] if row.startswith("|")]
    named = {name.split("(")[0] for row in rows for name in re.findall(r"`([a-z_()n]+)`", row.split("|")[1])}
    assert named == {field.name for field in dataclasses.fields(EvaluationInput)} | {"sample"}


def test_the_published_budget_leaderboard_shows_the_committed_records():
    import json

    docs = (ROOT / "docs" / "leaderboard.md").read_text()
    results = sorted((ROOT / "benchmarks" / "results").glob("*/*/results.jsonl"))
    assert results, "benchmarks/results/ holds no records"
    for path in results:
        for record in map(json.loads, path.read_text().splitlines()):
            assert record["comparable"] and record["overrides"]["steps"] is None  # a published budget, as run
            row = next(line for line in docs.splitlines() if line.startswith(f"| {record['entry']} |"))
            assert f"| {record['metrics']['fid']:.1f} |" in row and f"seed {record['seed']}" in row
            assert (ROOT / record["run_dir"] / "provenance.json").is_file() and (ROOT / record["thumbnail"]).is_file()
            assert not (ROOT / record["run_dir"] / "checkpoints").exists()
