"""A suite's records as rows: one per entry, objective and data set, each column over the seeds (Lucic et al.
2018: mean, standard deviation, 95 % interval and the best run), with the published rows beside them."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ganzoo.bench.records import read_results
from ganzoo.bench.seeds import OverSeeds, over_seeds
from ganzoo.bench.suite import PAPER, Column, Published, Suite
from ganzoo.errors import GanzooError

Bounds = tuple[float | None, float | None]
# What a record from before ganzoo recorded the command line's changes is taken to have had: none
NO_OVERRIDES: dict[str, Any] = {"steps": None, "seeds": None, "set": {}}


@dataclass
class Row:
    entry: str
    gan: str
    objective: str
    dataset: str
    conditional: bool
    records: list[dict[str, Any]]
    values: dict[str, OverSeeds | None] = field(default_factory=dict)
    bounds: dict[str, Bounds] = field(default_factory=dict)

    @property
    def diverged(self) -> int:
        return sum(1 for r in self.records if r["metrics"] is None)

    @property
    def steps(self) -> list[int]:
        return sorted({r["steps"] for r in self.records if isinstance(r.get("steps"), int)})

    def changes(self, suite: Suite) -> str:
        """What the command line changed of the budget for this row's runs, in words ('' for nothing)."""
        return changes_text(overrides_of(r, suite) for r in self.records)


def column_source(record: dict[str, Any], column: Column) -> dict[str, Any] | None:
    """The record ``column`` reads: the evaluation's figures, or (``stat``) the last training log; None if the run
    diverged."""
    if record["metrics"] is None:
        return None
    source = record.get("last_stats", {}) if column.stat else record["metrics"]
    return source if isinstance(source, dict) else {}


def column_value(record: dict[str, Any], column: Column) -> float | None:
    """One record's figure for ``column``: None if the run diverged or has no such value."""
    value = (column_source(record, column) or {}).get(column.key)
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def row_bounds(records: list[dict[str, Any]], column: Column) -> Bounds:
    """The range ``column``'s figures can take over ``records``: the widest high end any of them states."""
    sources = [source for r in records if (source := column_source(r, column)) is not None]
    highs = [column.bounds(source)[1] for source in sources] or [column.bounds(None)[1]]
    return column.range[0], None if None in highs else max(h for h in highs if h is not None)


def clipped(value: OverSeeds | None, bounds: Bounds) -> OverSeeds | None:
    """``value`` with its interval cut to the figure's range: a t interval knows nothing of a count's floor of 0."""
    if value is None or value.interval is None:
        return value
    low, high = value.interval
    low = low if bounds[0] is None else max(low, bounds[0])
    high = high if bounds[1] is None else min(high, bounds[1])
    return dataclasses.replace(value, interval=(low, high))


def _number(x: float) -> str:
    return f"{x:,.10g}"


def bounds_text(pairs: Iterable[Bounds]) -> str:
    """A column's range in words, e.g. '0 to 100', '>= 0', '0 to 8 or 25' (one high end per data set); '' for
    unbounded."""
    distinct = sorted(set(pairs), key=str)
    low = distinct[0][0] if distinct else None
    highs = sorted(high for _, high in distinct if high is not None)
    if len(distinct) > 1 and low is not None and all(other == low for other, _ in distinct) \
            and len(highs) == len(distinct):
        return f"{_number(low)} to " + " or ".join(_number(high) for high in highs)
    return " or ".join(text for low, high in distinct if (text := _one_range(low, high)))


