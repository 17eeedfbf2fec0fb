"""The run directory: what a run writes, and how a run is found again.

    <run>/config.json                   resolved config, written before training
    <run>/provenance.json               plugin distributions and versions
    <run>/stats.jsonl                   training losses, one JSON object per line
    <run>/metrics.jsonl                 evaluation records with their protocol
    <run>/samples/step-NNNNNNN.png      samples at intervals
    <run>/checkpoints/last.safetensors  the latest checkpoint
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ganzoo.config import RunConfig
from ganzoo.errors import RunDirError

CONFIG = "config.json"
PROVENANCE = "provenance.json"
STATS = "stats.jsonl"
METRICS = "metrics.jsonl"
LAST_CHECKPOINT = Path("checkpoints") / "last.safetensors"
# Keys that may change when a run is resumed: they do not change what is trained.
RESUMABLE_KEYS = {"steps", "device", "out_dir", "log_every", "sample_every", "eval_every", "checkpoint_every"}


def append_jsonl(path: Path, record: dict[str, Any]) -> None:
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(record, sort_keys=True) + "\n")


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def truncate_jsonl(path: Path, last_step: int) -> None:
    """Drop records past ``last_step``: training after the last checkpoint is redone on resume."""
    if path.is_file():
        kept = [r for r in read_jsonl(path) if r.get("step", 0) <= last_step]
        path.write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in kept), encoding="utf-8")


def check_resumable(run_dir: Path, config: RunConfig) -> bool:
    """True if ``run_dir`` holds this run already; raises if it holds a different one."""
    stored_path = run_dir / CONFIG
    if not stored_path.is_file():
        return False
    try:
        stored = json.loads(stored_path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise RunDirError(f"{stored_path} is damaged ({exc}); move that run directory aside") from None
    wanted = config.model_dump(mode="json")
    differ = sorted(k for k in set(stored) | set(wanted) if k not in RESUMABLE_KEYS and stored.get(k) != wanted.get(k))
    if differ:
        raise RunDirError(f"{run_dir} holds a different run (its config differs in: {', '.join(differ)}); "
                          "choose another out_dir or delete that directory")
    return True


def find_checkpoint(path: Path) -> Path:
    """A checkpoint file, or the last checkpoint of a run directory."""
    if path.is_dir():
        candidate = path / LAST_CHECKPOINT
        if not candidate.is_file():
            raise RunDirError(f"{path} has no checkpoint ({LAST_CHECKPOINT}); is it a ganzoo run directory?")
        return candidate
    if not path.exists():
        raise RunDirError(f"no such run directory or checkpoint: {path}")
    return path


def run_dir_of(checkpoint: Path) -> Path | None:
    """The run directory a checkpoint file lives in, if it lives in one."""
    candidate = checkpoint.parent.parent
    return candidate if (candidate / CONFIG).is_file() else None
