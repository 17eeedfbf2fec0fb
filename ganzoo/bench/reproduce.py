"""``ganzoo reproduce``: an entry of a suite's results, named by one of its run folders, run again from its record
alone and set against the recorded figures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ganzoo.bench.cite import ResultEntry
from ganzoo.bench.seeds import OverSeeds
from ganzoo.bench.suite import Column
from ganzoo.bench.table import column_value
from ganzoo.errors import TrainingDiverged
from ganzoo.registry.discovery import Zoo


def reproduce(entry: ResultEntry, zoo: Zoo, *, out: Path | None, device: str | None) -> tuple[bool, str]:
    """Train the run again from its recorded config (in ``out``, default ``<run>-reproduced``) and say, for each
    column, whether the new figure lies inside the row's recorded 95 % interval (or equals a lone seed's)."""
    from ganzoo.bench.matrix import Job
    from ganzoo.bench.records import collect
    from ganzoo.training.config import resolve_config
    from ganzoo.training.trainer import Trainer

    record = entry.record
    target = out or Path(f"{record['run_dir']}-reproduced")
    raw = {**record["config"], "out_dir": str(target), **({"device": device} if device else {})}
    config = resolve_config(raw, zoo, f"the record of {Path(record['run_dir']).name}")
    trainer = Trainer(config, zoo, progress=True)
    notes = _version_changes(record["provenance"], trainer.provenance)
    try:
        trainer.fit(resume=True)
    except TrainingDiverged:
        pass  # recorded in the run folder: collect() reads it
    job = Job(entry.row.entry, record["gan"], record["objective"], record["dataset"], record["seed"], raw, config)
    new = collect(job, entry.suite, record["budget"], record["comparable"])
    if new["metrics"] is None:
        again = record["metrics"] is None
        return again, "\n".join([*notes, f"diverged at step {new['diverged_at']}, "
                                 + ("as the recorded run did" if again else "which the recorded run did not")])
    compared = [c for c in (_compare(column, entry.row.values[column.key], column_value(new, column),
                                     column_value(record, column), record["seed"]) for column in entry.suite.columns)
                if c is not None]
    return all(same for same, _ in compared), "\n".join([*notes, *(line for _, line in compared)])


def _same(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-9 * max(1.0, abs(b))


def _compare(column: Column, recorded: OverSeeds | None, value: float | None, own: float | None,
             seed: int) -> tuple[bool, str] | None:
    """Whether a new figure agrees with its row (inside the 95 % interval; equal, for a row of one seed), in words."""
    if recorded is None or value is None:
        return None
    fmt = column.format
    if recorded.interval is None:
        same = _same(value, recorded.mean)
        return same, (f"{column.label}: {value:{fmt}}, recorded {recorded.mean:{fmt}} (one seed): "
                      + ("the same" if same else "different"))
    low, high = recorded.interval
    same = low <= value <= high
    then = "" if own is None else f" (seed {seed} gave {own:{fmt}} then{', the same' if _same(value, own) else ''})"
    return same, (f"{column.label}: {value:{fmt}}, recorded mean {recorded.mean:{fmt}} with 95 % interval "
                  f"[{low:{fmt}}, {high:{fmt}}] over {recorded.count} seeds: {'inside' if same else 'OUTSIDE'}{then}")


def _version_changes(recorded: dict[str, Any], now: dict[str, Any]) -> list[str]:
    """What differs between the recorded run's software and device and this one's (figures may differ then)."""
    changes = []
    for key in ("ganzoo", "torch", "cuda", "device", "torch_threads", "data_sha256"):
        if recorded.get(key) != now.get(key):
            changes.append(f"{key} {recorded.get(key)} then, {now.get(key)} now")
    for role in ("gan", "objective", "algorithm", "dataset"):
        then, here = recorded.get(role) or {}, now.get(role) or {}
        if then.get("version") != here.get("version"):
            changes.append(f"{then.get('distribution')} {then.get('version')} then, {here.get('version')} now")
    return [f"note: {change}: figures may differ for that reason alone" for change in changes]
