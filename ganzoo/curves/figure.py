"""Drawing the curves figure: one panel per group of keys (:mod:`ganzoo.curves.panels`) over generator steps, one
colour per run, one line style per key of a panel, and a legend naming each run.

Drawn with matplotlib's object interface (a :class:`~matplotlib.figure.Figure` rendered by Agg), never pyplot:
no global state to leak between runs of a benchmark, no display needed, and the figure can be inspected before
it is saved.
"""

from __future__ import annotations

import itertools
import math
import os
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from ganzoo.curves.panels import DIVERGENCE, METRICS, PENALTIES, STATISTICS, Panel, plan_panels
from ganzoo.curves.series import RunCurves, Series
from ganzoo.errors import GanzooError

DPI = 100
PANEL_SIZE = (4.2, 2.7)  # inches, a panel with its labels
# Inside a panel's cell, in inches: the axes' margins for tick labels (left), the title (top: two lines at 9 points)
# and the x label (bottom). Laid out by hand: matplotlib's constrained layout would double the time a figure
# takes, and the trainer draws one beside every picture.
PADDING = {"left": 0.6, "right": 0.15, "top": 0.42, "bottom": 0.45}
TITLE_CHARACTERS = 56  # about what a panel's width holds at 9 points
MAX_COLUMNS = 3
LEGEND_ROW = 0.2  # inches per row of the figure's legend at 8 points
COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
           "#17becf")  # matplotlib's tab10
LineStyle = Literal["-", "--", ":", "-."]
STYLES: list[tuple[LineStyle, str | None]] = [(style, marker) for marker in (None, "x", "+")
                                              for style in ("-", "--", ":", "-.")]
LOG_SPAN = 1e3  # a panel whose positive values span more than this factor is drawn on a log scale
SUFFIXES = (".png", ".pdf", ".svg")


def curves_figure(runs: Sequence[RunCurves]) -> Figure:
    """The figure of ``runs``' curves, not yet saved (tests read its axes back)."""
    panels = plan_panels(runs)
    if not panels:
        shown = ", ".join(str(run.path) for run in runs[:3]) + (", ..." if len(runs) > 3 else "")
        raise GanzooError(f"nothing to plot: {shown} logged no statistics or metrics yet")
    columns = min(MAX_COLUMNS, len(panels))
    rows = math.ceil(len(panels) / columns)
    width = columns * PANEL_SIZE[0]
    legend_columns = _legend_columns([run.label for run in runs], width)
    legend_height = LEGEND_ROW * math.ceil(len(runs) / legend_columns) + 0.1
    height = rows * PANEL_SIZE[1] + legend_height
    figure = Figure(figsize=(width, height), dpi=DPI)
    colours = [COLOURS[i % len(COLOURS)] for i in range(len(runs))]
    last_step = max(1, max(run.last_step for run in runs))
    for index, panel in enumerate(panels):
        row, column = divmod(index, columns)
        ax = figure.add_axes(_panel_box(column, height - legend_height - (row + 1) * PANEL_SIZE[1], width, height))
        _draw_panel(ax, panel, runs, colours, last_step)
    handles = [Line2D([], [], color=colour, linewidth=2) for colour in colours]
    figure.legend(handles, [run.label for run in runs], loc="upper center", bbox_to_anchor=(0.5, 1.0),
                  ncols=legend_columns, fontsize=8, frameon=False, borderaxespad=0.2)
    return figure


def _panel_box(column: int, bottom: float, width: float, height: float) -> tuple[float, float, float, float]:
    """The axes' rectangle, in figure fractions, of the panel in ``column`` whose cell starts ``bottom`` inches
    up."""
    left = column * PANEL_SIZE[0] + PADDING["left"]
    inner = (PANEL_SIZE[0] - PADDING["left"] - PADDING["right"], PANEL_SIZE[1] - PADDING["top"] - PADDING["bottom"])
    return left / width, (bottom + PADDING["bottom"]) / height, inner[0] / width, inner[1] / height


def _legend_columns(labels: list[str], width: float) -> int:
    """As many legend entries a row as fit the figure's width (about 4.4 points a character at 8 points)."""
    entry = (4.4 * max(len(label) for label in labels) + 40) / 72
    return max(1, min(len(labels), int(width / entry)))


def _draw_panel(ax: Axes, panel: Panel, runs: Sequence[RunCurves], colours: list[str], last_step: int) -> None:
    """Each run's series of the panel's keys: the run's colour, a line style per key, a band for a mean."""
    styles = dict(zip(panel.keys, itertools.cycle(STYLES)))
    drawn: list[Series] = []
    for run, colour in zip(runs, colours):
        for key in panel.keys:
            series = (run.metrics if panel.source == "metrics" else run.stats).get(key)
            if series is None:
                continue
            style, marker = styles[key]
            if panel.source == "metrics" or len(series.steps) == 1:
                marker = marker or "o"  # evaluations are few: each one shows, a lone one too
            ax.plot(series.steps, series.values, linestyle=style, marker=marker, markersize=3, linewidth=1.2,
                    color=colour, label=f"{run.label}: {key}")
            if series.low is not None and series.high is not None:
                ax.fill_between(series.steps, series.low, series.high, color=colour, alpha=0.2, linewidth=0)
            drawn.append(series)
    ax.set_title(textwrap.fill(panel.title, TITLE_CHARACTERS), fontsize=9)
    ax.set_xlabel("generator step", fontsize=8)
    ax.set_xlim(0, last_step * 1.02)  # a point at the last step shows whole
    ax.tick_params(labelsize=7)
    ax.grid(alpha=0.3)
    if panel.group in (PENALTIES, STATISTICS) and _spans_decades(drawn):
        ax.set_yscale("log")
    if len(panel.keys) > 1:  # which line style is which key; the colours are the runs, in the figure's legend
        ax.legend([Line2D([], [], color="0.3", linestyle=styles[k][0], marker=styles[k][1]) for k in panel.keys],
                  panel.keys, fontsize=7, loc="best")
    elif panel.group == DIVERGENCE and panel.title.startswith("divergence estimates"):
        named = [(colour, run.divergence_name or "not recorded") for run, colour in zip(runs, colours)
                 if DIVERGENCE in run.stats]
        ax.legend([Line2D([], [], color=colour) for colour, _ in named], [name for _, name in named], fontsize=7,
                  loc="best")
    elif panel.group == METRICS:
        ax.margins(y=0.15)


def _spans_decades(drawn: list[Series]) -> bool:
    """Whether the values are all positive and span more than :data:`LOG_SPAN` (a penalty from 1e-4 to 10)."""
    values = np.concatenate([series.values for series in drawn]) if drawn else np.array([])
    values = values[np.isfinite(values)]
    return bool(len(values)) and bool((values > 0).all()) and float(values.max() / values.min()) > LOG_SPAN


def save_figure(figure: Figure, path: Path) -> Path:
    """Write ``figure`` beside ``path``, then rename it there: a picture is whole or absent, never cut short
    (training may be interrupted while it draws), and ``ganzoo plot`` may draw a run's curves.png while the run
    draws it too (each process writes a file of its own)."""
    if path.suffix.lower() not in SUFFIXES:
        raise GanzooError(f"a curves figure is a {', '.join(SUFFIXES)} file, got {path}")
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
    try:
        figure.savefig(partial, format=path.suffix.lower().lstrip("."))
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return path
