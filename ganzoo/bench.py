"""``ganzoo bench``: every installed GAN, with its default objective, on a fixed suite and budget."""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

from ganzoo.config import resolve_config
from ganzoo.errors import GanzooError
from ganzoo.plugins import Zoo
from ganzoo.runner import Trainer

TOY_SUITE = ("ring8", "grid25")
TOY_STEPS = 2000
RESULTS = "results.jsonl"


def run_toy_bench(zoo: Zoo, *, steps: int | None, seeds: int, gans: str, out: Path, device: str,
                  progress: bool = True) -> int:
    """Train (or reuse finished runs under ``out``), then print and save the table."""
    steps = TOY_STEPS if steps is None else steps
    if steps < 1 or seeds < 1:
        raise GanzooError(f"--steps and --seeds must be positive (got {steps} and {seeds})")
    names = zoo.gans.names(gans)
    if not names:
        raise GanzooError(f"no installed GAN matches '{gans}' (installed: {', '.join(zoo.gans.names()) or 'none'})")
    runs = [(gan, dataset, seed) for gan in names for dataset in TOY_SUITE for seed in range(seeds)]
    results = []
    for number, (gan, dataset, seed) in enumerate(runs, start=1):
        raw = {"gan": gan, "dataset": dataset, "steps": steps, "seed": seed, "device": device,
               "out_dir": str(out / f"{gan}-{dataset}-seed{seed}"), "sample_every": 0, "eval_every": 0}
        config = resolve_config(raw, zoo, "bench toy")
        print(f"[{number}/{len(runs)}] {gan} with {config.objective} on {dataset}, seed {seed}", flush=True)
        trainer = Trainer(config, zoo, progress=progress)
        record = trainer.fit(resume=True)
        assert record is not None  # toy data always has the toy metrics
        results.append({"gan": gan, "objective": config.objective, "dataset": dataset, "seed": seed,
                        "steps": steps, "run_dir": str(config.run_dir()), "provenance": trainer.provenance,
                        **record})
    out.mkdir(parents=True, exist_ok=True)
    (out / RESULTS).write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in results), encoding="utf-8")
    print()
    print(format_table(summarize(results)))
    print(f"\n{len(results)} runs of {steps} steps; per-run records in {out / RESULTS}")
    return 0


def summarize(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per (GAN, objective, data set), with mean and spread over seeds."""
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for r in results:
        groups.setdefault((r["gan"], r["objective"], r["dataset"]), []).append(r["metrics"])
    rows = []
    for (gan, objective, dataset), metrics in groups.items():
        kls = [m["reverse_kl"] for m in metrics if m["reverse_kl"] is not None]
        rows.append({"gan": gan, "objective": objective, "dataset": dataset, "seeds": len(metrics),
                     "num_modes": metrics[0]["num_modes"],
                     "modes": _spread([m["modes"] for m in metrics]),
                     "high_quality_pct": _spread([m["high_quality_pct"] for m in metrics]),
                     "reverse_kl": _spread(kls) if kls else None})
    return rows


def _spread(values: list[float]) -> tuple[float, float | None]:
    """Mean and sample standard deviation (None for a single seed)."""
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else None


def _cell(value: tuple[float, float | None] | None, fmt: str) -> str:
    if value is None:
        return "n/a"
    mean, sd = value
    return format(mean, fmt) + ("" if sd is None else " ± " + format(sd, fmt))


def format_table(rows: list[dict[str, Any]]) -> str:
    header = ["GAN", "objective", "dataset", "seeds", "modes", "high-quality %", "reverse KL"]
    body = [[r["gan"], r["objective"], r["dataset"], str(r["seeds"]),
             f"{_cell(r['modes'], '.1f')} / {r['num_modes']}", _cell(r["high_quality_pct"], ".1f"),
             _cell(r["reverse_kl"], ".3f")] for r in rows]
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip() for line in [header, *body]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
