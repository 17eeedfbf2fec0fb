"""The leaderboard as one static HTML page: every picture embedded (data URIs), the sorting script inline, so the
page needs no network and can be mailed or hosted as a single file."""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path
from typing import Any

from ganzoo.bench.suite import Column
from ganzoo.bench.table import cell
from ganzoo.leaderboard.board import protocol_text
from ganzoo.leaderboard.text import (
    caption,
    header_label,
    incomparable,
    over_seeds_of,
    quoted_cell,
    sources_text,
    steps_of,
    table_columns,
)

HEADER_COLOUR = "#1f5fa8"  # tests/test_leaderboard_page.py finds the tables by it in a screenshot
STYLE = f"""
body {{ font-family: sans-serif; margin: 1.5em; color: #222; max-width: 1400px; }}
table {{ border-collapse: collapse; margin: 0.6em 0 0.4em; font-size: 13px; }}
th {{ background: {HEADER_COLOUR}; color: white; padding: 6px 8px; cursor: pointer; text-align: left;
      vertical-align: bottom; }}
th small {{ font-weight: normal; opacity: 0.85; }}
td {{ border-bottom: 1px solid #ddd; padding: 4px 8px; vertical-align: middle; }}
tr.quoted td {{ background: #fbeeee; font-style: italic; }}
img.thumb {{ width: 72px; height: 72px; object-fit: contain; background: white; }}
p.note, details {{ font-size: 12px; color: #555; }}
.warn {{ color: #a33; font-weight: bold; }}
"""
# Click a header to sort by it (again to reverse); quoted rows stay under the row they quote. The column is the
# header's own place in its row (cellIndex), not its place among every table's headers on the page.
SCRIPT = """
document.querySelectorAll("table.board th").forEach(function (th) {
  th.addEventListener("click", function () {
    var index = th.cellIndex, body = th.closest("table").tBodies[0];
    var groups = [], rows = Array.from(body.rows);
    rows.forEach(function (r) { if (r.classList.contains("quoted") && groups.length) groups[groups.length - 1].push(r);
                                else groups.push([r]); });
    var up = th.dataset.order !== "up"; th.dataset.order = up ? "up" : "down";
    var key = function (row) { var c = row.cells[index]; return c ? (c.dataset.sort || c.textContent) : ""; };
    groups.sort(function (a, b) {
      var x = key(a[0]), y = key(b[0]);
      var nx = parseFloat(x), ny = parseFloat(y);
      var c = (isNaN(nx) || isNaN(ny)) ? x.localeCompare(y) : nx - ny;
      return up ? c : -c;
    });
    groups.forEach(function (g) { g.forEach(function (r) { body.appendChild(r); }); });
  });
});
"""


def data_uri(path: Path | None) -> str | None:
    if path is None or not path.is_file():
        return None
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def html_page(board: dict[str, Any], dest: Path) -> str:
    esc = html.escape
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>ganzoo leaderboard</title>"
             f"<style>{STYLE}</style></head><body><h1>ganzoo leaderboard</h1>",
             f"<p class='note'>Generated {esc(board['generated'])} by ganzoo {esc(board['ganzoo'])}. Cells: mean "
             f"± sd [95 % interval for the mean, Student's t] best b, over the seeds that did not diverge. Rows in "
             f"red italics are <b>quoted</b> from the paper named, not measured here. Click a header to sort."
             f"</p>"]
    for conditional in (False, True):  # unconditional and class-conditional tables apart
        tables = [t for t in board["tables"] if t["conditional"] == conditional]
        if tables:
            parts.append(f"<h2>{'Class-conditional' if conditional else 'Unconditional'} generation</h2>")
            parts.extend(_table(t, dest) for t in tables)
    parts.append(f"<script>{SCRIPT}</script></body></html>")
    return "\n".join(parts)


def _table(table: dict[str, Any], dest: Path) -> str:
    esc = html.escape
    columns = table_columns(table)
    protocol = protocol_text(table["protocol"]) or "n/a"
    info = table.get("column_info", {})
    heads = "".join(f"<th title='{esc(info.get(c.key, {}).get('source', ''))}'>{esc(header_label(table, c))}<br>"
                    f"<small>{esc(info.get(c.key, {}).get('source_short', ''))}</small></th>" for c in columns)
    lines = [f"<h3>{esc(caption(table))}</h3>",
             f"<p class='note'>{esc(table['title'])}: {esc(table['budget_description'])}."
             + (" <span class='warn'>Not comparable with published figures.</span>" if incomparable(table) else "")
             + f"<br>Protocol ({esc(table['metric'])}): {esc(protocol)}."
             + f"<br>Where each column comes from: {esc(sources_text(table, columns))}.</p>",
             "<table class='board'><thead><tr><th>sample</th><th>entry</th><th>objective</th><th>steps</th>"
             f"<th>seeds</th>{heads}<th>changed on the command line</th></tr></thead><tbody>"]
    for row in table["rows"]:
        lines.append(_row(row, columns))
        for quoted in (p for p in table["published"] if p["entry"] == row["entry"]):
            cells = "".join(f"<td>{html.escape(quoted_cell(quoted['values'].get(c.key), c))}</td>" for c in columns)
            lines.append(f"<tr class='quoted'><td></td><td>{esc(row['entry'])}</td><td colspan='3'>quoted: "
                         f"{esc(quoted['source'])} (± is {esc(quoted['pm_means'])})</td>{cells}<td></td></tr>")
    lines.append("</tbody></table>")
    figure = data_uri(dest / table["figure"]) if table.get("figure") else None
    if figure:
        lines.append(f"<img alt='per-seed distributions' src='{figure}' style='max-width:100%'>")
    if table["choices"]:
        lines.append("<details><summary>choices the suite made where the paper leaves a detail open</summary><ul>"
                     + "".join(f"<li>{esc(choice)}</li>" for choice in table["choices"]) + "</ul></details>")
    provenance = [run for row in table["rows"] for run in row["runs"]]
    lines.append(f"<details><summary>provenance of the {len(provenance)} runs (config, hashes, versions, device, "
                 f"wall time)</summary><pre>{esc(json.dumps(provenance, indent=1, sort_keys=True))}</pre></details>")
    return "\n".join(lines)


def _row(row: dict[str, Any], columns: list[Column]) -> str:
    esc = html.escape
    uri = data_uri(Path(row["thumbnail"])) if row["thumbnail"] else None
    thumb = f"<img class='thumb' alt='samples of {esc(row['entry'])}' src='{uri}'>" if uri else ""
    cells = "".join(_value_cell(row["values"][c.key], c, row["seeds"] - row["diverged"]) for c in columns)
    steps = row["steps"][0] if row["steps"] else ""
    return (f"<tr><td>{thumb}</td><td>{esc(row['entry'])}</td><td>{esc(row['objective'])}</td>"
            f"<td data-sort='{steps}'>{esc(steps_of(row))}</td><td data-sort='{row['seeds']}'>"
            f"{esc(row['seeds_text'])}</td>{cells}<td>{esc(row['changed'] or 'none')}</td></tr>")


def _value_cell(value: dict[str, Any] | None, column: Column, seeds: int) -> str:
    sort = "" if value is None else f" data-sort='{value['mean']}'"
    return f"<td{sort}>{html.escape(cell(over_seeds_of(value), column, seeds))}</td>"
