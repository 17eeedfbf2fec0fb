"""A suite's runs: its matrix (entries x data sets x seeds) at one budget, as resolved run configs."""

from __future__ import annotations

import fnmatch
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from ganzoo.bench.suite import SUITE_KEYS, Budget, Entry, Suite, is_pattern, load_suite_file
from ganzoo.errors import ConfigError, GanzooError
from ganzoo.registry.discovery import Zoo
from ganzoo.registry.registry import split_patterns
from ganzoo.run.config import RunConfig, deep_merge, fields_where, resolve_config


@dataclass(frozen=True)
class Job:
    """One run of a suite. ``raw`` is the run config as the suite states it (JSON-able, for a worker process)."""

    label: str
    gan: str
    objective: str
    dataset: str
    seed: int
    raw: dict[str, Any]
    config: RunConfig

    @property
    def run_dir(self) -> Path:
        return self.config.run_dir()

    def __str__(self) -> str:
        who = self.gan if self.label == self.gan else f"{self.label} ({self.gan})"
        return f"{who} with {self.objective} on {self.dataset}, seed {self.seed}"


def find_suite(name_or_path: str, zoo: Zoo) -> Suite:
    """A registered suite by name, or a suite file by its path."""
    path = Path(name_or_path)
    if path.suffix == ".toml" or path.is_file():
        return load_suite_file(path)
    spec = zoo.suites.get(name_or_path)
    suite = load_suite_file(spec.path)
    if suite.name != spec.name:
        raise ConfigError(f"{spec.path}: registered as suite '{spec.name}' by {zoo.suites.source(spec.name)} "
                          f"but its file says name = '{suite.name}'")
    return suite




def _dotted(names: Iterable[str]) -> set[str]:
    """Run-config fields as --set names them: a table's keys one by one ('speed.precision')."""
    keys: set[str] = set()
    for name in names:
        table = RunConfig.model_fields[name].annotation
        is_table = isinstance(table, type) and issubclass(table, BaseModel)
        keys |= {f"{name}.{key}" for key in table.model_fields} if is_table else {name}  # type: ignore[union-attr]
    return keys


# --set keys that leave a run's protocol as it was: how often a run writes and how it computes (declared on
# RunConfig's fields), and where an image data set's files are
PROTOCOL_NEUTRAL = {"dataset_options.root", "dataset_options.download", "dataset_options.in_memory",
                    *_dotted(fields_where(comparable=True))}


def flat_items(table: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """A nested table as dotted keys, e.g. {'dataset_options.root': '/data'}: as --set names them."""
    items: dict[str, Any] = {}
    for key, value in table.items():
        if isinstance(value, dict):
            items.update(flat_items(value, f"{prefix}{key}."))
        else:
            items[f"{prefix}{key}"] = value
    return items


def flat_keys(table: dict[str, Any], prefix: str = "") -> list[str]:
    return list(flat_items(table, prefix))


def matches(name: str, patterns: str) -> bool:
    """Whether ``name`` matches any of the comma-separated fnmatch ``patterns``."""
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in split_patterns(patterns))


def default_out(suite: Suite, budget: str, steps: int | None = None, overrides: dict[str, Any] | None = None) -> Path:
    """``runs/bench/<suite>/<budget>``; other step counts and settings get their own folder, so that a budget's
    runs are never continued past it nor mixed with runs of other settings."""
    name = budget if steps is None else f"{budget}-steps{steps}"
    if set(flat_keys(overrides or {})) - PROTOCOL_NEUTRAL:
        name += "-set" + hashlib.sha256(json.dumps(overrides, sort_keys=True).encode()).hexdigest()[:8]
    return Path("runs") / "bench" / suite.name / name


