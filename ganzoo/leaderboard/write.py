"""``ganzoo leaderboard``: the board as JSON (the machine-readable record), CSV, Markdown, a static HTML page and
matplotlib figures of the per-seed distributions."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ganzoo.bench.seeds import OverSeeds
from ganzoo.bench.suite import Column, Published
from ganzoo.bench.table import cell, published_cell
from ganzoo.leaderboard.board import build_board, protocol_text
from ganzoo.utils import write_text_whole


def write_leaderboard(folders: Iterable[Path], dest: Path) -> Path:
    """Write every format into ``dest``; returns the HTML page's path."""
    from ganzoo.leaderboard.figures import seed_figure
    from ganzoo.leaderboard.page import html_page

    board = build_board(folders)
    dest.mkdir(parents=True, exist_ok=True)
    figures = []
    for number, table in enumerate(board["tables"], start=1):
        path = dest / "figures" / f"{number:02d}-{table['suite']}-{table['budget']}-{table['dataset']}.png"
        seed_figure(table, path)
        table["figure"] = str(path.relative_to(dest))
        figures.append(path)
    write_text_whole(dest / "leaderboard.json", json.dumps(board, indent=2, sort_keys=True) + "\n")
    write_text_whole(dest / "leaderboard.csv", csv_text(board))
    write_text_whole(dest / "leaderboard.md", markdown(board))
    write_text_whole(dest / "index.html", html_page(board, dest))
    return dest / "index.html"


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


def csv_text(board: dict[str, Any]) -> str:
    """One line per row and per quoted published row; each column as mean, sd, 95 % interval and best."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    keys = sorted({c["key"] for t in board["tables"] for c in t["columns"]})
    writer.writerow(["suite", "budget", "comparable", "dataset", "conditional", "entry", "gan", "objective", "seeds",
                     "diverged", "quoted_from", *(f"{k}_{part}" for k in keys
                                                  for part in ("mean", "sd", "ci95_low", "ci95_high", "best"))])
    for t in board["tables"]:
        head = [t["suite"], t["budget"], t["comparable"], t["dataset"], t["conditional"]]
        for row in t["rows"]:
            figures = []
            for key in keys:
                v = row["values"].get(key)
                figures += ["", "", "", "", ""] if v is None else [
                    v["mean"], v["sd"] if v["sd"] is not None else "", *(v["ci95"] or ["", ""]), v["best"]]
            writer.writerow([*head, row["entry"], row["gan"], row["objective"], row["seeds"], row["diverged"], "",
                             *figures])
        for p in t["published"]:
            figures = []
            for key in keys:
                v = p["values"].get(key)
                figures += ["", "", "", "", ""] if v is None else [v["mean"], v["pm"] if v["pm"] is not None else "",
                                                                    "", "", ""]
            writer.writerow([*head, p["entry"], "", "", "", "", f"{p['source']} (± is {p['pm_means']})", *figures])
    return out.getvalue()


def incomparable(table: dict[str, Any]) -> bool:
    """Whether to warn that a table's figures do not compare with the published ones (a suite that follows no
    paper and quotes nothing has none to compare with)."""
    return not table["comparable"] and bool(table["follows"] or table["published"])


def caption(table: dict[str, Any]) -> str:
    kind = "class-conditional" if table["conditional"] else "unconditional"
    comparable = ", not comparable with published figures" if incomparable(table) else ""
    return f"{table['suite']} / {table['budget']} / {table['dataset']} ({kind}{comparable})"


def markdown(board: dict[str, Any]) -> str:
    lines = ["# Leaderboard", "", f"Generated {board['generated']} by ganzoo {board['ganzoo']}. Cells: mean ± sd "
             "[95 % interval for the mean, Student's t] best b, over the seeds that did not diverge. Rows marked "
             "*quoted* are published figures, not ours.", ""]
    for table in board["tables"]:
        columns = table_columns(table)
        lines += [f"## {caption(table)}", "", f"{table['title']}: {table['budget_description']}.",
                  f"Protocol ({table['metric']}): {protocol_text(table['protocol']) or 'n/a'}.", "",
                  "| entry | objective | seeds | " + " | ".join(c.label for c in columns) + " |",
                  "|---|---|---|" + "---|" * len(columns)]
        for row in table["rows"]:
            seeds = str(row["seeds"]) + (f" ({row['diverged']} diverged)" if row["diverged"] else "")
            cells = [cell(over_seeds_of(row["values"][c.key]), c) for c in columns]
            lines.append(f"| {row['entry']} | {row['objective']} | {seeds} | " + " | ".join(cells) + " |")
        for p in table["published"]:
            cells = [f"*{quoted_cell(p['values'].get(c.key), c)}*" if c.key in p["values"] else ""
                     for c in columns]
            lines.append(f"| *{p['entry']}, quoted: {p['source']}* | | | " + " | ".join(cells) + " |")
        lines += ["", f"![per-seed distributions]({table['figure']})", ""]
    return "\n".join(lines)