def _one_range(low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        return f"{_number(low)} to {_number(high)}"
    if low is not None:
        return f">= {_number(low)}"
    return "" if high is None else f"<= {_number(high)}"


def overrides_of(record: dict[str, Any], suite: Suite) -> dict[str, Any]:
    """What the command line changed of a run's budget; for a record from before ganzoo recorded that, its steps
    where they are not the budget's (its seeds and --set were not recorded)."""
    overrides = record.get("overrides")
    if isinstance(overrides, dict):
        return overrides
    planned = suite.budgets.get(record.get("budget", ""))
    steps = None if planned is None else planned.entry_steps.get(record.get("entry", ""), planned.steps)
    return {**NO_OVERRIDES, "steps": record["steps"] if record.get("steps", steps) != steps else None}


def changes_text(overrides: Iterable[dict[str, Any]]) -> str:
    """The command line's changes to a budget, e.g. '--seeds 1, --set lr=0.001' ('' for none), each said once."""
    bits: dict[str, None] = {}
    for o in overrides:
        if o.get("steps") is not None:
            bits[f"--steps {o['steps']}"] = None
        if o.get("seeds") is not None:
            bits[f"--seeds {o['seeds']}"] = None
        bits.update(dict.fromkeys(f"--set {key}={json.dumps(value)}" for key, value in sorted(o["set"].items())))
    return ", ".join(bits)


def seeds_text(seeds: int, diverged: int, planned: int | None) -> str:
    """A row's seeds, and of how many the budget has where it ran fewer (e.g. '1 of 50 (1 diverged)')."""
    return (str(seeds) + (f" of {planned}" if planned is not None and seeds < planned else "")
            + (f" ({diverged} diverged)" if diverged else ""))


def summarize(suite: Suite, records: list[dict[str, Any]]) -> list[Row]:
    """Rows in the order the records came (the suite's matrix order)."""
    rows: dict[tuple[str, str, str, bool], Row] = {}
    for r in records:
        key = (r["entry"], r["objective"], r["dataset"], r["conditional"])
        rows.setdefault(key, Row(r["entry"], r["gan"], r["objective"], r["dataset"], r["conditional"], [])
                        ).records.append(r)
    for row in rows.values():
        for column in suite.columns:
            row.bounds[column.key] = row_bounds(row.records, column)
            row.values[column.key] = clipped(over_seeds([column_value(r, column) for r in row.records],
                                                        higher_is_better=column.better != "lower"),
                                             row.bounds[column.key])
    return list(rows.values())


def published_for(suite: Suite, budget: str, entry: str, dataset: str) -> list[tuple[str, str, dict[str, Published]]]:
    """(source, what the ± is, values) of each published row quoted for an entry on a data set at a budget: those
    measured with its protocol, and for a budget that is not comparable, those of the paper's."""
    planned = suite.budgets.get(budget)
    shown = {budget} | ({PAPER} if planned is None or not planned.comparable else set())
    return [(p.source, p.pm_means, p.values) for p in suite.published
            if p.entry == entry and p.dataset == dataset and p.budget in shown]


def cell(value: OverSeeds | None, column: Column, seeds: int | None = None) -> str:
    """``mean ± sd [95 % interval] best b``, as far as the seeds allow, and how many seeds it is over where that is
    not the ``seeds`` of its row (a seed without this figure, say a reverse KL of a run that hit no mode)."""
    if value is None:
        return "n/a"
    fmt = column.format
    text = format(value.mean, fmt)
    if value.sd is not None and value.interval is not None:
        low, high = value.interval
        text += f" ± {value.sd:{fmt}} [{low:{fmt}}, {high:{fmt}}]"
        if column.better != "neither":
            text += f" best {value.best:{fmt}}"
    if seeds is not None and value.count != seeds:
        text += f" ({value.count} of {seeds} seeds)"
    return text


def published_cell(value: Published | None, column: Column) -> str:
    if value is None:
        return ""
    return format(value.mean, column.format) + ("" if value.pm is None else f" ± {value.pm:{column.format}}")


def text_table(suite: Suite, budget: str, rows: list[Row]) -> str:
    """The rows, and under each the published rows it is compared with, as aligned plain text."""
    planned = suite.budgets[budget].seeds if budget in suite.budgets else None
    ranges = [bounds_text(row.bounds[c.key] for row in rows) for c in suite.columns]
    header = ["entry", "objective", "dataset", "steps", "seeds",
              *(c.label + (f" ({text})" if text else "") for c, text in zip(suite.columns, ranges)), "changed"]
    body = []
    for row in rows:
        seeds = seeds_text(len(row.records), row.diverged, planned)
        cells = [cell(row.values[c.key], c, len(row.records) - row.diverged) for c in suite.columns]
        steps = " or ".join(f"{s:,}" for s in row.steps)
        body.append([row.entry, row.objective, row.dataset, steps, seeds, *cells, row.changes(suite) or "none"])
        for source, _, values in published_for(suite, budget, row.entry, row.dataset):
            body.append([f"  quoted: {source}", "", "", "", "",
                         *(published_cell(values.get(c.key), c) for c in suite.columns), ""])
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]
    lines = ["  ".join(text.ljust(w) for text, w in zip(line, widths)).rstrip() for line in [header, *body]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


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
