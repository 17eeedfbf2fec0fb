"""``ganzoo leaderboard``: the board as JSON (the machine-readable record), CSV, Markdown, a static HTML page and
matplotlib figures of the per-seed distributions."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ganzoo.bench.table import cell
from ganzoo.leaderboard.board import build_board, protocol_text
from ganzoo.leaderboard.text import (
    caption,
    header_label,
    over_seeds_of,
    quoted_cell,
    sources_text,
    steps_of,
    table_columns,
)
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


PARTS = ("mean", "sd", "ci95_low", "ci95_high", "best", "seeds", "range_low", "range_high")


def csv_text(board: dict[str, Any]) -> str:
    """One line per row and per quoted published row; each column as mean, sd, 95 % interval, best, the seeds it
    is over and the range its figures can take."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    keys = sorted({c["key"] for t in board["tables"] for c in t["columns"]})
    writer.writerow(["results", "suite", "budget", "comparable", "dataset", "conditional", "entry", "gan",
                     "objective", "steps", "seeds", "budget_seeds", "diverged", "changed", "quoted_from",
                     *(f"{k}_{part}" for k in keys for part in PARTS)])
    for t in board["tables"]:
        head = [t["results"], t["suite"], t["budget"], t["comparable"], t["dataset"], t["conditional"]]
        for row in t["rows"]:
            figures: list[Any] = []
            for key in keys:
                v, bounds = row["values"].get(key), row["bounds"].get(key, [None, None])
                figures += ["", "", "", "", "", 0] if v is None else [
                    v["mean"], _blank(v["sd"]), *(v["ci95"] or ["", ""]), v["best"], v["count"]]
                figures += [_blank(bounds[0]), _blank(bounds[1])]
            writer.writerow([*head, row["entry"], row["gan"], row["objective"], " or ".join(map(str, row["steps"])),
                             row["seeds"], _blank(row["budget_seeds"]), row["diverged"], row["changed"], "",
                             *figures])
        for p in t["published"]:
            figures = []
            for key in keys:
                v = p["values"].get(key)
                figures += ["", "", "", "", "", "", "", ""] if v is None else [v["mean"], _blank(v["pm"]),
                                                                                *[""] * 6]
            writer.writerow([*head, p["entry"], "", "", "", "", "", "", "", f"{p['source']} (± is {p['pm_means']})",
                             *figures])
    return out.getvalue()


def _blank(value: Any) -> Any:
    return "" if value is None else value


def markdown(board: dict[str, Any]) -> str:
    lines = ["# Leaderboard", "", f"Generated {board['generated']} by ganzoo {board['ganzoo']}. Cells: mean ± sd "
             "[95 % interval for the mean, Student's t] best b, over the seeds that did not diverge. Rows marked "
             "*quoted* are published figures, not ours.", ""]
    for table in board["tables"]:
        columns = table_columns(table)
        lines += [f"## {caption(table)}", "", f"{table['title']}: {table['budget_description']}.",
                  f"Protocol ({table['metric']}): {protocol_text(table['protocol']) or 'n/a'}.",
                  f"Where each column comes from: {sources_text(table, columns)}.", "",
                  "| entry | objective | steps | seeds | " + " | ".join(header_label(table, c) for c in columns)
                  + " | changed on the command line |", "|---|---|---|---|" + "---|" * (len(columns) + 1)]
        for row in table["rows"]:
            cells = [cell(over_seeds_of(row["values"][c.key]), c, row["seeds"] - row["diverged"]) for c in columns]
            lines.append(f"| {row['entry']} | {row['objective']} | {steps_of(row)} | {row['seeds_text']} | "
                         + " | ".join(cells) + f" | {row['changed'] or 'none'} |")
        for p in table["published"]:
            cells = [f"*{quoted_cell(p['values'].get(c.key), c)}*" if c.key in p["values"] else ""
                     for c in columns]
            lines.append(f"| *{p['entry']}, quoted: {p['source']}* | | | | " + " | ".join(cells) + " | |")
        lines += ["", f"![per-seed distributions]({table['figure']})", ""]
    return "\n".join(lines)
