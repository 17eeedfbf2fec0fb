"""benchmarks/device: the prepared script for a lent GPU machine, checked on the CPU (its dry run, its limits)."""

from __future__ import annotations

import importlib
import json
import os
import re
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest
import torch
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
DEVICE = ROOT / "benchmarks" / "device"
FASHION = [ROOT / ".whl" / "data" / "fashion-mnist", Path("/usr/share/datasets/fashion-mnist")]


def load(name: str):
    """A module of benchmarks/device: scripts beside each other that import each other, not a package."""
    if str(DEVICE) not in sys.path:
        sys.path.insert(0, str(DEVICE))
    module = importlib.import_module(name)
    assert Path(module.__file__).parent == DEVICE, f"another module named {name} shadows benchmarks/device's"
    return module


carry = load("carry")


def readme_call() -> dict:
    """The device tool call README.md documents: its one ```json block."""
    text = (DEVICE / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```json\n(.*?)```", text, re.S)
    assert len(blocks) == 1, "README.md should hold exactly one json block: the run call"
    return json.loads(blocks[0])


def test_the_readme_run_call_fits_the_device_tool():
    call = readme_call()
    session = load("session")
    assert len(call["command"]) < carry.COMMAND_LIMIT
    assert "benchmarks/device/run.sh" in call["command"]
    assert call["carry"] == [".whl"]
    # the session's own time box ends it first, with time to stop, pack and come back
    assert session.GPU.total_s + 30 <= call["timeout_s"] <= 600
    assert session.GPU.total_s <= 9 * 60


def test_what_is_carried_stays_under_the_limit():
    assert carry.carried_size() <= carry.CARRY_LIMIT


def test_carried_size_counts_the_tree_and_the_carried_folder_only(tmp_path):
    def write(name: str, size: int) -> None:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x" * size)

    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / ".gitignore").write_text(".whl/\nbuild/")  # 12 bytes
    write("tracked.py", 100)
    subprocess.run(["git", "add", "."], cwd=tmp_path, check=True)
    write("untracked.txt", 10)  # sent: untracked but not ignored
    write("build/ignored.bin", 1000)  # not sent: ignored and not carried
    write(".whl/dep.whl", 300)  # sent: carried although ignored
    assert carry.carried_size(tmp_path, (".whl",)) == 12 + 100 + 10 + 300


def test_output_limits_are_checked(tmp_path):
    good = tmp_path / "good" / "device"
    good.mkdir(parents=True)
    (good / "perf.log").write_text("rows")
    assert carry.output_problems(tmp_path / "good") == []
    bad = tmp_path / "bad"
    (bad / "a" / "b" / "c").mkdir(parents=True)
    (bad / "a" / "b" / "c" / "deep.log").write_text("x")
    (bad / "odd name.log").write_text("x")
    for number in range(8):
        (bad / f"f{number}").write_text("x")
    with open(bad / "big.bin", "wb") as big:
        big.truncate(carry.RETURN_FILE + 1)
    problems = " | ".join(carry.output_problems(bad))
    assert "files, more than 8" in problems
    assert "more than 2 folders down" in problems
    assert "odd name.log" in problems
    assert "big.bin" in problems


def test_replayed_images_are_what_the_generator_gave():
    """FID on the CPU from images drawn on the GPU: torch-fidelity's loop, given the replay in place of the
    generator, receives the very images the generator gave it (to the byte)."""
    samples = load("samples")
    from ganzoo.api.prior import Prior

    torch.manual_seed(0)
    generator = nn.Sequential(nn.Linear(8, 1 * 6 * 6), nn.BatchNorm1d(36), nn.Tanh(), nn.Unflatten(1, (1, 6, 6)))
    generator.train()
    prior = Prior("uniform", 8, torch.device("cpu"), None)
    drawn = samples.capture(generator, prior, 150, 12345)  # 150: batches of 64, 64 and 22
    assert drawn.shape == (150, 3, 6, 6) and drawn.dtype == torch.uint8
    assert generator.training, "the generator's mode is put back"
    assert torch.equal(drawn, samples.capture(generator, prior, 150, 12345))
    replay = samples.ReplayGenerator(drawn[:, :1].clone())
    assert torch.equal(samples.capture(replay, prior, 150, 12345), drawn)
    replay.check_all_served()
    every_byte = torch.arange(256, dtype=torch.uint8).view(256, 1, 1, 1)
    from ganzoo.metrics.fidelity import to_uint8

    assert torch.equal(to_uint8(samples.ReplayGenerator(every_byte)(torch.zeros(256, 8)))[:, :1], every_byte)