def plan_jobs(suite: Suite, budget_name: str, zoo: Zoo, *, out: Path, device: str = "auto", seeds: int | None = None,
              steps: int | None = None, gans: str = "*", objectives: str | None = None,
              overrides: dict[str, Any] | None = None, entries: str = "*") -> list[Job]:
    """Every run of ``suite`` at ``budget_name``, its config resolved (so every name and setting is checked before
    anything trains). ``seeds``/``steps`` override the budget's; ``gans`` and ``objectives`` are comma-separated
    fnmatch patterns that narrow the GANs and replace each entry's objective with every matching one; ``entries``
    narrows the entries by label, likewise; ``overrides`` (``--set``) go into every run's config last."""
    overrides = overrides or {}
    taken = sorted(set(overrides) & SUITE_KEYS)
    if taken:
        raise ConfigError(f"--set {', '.join(taken)}: the suite sets that for each run (use --steps, --seeds, "
                          f"--device or --out)")
    budget = suite.budget(budget_name)
    jobs = []
    for entry in suite.entries:
        for dataset in suite.datasets:
            for gan in _entry_gans(entry, dataset, zoo, gans, _run_table(suite, budget, entry)):
                if not matches(entry.label or gan, entries):
                    continue
                for objective in _objectives(entry, gan, zoo, objectives):
                    for seed in range(budget.seeds if seeds is None else seeds):
                        label = entry.label or gan  # a row's name: an entry's label, or its GAN's
                        run_steps = budget.entry_steps.get(label, budget.steps) if steps is None else steps
                        raw = {**deep_merge(_run_table(suite, budget, entry), overrides), "gan": gan,
                               "objective": objective, "dataset": dataset, "seed": seed,
                               "steps": run_steps, "eval_every": run_steps,  # one evaluation, at the end
                               "device": device, "out_dir": str(out / f"{label}-{objective}-{dataset}-seed{seed}")}
                        config = resolve_config(raw, zoo, f"suite '{suite.name}', {label} on {dataset}")
                        jobs.append(Job(label, gan, objective, dataset, seed, raw, config))
    if not jobs:
        chosen = [f"--gans '{gans}'"] + ([f"--objectives '{objectives}'"] if objectives else []) + (
            [f"--entries '{entries}'"] if entries != "*" else [])
        raise GanzooError(f"suite '{suite.name}' has no run with {' and '.join(chosen)} "
                          f"({_what_matches(suite, budget, zoo)})")
    return jobs


def _what_matches(suite: Suite, budget: Budget, zoo: Zoo) -> str:
    """What --gans, --entries and --objectives can match in a suite, among the installed plugins, in words."""
    gans: dict[str, None] = {}
    labels: dict[str, None] = {}
    objectives: set[str] = set()
    for entry in suite.entries:
        names = [entry.gan] if entry.gan in zoo.gans else []
        if is_pattern(entry.gan):  # those that build for one of the suite's data sets, at least
            run = _run_table(suite, budget, entry)
            names = [n for n in zoo.gans.names(entry.gan) if any(n in _serving([n], d, zoo, run)
                                                                  for d in suite.datasets)]
        gans.update(dict.fromkeys(names))
        labels.update(dict.fromkeys([entry.label] if entry.label else names))
        objectives.update(name for gan in names for name in _objectives(entry, gan, zoo, None))
    said = [f"its GANs: {', '.join(sorted(gans)) or 'none installed'}"]
    if list(labels) != list(gans):  # a suite of unlabelled entries: its entries are its GANs
        said.append(f"its entries: {', '.join(labels)}")
    return "; ".join([*said, f"its objectives: {', '.join(sorted(objectives)) or 'none installed'}"])


def _run_table(suite: Suite, budget: Budget, entry: Entry) -> dict[str, Any]:
    return deep_merge(deep_merge(suite.run, budget.run), entry.run)


def _entry_gans(entry: Entry, dataset: str, zoo: Zoo, pattern: str, run: dict[str, Any]) -> list[str]:
    """The GANs an entry names, narrowed by ``pattern``. A pattern entry keeps only GANs that build for the data set
    (``GanSpec.serves``) and says which it leaves out; a named GAN must be installed."""
    if not is_pattern(entry.gan):
        zoo.gans.get(entry.gan)  # an unknown name stops here, with close matches
        return [entry.gan] if matches(entry.gan, pattern) else []
    names = [name for name in zoo.gans.names(entry.gan) if matches(name, pattern)]
    serving = _serving(names, dataset, zoo, run)
    left_out = [name for name in names if name not in serving]
    if left_out:
        shape = _data_shape(zoo, dataset, run.get("dataset_options", {}))
        print(f"not on {dataset} (no network for its shape {shape}): {', '.join(left_out)}")
    return serving


def _serving(names: list[str], dataset: str, zoo: Zoo, run: dict[str, Any]) -> list[str]:
    """The GANs of ``names`` that build for ``dataset`` (``GanSpec.serves``)."""
    shape = _data_shape(zoo, dataset, run.get("dataset_options", {}))
    return [name for name in names if any(info.shape == shape for info in zoo.gans.get(name).serves)]


_shapes: dict[str, tuple[int, ...]] = {}


def _data_shape(zoo: Zoo, dataset: str, options: dict[str, Any]) -> tuple[int, ...]:
    key = f"{dataset} {sorted(options.items())}"
    if key not in _shapes:
        spec = zoo.datasets.get(dataset)
        _shapes[key] = tuple(spec.build(spec.options(**options)).info.shape)
    return _shapes[key]


def _objectives(entry: Entry, gan: str, zoo: Zoo, pattern: str | None) -> list[str]:
    chosen = pattern if pattern is not None else entry.objective
    if chosen is None:
        return [zoo.gans.get(gan).default_objective]
    names = sorted({name for one in split_patterns(chosen) for name in zoo.objectives.names(one)})
    if not names:
        raise GanzooError(f"no installed objective matches '{chosen}' "
                          f"(installed: {', '.join(zoo.objectives.names()) or 'none'})")
    return names
