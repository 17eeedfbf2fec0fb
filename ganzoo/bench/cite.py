"""``ganzoo cite`` and ``ganzoo reproduce``: an entry of a suite's results, named by one of its run folders, as
BibTeX beside the papers it rests on, or run again from its record alone and set against the recorded figures."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ganzoo
from ganzoo.bench.records import read_results
from ganzoo.bench.seeds import OverSeeds
from ganzoo.bench.suite import Column, Suite
from ganzoo.bench.table import Row, column_value, summarize
from ganzoo.errors import GanzooError, TrainingDiverged
from ganzoo.leaderboard.board import protocol_text, shared_protocol
from ganzoo.registry.discovery import Zoo

DISTRIBUTION = "ganzoo-core"


@dataclass(frozen=True)
class ResultEntry:
    """A row of a suite's results (one entry, objective and data set over its seeds) and the run asked for."""

    suite: Suite
    row: Row
    record: dict[str, Any]
    folder: Path


def find_entry(run: Path) -> ResultEntry:
    """The row a run folder belongs to; the folder's parent is the suite's results folder."""
    folder = run.parent
    if not (folder / "results.jsonl").is_file():
        raise GanzooError(f"{run} is not a run of a suite's results folder (its parent has no results.jsonl): "
                          f"name one of the run folders 'ganzoo bench' wrote, e.g. {folder}/<entry>-...-seed0")
    suite, records = read_results(folder)
    record = next((r for r in records if Path(r["run_dir"]).name == run.name), None)
    if record is None:
        raise GanzooError(f"{folder}/results.jsonl has no record of run '{run.name}' (runs: "
                          f"{', '.join(Path(r['run_dir']).name for r in records[:5])}...)")
    row = next(row for row in summarize(suite, records) if record in row.records)
    return ResultEntry(suite, row, record, folder)


def _key(*parts: str) -> str:
    return ":".join(re.sub(r"[^A-Za-z0-9_-]+", "-", part) for part in parts)


def _figure(value: OverSeeds | None, fmt: str) -> str:
    if value is None:
        return "n/a"
    text = format(value.mean, fmt)
    if value.sd is not None and value.interval is not None:
        text += f" ± {value.sd:{fmt}} (95 % interval {value.interval[0]:{fmt}} to {value.interval[1]:{fmt}})"
    return text


def cite(entry: ResultEntry, zoo: Zoo) -> str:
    """BibTeX: the result, ganzoo itself, the paper whose protocol the suite follows, and the plugins' papers."""
    suite, row, record = entry.suite, entry.row, entry.record
    figures = "; ".join(f"{c.label} {_figure(row.values[c.key], c.format)}" for c in suite.columns)
    protocol = protocol_text(shared_protocol(row.records))
    year = time.strftime("%Y")
    incomparable = not record["comparable"] and bool(suite.follows or suite.published)
    versions = record["provenance"].get("ganzoo", ganzoo.__version__)
    blocks = [
        f"@misc{{{_key('ganzoo', suite.name, record['budget'], row.entry, row.objective, row.dataset)},\n"
        f"  title = {{{row.entry} ({row.gan} with {row.objective}) on {row.dataset}: the {suite.name} suite of "
        f"ganzoo, {record['budget']} budget}},\n"
        f"  author = {{{{ganzoo contributors}}}},\n"
        f"  howpublished = {{{DISTRIBUTION} {versions} on the Python package index}},\n"
        f"  note = {{{figures}; over {len(row.records)} training seeds ({row.diverged} diverged), "
        f"{record['steps']:,} steps each; {suite.metric} protocol: {protocol}; suite sha256 "
        f"{record['suite_sha256'][:16]}, config sha256 {record['config_sha256'][:16]} (seed {record['seed']})"
        f"{'; NOT comparable with published figures' if incomparable else ''}}},\n"
        f"  year = {{{year}}}\n}}",
        f"@software{{ganzoo,\n  title = {{ganzoo: a plugin-based GAN zoo}},\n  author = {{{{ganzoo contributors}}}},"
        f"\n  version = {{{versions}}},\n  note = {{the {DISTRIBUTION} distribution; CITATION.cff in its "
        f"repository}},\n  year = {{{year}}}\n}}",
    ]
    if suite.bibtex:
        blocks.append(suite.bibtex.strip())
    for role in ("gan", "objective"):
        name = record["provenance"].get(role, {}).get("name")
        registry = zoo.gans if role == "gan" else zoo.objectives
        if name in registry:
            blocks.append(f"@misc{{{_key(role, name)},\n  note = {{{registry.get(name).citation}}}\n}}")
    return "\n\n".join(blocks)


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
