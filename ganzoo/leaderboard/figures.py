"""Matplotlib figures of a leaderboard table: each column's per-seed values, one line of dots per row, with the
mean, its 95 % interval, and the published figure (hollow diamond, ± as printed) beside it."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

OURS, QUOTED = "#1f5fa8", "#c0392b"


def seed_figure(table: dict[str, Any], path: Path) -> Path:
    """Write the figure of one table to ``path`` (PNG), without pyplot (no global state, no display needed)."""
    columns, rows = table["columns"], table["rows"]
    labels = [f"{row['entry']} / {row['objective']}" for row in rows]
    width = max(6.5, 3.2 * len(columns) + 1.5)
    figure = Figure(figsize=(width, 0.45 * len(rows) + 1.5), layout="constrained")
    axes = figure.subplots(1, len(columns), sharey=True, squeeze=False)[0]
    for ax, column in zip(axes, columns):
        key = column["key"]
        for y, row in enumerate(rows):
            values = [v for v in row["per_seed"].get(key, []) if v is not None]
            ax.scatter(values, [y] * len(values), s=14, color=OURS, alpha=0.6, linewidths=0)
            summary = row["values"].get(key)
            if summary is not None:
                ax.plot([summary["mean"]] * 2, [y - 0.25, y + 0.25], color=OURS, linewidth=2)
                if summary["ci95"] is not None:
                    ax.plot(summary["ci95"], [y, y], color=OURS, linewidth=1)
            for published in table["published"]:
                value = published["values"].get(key)
                if published["entry"] == row["entry"] and value is not None:
                    ax.errorbar([value["mean"]], [y + 0.3], xerr=None if value["pm"] is None else [value["pm"]],
                                fmt="D", markerfacecolor="none", color=QUOTED, markersize=5, capsize=2)
        arrow = {"higher": " (higher is better)", "lower": " (lower is better)"}.get(column["better"], "")
        ax.set_xlabel(column["label"] + arrow, fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(axis="x", alpha=0.3)
    axes[0].set_yticks(range(len(rows)), labels, fontsize=7)
    axes[0].set_ylim(len(rows) - 0.5, -0.7)
    title = (f"{table['suite']} / {table['budget']} / {table['dataset']}: dots are seeds, bars the mean and its 95 % "
             f"interval" + (", hollow diamonds quoted figures" if table["published"] else ""))
    figure.suptitle(textwrap.fill(title, int(width * 14)), fontsize=8)  # about 14 characters an inch at 8 points
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    return path
