"""``ganzoo bench``: run a suite at a budget (reusing finished runs, resuming interrupted ones), then write its
records and leaderboard and print its table."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ganzoo.bench import launch
from ganzoo.bench.matrix import PROTOCOL_NEUTRAL, Job, default_out, find_suite, flat_items, flat_keys, plan_jobs
from ganzoo.bench.records import check_folder, collect, finished, merge_records, write_results
from ganzoo.bench.suite import PAPER, Resources, Suite, is_pattern
from ganzoo.bench.table import summarize, text_table
from ganzoo.errors import GanzooError
from ganzoo.registry.discovery import Zoo
from ganzoo.run.config import parse_overrides


@dataclass(frozen=True)
class BenchRequest:
    """What ``ganzoo bench`` was asked for; None means the suite's or budget's own value."""

    suite: str
    budget: str = "quick"
    seeds: int | None = None
    steps: int | None = None
    gans: str = "*"
    entries: str = "*"
    objectives: str | None = None
    out: Path | None = None
    device: str = "auto"
    launcher: str = "local"
    workers: int = 1
    cluster: str = "slurm"
    resources: dict[str, object] | None = None
    progress: bool = True
    overrides: tuple[str, ...] = ()
    threads: int | None = None  # torch threads per run; None: all cores here, an equal share per --workers


def run_bench(zoo: Zoo, request: BenchRequest) -> Path:
    suite = find_suite(request.suite, zoo)
    budget = suite.budget(request.budget)
    overrides = parse_overrides(request.overrides)
    out = request.out or default_out(suite, request.budget, request.steps, overrides)
    jobs = plan_jobs(suite, request.budget, zoo, out=out, device=request.device, seeds=request.seeds,
                     steps=request.steps, gans=request.gans, objectives=request.objectives, overrides=overrides,
                     entries=request.entries)
    check_folder(out, suite)
    # Fewer or more seeds leave every run's protocol as the budget's: the tables say "1 of 50 seeds" instead
    comparable = budget.comparable and request.steps is None and set(flat_keys(overrides)) <= PROTOCOL_NEUTRAL
    changes = {"steps": request.steps, "seeds": request.seeds, "set": flat_items(overrides)}
    changed = "" if (request.steps, request.seeds, overrides) == (None, None, {}) else (
        f"; changed on the command line: {', '.join(_changes(request, overrides))}")
    print(f"suite {suite.name}, budget {request.budget} ({budget.description}{changed})"
          + (": NOT comparable with published figures" if not comparable and (suite.follows or suite.published)
             else ""), flush=True)
    pending = [(number, job) for number, job in enumerate(jobs, start=1) if not finished(job, suite)]
    if len(pending) < len(jobs):
        print(f"{len(jobs) - len(pending)} of {len(jobs)} runs already finished in {out}: reused", flush=True)
    failures = _launch(pending, len(jobs), suite, request, out)
    if failures:
        raise GanzooError(f"{len(failures)} of {len(jobs)} runs failed (rerun to retry them): {failures[0]}"
                          + (f"; and {len(failures) - 1} more above" if len(failures) > 1 else ""))
    records = merge_records(out, suite, [collect(job, suite, request.budget, comparable, changes) for job in jobs])
    _report(suite, request.budget, records, len(records) - len(jobs), write_results(out, suite, records))
    return out


def _report(suite: Suite, budget: str, records: list[dict[str, Any]], earlier: int, results: Path) -> None:
    rows = summarize(suite, records)
    print()
    print(text_table(suite, budget, rows))
    if any(len(row.records) > 1 for row in rows):
        print("cells: mean ± standard deviation [95 % interval for the mean, Student's t] and the best run, over "
              "the seeds that did not diverge (as Lucic et al. 2018 recommend)")
    steps = sorted({r["steps"] for r in records})
    before = f" ({earlier} of them from earlier commands on this folder)" if earlier else ""
    print(f"\n{len(records)} runs of {' or '.join(f'{s:,}' for s in steps)} steps{before}; records in {results}")


def _changes(request: BenchRequest, overrides: dict[str, object]) -> list[str]:
    changes = [f"{request.steps:,} steps"] if request.steps is not None else []
    changes += [f"{request.seeds} seeds"] if request.seeds is not None else []
    return changes + [f"--set {key}" for key in flat_keys(overrides)]


def _launch(jobs: list[tuple[int, Job]], total: int, suite: Suite, request: BenchRequest, out: Path) -> list[str]:
    if not jobs:
        return []
    if request.launcher == "slurm":
        resources = Resources.model_validate({**suite.resources.model_dump(), **(request.resources or {})})
        return launch.run_submitit(jobs, request.cluster, out / "submitit", resources)
    if request.workers > 1:
        return launch.run_pool(jobs, total, request.workers, request.threads)
    return launch.run_here(jobs, total, request.progress, request.threads)


def list_suites(zoo: Zoo) -> str:
    """Every registered suite, its budgets and what each costs, as plain text."""
    lines = []
    for name in zoo.suites.names():
        try:
            suite = find_suite(name, zoo)
        except GanzooError as exc:
            lines.append(f"{name}  (from {zoo.suites.source(name)}): broken: {exc}")
            continue
        follows = f" (follows {suite.follows})" if suite.follows else ""
        lines.append(f"{name}: {suite.title}{follows}, from {zoo.suites.source(name)}")
        for budget_name, budget in suite.budgets.items():
            runs, exact = _run_count(suite, budget.seeds, zoo)
            tag = ("the published protocol" if budget_name == PAPER and budget.comparable else
                   "comparable" if budget.comparable else
                   "not comparable" if suite.follows or suite.published else "no published figures to compare")
            machine = suite.cost_basis or "the reference machine"
            cost = ("cost not measured" if budget.minutes_per_run is None else
                    f"about {_duration(runs * budget.minutes_per_run)} on {machine}")
            counts = sorted({budget.steps, *budget.entry_steps.values()})
            steps = f"{counts[0]:,}" + (f" to {counts[-1]:,}" if len(counts) > 1 else "")
            plural = "s" if runs != 1 else ""
            lines.append(f"  --budget {budget_name}: {'' if exact else 'up to '}{runs} run{plural} of {steps} steps "
                         f"({budget.seeds} seed{'s' if budget.seeds > 1 else ''}), {tag}; {cost}")
        lines += _pattern_lines(suite, zoo)
    return "\n".join(lines) if lines else "no suites registered"


def _pattern_lines(suite: Suite, zoo: Zoo) -> list[str]:
    """What a pattern entry takes in: every installed GAN it matches, from whichever distribution, so installing a
    GAN plugin adds runs to the suite."""
    lines = []
    for pattern in dict.fromkeys(entry.gan for entry in suite.entries if is_pattern(entry.gan)):
        names = zoo.gans.names(pattern)
        sources = sorted({zoo.gans.source(name).distribution for name in names})
        lines.append(f"  entry '{pattern}': every installed GAN it matches, so installing a GAN plugin adds it here "
                     f"(those that do not take the suite's data are left out): now {len(names)}, from "
                     f"{', '.join(sources) or 'nothing installed'}")
    return lines


def _run_count(suite: Suite, seeds: int, zoo: Zoo) -> tuple[int, bool]:
    """How many runs a budget makes, without building anything: exact unless an entry is a pattern (whose GANs
    that do not fit a data set are left out when the suite runs)."""
    per_dataset = sum((len(zoo.gans.names(e.gan)) if is_pattern(e.gan) else 1)
                      * (len(zoo.objectives.names(e.objective)) if e.objective else 1) for e in suite.entries)
    exact = not any(is_pattern(e.gan) or (e.objective and is_pattern(e.objective)) for e in suite.entries)
    return per_dataset * len(suite.datasets) * seeds, exact


def _duration(minutes: float) -> str:
    if minutes < 90:
        return f"{minutes:.0f} min"
    if minutes < 48 * 60:
        return f"{minutes / 60:.1f} h"
    return f"{minutes / 60 / 24:.1f} days"
