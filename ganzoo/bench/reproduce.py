"""``ganzoo reproduce``: an entry of a suite's results, named by one of its run folders, run again from its record
alone, in the recorded conditions where this machine allows, and set against the recorded figures.

A seed's figures are a function of its config, its seed, the software versions, the device type and the torch
thread count (docs/architecture.md, "What is guaranteed"). The rerun takes the config and, unless told otherwise,
the thread count from the record; every other condition that differs is named before the verdict. In the recorded
conditions a figure must equal the record's to the last digit; in others it must lie inside its row's 95 %
interval (a row of one seed has none, so it must equal it)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ganzoo.bench.seeds import OverSeeds
from ganzoo.bench.suite import Column
from ganzoo.bench.table import ResultEntry, column_value
from ganzoo.errors import TrainingDiverged
from ganzoo.registry.discovery import Zoo

REPRODUCED = Path("runs") / "reproduced"
CONDITIONS = ("ganzoo", "torch", "cuda", "device", "device_name", "torch_threads", "data_sha256")
PARTS = ("gan", "objective", "algorithm", "dataset", "augmentation")


@dataclass(frozen=True)
class Verdict:
    """A figure of the rerun against the record: whether it agrees, in words."""

    agrees: bool
    line: str


def default_out(entry: ResultEntry) -> Path:
    """``runs/reproduced/<suite>/<budget>/<run>``: never inside a results folder, whose runs it would join."""
    record = entry.record
    return REPRODUCED / entry.suite.name / record["budget"] / Path(record["run_dir"]).name


def reproduce(entry: ResultEntry, zoo: Zoo, *, out: Path | None, device: str | None,
              threads: int | None = None) -> tuple[bool, str]:
    """Train the run again from its record (in ``out``, default :func:`default_out`) and compare each column.
    Returns whether every figure agrees, and the report: the conditions that differ, then one line a figure."""
    from ganzoo.bench.matrix import Job
    from ganzoo.bench.records import collect
    from ganzoo.run.config import resolve_config
    from ganzoo.training.trainer import Trainer

    record = entry.record
    recorded = record["provenance"]
    torch.set_num_threads(threads or int(recorded.get("torch_threads") or torch.get_num_threads()))
    target = out or default_out(entry)
    raw = {**record["config"], "out_dir": str(target), **({"device": device} if device else {})}
    config = resolve_config(raw, zoo, f"the record of {Path(record['run_dir']).name}")
    trainer = Trainer(config, zoo, progress=True)
    differences = condition_differences(record, trainer.provenance)
    try:
        trainer.fit(resume=True)
    except TrainingDiverged:
        pass  # recorded in the run folder: collect() reads it
    job = Job(entry.row.entry, record["gan"], record["objective"], record["dataset"], record["seed"], raw, config)
    new = collect(job, entry.suite, record["budget"], record["comparable"])
    header = [f"rerun in {target}"] + ([f"differs from the record: {difference}" for difference in differences]
                                       or ["in the recorded conditions: every figure must equal the record's"])
    if new["metrics"] is None or record["metrics"] is None:
        agrees = new["metrics"] is None and record["metrics"] is None
        said = (f"diverged at step {new['diverged_at']}" if new["metrics"] is None else "finished") + (
            ", as the recorded run did" if agrees else
            f", but the recorded run {'diverged' if record['metrics'] is None else 'finished'}")
        return agrees, "\n".join([*header, said])
    verdicts = [verdict for column in entry.suite.columns if (verdict := compare(
        column, entry.row.values[column.key], column_value(new, column), column_value(record, column),
        exact=not differences)) is not None]
    agrees = all(v.agrees for v in verdicts)
    summary = ("reproduced: every figure agrees with the record" if agrees else
               "NOT reproduced" + ("" if differences else " although the conditions are the recorded ones"))
    return agrees, "\n".join([*header, *(v.line for v in verdicts), summary])


def _same(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-9 * max(1.0, abs(b))


def compare(column: Column, row: OverSeeds | None, value: float | None, own: float | None, *,
            exact: bool) -> Verdict | None:
    """A new figure against the seed's own recorded one and its row: ``exact`` (the recorded conditions) asks for
    the same figure; otherwise the row's 95 % interval, or the figure itself for a row of one seed."""
    if value is None or own is None:
        return None if value is None and own is None else Verdict(False, (
            f"{column.label}: {'none' if value is None else format(value, column.format)} now, "
            f"{'none' if own is None else format(own, column.format)} in the record"))
    fmt = column.format
    same = _same(value, own)
    text = f"{column.label}: {value:{fmt}}, recorded {own:{fmt}}: {'the same' if same else 'different'}"
    if exact or same or row is None or row.interval is None:
        return Verdict(same, text)
    low, high = row.interval
    inside = low <= value <= high
    return Verdict(inside, f"{text}; the row's 95 % interval over {row.count} seeds is [{low:{fmt}}, {high:{fmt}}]: "
                           f"{'inside' if inside else 'OUTSIDE'}")


def condition_differences(record: dict[str, Any], now: dict[str, Any]) -> list[str]:
    """Every recorded condition of the run that this rerun does not share: versions, device, threads, data,
    the plugins' versions, steps, and how it was scheduled (seeds trained stacked, before ganzoo 0.2.6)."""
    recorded = record["provenance"]
    differences = [f"{key} {recorded.get(key)} then, {now.get(key)} now" for key in CONDITIONS
                   if recorded.get(key) != now.get(key)]
    for role in PARTS:
        then, here = recorded.get(role) or {}, now.get(role) or {}
        if then.get("version") != here.get("version"):
            differences.append(f"{then.get('distribution') or here.get('distribution') or role} "
                               f"{then.get('version')} then, {here.get('version')} now")
    stacked = (recorded.get("speed") or {}).get("seeds_together")
    if stacked:
        differences.append(f"scheduling: trained stacked with {stacked - 1} other seeds then (ganzoo before 0.2.6, "
                           "to rounding of a lone run), alone now")
    steps = record["config"].get("steps")
    if record.get("steps") not in (None, steps):
        differences.append(f"steps: the record says {record['steps']}, its config {steps}")
    return differences
