"""The leaderboard's content, built once from suites' results folders and then written in every format: one table
per suite, budget, data set and conditioning, one row per entry and objective with each figure over the seeds,
the published rows quoted beside them, and every run's provenance."""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import ganzoo
from ganzoo.bench.records import read_results
from ganzoo.bench.suite import Suite
from ganzoo.bench.table import Row, column_value, published_for, summarize

# Protocol keys that differ from run to run, or repeat the table's own caption
PER_RUN = ("checkpoint_step", "dataset", "generator_weights", "suite")


def shared_protocol(records: list[dict[str, Any]]) -> dict[str, Any]:
    """The protocol settings every evaluated record of a table agrees on."""
    protocols = [r["protocol"] for r in records if r.get("protocol")]
    if not protocols:
        return {}
    return {key: value for key, value in sorted(protocols[0].items())
            if key not in PER_RUN and all(p.get(key) == value for p in protocols[1:])}


def protocol_text(protocol: dict[str, Any]) -> str:
    return "; ".join(f"{key.replace('_', ' ')} {value}" for key, value in protocol.items())


def build_board(folders: Iterable[Path]) -> dict[str, Any]:
    """The leaderboard as one JSON-able record (leaderboard.json is this, written out)."""
    tables = []
    for folder in folders:
        suite, records = read_results(folder)
        tables.extend(_tables(suite, records, folder))
    return {"generated": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "ganzoo": ganzoo.__version__, "tables": tables}


def _tables(suite: Suite, records: list[dict[str, Any]], folder: Path) -> list[dict[str, Any]]:
    groups: dict[tuple[str, str, bool], list[dict[str, Any]]] = {}
    for r in records:
        groups.setdefault((r["budget"], r["dataset"], r["conditional"]), []).append(r)
    tables = []
    for (budget, dataset, conditional), group in groups.items():
        rows = summarize(suite, group)
        tables.append({
            "suite": suite.name, "title": suite.title, "follows": suite.follows, "suite_sha256": suite.digest(),
            "results": str(folder), "budget": budget, "budget_description": _budget_text(suite, budget, group),
            "comparable": all(r["comparable"] for r in group),
            "dataset": dataset, "conditional": conditional, "metric": suite.metric,
            "protocol": shared_protocol(group), "choices": suite.choices,
            "columns": [column.model_dump() for column in suite.columns],
            "rows": [_row(suite, row) for row in rows],
            "published": [{"entry": entry, "source": source, "pm_means": pm_means,
                           "values": {key: value.model_dump() for key, value in values.items()}}
                          for entry in dict.fromkeys(row.entry for row in rows)
                          for source, pm_means, values in published_for(suite, budget, entry, dataset)],
        })
    return tables


def _budget_text(suite: Suite, budget: str, records: list[dict[str, Any]]) -> str:
    """The budget in words, and what the command line changed of it."""
    planned = suite.budgets.get(budget)
    if planned is None:
        return budget
    seeds = len({r["seed"] for r in records})
    changed = [r for r in records if r["steps"] != planned.entry_steps.get(r["entry"], planned.steps)]
    if not changed and seeds == planned.seeds:
        return planned.description
    steps = f"{changed[0]['steps']:,} steps and " if changed else ""
    return f"{steps}{seeds} seed{'s' if seeds > 1 else ''} per row, set on the command line " \
           f"(budget '{budget}' is {planned.description})"


def _row(suite: Suite, row: Row) -> dict[str, Any]:
    first = next((r for r in row.records if r["metrics"] is not None), row.records[0])
    return {
        "entry": row.entry, "gan": row.gan, "objective": row.objective, "seeds": len(row.records),
        "diverged": row.diverged,
        "values": {key: None if value is None else value.as_dict() for key, value in row.values.items()},
        "per_seed": {c.key: [column_value(r, c) for r in row.records] for c in suite.columns},
        "thumbnail": first.get("thumbnail"),
        "runs": [_run(r) for r in row.records],
    }


def _run(record: dict[str, Any]) -> dict[str, Any]:
    """One run's provenance, as a reader checks it: what ran, on what, from which code and data, for how long."""
    return {key: record.get(key) for key in (
        "seed", "run_dir", "config_sha256", "config", "provenance", "protocol", "metrics", "diverged_at",
        "wall_seconds", "steps")}
