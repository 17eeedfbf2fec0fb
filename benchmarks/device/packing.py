"""What of a session's runs comes back, and how: volumes runs-N.tar.gz within the device tool's limits.

Standard library only, as session.py (which packs with it); finish.py reads the same names back.
"""

from __future__ import annotations

import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import carry  # noqa: E402  (beside this file)
from schedule import LUCIC, TOY, progresses  # noqa: E402

FIXED_FILES = ("device.log", "perf.log", "manifest.json")  # beside the volumes in device/
VOLUME = "runs-{number}.tar.gz"
SAMPLES = f"{LUCIC}-samples"  # the lucic runs' evaluation images, in a volume and once unpacked
LEFT_BEHIND = ("checkpoints", "tensorboard")  # never brought back: checkpoints are large and never committed
VOLUME_SLACK = 256 << 10  # what a volume's gzip may differ from the sum of its items compressed alone

Item = dict[str, Any]  # {"name": what the manifest calls it, "files": [(path here, name in the volume)]}


def wanted(work: Path) -> list[Item]:
    """What may come back, most wanted first: each trained lucic run with its evaluation images (seed by
    seed), each finished toy-pacgan run, the suites' results; never a checkpoint."""
    runs = work / "runs"
    samples = work / "samples"
    items = []
    lucic = sorted((run for run in progresses(runs / LUCIC) if run.trained), key=lambda run: (run.seed, run.name))
    for run in lucic:
        images = samples / f"{run.name}.safetensors"  # samples.py's SUFFIX (it imports torch: not here)
        if images.is_file():
            items.append({"name": f"{LUCIC}/{run.name}", "files": [
                *run_files(run.path, f"{LUCIC}/{run.name}"), (images, f"{SAMPLES}/{images.name}")]})
    for run in progresses(runs / TOY):
        if run.trained and (run.path / "metrics.jsonl").is_file():
            items.append({"name": f"{TOY}/{run.name}", "files": run_files(run.path, f"{TOY}/{run.name}")})
    for suite in (LUCIC, TOY):
        results = [path for path in (runs / suite).glob("*") if path.is_file()] + [
            path for path in (runs / suite / "leaderboard").glob("*") if path.is_file()]
        if results:
            items.append({"name": f"{suite}/results", "files": [
                (path, f"{suite}/{path.relative_to(runs / suite).as_posix()}") for path in results]})
    return items


def fill(items: list[Item], work: Path) -> list[list[Item]]:
    """Items into at most 8 - 3 volumes of at most 16 MiB, 64 MiB in all with the logs, first fit in
    order; an item that fits nowhere is left out (and named in the manifest). Each item is compressed alone
    in a scratch folder under ``work`` to learn its size."""
    room = carry.RETURN_TOTAL - 2 * carry.MIB  # the logs and the manifest
    limit = carry.RETURN_FILE - VOLUME_SLACK
    slots = carry.RETURN_FILES - len(FIXED_FILES)
    volumes: list[list[Item]] = []
    sizes: list[int] = []
    with tempfile.TemporaryDirectory(dir=work) as scratch:
        for item in items:
            size = write_volume(Path(scratch) / "item.tar.gz", [item])
            if size > limit or sum(sizes) + size > room:
                continue
            fit = next((n for n, used in enumerate(sizes) if used + size <= limit), None)
            if fit is None and len(volumes) < slots:
                volumes.append([])
                sizes.append(0)
                fit = len(volumes) - 1
            if fit is not None:
                volumes[fit].append(item)
                sizes[fit] += size
    return volumes


def write_volume(path: Path, items: list[Item]) -> int:
    with tarfile.open(path, "w:gz", compresslevel=6) as volume:
        for item in items:
            for source, name in item["files"]:
                volume.add(source, arcname=name, recursive=False)
    return path.stat().st_size


def run_files(run: Path, prefix: str) -> list[tuple[Path, str]]:
    """A run folder's files but its checkpoints (and TensorBoard events)."""
    return [(path, f"{prefix}/{path.relative_to(run).as_posix()}") for path in sorted(carry.folder_files(run))
            if path.relative_to(run).parts[0] not in LEFT_BEHIND and not path.name.endswith(".partial")]


def tail(path: Path, limit: int) -> str:
    """The last ``limit`` characters of a log: device.log must stay small beside the volumes."""
    text = path.read_text(errors="replace")
    return text if len(text) <= limit else f"[... {len(text) - limit} characters left out]\n" + text[-limit:]