def test_a_replay_refuses_to_serve_other_counts():
    samples = load("samples")
    from ganzoo.errors import GanzooError

    replay = samples.ReplayGenerator(torch.zeros(10, 1, 2, 2, dtype=torch.uint8))
    replay(torch.zeros(4, 3))
    with pytest.raises(GanzooError, match="took 4 of the 10"):
        replay.check_all_served()
    with pytest.raises(GanzooError, match="more than the 10"):
        replay(torch.zeros(7, 3))


def stats(run: Path, seed: int, steps: int, logs: list[tuple[int, float]]) -> None:
    run.mkdir(parents=True)
    (run / "config.json").write_text(json.dumps({"seed": seed, "steps": steps}))
    (run / "stats.jsonl").write_text("".join(json.dumps({"step": s, "seconds": t}) + "\n" for s, t in logs))


def test_the_schedule_starts_a_seed_only_if_every_run_ends_in_time(tmp_path):
    schedule = load("schedule")
    stats(tmp_path / "a", 0, 1000, [(250, 10.0), (500, 15.0)])  # 50 steps/s lately, 20 s in all at its pace
    stats(tmp_path / "b", 0, 100, [(50, 10.0)])  # one log: 5 steps/s, 20 s in all
    a, b = schedule.progresses(tmp_path)
    assert (a.rate, a.records, a.duration()) == (50.0, 2, 30.0)
    assert (b.rate, b.records, b.duration()) == (5.0, 1, 20.0)
    assert not a.trained  # no checkpoint
    plan = schedule.Plan("cpu", total_s=100, pack_s=10, perf_s=10, perf_args=(), lucic_args=(), lucic_seeds=3,
                         toy_args=(), toy_workers=1, threads=1, slowdown=2.0, start_s=5.0)
    pace, fits = schedule.pace, schedule.fits
    assert pace([a, b], 0) == 30.0 and pace([a], 0) is None
    now = time.time()
    a.logged_at = b.logged_at = now  # a ends in 10 s at its pace, b in 10 s; 20 s each at half the pace
    assert fits(plan, [a, b], now + 100, sharing=False, duration=30.0)
    assert fits(plan, [a, b], now + 66, sharing=True, duration=30.0)  # 5 + 30 x 2 = 65 s
    assert not fits(plan, [a, b], now + 64, sharing=True, duration=30.0)
    assert not fits(plan, [a, b], now + 19, sharing=True)  # a would end 20 s from now, sharing
    assert not fits(plan, [a, b], now + 100, sharing=True, duration=None)  # no pace yet


FAKE_BENCH = """
import json, sys, time
from pathlib import Path

args = sys.argv[1:]
suite, seeds, out = args[0], int(args[args.index("--seeds") + 1]), Path(args[args.index("--out") + 1])
runs = {"fashion-mnist-lucic": [("NS-GAN", LUCIC_STEPS), ("WGAN-GP", 30)], "toy-pacgan": [("GAN", 10**6)]}[suite]
todo = {}
for seed in range(seeds):
    for label, steps in runs:
        run = out / f"{label}-seed{seed}"
        if not run.exists():  # another bench trains it (ganzoo's waits for its lock, then finds it finished)
            run.mkdir(parents=True)
            (run / "config.json").write_text(json.dumps({"seed": seed, "steps": steps}))
            todo[run] = [steps, 0.0, 0]
started = time.time()
beside = out.parent / "toy-running"  # while the toy bench runs
if suite == "toy-pacgan":
    beside.write_text("")
try:
    while todo:  # 50 steps a second, 5 while a toy run shares the GPU if SLOW_WITH_TOY; a log every 10 steps
        time.sleep(0.1)
        toy = beside.exists() and suite != "toy-pacgan"
        for run, (steps, step, logged) in list(todo.items()):
            step = min(steps, step + (0.5 if SLOW_WITH_TOY and toy else 5))
            todo[run][1] = step
            if int(step) // 10 * 10 > logged:
                todo[run][2] = int(step) // 10 * 10
                with open(run / "stats.jsonl", "a") as stats:
                    stats.write(json.dumps({"step": todo[run][2], "seconds": time.time() - started}) + "\\n")
            if step == steps:
                (run / "checkpoints").mkdir()
                (run / "checkpoints" / "last.safetensors").write_text("")
                del todo[run]
except KeyboardInterrupt:
    sys.exit(130)
finally:
    if suite == "toy-pacgan":
        beside.unlink()
"""


