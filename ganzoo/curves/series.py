"""A run directory's logs as series over generator steps: what ``ganzoo plot`` and a run's curves.png draw.

Statistics come from ``stats.jsonl`` (every numeric key but ``step`` and ``seconds``), metrics from the
``metrics`` of each ``metrics.jsonl`` record. Both are read with :func:`ganzoo.run.rundir.read_jsonl`, so a
damaged line is skipped with a one-line warning and the rest of the run still draws.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ganzoo.errors import RunDirError
from ganzoo.run import rundir
from ganzoo.run.config import beyond_the_pair, fields_where

BOOKKEEPING = ("step", "seconds")  # logged with every record, not statistics of the training
APART = fields_where(apart=True)  # settings in which runs of one config may differ: seed and folder


@dataclass(frozen=True)
class Series:
    """Values over generator steps, NaN where a value was logged as null (not finite). A mean over seeds carries
    the band ``low`` to ``high`` (the lowest and highest seed) at the same steps."""

    steps: np.ndarray
    values: np.ndarray
    low: np.ndarray | None = None
    high: np.ndarray | None = None


@dataclass(frozen=True)
class RunCurves:
    """What one run (or the mean of several seeds of one config) draws: its label, config and series."""

    path: Path
    label: str
    config: dict[str, Any]
    divergence_name: str | None  # what the divergence estimate estimates, from provenance.json
    stats: dict[str, Series] = field(default_factory=dict)
    metrics: dict[str, Series] = field(default_factory=dict)
    seeds: tuple[int, ...] = ()

    @property
    def last_step(self) -> int:
        steps = [float(s.steps[-1]) for s in (*self.stats.values(), *self.metrics.values()) if len(s.steps)]
        return int(max(steps, default=0))


def is_number(value: Any) -> bool:
    """A JSON number: an int or float, not a boolean."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def read_run(path: Path) -> RunCurves:
    """The series of the run in ``path``; a folder without a run's config.json is a one-line error."""
    if not path.is_dir():
        raise RunDirError(f"{path} is not a run directory (no such folder)")
    if not (path / rundir.CONFIG).is_file():
        raise RunDirError(f"{path} is not a run directory (no {rundir.CONFIG})")
    config = rundir.read_json_object(path / rundir.CONFIG)
    return RunCurves(path=path, label=run_label(config), config=config, divergence_name=_divergence_name(path),
                     stats=stat_series(rundir.read_jsonl(path / rundir.STATS)),
                     metrics=metric_series(rundir.read_jsonl(path / rundir.METRICS)),
                     seeds=(config["seed"],) if is_number(config.get("seed")) else ())


def run_label(config: dict[str, Any], seeds: str | None = None) -> str:
    """``"<gan>/<objective> on <dataset>, seed <s>"`` (with the algorithm and augmentation where they set the run
    apart), or ``seeds`` in place of the seed."""
    parts = [str(config.get(key, "?")) for key in ("gan", "objective", "dataset")]
    return (f"{parts[0]}/{parts[1]}{beyond_the_pair(config)} on {parts[2]}, "
            + (seeds or f"seed {config.get('seed', '?')}"))


def _divergence_name(path: Path) -> str | None:
    """What the run's objective said its divergence estimate estimates; None for a run written before ganzoo
    recorded it, or whose provenance.json is missing or damaged (the plot is still worth drawing)."""
    try:
        name = rundir.read_json_object(path / rundir.PROVENANCE).get("divergence_estimate")
    except (OSError, RunDirError):
        return None
    return name if isinstance(name, str) and name.strip() else None


def stat_series(records: Iterable[dict[str, Any]]) -> dict[str, Series]:
    """Each numeric statistic of stats.jsonl over the steps that logged it."""
    return _series((record["step"], {k: v for k, v in record.items() if k not in BOOKKEEPING})
                   for record in records if "step" in record)


def metric_series(records: Iterable[dict[str, Any]]) -> dict[str, Series]:
    """Each numeric metric of metrics.jsonl over the steps measured, companions such as ``kid_std`` and
    ``num_modes`` aside. Where several records measured one step (``ganzoo eval`` after training), the last
    written wins."""
    return _series((record["step"], {k: v for k, v in record["metrics"].items() if is_metric(k)})
                   for record in records if "step" in record and isinstance(record.get("metrics"), dict))


def is_metric(key: str) -> bool:
    """Whether a metrics key is a figure of its own, not a spread or a count that goes with one."""
    return not (key.endswith("_std") or key.startswith("num_"))


def _series(points: Iterable[tuple[int, dict[str, Any]]]) -> dict[str, Series]:
    by_key: dict[str, dict[int, float]] = {}
    for step, values in points:
        for key, value in values.items():
            if value is None or is_number(value):
                by_key.setdefault(key, {})[step] = math.nan if value is None else float(value)
    result = {}
    for key, logged in by_key.items():
        steps = sorted(logged)
        series = Series(np.array(steps, dtype=float), np.array([logged[s] for s in steps], dtype=float))
        if not np.isnan(series.values).all():  # a key never logged as a number has nothing to draw
            result[key] = series
    return result


def config_group(config: dict[str, Any]) -> str:
    """Runs whose configs are equal but for their seed and folder share this key."""
    return json.dumps({k: v for k, v in config.items() if k not in APART}, sort_keys=True, default=str)


def group_seeds(runs: Sequence[RunCurves]) -> list[RunCurves]:
    """The runs with those of one config (differing only in seed) replaced by their mean, in first-seen order."""
    groups: dict[str, list[RunCurves]] = {}
    for run in runs:
        groups.setdefault(config_group(run.config), []).append(run)
    return [members[0] if len(members) == 1 else mean_over_seeds(members) for members in groups.values()]


def mean_over_seeds(runs: Sequence[RunCurves]) -> RunCurves:
    """The mean of several seeds' series at the steps they all logged, with the band from the lowest to the
    highest seed: with a handful of seeds the extremes say more than a standard deviation."""
    first = runs[0]
    seeds = tuple(seed for run in runs for seed in run.seeds)
    label = run_label(first.config, f"mean of {len(runs)} seeds ({', '.join(str(s) for s in seeds)})")
    return RunCurves(path=first.path, label=label, config=first.config, divergence_name=first.divergence_name,
                     stats=_mean_series([run.stats for run in runs]),
                     metrics=_mean_series([run.metrics for run in runs]), seeds=seeds)


def _mean_series(members: Sequence[dict[str, Series]]) -> dict[str, Series]:
    result = {}
    for key in set.intersection(*(set(series) for series in members)):
        shared = sorted(set.intersection(*(set(series[key].steps.tolist()) for series in members)))
        if not shared:
            continue
        stacked = np.stack([_at(series[key], shared) for series in members])
        with warnings.catch_warnings():  # a step where every seed logged null: NaN, drawn as a gap
            warnings.simplefilter("ignore", RuntimeWarning)
            result[key] = Series(np.array(shared), np.nanmean(stacked, axis=0), np.nanmin(stacked, axis=0),
                                 np.nanmax(stacked, axis=0))
    return result


def _at(series: Series, steps: list[float]) -> np.ndarray:
    index = {step: i for i, step in enumerate(series.steps.tolist())}
    return np.array([series.values[index[step]] for step in steps])
