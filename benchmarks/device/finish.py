"""Finish a GPU session's runs on a CPU: FID from the images drawn on the GPU, then the suites' records.

    python benchmarks/device/finish.py FILES_AT [--runs runs/device/NAME] [--results benchmarks/results/NAME]

FILES_AT is where the device call's files lie (the folder holding device/, or device/ itself). It unpacks the
volumes into --runs (default runs/device/<date>-<GPU>), measures each fashion-mnist-lucic run from its stored
evaluation images with ganzoo's own evaluator (samples.py; about 20 minutes a run of 10,000 images on 2 CPU
cores, and 20 more once for the test images' statistics), then re-enters `ganzoo bench` on each suite's folder
for the seeds every run of an entry finished, which trains nothing and writes results.jsonl and the
leaderboard. --results (default benchmarks/results/<date>-<GPU>) receives what is committed: the logs, the
manifest, and each suite's records and leaderboard tables. Checkpoints never come back, and are never committed.
Run it again after an interruption: what is done is kept.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from carry import ROOT  # noqa: E402  (beside this file)
from packing import FIXED_FILES, SAMPLES, VOLUME  # noqa: E402
from schedule import LUCIC, LUCIC_ENTRIES, TOY, TOY_ENTRIES  # noqa: E402

from ganzoo.errors import GanzooError, one_line  # noqa: E402

COMMITTED = ("results.jsonl", "suite.json", "leaderboard/leaderboard.md", "leaderboard/leaderboard.json",
             "leaderboard/leaderboard.csv")
NOTE = ("images drawn on the GPU at the run's last step by benchmarks/device/samples.py (ganzoo's torch-fidelity "
        "input and torch-fidelity's own loop and noise); Inception features and the metrics computed from them "
        "on a CPU by benchmarks/device/finish.py")


def device_folder(files_at: Path) -> Path:
    folder = files_at / "device" if (files_at / "device" / "manifest.json").is_file() else files_at
    if not (folder / "manifest.json").is_file():
        raise GanzooError(f"{files_at} holds no device/manifest.json: give the folder the device call's files lie in")
    return folder


def default_name(manifest: dict) -> str:
    """<date>-<GPU>, e.g. 2026-12-08-h200, from the manifest's machine line."""
    import datetime

    machine = str(manifest.get("machine", ""))
    gpu = re.search(r"\b([AHBL]\d{2,3}[a-z]?)\b", machine)
    tag = gpu.group(1).lower() if gpu else ("cpu-dry-run" if manifest.get("mode") == "dry run" else "gpu")
    return f"{datetime.date.today().isoformat()}-{tag}"


def unpack(folder: Path, runs: Path) -> None:
    """Every volume into ``runs``, once (a second call finds them there); names are checked to stay inside."""
    for volume in sorted(folder.glob(VOLUME.format(number="*"))):
        with tarfile.open(volume) as archive:
            for member in archive.getmembers():
                target = (runs / member.name).resolve()
                if not target.is_relative_to(runs.resolve()) or not (member.isfile() or member.isdir()):
                    raise GanzooError(f"{volume}: unexpected member {member.name}")
                if member.isfile() and not target.exists():
                    target.parent.mkdir(parents=True, exist_ok=True)
                    source = archive.extractfile(member)
                    assert source is not None
                    target.write_bytes(source.read())


def evaluated(run: Path) -> bool:
    """Whether the run has its final evaluation, as `ganzoo bench` looks for it."""
    try:
        steps = json.loads((run / "config.json").read_text())["steps"]
        lines = (run / "metrics.jsonl").read_text().splitlines()
    except (OSError, ValueError, KeyError):
        return False
    records = [json.loads(line) for line in lines if line.strip()]
    return any(r.get("step") == steps and "source" not in r for r in records)


def measure(runs: Path) -> None:
    from samples import SUFFIX, evaluate_run  # it imports torch: not needed to unpack or collect

    samples = sorted((runs / SAMPLES).glob(f"*{SUFFIX}"))
    for number, path in enumerate(samples, start=1):
        run = runs / LUCIC / path.name.removesuffix(SUFFIX)
        if evaluated(run):
            print(f"[{number}/{len(samples)}] {run.name}: evaluated before", flush=True)
            continue
        print(f"[{number}/{len(samples)}] {run.name}: measuring its {path.name} ...", flush=True)
        records = evaluate_run(run, path, NOTE)
        figures = ", ".join(f"{key} {value:.4g}" for record in records for key, value in record["metrics"].items()
                            if isinstance(value, float))
        print(f"    {figures}", flush=True)


def seeds_done(folder: Path, entry: str) -> int:
    """How many seeds, from seed 0 on, of ``entry`` have their final evaluation (a bench over more would train)."""
    done = {int(match.group(1)) for run in folder.glob(f"{entry}-*-seed*")
            if (match := re.search(r"-seed(\d+)$", run.name)) and evaluated(run)}
    count = 0
    while count in done:
        count += 1
    return count


def collect(runs: Path, plan: dict) -> None:
    """`ganzoo bench` on each suite's folder, one entry at a time, over the seeds all of whose runs finished:
    nothing trains, and the records and leaderboard are written (records from several commands are merged)."""
    for suite, entries, extra in ((LUCIC, LUCIC_ENTRIES, plan.get("lucic_args", [])),
                                  (TOY, TOY_ENTRIES, plan.get("toy_args", []))):
        for entry in entries.split(","):
            seeds = seeds_done(runs / suite, entry)
            if not seeds:
                print(f"{suite} {entry}: no finished run; nothing to record", flush=True)
                continue
            command = [sys.executable, "-m", "ganzoo", "bench", suite, "--budget", "paper", "--entries", entry,
                       "--seeds", str(seeds), "--device", "cpu", "--out", str(runs / suite), *extra]
            print("$ ganzoo " + " ".join(command[3:]), flush=True)
            subprocess.run(command, cwd=ROOT, check=True)


def copy_results(folder: Path, runs: Path, results: Path) -> None:
    results.mkdir(parents=True, exist_ok=True)
    for name in FIXED_FILES:
        if (folder / name).is_file():
            shutil.copy2(folder / name, results / name)
    for suite in (LUCIC, TOY):
        for name in COMMITTED:
            if (runs / suite / name).is_file():
                target = results / suite / name
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(runs / suite / name, target)
    print(f"results to commit in {results}", flush=True)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files_at", type=Path, help="where the device call's files lie")
    parser.add_argument("--runs", type=Path, default=None, help="where the runs are unpacked and measured")
    parser.add_argument("--results", type=Path, default=None, help="what to commit goes here")
    args = parser.parse_args(argv)
    try:
        folder = device_folder(args.files_at)
        manifest = json.loads((folder / "manifest.json").read_text())
        name = default_name(manifest)
        runs = args.runs or ROOT / "runs" / "device" / name
        unpack(folder, runs)
        measure(runs)
        collect(runs, manifest.get("plan", {}))
        copy_results(folder, runs, args.results or ROOT / "benchmarks" / "results" / name)
    except (GanzooError, OSError, subprocess.CalledProcessError) as exc:
        print(f"finish.py: {one_line(exc)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