def fake_session(tmp_path, monkeypatch, plan, lucic_steps: int, slow_with_toy: bool):
    """A session whose `ganzoo bench` is a stand-in that writes runs' configs, logs and checkpoints at a pace."""
    session = load("session")
    fake = tmp_path / "bench.py"
    fake.write_text(f"LUCIC_STEPS = {lucic_steps}\nSLOW_WITH_TOY = {slow_with_toy}\n" + FAKE_BENCH)
    start = session.Session.start

    def start_fake(self, name, command, log):
        assert command[1:4] == ["-m", "ganzoo", "bench"]
        return start(self, name, [sys.executable, str(fake), *command[4:]], log)

    monkeypatch.setattr(session.Session, "start", start_fake)
    run = session.Session(plan, tmp_path / "out", tmp_path / "work", install=False)
    run.env = dict(os.environ)
    return run


def fake_plan(total_s: float, seeds: int):
    return load("schedule").Plan("cpu", total_s=total_s, pack_s=1, perf_s=1, perf_args=(), lucic_args=(),
                                 lucic_seeds=seeds, toy_args=(), toy_workers=1, threads=1, slowdown=1.5,
                                 start_s=0.3, tick=0.1, toy_min_s=1)


def test_the_schedule_adds_seeds_while_they_fit_then_toy_runs_until_the_time_box(tmp_path, monkeypatch):
    plan = fake_plan(total_s=7, seeds=3)
    run = fake_session(tmp_path, monkeypatch, plan, lucic_steps=60, slow_with_toy=False)  # runs of 1.2 s
    run.train()
    lucic = {r["run"]: r for r in run.facts["runs"]["fashion-mnist-lucic"]}
    assert sorted(lucic) == [f"{label}-seed{seed}" for label in ("NS-GAN", "WGAN-GP") for seed in range(3)]
    assert all(r["trained"] for r in lucic.values())
    toy = run.facts["runs"]["toy-pacgan"]
    assert len(toy) == 1 and not toy[0]["trained"] and toy[0]["reached"] > 0
    assert time.time() <= run.started + plan.total_s, "stopped at the time box, leaving the packing its time"
    lines = "\n".join(run.timeline)
    assert lines.index("seed 2 of NS-GAN") < lines.index("toy-pacgan, GAN and PacGAN2")
    assert "toy: stopped" in lines


def test_the_schedule_stops_toy_runs_that_would_make_a_lucic_run_late(tmp_path, monkeypatch):
    plan = fake_plan(total_s=7, seeds=1)
    run = fake_session(tmp_path, monkeypatch, plan, lucic_steps=200, slow_with_toy=True)  # 4 s alone, 40 beside toy
    run.train()
    lines = "\n".join(run.timeline)
    assert "would end after the time box: toy-pacgan stopped" in lines, lines
    assert all(r["trained"] for r in run.facts["runs"]["fashion-mnist-lucic"]), lines


def test_packing_brings_trained_lucic_runs_with_their_images_and_no_checkpoint(tmp_path):
    packing = load("packing")
    lucic = tmp_path / "runs" / "fashion-mnist-lucic"
    stats(lucic / "NS-GAN-seed0", 0, 10, [(10, 1.0)])
    (lucic / "NS-GAN-seed0" / "checkpoints").mkdir()
    (lucic / "NS-GAN-seed0" / "checkpoints" / "last.safetensors").write_text("weights")
    stats(lucic / "WGAN-GP-seed0", 0, 10, [(5, 1.0)])  # not trained: stays behind
    (tmp_path / "samples").mkdir()
    (tmp_path / "samples" / "NS-GAN-seed0.safetensors").write_text("images")
    items = packing.wanted(tmp_path)
    assert [item["name"] for item in items] == ["fashion-mnist-lucic/NS-GAN-seed0"]
    assert [name for _, name in items[0]["files"]] == [
        "fashion-mnist-lucic/NS-GAN-seed0/config.json", "fashion-mnist-lucic/NS-GAN-seed0/stats.jsonl",
        f"{packing.SAMPLES}/NS-GAN-seed0.safetensors"]
    assert packing.fill(items, tmp_path) == [items]


