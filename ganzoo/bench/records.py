"""A suite's results: one record per run, read back from the run's own files, so that records are the same
whichever process (or cluster node) trained the run, and a finished run is recognised by what it wrote."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from ganzoo.bench.matrix import Job
from ganzoo.bench.suite import Suite
from ganzoo.errors import GanzooError, RunDirError
from ganzoo.training import rundir
from ganzoo.utils import write_text_whole

RESULTS = "results.jsonl"
SUITE_FILE = "suite.json"
# Settings that change neither what is trained nor what is measured: left out of the config's hash
UNHASHED = ("device", "out_dir", "log_every", "sample_every", "checkpoint_every", "eval_every", "logging")


def config_sha256(config: dict[str, Any]) -> str:
    """SHA-256 of a resolved config without where and how often it writes: equal hashes, the same experiment."""
    kept = {key: value for key, value in config.items() if key not in UNHASHED}
    return hashlib.sha256(json.dumps(kept, sort_keys=True).encode()).hexdigest()


def final_evaluation(job: Job, metric: str) -> dict[str, Any] | None:
    """The run's evaluation by ``metric`` at its last step, if it has one."""
    records = rundir.read_jsonl(job.run_dir / rundir.METRICS)
    return next((r for r in reversed(records) if r.get("step") == job.config.steps and "source" not in r
                 and isinstance(r.get("protocol"), dict) and r["protocol"].get("suite") == metric), None)


def diverged_at(job: Job) -> int | None:
    path = job.run_dir / rundir.DIVERGED
    if not path.is_file():
        return None
    step = rundir.read_json_object(path).get("step")
    return step if isinstance(step, int) else -1


def finished(job: Job, suite: Suite) -> bool:
    """Whether a run needs no more training: it was evaluated at its last step, or it diverged. A finished run of
    other settings (the suite file changed since) is refused rather than reported as the suite's."""
    if diverged_at(job) is None and final_evaluation(job, suite.metric) is None:
        return False
    stored = rundir.read_json_object(job.run_dir / rundir.CONFIG)
    differences = rundir.config_differences(stored, job.config)
    if stored.get("metrics") != job.config.metrics.model_dump(mode="json"):
        differences.append("metrics")
    if differences:
        raise RunDirError(f"{job.run_dir} holds a finished run with other settings ({', '.join(differences)}) than "
                          f"suite '{suite.name}' asks now; give the suite another --out, or move that folder away")
    return True


def wall_seconds(stats: list[dict[str, Any]]) -> float:
    """Training time over every session of a run: each session's log counts seconds from its own start."""
    total = last = 0.0
    for record in stats:
        seconds = float(record.get("seconds") or 0.0)
        if seconds < last:  # a resumed session started counting again
            total += last
        last = seconds
    return round(total + last, 3)


def collect(job: Job, suite: Suite, budget: str, comparable: bool) -> dict[str, Any]:
    """The record of one finished run: what it is, its figures, how they were measured, and its provenance."""
    evaluation = final_evaluation(job, suite.metric)
    diverged = diverged_at(job)
    if evaluation is None and diverged is None:
        raise GanzooError(f"{job.run_dir} has no '{suite.metric}' evaluation at step {job.config.steps}: the run "
                          f"did not finish (rerun the suite to finish it)")
    config = rundir.read_json_object(job.run_dir / rundir.CONFIG)
    stats = rundir.read_jsonl(job.run_dir / rundir.STATS)
    thumbnail = rundir.picture_path(job.run_dir, job.config.steps)
    provenance = (evaluation or {}).get("provenance") or rundir.read_json_object(job.run_dir / rundir.PROVENANCE)
    return {
        "suite": suite.name, "suite_sha256": suite.digest(), "budget": budget, "comparable": comparable,
        "entry": job.label, "gan": job.gan, "objective": job.objective, "dataset": job.dataset, "seed": job.seed,
        "conditional": bool(config.get("conditional")), "steps": job.config.steps, "run_dir": str(job.run_dir),
        "config": config, "config_sha256": config_sha256(config),
        "metrics": None if evaluation is None else evaluation["metrics"],
        "protocol": None if evaluation is None else evaluation["protocol"],
        "provenance": provenance, "diverged_at": diverged, "wall_seconds": wall_seconds(stats),
        "last_stats": stats[-1] if stats else {},
        "thumbnail": str(thumbnail) if thumbnail.is_file() else None,
    }


def write_results(out: Path, suite: Suite, records: list[dict[str, Any]]) -> Path:
    """``results.jsonl`` (one record per run) and ``suite.json`` (the suite as run), each replaced whole: two
    benches that share the folder write the same content, and neither leaves a half-written file."""
    out.mkdir(parents=True, exist_ok=True)
    write_text_whole(out / SUITE_FILE, json.dumps(suite.model_dump(mode="json"), indent=2, sort_keys=True) + "\n")
    write_text_whole(out / RESULTS, "".join(json.dumps(r, sort_keys=True) + "\n" for r in records))
    return out / RESULTS


def read_results(folder: Path) -> tuple[Suite, list[dict[str, Any]]]:
    """A results folder's suite and records (``ganzoo leaderboard``, ``cite``, ``reproduce``)."""
    from ganzoo.training.config import validate

    suite_path, results_path = folder / SUITE_FILE, folder / RESULTS
    for path in (suite_path, results_path):
        if not path.is_file():
            raise GanzooError(f"{folder} is not a suite's results folder: it has no {path.name} (run 'ganzoo bench "
                              f"SUITE --out {folder}' first)")
    suite: Suite = validate(Suite, rundir.read_json_object(suite_path), str(suite_path))
    return suite, rundir.read_jsonl(results_path)
