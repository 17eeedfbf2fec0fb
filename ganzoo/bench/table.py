"""A suite's records as rows: one per entry, objective and data set, each column over the seeds (Lucic et al.
2018: mean, standard deviation, 95 % interval and the best run), with the published rows beside them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ganzoo.bench.seeds import OverSeeds, over_seeds
from ganzoo.bench.suite import PAPER, Column, Published, Suite


@dataclass
class Row:
    entry: str
    gan: str
    objective: str
    dataset: str
    conditional: bool
    records: list[dict[str, Any]]
    values: dict[str, OverSeeds | None] = field(default_factory=dict)

    @property
    def diverged(self) -> int:
        return sum(1 for r in self.records if r["metrics"] is None)


def column_value(record: dict[str, Any], column: Column) -> float | None:
    """One record's figure for ``column``: None if the run diverged or has no such value."""
    if record["metrics"] is None:
        return None
    source = record.get("last_stats", {}) if column.stat else record["metrics"]
    value = source.get(column.key)
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def summarize(suite: Suite, records: list[dict[str, Any]]) -> list[Row]:
    """Rows in the order the records came (the suite's matrix order)."""
    rows: dict[tuple[str, str, str, bool], Row] = {}
    for r in records:
        key = (r["entry"], r["objective"], r["dataset"], r["conditional"])
        rows.setdefault(key, Row(r["entry"], r["gan"], r["objective"], r["dataset"], r["conditional"], [])
                        ).records.append(r)
    for row in rows.values():
        for column in suite.columns:
            row.values[column.key] = over_seeds([column_value(r, column) for r in row.records],
                                                higher_is_better=column.better != "lower")
    return list(rows.values())


def published_for(suite: Suite, budget: str, entry: str, dataset: str) -> list[tuple[str, str, dict[str, Published]]]:
    """(source, what the ± is, values) of each published row quoted for an entry on a data set at a budget: those
    measured with its protocol, and for a budget that is not comparable, those of the paper's."""
    planned = suite.budgets.get(budget)
    shown = {budget} | ({PAPER} if planned is None or not planned.comparable else set())
    return [(p.source, p.pm_means, p.values) for p in suite.published
            if p.entry == entry and p.dataset == dataset and p.budget in shown]


def cell(value: OverSeeds | None, column: Column) -> str:
    """``mean ± sd [95 % interval] best b``, as far as the seeds allow."""
    if value is None:
        return "n/a"
    fmt = column.format
    text = format(value.mean, fmt)
    if value.sd is not None and value.interval is not None:
        low, high = value.interval
        text += f" ± {value.sd:{fmt}} [{low:{fmt}}, {high:{fmt}}]"
        if column.better != "neither":
            text += f" best {value.best:{fmt}}"
    return text


def published_cell(value: Published | None, column: Column) -> str:
    if value is None:
        return ""
    return format(value.mean, column.format) + ("" if value.pm is None else f" ± {value.pm:{column.format}}")


def text_table(suite: Suite, budget: str, rows: list[Row]) -> str:
    """The rows, and under each the published rows it is compared with, as aligned plain text."""
    header = ["entry", "objective", "dataset", "seeds", *(c.label for c in suite.columns)]
    body = []
    for row in rows:
        seeds = str(len(row.records)) + (f" ({row.diverged} diverged)" if row.diverged else "")
        cells = [cell(row.values[c.key], c) for c in suite.columns]
        body.append([row.entry, row.objective, row.dataset, seeds, *cells])
        for source, _, values in published_for(suite, budget, row.entry, row.dataset):
            body.append([f"  quoted: {source}", "", "", "",
                         *(published_cell(values.get(c.key), c) for c in suite.columns)])
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]
    lines = ["  ".join(text.ljust(w) for text, w in zip(line, widths)).rstrip() for line in [header, *body]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
