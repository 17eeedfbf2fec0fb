"""Which panels a curves figure has, from the keys the runs logged.

- **losses**: every statistic named ``loss`` or ``loss_*`` (``loss_d``, ``loss_g``, an algorithm's ``loss_e``);
- **divergence estimate**: ``divergence``, alone on its axis (its scale is not the losses'), titled with what it
  estimates where the objective said so (``Objective.divergence_name``, kept in provenance.json);
- **penalties**: ``penalty`` and ``penalty_*`` (the names the runner stops a diverged run on), any name with a
  ``penalty`` part (``d_penalty``, ``g_penalty``) and the usual short names ``gp``, ``r1`` and ``r2``;
- **one panel per metric** of metrics.jsonl (FID, KID, modes, high-quality %, reverse KL, ...);
- **one panel per other statistic**: what plugins pass to ``ganzoo.report`` (ADA's ``ada_p``, ProGAN's ``lod``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from ganzoo.curves.series import BOOKKEEPING, RunCurves

LOSSES, DIVERGENCE, PENALTIES, STATISTICS, METRICS = "losses", "divergence", "penalties", "statistics", "metrics"
PENALTY_NAMES = {"gp", "r1", "r2"}
FIRST_LOSSES = ("loss_d", "loss_g")  # the two players' losses lead, in this order
METRIC_TITLES = {  # the core's suites' figures, in the order they are drawn; other suites' keys follow, sorted
    "fid": "FID (lower is better)",
    "kid": "KID (lower is better)",
    "inception_score": "Inception score",
    "precision": "precision",
    "recall": "recall",
    "modes": "modes covered",
    "high_quality_pct": "high-quality samples (%)",
    "reverse_kl": "reverse KL to uniform over modes",
}


def stat_group(key: str) -> str | None:
    """The panel group of a stats.jsonl key; None for the bookkeeping keys ``step`` and ``seconds``."""
    if key in BOOKKEEPING:
        return None
    if key == DIVERGENCE:
        return DIVERGENCE
    if key == "loss" or key.startswith("loss_"):
        return LOSSES
    if key.startswith("penalty") or "penalty" in key.split("_") or key in PENALTY_NAMES:
        return PENALTIES
    return STATISTICS


@dataclass(frozen=True)
class Panel:
    """One axes of the figure: a title and the keys drawn on it, from stats.jsonl or metrics.jsonl."""

    title: str
    source: Literal["stats", "metrics"]
    keys: tuple[str, ...]
    group: str


def plan_panels(runs: Sequence[RunCurves]) -> list[Panel]:
    """The panels the runs' keys call for, in reading order: losses, divergence, penalties, metrics, the rest."""
    stats = sorted({key for run in runs for key in run.stats})
    grouped: dict[str, list[str]] = {}
    for key in stats:
        group = stat_group(key)
        if group is not None:
            grouped.setdefault(group, []).append(key)
    panels = []
    if LOSSES in grouped:
        losses = sorted(grouped[LOSSES], key=lambda k: (_rank(k, FIRST_LOSSES), k))
        panels.append(Panel("losses", "stats", tuple(losses), LOSSES))
    if DIVERGENCE in grouped:
        panels.append(Panel(divergence_title(runs), "stats", (DIVERGENCE,), DIVERGENCE))
    if PENALTIES in grouped:
        panels.append(Panel("penalties", "stats", tuple(grouped[PENALTIES]), PENALTIES))
    metrics = sorted({key for run in runs for key in run.metrics}, key=lambda k: (_rank(k, tuple(METRIC_TITLES)), k))
    panels.extend(Panel(METRIC_TITLES.get(key, key), "metrics", (key,), METRICS) for key in metrics)
    panels.extend(Panel(key, "stats", (key,), STATISTICS) for key in grouped.get(STATISTICS, []))
    return panels


def _rank(key: str, leading: tuple[str, ...]) -> int:
    """Where ``key`` stands among the ``leading`` keys; after all of them if it is not one."""
    return leading.index(key) if key in leading else len(leading)


def divergence_title(runs: Sequence[RunCurves]) -> str:
    """The divergence panel's title: what the estimate estimates, when every run that logged one agrees."""
    names = {run.divergence_name for run in runs if DIVERGENCE in run.stats}
    if len(names) == 1 and None not in names:
        return f"divergence estimate: {names.pop()}"
    return "divergence estimate" if names == {None} else "divergence estimates (see the legend)"
