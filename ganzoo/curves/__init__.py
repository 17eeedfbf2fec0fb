"""Training curves: runs' logs read into series (:mod:`.series`), grouped into panels (:mod:`.panels`) and drawn
with matplotlib (:mod:`.figure`). ``ganzoo plot`` draws any runs; the trainer draws each run's own curves.png.

matplotlib is imported only to draw, so that what merely classifies statistics (the TensorBoard log) stays light.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ganzoo.curves.series import RunCurves, group_seeds, read_run
from ganzoo.run import rundir

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ganzoo.registry.discovery import Zoo

__all__ = ["RunCurves", "ask_divergence_name", "draw_runs", "group_seeds", "read_run", "write_run_curves"]


def draw_runs(runs: Sequence[RunCurves], path: Path, *, mean: bool = False) -> Figure:
    """Draw ``runs`` (with ``mean``, the seeds of each config as their mean and band) into ``path``; returns the
    figure, as saved."""
    from ganzoo.curves.figure import curves_figure, save_figure

    figure = curves_figure(group_seeds(runs) if mean else list(runs))
    save_figure(figure, path)
    return figure


def write_run_curves(run_dir: Path) -> Path | None:
    """``<run>/curves.png`` from the run's logs as they stand; None, and no file, while it has logged nothing."""
    run = read_run(run_dir)
    if not (run.stats or run.metrics):
        return None
    path = run_dir / rundir.CURVES
    draw_runs([run], path)
    return path


def ask_divergence_name(run: RunCurves, zoo: Callable[[], Zoo]) -> RunCurves:
    """``run``, for a run written before ganzoo recorded what its divergence estimate estimates, with the name its
    objective gives where that is installed (``zoo`` is called only then: loading every plugin takes a while).
    Otherwise ``run`` as it is, and its panel is titled 'divergence estimate' alone."""
    from ganzoo.run.plan import part

    if run.divergence_name is not None or "divergence" not in run.stats:
        return run
    try:
        objective = part(zoo(), "objectives", str(run.config.get("objective")),
                         run.config.get("objective_options") or {}).build(check=lambda _: True)
    except Exception:  # not installed, or options this version refuses: the title says less, the plot is drawn
        return run
    name = getattr(objective, "divergence_name", None)
    return dataclasses.replace(run, divergence_name=name) if isinstance(name, str) else run
