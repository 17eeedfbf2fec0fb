"""A suite's results: one record per run, read back from the run's own files, so that records are the same
whichever process (or cluster node) trained the run, and a finished run is recognised by what it wrote."""

from __future__ import annotations

import fnmatch
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ganzoo.bench.matrix import Job
from ganzoo.bench.suite import Suite
from ganzoo.errors import GanzooError, RunDirError
from ganzoo.run import rundir
from ganzoo.run.config import fields_where
from ganzoo.utils import write_text_whole

RESULTS = "results.jsonl"
SUITE_FILE = "suite.json"
# Settings that change neither what is trained nor what is measured: left out of the config's hash
UNHASHED = fields_where(result=False)


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


def collect(job: Job, suite: Suite, budget: str, comparable: bool,
            overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """The record of one finished run: what it is, its figures, how they were measured, its provenance, and
    ``overrides``: what the command line changed of the budget, {"steps": int | None, "seeds": int | None, "set":
    {"flat.key": value}} (None: the budget's own; ``ganzoo cite`` reads it)."""
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
        "overrides": overrides or {"steps": None, "seeds": None, "set": {}},
    }


def check_folder(out: Path, suite: Suite) -> None:
    """Refuse a results folder that holds another suite's results, or another version of this one: its records
    would be merged with records they do not compare with."""
    path = out / SUITE_FILE
    if not path.is_file():
        return
    from ganzoo.run.config import validate

    try:
        stored: Suite = validate(Suite, rundir.read_json_object(path), str(path))
    except GanzooError as exc:
        raise GanzooError(f"{out} holds a {SUITE_FILE} this ganzoo cannot read ({exc}); give the suite another "
                          f"--out") from None
    if stored.name != suite.name:
        raise GanzooError(f"{out} holds results of suite '{stored.name}', not '{suite.name}'; give the suite "
                          f"another --out")
    stored_protocol, protocol = _protocol(stored), _protocol(suite)
    changed = [key for key, value in stored_protocol.items() if protocol.get(key) != value]
    if changed:
        raise GanzooError(f"{out} holds results of another version of suite '{suite.name}' (it differs in "
                          f"{', '.join(changed)}); give the suite another --out, or move {SUITE_FILE} and {RESULTS} "
                          f"out of that folder to record its runs under this version")


# What a suite says about its figures rather than how they are made: a new version that changes only these (a
# column's bounds, a quoted row, a cost) keeps the folder's results
PRESENTATION = ("title", "description", "follows", "bibtex", "choices", "cost_basis", "columns", "published",
                "resources")
BUDGET_PRESENTATION = ("description", "minutes_per_run")


def _protocol(suite: Suite) -> dict[str, Any]:
    dumped = {key: value for key, value in suite.model_dump(mode="json").items() if key not in PRESENTATION}
    dumped["budgets"] = {name: {key: value for key, value in budget.items() if key not in BUDGET_PRESENTATION}
                         for name, budget in dumped.get("budgets", {}).items()}
    return dumped


def matrix_order(suite: Suite) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    """A sort key putting records in the suite's matrix order (entry, data set, GAN, objective, seed), whichever
    commands ran them."""
    def key(record: dict[str, Any]) -> tuple[Any, ...]:
        entry = next((number for number, e in enumerate(suite.entries) if e.label == record["entry"]
                      or (e.label is None and fnmatch.fnmatchcase(record["gan"], e.gan))), len(suite.entries))
        datasets = [*suite.datasets, record["dataset"]]  # a data set the suite no longer has goes last
        return entry, datasets.index(record["dataset"]), record["gan"], record["objective"], record["seed"]
    return key


def merge_records(out: Path, suite: Suite, new: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``new`` with the folder's earlier records (a rerun with other --gans, --entries or --seeds adds to the
    results): a run recorded again is replaced by its new record, and a record whose run folder is gone is
    dropped. Call :func:`check_folder` first: only records of the same suite are merged."""
    recorded = rundir.read_jsonl(out / RESULTS) if (out / RESULTS).is_file() else []
    again = {Path(r["run_dir"]).name for r in new}
    kept = [r for r in recorded if Path(r["run_dir"]).name not in again and (out / Path(r["run_dir"]).name).is_dir()]
    return sorted([*kept, *new], key=matrix_order(suite))


def write_results(out: Path, suite: Suite, records: list[dict[str, Any]]) -> Path:
    """``results.jsonl`` (one record per run) and ``suite.json`` (the suite as run), each replaced whole: two
    benches that share the folder write the same content, and neither leaves a half-written file."""
    out.mkdir(parents=True, exist_ok=True)
    write_text_whole(out / SUITE_FILE, json.dumps(suite.model_dump(mode="json"), indent=2, sort_keys=True) + "\n")
    write_text_whole(out / RESULTS, "".join(json.dumps(r, sort_keys=True) + "\n" for r in records))
    return out / RESULTS


def read_results(folder: Path) -> tuple[Suite, list[dict[str, Any]]]:
    """A results folder's suite and records (``ganzoo leaderboard``, ``cite``, ``reproduce``)."""
    from ganzoo.run.config import validate

    suite_path, results_path = folder / SUITE_FILE, folder / RESULTS
    for path in (suite_path, results_path):
        if not path.is_file():
            raise GanzooError(f"{folder} is not a suite's results folder: it has no {path.name} (run 'ganzoo bench "
                              f"SUITE --out {folder}' first)")
    suite: Suite = validate(Suite, rundir.read_json_object(suite_path), str(suite_path))
    return suite, rundir.read_jsonl(results_path)
