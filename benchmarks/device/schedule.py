"""The time-boxed part of a lent GPU session: both suites' benches, started and stopped as their runs' pace allows.

Standard library only, as session.py (which drives it): ganzoo is not installed yet when a session starts.

fashion-mnist-lucic first, one seed of NS-GAN and WGAN-GP at a time, another seed only while every lucic run
still reaches its last step inside the time box at the pace its logs show; toy-pacgan beside them once they have
time to spare, stopped first when a lucic run would be late. The runs' folders are the only source of truth:
their config.json and stats.jsonl, read as the benches write them.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import carry  # noqa: E402  (beside this file)

LUCIC, TOY = "fashion-mnist-lucic", "toy-pacgan"
LUCIC_ENTRIES = "NS-GAN,WGAN-GP"
TOY_ENTRIES = "GAN,PacGAN2"
CHECKPOINT = Path("checkpoints") / "last.safetensors"


@dataclass(frozen=True)
class Plan:
    device: str
    total_s: float  # the whole session, installing to packing; the device call's own limit lies above it
    pack_s: float  # kept after training: stopping the runs, drawing samples, packing
    perf_s: float  # perf.py at most
    perf_args: tuple[str, ...]
    lucic_args: tuple[str, ...]
    lucic_seeds: int  # at most; each packed run's images take about 4 MB of the 64 MiB that come back
    toy_args: tuple[str, ...]
    toy_workers: int
    threads: int  # torch threads per run: GPU runs need few, and 16 cores are shared by up to 16 processes
    slowdown: float = 1.5  # how much slower runs go once another seed's runs share the GPU (a guess, kept safe)
    start_s: float = 30.0  # a wave's bench: interpreters, data, and re-entering the earlier seeds' runs
    tick: float = 5.0  # seconds between looks at the runs
    toy_min_s: float = 60.0  # toy-pacgan starts only with this much time left (its startup alone takes some)


@dataclass
class Progress:
    """A run as its folder shows it: how far it trained and how fast."""

    name: str
    path: Path
    seed: int
    steps: int
    step: int = 0
    seconds: float = 0.0
    rate: float | None = None  # steps a second between its last two logs
    records: int = 0  # logs so far
    logged_at: float = 0.0  # when its last log was written

    @property
    def trained(self) -> bool:
        return self.step >= self.steps and (self.path / CHECKPOINT).exists()

    def end(self, slowdown: float = 1.0) -> float | None:
        """When it should reach its last step, at ``slowdown`` times its recent pace; None before two logs."""
        if self.trained:
            return self.logged_at
        return None if not self.rate else self.logged_at + (self.steps - self.step) / self.rate * slowdown

    def duration(self) -> float | None:
        """Its whole training time at its pace so far."""
        return None if self.step <= 0 or self.seconds <= 0 else self.steps * self.seconds / self.step

    def summary(self) -> dict[str, Any]:
        return {"run": self.name, "seed": self.seed, "steps": self.steps, "reached": self.step,
                "trained": self.trained, "seconds": round(self.seconds, 1),
                "steps_per_s": round(self.step / self.seconds, 1) if self.seconds > 0 else None}


def progress_of(run: Path) -> Progress | None:
    """A run folder's config and stats.jsonl read as they stand (None while it has no config yet)."""
    try:
        config = json.loads((run / "config.json").read_text())
    except (OSError, ValueError):
        return None
    progress = Progress(run.name, run, int(config["seed"]), int(config["steps"]))
    stats = run / "stats.jsonl"
    try:
        lines = stats.read_text().splitlines()
        logged_at = stats.stat().st_mtime
    except OSError:
        return progress
    records = []
    for line in lines:
        try:
            records.append(json.loads(line))
        except ValueError:
            continue  # a line being written
    progress.records = len(records)
    if records:
        last = records[-1]
        progress.step, progress.seconds, progress.logged_at = int(last["step"]), float(last["seconds"]), logged_at
        if len(records) > 1 and last["seconds"] > records[-2]["seconds"]:
            progress.rate = (last["step"] - records[-2]["step"]) / (last["seconds"] - records[-2]["seconds"])
        elif progress.seconds > 0:
            progress.rate = progress.step / progress.seconds
    return progress