def test_finish_records_only_the_seeds_finished_from_seed_0(tmp_path):
    finish = load("finish")

    def run(name: str, evaluated: bool) -> None:
        (tmp_path / name).mkdir()
        (tmp_path / name / "config.json").write_text(json.dumps({"steps": 10}))
        record = {"step": 10 if evaluated else 5, "metrics": {"fid": 1.0}}
        (tmp_path / name / "metrics.jsonl").write_text(json.dumps(record) + "\n")

    run("NS-GAN-nonsaturating-fashion-mnist-seed0", True)
    run("NS-GAN-nonsaturating-fashion-mnist-seed1", True)
    run("NS-GAN-nonsaturating-fashion-mnist-seed3", True)  # seed 2 missing: a bench over 4 seeds would train it
    run("WGAN-GP-wgan-gp-fashion-mnist-seed0", False)
    assert finish.seeds_done(tmp_path, "NS-GAN") == 2
    assert finish.seeds_done(tmp_path, "WGAN-GP") == 0


def test_finish_unpacks_nothing_outside_its_folder(tmp_path):
    finish = load("finish")
    from ganzoo.errors import GanzooError

    (tmp_path / "device").mkdir()
    (tmp_path / "evil.txt").write_text("x")
    with tarfile.open(tmp_path / "device" / "runs-1.tar.gz", "w:gz") as volume:
        volume.add(tmp_path / "evil.txt", arcname="../evil.txt")
    with pytest.raises(GanzooError, match="unexpected member"):
        finish.unpack(tmp_path / "device", tmp_path / "runs")


@pytest.mark.slow
def test_the_dry_run_packs_every_part_within_the_limits(tmp_path):
    if not any((folder / "t10k-images-idx3-ubyte.gz").is_file() for folder in FASHION):
        pytest.skip("Fashion-MNIST is not here (tests/install-debian-data.sh, or benchmarks/device/prepare.sh)")
    env = {**os.environ, "PYTHON": sys.executable, "OMP_NUM_THREADS": "1"}
    env.pop("OUT", None)
    done = subprocess.run(["bash", str(DEVICE / "run.sh"), "--dry-run", "--out", str(tmp_path / "out")], env=env,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = tmp_path / "out"
    assert carry.output_problems(out) == []
    folder = out / "device"
    files = sorted(path.name for path in folder.iterdir())
    assert {"device.log", "perf.log", "manifest.json", "runs-1.tar.gz"} <= set(files), files
    assert re.search(r"^runner  gan on ring8, batch 64", (folder / "perf.log").read_text(), re.M)
    assert re.search(r"^data    image folder", (folder / "perf.log").read_text(), re.M)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["mode"] == "dry run" and manifest["not_packed"] == []
    names = set()
    for volume in folder.glob("runs-*.tar.gz"):
        with tarfile.open(volume) as archive:
            names |= set(archive.getnames())
    assert not [name for name in names if "/checkpoints/" in name]
    for seed in (0, 1):  # two seeds: the second was started once the first's pace was known
        for run in (f"NS-GAN-nonsaturating-fashion-mnist-seed{seed}", f"WGAN-GP-wgan-gp-fashion-mnist-seed{seed}"):
            assert {f"fashion-mnist-lucic/{run}/config.json", f"fashion-mnist-lucic/{run}/provenance.json",
                    f"fashion-mnist-lucic/{run}/stats.jsonl", f"fashion-mnist-lucic-samples/{run}.safetensors"} <= names
    for run in ("GAN-nonsaturating-ring8-seed0", "PacGAN2-nonsaturating-grid25-seed0"):
        assert f"toy-pacgan/{run}/metrics.jsonl" in names
    assert "toy-pacgan/results.jsonl" in names
