"""The leaderboard's content, built once from suites' results folders and then written in every format: one table
per suite, budget, data set and conditioning, one row per entry and objective with each figure over the seeds,
the published rows quoted beside them, and every run's provenance."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ganzoo.api.version import CORE_VERSION
from ganzoo.bench.records import read_results
from ganzoo.bench.suite import Column, Suite
from ganzoo.bench.table import (
    Row,
    bounds_text,
    column_value,
    overrides_of,
    published_for,
    seeds_text,
    summarize,
)

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


def short_protocol(protocol: dict[str, Any]) -> str:
    """The protocol's sample counts and split, short enough for a column header."""
    p = protocol
    bits = [f"{p['num_generated']:,} generated" if "num_generated" in p else "",
            f"vs {p['num_reference']:,} {p.get('reference_split', '')}".rstrip() if "num_reference" in p else "",
            f"seed {p['sampling_seed']}" if "sampling_seed" in p else ""]
    return ", ".join(bit for bit in bits if bit)


def column_source(column: Column, metric: str, protocol: dict[str, Any], records: list[dict[str, Any]]
                  ) -> tuple[str, str]:
    """Where a column's figures come from, (in a header's few words, in full): the evaluation with its protocol,
    or (``stat``) the training log's last interval, which no evaluation protocol describes."""
    if not column.stat:
        short = short_protocol(protocol)
        return short, f"the {metric} evaluation at each run's last step" + (f" ({short})" if short else "")
    intervals = {(r.get("config", {}).get("log_every"), r.get("last_stats", {}).get("step"))
                 for r in records if r["metrics"] is not None}
    if len(intervals) == 1:
        every, step = next(iter(intervals))
        if isinstance(every, int) and isinstance(step, int) and 0 < every <= step:
            return (f"training log, steps {step - every + 1:,}-{step:,}",
                    f"the training log's last interval: the mean over steps {step - every + 1:,} to {step:,} of "
                    f"each run, not an evaluation")
    return "training log, last interval", "the training log's last interval of each run, not an evaluation"


def build_board(folders: Iterable[Path]) -> dict[str, Any]:
    """The leaderboard as one JSON-able record (leaderboard.json is this, written out)."""
    tables = []
    for folder in folders:
        suite, records = read_results(folder)
        tables.extend(_tables(suite, records, folder))
    return {"generated": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "ganzoo": CORE_VERSION, "tables": tables}


def _tables(suite: Suite, records: list[dict[str, Any]], folder: Path) -> list[dict[str, Any]]:
    groups: dict[tuple[str, str, bool], list[dict[str, Any]]] = {}
    for r in records:
        groups.setdefault((r["budget"], r["dataset"], r["conditional"]), []).append(r)
    tables = []
    for (budget, dataset, conditional), group in groups.items():
        rows = summarize(suite, group)
        protocol = shared_protocol(group)
        tables.append({
            "suite": suite.name, "title": suite.title, "follows": suite.follows, "suite_sha256": suite.digest(),
            "results": str(folder), "budget": budget, "budget_description": _budget_text(suite, budget, group),
            "comparable": all(r["comparable"] for r in group),
            "dataset": dataset, "conditional": conditional, "metric": suite.metric,
            "protocol": protocol, "choices": suite.choices,
            "columns": [column.model_dump() for column in suite.columns],
            "column_info": {c.key: _column_info(c, suite.metric, protocol, group, rows) for c in suite.columns},
            "rows": [_row(suite, row, budget) for row in rows],
            "published": [{"entry": entry, "source": source, "pm_means": pm_means,
                           "values": {key: value.model_dump() for key, value in values.items()}}
                          for entry in dict.fromkeys(row.entry for row in rows)
                          for source, pm_means, values in published_for(suite, budget, entry, dataset)],
        })
    return tables


def _column_info(column: Column, metric: str, protocol: dict[str, Any], records: list[dict[str, Any]],
                 rows: list[Row]) -> dict[str, Any]:
    """What a table says of a column beside its header: the range its figures can take, and where they come from."""
    pairs = [row.bounds[column.key] for row in rows]
    short, source = column_source(column, metric, protocol, records)
    return {"bounds": [min((p[0] for p in pairs if p[0] is not None), default=None),
                       None if any(p[1] is None for p in pairs) else max(p[1] for p in pairs if p[1] is not None)],
            "bounds_text": bounds_text(pairs), "source_short": short, "source": source}


def _budget_text(suite: Suite, budget: str, records: list[dict[str, Any]]) -> str:
    """The budget in words, and what the command line changed of it."""
    planned = suite.budgets.get(budget)
    if planned is None:
        return budget
    changed = [overrides_of(r, suite) for r in records]
    steps = sorted({o["steps"] for o in changed if o["steps"] is not None})
    seeds = sorted({o["seeds"] for o in changed if o["seeds"] is not None})
    settings = sorted({key for o in changed for key in o["set"]})
    if not (steps or seeds or settings):
        return planned.description
    said = ([f"{' or '.join(f'{s:,}' for s in steps)} steps"] if steps else []) + (
        [f"{' or '.join(map(str, seeds))} of the budget's {planned.seeds} seeds"] if seeds else []) + (
        [f"--set {', '.join(settings)}"] if settings else [])
    return f"{', '.join(said)}, set on the command line (budget '{budget}' is {planned.description})"


def _row(suite: Suite, row: Row, budget: str) -> dict[str, Any]:
    first = next((r for r in row.records if r["metrics"] is not None), row.records[0])
    planned = suite.budgets[budget].seeds if budget in suite.budgets else None
    return {
        "entry": row.entry, "gan": row.gan, "objective": row.objective, "seeds": len(row.records),
        "diverged": row.diverged, "budget_seeds": planned,
        "seeds_text": seeds_text(len(row.records), row.diverged, planned), "steps": row.steps,
        "changed": row.changes(suite),
        "overrides": list({json.dumps(o, sort_keys=True): o for o in (overrides_of(r, suite) for r in row.records)}
                          .values()),
        "values": {key: None if value is None else value.as_dict() for key, value in row.values.items()},
        "bounds": {key: list(bounds) for key, bounds in row.bounds.items()},
        "per_seed": {c.key: [column_value(r, c) for r in row.records] for c in suite.columns},
        "thumbnail": first.get("thumbnail"),
        "runs": [_run(r) for r in row.records],
    }


def _run(record: dict[str, Any]) -> dict[str, Any]:
    """One run's provenance, as a reader checks it: what ran, on what, from which code and data, for how long."""
    return {key: record.get(key) for key in (
        "seed", "run_dir", "config_sha256", "config", "provenance", "protocol", "metrics", "diverged_at",
        "wall_seconds", "steps", "overrides")}