def progresses(folder: Path) -> list[Progress]:
    found = [progress_of(run) for run in sorted(folder.glob("*")) if run.is_dir()]
    return [run for run in found if run is not None]


def pace(state: list[Progress], seed: int) -> float | None:
    """The longest training time of the runs of ``seed`` at their pace so far; None until both have one."""
    runs = [run for run in state if run.seed == seed]
    durations = [run.duration() for run in runs]
    if len(runs) < 2 or None in durations:
        return None
    return max(duration for duration in durations if duration is not None)


def fits(plan: Plan, training: list[Progress], deadline: float, sharing: bool, duration: float | None = 0.0) -> bool:
    """Whether new runs of ``duration`` seconds, started now, and the lucic runs in ``training`` all reach their
    last step before ``deadline``, each the slower for sharing the GPU (``sharing``: with runs already on it)."""
    if duration is None:
        return False
    slowdown = plan.slowdown if sharing else 1.0
    ends = [run.end(slowdown) for run in training]
    start = plan.start_s if duration else 0.0
    return time.time() + start + duration * slowdown <= deadline and all(
        end is not None and end <= deadline for end in ends)


class Child:
    """A child process in its own process group, its output in a log file; stopped as a Ctrl-C would stop it,
    so that ganzoo saves the step in progress."""

    def __init__(self, name: str, command: list[str], log: Path, env: dict[str, str]):
        self.name, self.command, self.log = name, command, log
        self.started = time.time()
        with open(log, "w") as output:
            self.process = subprocess.Popen(command, cwd=carry.ROOT, env=env, stdout=output,
                                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            start_new_session=True)
        self.stopped = False

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def stop(self, grace: float) -> None:
        stop_all([self], grace)


