"""The documentation's code works as written."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import toy_run
from ganzoo.registry.discovery import Zoo
from ganzoo.training.config import resolve_config
from ganzoo.training.trainer import Trainer

ROOT = Path(__file__).resolve().parents[1]


def code_blocks(path: Path, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", path.read_text(), flags=re.S)


def test_the_plugin_authors_example_installs_and_trains(make_distribution, tmp_path):
    (source,) = code_blocks(ROOT / "docs" / "plugin-authors.md", "python")
    (pyproject,) = code_blocks(ROOT / "docs" / "plugin-authors.md", "toml")
    assert 'example = "ganzoo_example"' in pyproject
    make_distribution("ganzoo-example", "0.1.0", "ganzoo_example", source, entry_point="example")
    zoo = Zoo()
    record = next(r for r in zoo.records if r.source.distribution == "ganzoo-example")
    assert not record.errors
    assert record.contributes == {"gans": ["example-mlp"], "objectives": ["example-ls"], "datasets": ["example-circle"]}
    for dataset in ("example-circle", "ring8"):
        config = resolve_config(toy_run(tmp_path / dataset, gan="example-mlp", dataset=dataset, steps=5), zoo)
        assert config.z_dim == 8 and config.objective == "example-ls"
        trainer = Trainer(config, zoo, progress=False)
        trainer.fit()
        assert trainer.step == 5


def test_ci_runs_readme_command_two():
    commands = code_blocks(ROOT / "README.md", "bash")
    ci = (ROOT / ".ci" / "run").read_text().strip().splitlines()[-1]
    assert commands[1].strip() == ci
    assert commands[0].strip().endswith("ganzoo bench toy")
