"""Where a suite's runs train: in this process, in a pool of local worker processes, or as Slurm jobs through
submitit. Runs are independent, and each writes only its own run folder; the suite's records are read back from
those folders afterwards (see :mod:`ganzoo.bench.records`), whichever launcher trained them."""

from __future__ import annotations

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
    from ganzoo.run.config import resolve_config
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


def _label(number: int, total: int, job: Job) -> str:
    return f"[{number}/{total}] {job}"


def run_here(jobs: list[tuple[int, Job]], total: int, progress: bool = True, threads: int | None = None) -> list[str]:
    """Each run (numbered in the suite) in turn in this process. A Ctrl-C stops the suite after the current run
    saved its checkpoint."""
    failures = []
    for number, job in jobs:
        print(_label(number, total, job), flush=True)
        failure = train_job(job.raw, progress, threads)
        if failure is not None:
            print(f"    failed: {failure}", flush=True)
            failures.append(f"{job}: {failure}")
    return failures


def _worker(raw: dict[str, Any], threads: int) -> None:
    try:
        failure = train_job(raw, progress=False, threads=threads)
    except KeyboardInterrupt:
        sys.exit(130)  # the trainer saved a checkpoint first
    if failure is not None:
        sys.exit(f"    failed: {failure}")


def worker_threads(workers: int) -> int:
    """Torch threads per worker when none are asked for: an equal share of the machine's cores."""
    return max(1, (os.cpu_count() or 1) // workers)


def run_pool(jobs: list[tuple[int, Job]], total: int, workers: int, threads: int | None = None) -> list[str]:
    """The runs in ``workers`` processes at once, each with ``threads`` torch threads (default an equal share of
    the CPU cores: a seed's figures then equal a lone run's only at that thread count, see docs/benchmarks.md)."""
    context = multiprocessing.get_context("spawn")  # a fresh interpreter: no torch state shared through fork
    threads = threads or worker_threads(workers)
    pending, failures = list(jobs), []
    running: dict[Any, tuple[int, Job]] = {}
    try:
        while pending or running:
            while pending and len(running) < workers:
                number, job = pending.pop(0)
                print(f"{_label(number, total, job)}: started", flush=True)
                process = context.Process(target=_worker, args=(job.raw, threads), daemon=False)
                process.start()
                running[process] = (number, job)
            multiprocessing.connection.wait([process.sentinel for process in running])
            for process in [p for p in running if not p.is_alive()]:
                process.join()
                number, job = running.pop(process)
                if process.exitcode == 0:
                    print(f"{_label(number, total, job)}: done", flush=True)
                else:
                    failures.append(f"{job}: its worker exited with status {process.exitcode}")
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
