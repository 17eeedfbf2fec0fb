"""Where a suite's runs train: in this process, in a pool of local worker processes, or as Slurm jobs through
submitit. Runs are independent, and each writes only its own run folder; the suite's records are read back from
those folders afterwards (see :mod:`ganzoo.bench.records`), whichever launcher trained them."""

from __future__ import annotations

import json
import multiprocessing
import multiprocessing.connection
import os
import signal
import sys
from pathlib import Path
from typing import Any

from ganzoo.bench.matrix import Job
from ganzoo.bench.suite import Resources
from ganzoo.errors import GanzooError, TrainingDiverged, one_line


def train_job(raw: dict[str, Any], progress: bool = True, threads: int | None = None) -> str | None:
    """Train (or finish, or reuse) one run; a run that diverges is recorded in its folder and is not a failure.
    Returns None, or why the run failed in one line."""
    import torch

    from ganzoo.registry.discovery import get_zoo
    from ganzoo.training.config import resolve_config
    from ganzoo.training.trainer import Trainer

    if threads is not None:
        torch.set_num_threads(threads)
    try:
        zoo = get_zoo()
        Trainer(resolve_config(raw, zoo, "suite run"), zoo, progress=progress).fit(resume=True, wait=True)
    except TrainingDiverged as exc:
        print(f"    {exc}", flush=True)
    except GanzooError as exc:
        return str(exc)
    return None


def train_seeds(raws: list[dict[str, Any]], progress: bool = True, threads: int | None = None) -> str | None:
    """:func:`train_job` for runs that differ only in their seeds: trained together where they can be (see
    :mod:`ganzoo.training.seeds`), else one after the other. Returns None, or why they failed in one line."""
    if len(raws) == 1:
        return train_job(raws[0], progress, threads)
    import torch

    from ganzoo.registry.discovery import get_zoo
    from ganzoo.training.config import resolve_config
    from ganzoo.training.seeds import fit_together, run_problem
    from ganzoo.training.trainer import Trainer

    if threads is not None:
        torch.set_num_threads(threads)
    try:
        zoo = get_zoo()
        first = Trainer(resolve_config(raws[0], zoo, "suite run"), zoo, progress=progress)
        apart = run_problem(first)  # decided before the other seeds' runs are built: they may hold large data
        if apart is not None:
            del first
            print(f"    seeds one after another: {apart}", flush=True)
            failures = [failure for raw in raws if (failure := train_job(raw, progress, threads)) is not None]
            return failures[0] if failures else None
        runs = [first, *(Trainer(resolve_config(raw, zoo, "suite run"), zoo, progress=progress) for raw in raws[1:])]
        apart = fit_together(runs, resume=True, wait=True, report=lambda line: print(line, flush=True))
        print(f"    {len(runs)} seeds " + ("together" if apart is None else f"one after another: {apart}"),
              flush=True)
    except GanzooError as exc:
        return str(exc)
    return None


def seed_groups(jobs: list[tuple[int, Job]], together: bool = True) -> list[list[tuple[int, Job]]]:
    """The runs, those that differ only in their seeds grouped to train together (each alone without
    ``together``), in the suite's order."""
    groups: dict[str, list[tuple[int, Job]]] = {}
    for number, job in jobs:
        settings = {key: value for key, value in job.raw.items() if key not in ("seed", "out_dir")}
        key = json.dumps(settings, sort_keys=True, default=str) if together else str(number)
        groups.setdefault(key, []).append((number, job))
    return list(groups.values())


def _numbers(group: list[tuple[int, Job]], total: int) -> str:
    numbers = [number for number, _ in group]
    shown = str(numbers[0]) if len(numbers) == 1 else f"{numbers[0]}-{numbers[-1]}" if numbers == list(
        range(numbers[0], numbers[-1] + 1)) else ",".join(map(str, numbers))
    if len(group) == 1:
        return f"[{shown}/{total}] {group[0][1]}"
    run = str(group[0][1]).rsplit(", seed ", 1)[0]
    return f"[{shown}/{total}] {run}, seeds {', '.join(str(job.seed) for _, job in group)}"


def run_here(jobs: list[tuple[int, Job]], total: int, progress: bool = True, together: bool = True) -> list[str]:
    """Each run (numbered in the suite) in turn in this process, the seeds of one run together where they can
    be. A Ctrl-C stops the suite after the current runs saved their checkpoints."""
    failures = []
    for group in seed_groups(jobs, together):
        print(_numbers(group, total), flush=True)
        failure = train_seeds([job.raw for _, job in group], progress)
        if failure is not None:
            print(f"    failed: {failure}", flush=True)
            failures += [f"{job}: {failure}" for _, job in group]
    return failures


