"""How a leaderboard table reads in every format (Markdown, CSV, the page): its caption, column headers,
sources and cells."""

from __future__ import annotations

from typing import Any

from ganzoo.bench.seeds import OverSeeds
from ganzoo.bench.suite import Column, Published
from ganzoo.bench.table import published_cell


def table_columns(table: dict[str, Any]) -> list[Column]:
    return [Column.model_validate(c) for c in table["columns"]]


def quoted_cell(value: dict[str, Any] | None, column: Column) -> str:
    """A published figure of the board, as the bench's table prints it."""
    return published_cell(None if value is None else Published.model_validate(value), column)


def over_seeds_of(value: dict[str, Any] | None) -> OverSeeds | None:
    if value is None:
        return None
    interval = value["ci95"]
    return OverSeeds(value["count"], value["mean"], value["sd"], None if interval is None else tuple(interval),
                     value["best"])


def incomparable(table: dict[str, Any]) -> bool:
    """Whether to warn that a table's figures do not compare with the published ones (a suite that follows no
    paper and quotes nothing has none to compare with)."""
    return not table["comparable"] and bool(table["follows"] or table["published"])


def caption(table: dict[str, Any]) -> str:
    kind = "class-conditional" if table["conditional"] else "unconditional"
    comparable = ", not comparable with published figures" if incomparable(table) else ""
    # the results folder tells apart two tables of one suite, budget and data set (`ganzoo leaderboard A B`)
    return f"{table['suite']} / {table['budget']} / {table['dataset']} ({kind}{comparable}), results in " \
           f"{table['results']}"


def header_label(table: dict[str, Any], column: Column) -> str:
    """A column's header: its label and the range its figures can take."""
    bounds = table.get("column_info", {}).get(column.key, {}).get("bounds_text")
    return column.label + (f" ({bounds})" if bounds else "")


def sources_text(table: dict[str, Any], columns: list[Column]) -> str:
    """Where each column's figures come from, columns of one source together."""
    by_source: dict[str, list[str]] = {}
    for column in columns:
        source = table.get("column_info", {}).get(column.key, {}).get("source", "n/a")
        by_source.setdefault(source, []).append(column.label)
    return "; ".join(f"{', '.join(labels)}: {source}" for source, labels in by_source.items())


def steps_of(row: dict[str, Any]) -> str:
    return " or ".join(f"{steps:,}" for steps in row["steps"])
