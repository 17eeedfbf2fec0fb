"""``ganzoo bench``: every installed GAN, with its default objective, on a fixed suite and budget."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ganzoo.bench.seeds import OverSeeds, over_seeds
from ganzoo.errors import GanzooError, TrainingDiverged
from ganzoo.registry.discovery import Zoo
from ganzoo.training import rundir
from ganzoo.training.config import RunConfig, resolve_config
from ganzoo.training.trainer import Trainer

TOY_SUITE = ("ring8", "grid25")
TOY_STEPS = 2000
TOY_SUITE_METRIC = "toy-modes"
RESULTS = "results.jsonl"


def run_toy_bench(zoo: Zoo, *, steps: int | None, seeds: int, gans: str, out: Path, device: str,
                  objectives: str | None = None, progress: bool = True) -> int:
    """Train (or reuse finished runs under ``out``), then print and save the table.

    Each GAN matching ``gans`` is trained with its own objective, or, given an
    ``objectives`` pattern, with every objective matching it.
    """
    steps = TOY_STEPS if steps is None else steps
    if steps < 1 or seeds < 1:
        raise GanzooError(f"--steps and --seeds must be positive (got {steps} and {seeds})")
    pairs = [(gan, objective) for gan in _serving_points(zoo, _matching(zoo.gans, gans))
             for objective in ([zoo.gans.get(gan).default_objective] if objectives is None
                               else _matching(zoo.objectives, objectives))]
    runs = [(gan, objective, dataset, seed) for gan, objective in pairs for dataset in TOY_SUITE
            for seed in range(seeds)]
    results = []
    for number, (gan, objective, dataset, seed) in enumerate(runs, start=1):
        print(f"[{number}/{len(runs)}] {gan} with {objective} on {dataset}, seed {seed}", flush=True)
        raw = {"gan": gan, "objective": objective, "dataset": dataset, "steps": steps, "seed": seed,
               "device": device, "out_dir": str(out / f"{gan}-{objective}-{dataset}-seed{seed}"),
               "sample_every": 0, "eval_every": 0}
        results.append(_run(resolve_config(raw, zoo, "bench toy"), zoo, progress))
    out.mkdir(parents=True, exist_ok=True)
    partial = out / f"{RESULTS}.{os.getpid()}.partial"  # whole or absent, even with two benches on one folder
    partial.write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in results), encoding="utf-8")
    os.replace(partial, out / RESULTS)
    print()
    print(format_table(summarize(results)))
    if seeds > 1:
        print("cells: mean ± standard deviation [95 % interval for the mean, Student's t] and the best run, over "
              "the seeds that did not diverge (as Lucic et al. 2018 recommend)")
    print(f"\n{len(results)} runs of {steps} steps; per-run records in {out / RESULTS}")
    return 0


def _matching(registry: Any, pattern: str) -> list[str]:
    names = registry.names(pattern)
    if not names:
        raise GanzooError(f"no installed {registry.kind} matches '{pattern}' "
                          f"(installed: {', '.join(registry.names()) or 'none'})")
    return names


def _serving_points(zoo: Zoo, names: list[str]) -> list[str]:
    """The GANs that declare they serve 2D points (``GanSpec.serves``); image-only ones are named and left out."""
    serving = [name for name in names if any(info.shape == (2,) for info in zoo.gans.get(name).serves)]
    image_only = [name for name in names if name not in serving]
    if image_only:
        print(f"not in the toy suite (no network for 2D points): {', '.join(image_only)}")
    if not serving:
        raise GanzooError(f"none of {', '.join(names)} builds for 2D points, so none fits the toy suite")
    return serving


def _run(config: RunConfig, zoo: Zoo, progress: bool) -> dict[str, Any]:
    """One benchmark run and its record: metrics, protocol, provenance and the last training stats.

    A run that diverges is recorded as such (metrics None, ``diverged_at`` its step); the suite goes on.
    """
    trainer = Trainer(config, zoo, progress=progress)
    head = {"gan": config.gan, "objective": config.objective, "dataset": config.dataset, "seed": config.seed,
            "steps": config.steps, "run_dir": str(trainer.run_dir)}
    try:
        records = trainer.fit(resume=True, wait=True)  # a run another bench is training: wait, then reuse it
    except TrainingDiverged as exc:
        print(f"    {exc}", flush=True)
        return {**head, "metrics": None, "diverged_at": exc.step, "provenance": trainer.provenance}
    record = next((r for r in records if r["protocol"].get("suite") == TOY_SUITE_METRIC), None)
    if record is None:
        raise GanzooError(f"{trainer.run_dir} has no '{TOY_SUITE_METRIC}' record: is metrics.suites narrowed?")
    stats = rundir.read_jsonl(trainer.run_dir / rundir.STATS)
    return {**head, "last_stats": stats[-1] if stats else {}, **record}


# The toy suite's metrics, and whether a higher value is the better one
TOY_METRICS = {"modes": True, "high_quality_pct": True, "reverse_kl": False, "divergence": True}


def summarize(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per (GAN, objective, data set): each metric over the seeds that did not diverge (mean, standard
    deviation, 95 % interval, best run)."""
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for r in results:
        groups.setdefault((r["gan"], r["objective"], r["dataset"]), []).append(r)
    rows = []
    for (gan, objective, dataset), runs in groups.items():
        finished = [{**r["metrics"], "divergence": r.get("last_stats", {}).get("divergence")}
                    for r in runs if r["metrics"] is not None]
        row = {"gan": gan, "objective": objective, "dataset": dataset, "seeds": len(runs),
               "diverged": len(runs) - len(finished), "num_modes": finished[0]["num_modes"] if finished else "?"}
        for key, higher_is_better in TOY_METRICS.items():
            row[key] = over_seeds([m[key] for m in finished], higher_is_better=higher_is_better)
        rows.append(row)
    return rows


def _cell(value: OverSeeds | None, fmt: str, best: bool = True) -> str:
    """``mean ± sd [95 % interval] best b``, as far as the seeds allow."""
    if value is None:
        return "n/a"
    text = format(value.mean, fmt)
    if value.sd is not None and value.interval is not None:
        low, high = value.interval
        text += f" ± {value.sd:{fmt}} [{low:{fmt}}, {high:{fmt}}]"
        if best:
            text += f" best {value.best:{fmt}}"
    return text


def format_table(rows: list[dict[str, Any]]) -> str:
    header = ["GAN", "objective", "dataset", "seeds", "modes", "high-quality %", "reverse KL", "D's estimate"]
    body = [[r["gan"], r["objective"], r["dataset"],
             str(r["seeds"]) + (f" ({r['diverged']} diverged)" if r["diverged"] else ""),
             f"{_cell(r['modes'], '.1f')} / {r['num_modes']}", _cell(r["high_quality_pct"], ".1f"),
             _cell(r["reverse_kl"], ".3f"), _cell(r["divergence"], ".3f", best=False)] for r in rows]
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip() for line in [header, *body]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