def stop_all(children: list[Child], grace: float) -> None:
    """SIGINT to each child alone (ganzoo's bench passes it on to its workers once, and each saves its step in
    progress), then, after ``grace`` seconds, SIGKILL to the process groups of those still running."""
    running = [child for child in children if child.running]
    for child in running:
        child.stopped = True
        child.process.send_signal(signal.SIGINT)
    until = time.time() + grace
    for child in running:
        try:
            child.process.wait(max(0.1, until - time.time()))
        except subprocess.TimeoutExpired:
            try:
                os.killpg(child.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass  # gone meanwhile
            child.process.wait()


@dataclass
class Schedule:
    """Both suites until ``deadline``, lucic first: its seeds one pair at a time, a new pair only if every lucic
    run still reaches its last step in time; toy-pacgan only beside lucic runs that have room to spare, and
    stopped first when one of them would end too late."""

    plan: Plan
    work: Path  # the runs go to work/runs/<suite>, the benches' logs to work
    deadline: float  # training ends here, leaving the session its time to draw samples and pack
    start: Callable[[str, list[str], Path], Child]  # the session's: it stops its children whatever happens
    say: Callable[[str], None]  # a line of the session's timeline
    waves: list[Child] = field(default_factory=list)  # one lucic bench a seed, the newest last
    toy: Child | None = None
    shed: bool = False  # once a bench was stopped to make room, nothing new starts
    last_shed: float = 0.0

    @property
    def runs(self) -> Path:
        return self.work / "runs"

    @property
    def toy_running(self) -> bool:
        return self.toy is not None and self.toy.running

    def common(self) -> list[str]:
        """The arguments of both suites' benches."""
        return ["--budget", "paper", "--device", self.plan.device, "--threads", str(self.plan.threads)]

    def run(self) -> dict[str, list[dict[str, Any]]]:
        """Benches started and stopped until the time box, or until none is left running; each run's summary."""
        plan, deadline = self.plan, self.deadline
        self.start_wave()
        while time.time() < deadline:
            now = time.time()
            state = progresses(self.runs / LUCIC)
            lucic_running = any(child.running for child in self.waves)
            training = [run for run in state if not run.trained] if lucic_running else []  # others are dead
            self.make_room(training, now)
            sharing = lucic_running or self.toy_running
            duration = pace(state, len(self.waves) - 1)
            if not self.shed and len(self.waves) < plan.lucic_seeds and fits(plan, training, deadline, sharing,
                                                                              duration):
                self.start_wave()
                continue
            if self.toy is None and not self.shed and deadline - now > plan.toy_min_s and (
                    not lucic_running or (duration is not None and fits(plan, training, deadline, True))):
                self.start_toy()
                continue
            if not lucic_running and not self.toy_running:
                break  # nothing left to run (the dry run; on the GPU the toy runs go on until the time box)
            time.sleep(plan.tick)
        else:
            self.say("train: time box reached")
        return self.stop()

    def start_wave(self) -> None:
        """The lucic bench over one more seed."""
        seeds = len(self.waves) + 1  # seed len(waves) is new; the earlier ones are finished or in training
        command = [sys.executable, "-m", "ganzoo", "bench", LUCIC, *self.common(), "--entries", LUCIC_ENTRIES,
                   "--seeds", str(seeds), "--workers", str(2 * seeds), "--out", str(self.runs / LUCIC),
                   *self.plan.lucic_args]
        self.say(f"train: {LUCIC}, seed {seeds - 1} of NS-GAN and WGAN-GP")
        self.waves.append(self.start(f"lucic-seed{seeds - 1}", command, self.work / f"lucic-seed{seeds - 1}.log"))

    def start_toy(self) -> None:
        """toy-pacgan's one bench, which runs until the time box (its runs are far longer than a session)."""
        plan = self.plan
        self.say(f"train: {TOY}, GAN and PacGAN2, seed 0, {plan.toy_workers} at a time, until the time box")
        self.toy = self.start("toy", [sys.executable, "-m", "ganzoo", "bench", TOY, *self.common(), "--entries",
                                      TOY_ENTRIES, "--seeds", "1", "--workers", str(plan.toy_workers), "--out",
                                      str(self.runs / TOY), *plan.toy_args], self.work / "toy.log")

    def make_room(self, training: list[Progress], now: float) -> None:
        """When a lucic run in ``training`` would end after the time box, stop toy-pacgan, or else the newest
        seed; one at a time, since a stop takes a few looks to show in the others' pace."""
        late = [run for run in training if run.records > 1 and (run.end() or 0) > self.deadline]
        if not late or now - self.last_shed <= 3 * self.plan.tick:
            return
        self.last_shed = now
        newest = [child for child in self.waves if child.running]
        if self.toy is not None and self.toy.running:
            self.say(f"train: {late[0].name} would end after the time box: toy-pacgan stopped")
            self.toy.stop(10)
            self.shed = True
        elif len(newest) > 1:
            self.say(f"train: {late[0].name} would end after the time box: the newest seed stopped")
            newest[-1].stop(10)
            self.shed = True

    def stop(self) -> dict[str, list[dict[str, Any]]]:
        """Every bench stopped (unfinished runs do not come back: no need to wait long for their saves); each
        run's steps reached and pace, for the manifest."""
        children = [self.toy, *self.waves] if self.toy is not None else self.waves
        stop_all(children, 10)
        for child in children:
            self.say(f"train: {child.name}: {'stopped' if child.stopped else f'exit {child.process.returncode}'} "
                     f"after {time.time() - child.started:.0f} s")
        return {LUCIC: [run.summary() for run in progresses(self.runs / LUCIC)],
                TOY: [run.summary() for run in progresses(self.runs / TOY)]}
