"""Running suites: reuse and resume after an interrupt, a local worker pool, and submitit's local executor."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from conftest import mini_suite, write_toml
from ganzoo.run import rundir

pytestmark = pytest.mark.slow


def bench(*argv: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ganzoo", "bench", *argv, "--device", "cpu"], cwd=cwd,
                          capture_output=True, text=True, timeout=600)


def board_figures(folder: Path) -> list:
    """What a leaderboard says, without where and when: each table's rows, their values and per-seed figures."""
    board = json.loads((folder / "leaderboard" / "leaderboard.json").read_text())
    return [[(row["entry"], row["values"], row["per_seed"]) for row in table["rows"]] for table in board["tables"]]


def test_an_interrupted_suite_reruns_only_unfinished_work_and_ends_with_the_same_leaderboard(tmp_path):
    suite = mini_suite(budgets={"quick": {"steps": 600, "seeds": 2, "comparable": False, "description": "600 steps"}})
    suite["run"].update(checkpoint_every=20, log_every=20)
    write_toml(tmp_path / "mini.toml", suite)
    first, second = (tmp_path / "a" / f"gan-nonsaturating-ring8-seed{seed}" for seed in (0, 1))
    process = subprocess.Popen([sys.executable, "-m", "ganzoo", "bench", "mini.toml", "--out", "a", "--device", "cpu"],
                               cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    deadline = time.monotonic() + 300
    while not (second / rundir.LAST_CHECKPOINT).is_file() and time.monotonic() < deadline:
        time.sleep(0.05)  # the first run finished, the second has a checkpoint: interrupt it mid-way
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode in (130, -signal.SIGINT), err
    assert "interrupted" in err and not (tmp_path / "a" / "results.jsonl").exists()
    stamp = (first / rundir.LAST_CHECKPOINT).stat().st_mtime_ns
    interrupted_at = [r["step"] for r in rundir.read_jsonl(second / rundir.STATS)][-1]
    assert interrupted_at < 600

    again = bench("mini.toml", "--out", "a", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "1 of 2 runs already finished" in again.stdout and "[2/2]" in again.stdout and "[1/2]" not in again.stdout
    assert (first / rundir.LAST_CHECKPOINT).stat().st_mtime_ns == stamp  # reused, not retrained
    steps = [r["step"] for r in rundir.read_jsonl(second / rundir.STATS)]
    assert steps == list(range(20, 601, 20))  # resumed: every step logged once
    straight = bench("mini.toml", "--out", "b", cwd=tmp_path)
    assert straight.returncode == 0, straight.stderr
    assert board_figures(tmp_path / "a") == board_figures(tmp_path / "b")
    table = again.stdout[again.stdout.index("entry  "):again.stdout.index("\n\n", again.stdout.index("entry  "))]
    assert table in straight.stdout


def test_two_local_workers_share_the_cores_and_their_records_land_in_one_folder(tmp_path):
    write_toml(tmp_path / "mini.toml", mini_suite())
    done = bench("mini.toml", "--out", "w", "--workers", "2", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count(": started") == 2 and done.stdout.count(": done") == 2
    records = rundir.read_jsonl(tmp_path / "w" / "results.jsonl")
    assert sorted(r["seed"] for r in records) == [0, 1]
    threads = max(1, (os.cpu_count() or 1) // 2)
    assert all(r["provenance"]["torch_threads"] == threads and r["metrics"]["modes"] >= 0 for r in records)
    assert (tmp_path / "w" / "leaderboard" / "index.html").is_file()


def seed_zero(results: Path) -> tuple[dict, list, list]:
    """Seed 0's final weights, its logs without their clock times, and its metrics, as its run folder holds them."""
    from safetensors.torch import load_file

    run = results / "gan-nonsaturating-ring8-seed0"
    weights = load_file(run / rundir.LAST_CHECKPOINT)
    stats = [{k: v for k, v in record.items() if k != "seconds"} for record in rundir.read_jsonl(run / rundir.STATS)]
    metrics = [record["metrics"] for record in rundir.read_jsonl(run / rundir.METRICS)]
    return weights, stats, metrics


def test_a_seeds_figures_do_not_depend_on_how_the_suite_scheduled_it(tmp_path):
    """Seed 0 benched alone, as one of 2 and one of 10 seeds in this process, and in 2 workers, at one torch
    thread each: the same weights, logs and metrics, bit for bit."""
    suite = mini_suite(budgets={"quick": {"steps": 40, "seeds": 1, "comparable": False, "description": "40 steps"}})
    suite["run"].update(log_every=10, checkpoint_every=40)
    write_toml(tmp_path / "mini.toml", suite)
    schedules = {"alone": ["--seeds", "1"], "two": ["--seeds", "2"], "ten": ["--seeds", "10"],
                 "workers": ["--seeds", "2", "--workers", "2"]}
    for folder, options in schedules.items():
        done = bench("mini.toml", "--out", folder, "--threads", "1", *options, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
    weights, stats, metrics = seed_zero(tmp_path / "alone")
    assert len(stats) == 4 and metrics and metrics[-1]["modes"] >= 0
    for folder in ("two", "ten", "workers"):
        other_weights, other_stats, other_metrics = seed_zero(tmp_path / folder)
        assert other_weights.keys() == weights.keys()
        assert all(torch.equal(other_weights[key], weights[key]) for key in weights), folder
        assert (other_stats, other_metrics) == (stats, metrics), folder
    seed_one = [rundir.read_jsonl(tmp_path / folder / "gan-nonsaturating-ring8-seed1" / rundir.STATS)[-1]["loss_d"]
                for folder in ("two", "ten", "workers")]
    assert len(set(seed_one)) == 1 and seed_one[0] != stats[-1]["loss_d"]  # another seed, another run


def test_a_suite_runs_through_submitits_local_executor(tmp_path):
    pytest.importorskip("submitit")
    write_toml(tmp_path / "mini.toml", mini_suite())
    done = bench("mini.toml", "--out", "s", "--launcher", "slurm", "--cluster", "local", "--cpus-per-task", "1",
                 cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "submitted 2 runs to local" in done.stdout
    records = rundir.read_jsonl(tmp_path / "s" / "results.jsonl")
    assert sorted(r["seed"] for r in records) == [0, 1]
    assert all(r["provenance"]["torch_threads"] == 1 for r in records)  # the job's cpus_per_task
    assert list((tmp_path / "s" / "submitit").glob("*_log.out"))
    rerun = bench("mini.toml", "--out", "s", "--launcher", "slurm", "--cluster", "local", cwd=tmp_path)
    assert rerun.returncode == 0 and "2 of 2 runs already finished" in rerun.stdout and "submitted" not in rerun.stdout


def test_a_cluster_job_told_to_stop_saves_its_last_step_and_the_rerun_resumes_it(tmp_path):
    """Slurm warns a job with SIGUSR2 (submitit asks for it) or SIGTERM before ending it: the run saves."""
    from ganzoo.bench.launch import train_job
    from ganzoo.testing import quick_config

    raw = quick_config(tmp_path / "run", gan="gan", steps=5000, log_every=20, checkpoint_every=20, device="cpu")
    script = f"from ganzoo.bench.launch import cluster_job; print(cluster_job({raw!r}, 1))"
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    checkpoint = tmp_path / "run" / rundir.LAST_CHECKPOINT
    deadline = time.monotonic() + 300
    while not checkpoint.is_file() and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGUSR2)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert out.strip() == "stopped by the cluster; its last completed step is saved: run the suite again to resume it"
    stopped_at = [r["step"] for r in rundir.read_jsonl(tmp_path / "run" / rundir.STATS)][-1]
    assert 0 < stopped_at < 5000
    assert train_job({**raw, "steps": stopped_at + 20}, progress=False) is None  # resumed from the saved step
    steps = [r["step"] for r in rundir.read_jsonl(tmp_path / "run" / rundir.STATS)]
    assert steps == list(range(20, stopped_at + 21, 20))
