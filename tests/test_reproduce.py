"""``ganzoo reproduce``: a rerun in the recorded conditions equals the record, whether the bench trained the run
alone or in workers; a rerun in other conditions names each difference before its verdict; nothing is written
into the results folder."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import mini_suite, write_toml
from ganzoo.run import rundir

pytestmark = pytest.mark.slow
RUN = "gan-nonsaturating-ring8-seed0"


def ganzoo(*argv: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ganzoo", *argv], cwd=cwd, capture_output=True, text=True,
                          timeout=600)


@pytest.fixture(scope="module")
def benched(tmp_path_factory) -> Path:
    """One mini suite benched twice: its two seeds one after the other in this process, and in two workers."""
    folder = tmp_path_factory.mktemp("reproduce")
    write_toml(folder / "mini.toml", mini_suite())
    for out, options in (("alone", []), ("workers", ["--workers", "2"])):
        done = ganzoo("bench", "mini.toml", "--out", out, "--device", "cpu", *options, cwd=folder)
        assert done.returncode == 0, done.stderr
    return folder


@pytest.mark.parametrize("results", ["alone", "workers"])
def test_a_rerun_in_the_recorded_conditions_equals_the_record(benched, results):
    before = sorted(path.name for path in (benched / results).iterdir())
    done = ganzoo("reproduce", f"{results}/{RUN}", cwd=benched)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "in the recorded conditions" in done.stdout and "differs from the record" not in done.stdout
    assert "modes: " in done.stdout and "different" not in done.stdout and "reproduced: every figure" in done.stdout
    assert sorted(path.name for path in (benched / results).iterdir()) == before  # the results folder untouched
    rerun = benched / "runs" / "reproduced" / "mini" / "quick" / RUN
    threads = json.loads((rerun / rundir.PROVENANCE).read_text())["torch_threads"]
    recorded = rundir.read_jsonl(benched / results / "results.jsonl")[0]["provenance"]["torch_threads"]
    assert threads == recorded  # the workers' share of the cores, not this process's default
    assert rundir.read_jsonl(rerun / rundir.METRICS)[-1]["metrics"] == rundir.read_jsonl(
        benched / results / RUN / rundir.METRICS)[-1]["metrics"]


def test_a_rerun_in_other_conditions_names_every_difference_before_its_verdict(benched, tmp_path):
    records = rundir.read_jsonl(benched / "alone" / "results.jsonl")
    for record in records:
        record["provenance"].update(ganzoo="0.2.5", device_name="another processor")
        record["provenance"]["speed"]["seeds_together"] = 2  # as a stacked bench of ganzoo 0.2.5 recorded it
        record["metrics"]["modes"] += 50 + record["seed"]  # far above anything the rerun can give
    (benched / "alone" / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    done = ganzoo("reproduce", f"alone/{RUN}", "--threads", "1", "--out", str(tmp_path / "again"), cwd=benched)
    assert done.returncode == 1, done.stderr
    lines = done.stdout.splitlines()
    named = [line for line in lines if line.startswith("differs from the record: ")]
    assert any("ganzoo 0.2.5 then" in line for line in named)
    assert any("device_name another processor then" in line for line in named)
    assert any("torch_threads" in line and "1 now" in line for line in named)
    assert any("scheduling: trained stacked with 1 other seeds" in line for line in named)
    verdict = next(index for index, line in enumerate(lines) if line.startswith("modes: "))
    assert max(lines.index(line) for line in named) < verdict
    assert "OUTSIDE" in lines[verdict] and lines[-1] == "NOT reproduced"
