"""``ganzoo plugin new NAME``: the files of a complete plugin distribution, ready to install, test and publish.

The plugin contributes a GAN ``NAME`` (an MLP pair for points in the plane)
and its objective ``NAME-ns`` (the non-saturating loss), so it trains on
``ring8`` as soon as it is installed; its tests turn on the conformance checks.
"""

from __future__ import annotations

import importlib.util
import re
from importlib import metadata
from pathlib import Path

from ganzoo.api.version import PLUGIN_API, core_requirement
from ganzoo.errors import GanzooError
from ganzoo.registry.discovery import Zoo

NAME = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")

PYPROJECT = '''[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "ganzoo-{name}"
version = "0.1.0"
description = "ganzoo plugin: the {name} GAN"
readme = "README.md"
requires-python = ">=3.10"
dependencies = ["{requirement}", "torch>=2.1"]

[project.optional-dependencies]
test = ["pytest>=7.4"]

[project.entry-points.ganzoo]
{name} = "{module}"

[tool.setuptools]
packages = ["{module}"]
'''

MODULE = '''"""ganzoo plugin ``{name}``: a GAN and its objective.

Replace the networks and the loss with your own. ``ganzoo plugin check ganzoo-{name}``
and this distribution's tests say whether it still does what ganzoo expects.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from pydantic import Field
from torch import nn

from ganzoo import DataInfo, GanSpec, Objective, ObjectiveSpec, Options, hookimpl

ganzoo_plugin_api = "{api}"  # the ganzoo plugin API this module is written for

CITATION = "Your Name 2026, the paper or repository that describes {name}"


class {cls}Options(Options):
    hidden: int = Field(128, gt=0, description="units per hidden layer of both networks")


def build_pair(info: DataInfo, z_dim: int, options: {cls}Options) -> tuple[nn.Module, nn.Module]:
    """A generator from z to points and a discriminator from points to one logit each."""
    if len(info.shape) != 1:
        raise ValueError("{name} takes points (one axis), not images")
    if info.conditional:
        raise ValueError("{name} has no class-conditional variant; set conditional = false")
    width, hidden = info.shape[0], options.hidden
    generator = nn.Sequential(nn.Linear(z_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                              nn.Linear(hidden, width))
    discriminator = nn.Sequential(nn.Linear(width, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, hidden),
                                  nn.LeakyReLU(0.2), nn.Linear(hidden, 1))
    return generator, discriminator


class NonSaturating(Objective):
    """D maximizes E log D(x) + E log(1 - D(G(z))); G maximizes E log D(G(z)) (Goodfellow et al. 2014)."""

    def discriminator_loss(self, real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
        return F.softplus(-real_scores).mean() + F.softplus(fake_scores).mean()

    def generator_loss(self, fake_scores: torch.Tensor) -> torch.Tensor:
        return F.softplus(-fake_scores).mean()


@hookimpl
def register_gans(register):
    register(GanSpec(
        name="{name}",
        build=build_pair,
        default_objective="{name}-ns",
        citation=CITATION,
        description="MLP generator and discriminator for points in the plane",
        options={cls}Options,
        serves=(DataInfo(shape=(2,)),),
        defaults={{"z_dim": 8, "batch_size": 100, "optimizer_g": {{"lr": 1e-3}}, "optimizer_d": {{"lr": 1e-3}}}},
    ))


@hookimpl
def register_objectives(register):
    register(ObjectiveSpec(name="{name}-ns", build=lambda options: NonSaturating(), citation=CITATION,
                           description="the non-saturating GAN loss"))
'''

TESTS = '''"""The plugin's own tests: ganzoo's conformance checks, and what this GAN should do."""

from ganzoo.testing import conformance_tests, train

test_conformance = conformance_tests("ganzoo-{name}")


def test_it_trains_on_ring8_and_is_measured(tmp_path):
    run = train(tmp_path / "run", gan="{name}", steps=20)
    (record,) = run.last_eval
    assert run.step == 20 and record["metrics"]["num_modes"] == 8
'''

RUN = '''# A first run of the plugin's GAN, from this folder: ganzoo train run.toml
gan = "{name}"
objective = "{name}-ns"
dataset = "ring8"
steps = 300
out_dir = "runs/{name}-ring8"
'''

README = '''# ganzoo-{name}

A plugin for [ganzoo](https://pypi.org/project/ganzoo-core/): the GAN `{name}` and its
objective `{name}-ns`.

```console
$ pip install -e '.[test]'       # then ganzoo finds it: `ganzoo plugins`
$ ganzoo train run.toml          # {name} on ring8 for 300 steps, into runs/{name}-ring8
$ ganzoo plugin check ganzoo-{name}
$ pytest tests                   # the conformance checks, and your own tests
```

Before publishing, check that the name `ganzoo-{name}` is free on the package index,
fill in the citation in `{module}/__init__.py`, then `python -m build` and upload.
'''


def write_plugin(name: str, folder: Path, zoo: Zoo) -> Path:
    """Write the distribution ``ganzoo-NAME`` into ``folder/ganzoo-NAME``; refuse names that would clash."""
    if not NAME.fullmatch(name) or name.startswith("ganzoo"):
        raise GanzooError(f"plugin name '{name}': use lowercase letters, digits and single hyphens, starting with a "
                          "letter and without the ganzoo prefix (e.g. 'mygan'; the distribution is ganzoo-mygan)")
    module = "ganzoo_" + name.replace("-", "_")
    taken = [f"GAN '{name}'"] if name in zoo.gans else []
    taken += [f"objective '{name}-ns'"] if f"{name}-ns" in zoo.objectives else []
    taken += [f"plugin '{name}' ({record.source})" for record in zoo.records if record.source.plugin == name]
    taken += [f"distribution 'ganzoo-{name}'"] if _installed(f"ganzoo-{name}") else []
    taken += [f"module '{module}'"] if importlib.util.find_spec(module) is not None else []
    if taken:
        raise GanzooError(f"{', '.join(taken)} already taken by what is installed; a plugin by that name would "
                          "clash with it, so choose another name")
    target = folder / f"ganzoo-{name}"
    if target.exists():
        raise GanzooError(f"{target} already exists; choose another name or folder")
    values = {"name": name, "module": module, "api": PLUGIN_API, "requirement": core_requirement(),
              "cls": "".join(part.capitalize() for part in name.split("-"))}
    files = {"pyproject.toml": PYPROJECT, "README.md": README, "run.toml": RUN, f"{module}/__init__.py": MODULE,
             f"tests/test_{module[len('ganzoo_'):]}.py": TESTS}
    for relative, template in files.items():
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(template.format(**values), encoding="utf-8")
    return target


def _installed(distribution: str) -> bool:
    try:
        metadata.distribution(distribution)
    except metadata.PackageNotFoundError:
        return False
    return True