def _worker(raws: list[dict[str, Any]], threads: int) -> None:
    try:
        failure = train_seeds(raws, progress=False, threads=threads)
    except KeyboardInterrupt:
        sys.exit(130)  # the trainer saved a checkpoint first
    if failure is not None:
        sys.exit(f"    failed: {failure}")


def run_pool(jobs: list[tuple[int, Job]], total: int, workers: int, together: bool = True) -> list[str]:
    """The runs in ``workers`` processes at once (the seeds of one run in one process, together where they can
    be), each with an equal share of the CPU cores for torch (so results repeat bit for bit only with the same
    --workers on the same machine: see docs/benchmarks.md)."""
    context = multiprocessing.get_context("spawn")  # a fresh interpreter: no torch state shared through fork
    threads = max(1, (os.cpu_count() or 1) // workers)
    pending, failures = seed_groups(jobs, together), []
    running: dict[Any, list[tuple[int, Job]]] = {}
    try:
        while pending or running:
            while pending and len(running) < workers:
                group = pending.pop(0)
                print(f"{_numbers(group, total)}: started", flush=True)
                process = context.Process(target=_worker, args=([job.raw for _, job in group], threads),
                                          daemon=False)
                process.start()
                running[process] = group
            multiprocessing.connection.wait([process.sentinel for process in running])
            for process in [p for p in running if not p.is_alive()]:
                process.join()
                group = running.pop(process)
                if process.exitcode == 0:
                    print(f"{_numbers(group, total)}: done", flush=True)
                else:
                    failures += [f"{job}: its worker exited with status {process.exitcode}" for _, job in group]
    except KeyboardInterrupt:
        for process in running:  # a Ctrl-C in a terminal reaches them too; a signal sent to this process alone not
            if process.is_alive() and process.pid is not None:
                os.kill(process.pid, signal.SIGINT)
        for process in running:
            process.join()
        raise
    return failures


# What a cluster sends before it ends a job: SIGUSR2 ahead of the time limit (submitit asks Slurm for it), SIGTERM
# on pre-emption or at the limit
CLUSTER_STOPS = (signal.SIGUSR2, signal.SIGTERM)


def cluster_job(raw: dict[str, Any], threads: int) -> str | None:
    """:func:`train_job` as a cluster job: the cluster's stop signals are taken as a Ctrl-C, so the run saves its
    last completed step and the suite's next run resumes it."""
    def as_ctrl_c(signum: int, frame: object) -> None:
        signal.raise_signal(signal.SIGINT)

    for stop in CLUSTER_STOPS:
        signal.signal(stop, as_ctrl_c)
    try:
        return train_job(raw, progress=False, threads=threads)
    except KeyboardInterrupt:
        return "stopped by the cluster; its last completed step is saved: run the suite again to resume it"


def run_submitit(numbered: list[tuple[int, Job]], cluster: str, folder: Path, resources: Resources) -> list[str]:
    """The runs as one job array through submitit (``cluster`` 'slurm', or 'local' to try it on this machine);
    waits for every job. Runs a job finished are reused when the suite is run again."""
    try:
        import submitit
    except ImportError:
        raise GanzooError("--launcher slurm needs submitit: pip install 'ganzoo-core[slurm]'") from None
    jobs = [job for _, job in numbered]
    executor = submitit.AutoExecutor(folder=folder, cluster=cluster)
    parameters: dict[str, Any] = {"timeout_min": resources.timeout_min, "cpus_per_task": resources.cpus_per_task,
                                  "gpus_per_node": resources.gpus_per_node, "mem_gb": resources.mem_gb,
                                  "name": "ganzoo-bench"}
    if cluster == "slurm" and resources.partition is not None:
        parameters["slurm_partition"] = resources.partition
    executor.update_parameters(**parameters)
    with executor.batch():
        submitted = [executor.submit(cluster_job, job.raw, resources.cpus_per_task) for job in jobs]
    print(f"submitted {len(jobs)} runs to {cluster} (job logs in {folder}); waiting for them", flush=True)
    failures = []
    for job, handle in zip(jobs, submitted):
        try:
            failure = handle.result()
        except Exception as exc:  # a job that failed outside train_job (killed, timed out, out of memory)
            failure = one_line(exc).splitlines()[0]
        if failure is not None:
            failures.append(f"{job}: {failure}")
    return failures
