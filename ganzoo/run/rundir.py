"""The run directory: what a run writes, and how a run is found again.

    <run>/config.json                   resolved config, written before training
    <run>/provenance.json               plugin distributions and versions
    <run>/stats.jsonl                   training losses, one JSON object per line
    <run>/metrics.jsonl                 evaluation records with their protocol
    <run>/samples/step-NNNNNNN.png      samples at intervals
    <run>/checkpoints/last.safetensors  the latest checkpoint
    <run>/checkpoints/best.safetensors  image runs: the checkpoint of lowest FID so far
    <run>/diverged.json                 written if a logged loss stopped being finite
    <run>/curves.png                    the training curves, drawn from the logs (ganzoo.curves)
    <run>/tensorboard/                  TensorBoard event files, with [logging] tensorboard = true
"""

from __future__ import annotations

import json
import os
import shutil
import warnings
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ganzoo.errors import CheckpointError, DamagedRecordWarning, RunDirError, TrainingDiverged
from ganzoo.run.config import RunConfig, fields_where
from ganzoo.utils import replace_durably

try:
    import fcntl
except ImportError:  # pragma: no cover (Windows)
    fcntl = None  # type: ignore[assignment]

CONFIG = "config.json"
DIVERGED = "diverged.json"
PROVENANCE = "provenance.json"
STATS = "stats.jsonl"
METRICS = "metrics.jsonl"
LAST_CHECKPOINT = Path("checkpoints") / "last.safetensors"
BEST_CHECKPOINT = Path("checkpoints") / "best.safetensors"
# Keys that may change when a run is resumed: they do not change what is trained (declared on RunConfig's fields)
RESUMABLE_KEYS = fields_where(resumable=True)
# Everything a run writes, by the first part of its path: what a run that fails before its first checkpoint removes.
CURVES = "curves.png"
TENSORBOARD = "tensorboard"
RUN_FILES = (CONFIG, PROVENANCE, STATS, METRICS, DIVERGED, CURVES, TENSORBOARD, "checkpoints", "samples")


def picture_path(run_dir: Path, step: int) -> Path:
    """Where a run keeps its picture of the samples at ``step``."""
    return run_dir / "samples" / f"step-{step:07d}.png"


def append_jsonl(path: Path, *records: dict[str, Any]) -> None:
    """Append one line per record, in one write; after a last line a crash cut short, on a line of their own, so
    the records stay readable."""
    line = "".join(json.dumps(record, sort_keys=True) + "\n" for record in records)
    with path.open("a+b") as handle:  # appends go to the end wherever the handle was read
        size = handle.seek(0, os.SEEK_END)
        if size:
            handle.seek(size - 1)
            if handle.read(1) != b"\n":
                line = "\n" + line
        handle.write(line.encode("utf-8"))


MAX_DAMAGE_WARNINGS = 5  # per file read: a file of garbage would otherwise print a warning per line


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """The records of a JSON-lines file. A damaged line (one a crash cut short, binary garbage, anything but an
    object with a non-negative integer "step") is skipped with a :class:`DamagedRecordWarning`: the rest of the
    run's history is still worth reading."""
    if not path.is_file():
        return []
    records, damaged = [], 0
    for number, raw in enumerate(path.read_bytes().split(b"\n"), start=1):
        if not raw.strip():
            continue
        problem, record = _parse_record(raw)
        if problem is None:
            records.append(record)
            continue
        damaged += 1
        if damaged <= MAX_DAMAGE_WARNINGS:
            warnings.warn(f"{path}, line {number}: damaged record skipped ({problem})", DamagedRecordWarning,
                          stacklevel=2)
    if damaged > MAX_DAMAGE_WARNINGS:
        warnings.warn(f"{path}: {damaged - MAX_DAMAGE_WARNINGS} more damaged records skipped", DamagedRecordWarning,
                      stacklevel=2)
    return records


def _parse_record(raw: bytes) -> tuple[str | None, Any]:
    """``(None, record)`` for a good line, else ``(what is wrong, None)``."""
    try:
        record = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        return "not UTF-8 text", None
    except (ValueError, RecursionError):
        return "not JSON", None
    if not isinstance(record, dict):
        return "not a JSON object", None
    step = record.get("step", 0)
    if isinstance(step, bool) or not isinstance(step, int) or step < 0:
        return f"step {repr(step)[:40]} is not a non-negative integer", None
    return None, record


def truncate_jsonl(path: Path, last_step: int) -> None:
    """Drop records past ``last_step``: training after the last checkpoint is redone on resume."""
    if path.is_file():
        kept = [r for r in read_jsonl(path) if r.get("step", 0) <= last_step]
        path.write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in kept), encoding="utf-8")


def read_json_object(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise RunDirError(f"{path} is damaged ({exc}); move that run directory aside") from None
    if not isinstance(value, dict):
        raise RunDirError(f"{path} is damaged (not a JSON object); move that run directory aside")
    return value


def resumable_keys(config: RunConfig) -> set[str]:
    """The keys a resumed run may change; not ``steps`` under a learning-rate decay, whose schedule hangs on it."""
    return set(RESUMABLE_KEYS) - ({"steps"} if config.lr_decay != "none" else set())


def config_differences(stored: dict[str, Any], config: RunConfig) -> list[str]:
    """Keys, other than the resumable ones, on which a stored config and ``config`` disagree."""
    wanted, free = config.model_dump(mode="json"), resumable_keys(config)
    try:  # a config stored before a key was added lacks it: compare it with that key's default filled in
        stored = RunConfig.model_validate(stored).model_dump(mode="json")
    except ValueError:
        pass  # not a config this version reads: compared as stored, key by key
    return sorted(k for k in set(stored) | set(wanted) if k not in free and stored.get(k) != wanted.get(k))


def check_run_dir(run_dir: Path, config: RunConfig, resume: bool) -> Path | None:
    """Whether ``config`` may train in ``run_dir`` (a folder this process has locked): the checkpoint to resume
    from, None to start afresh.

    Never lets a run overwrite another run, or its own history.
    """
    entries = sorted(path.name for path in run_dir.iterdir())  # a folder: RunLock made or refused it
    if not entries:
        return None
    if not (run_dir / CONFIG).is_file():  # so nothing of the user's is overwritten
        shown = ", ".join(entries[:4]) + (", ..." if len(entries) > 4 else "")
        raise RunDirError(f"out_dir {run_dir} is not empty ({shown}) and holds no ganzoo run (no {CONFIG}); "
                          "set out_dir to a new or empty directory")
    differ = config_differences(read_json_object(run_dir / CONFIG), config)
    if differ and (run_dir / DIVERGED).is_file() and not (run_dir / LAST_CHECKPOINT).exists():
        step = read_json_object(run_dir / DIVERGED).get("step", "?")
        raise RunDirError(f"{run_dir} holds a run with other settings that diverged at step {step}, before its first "
                          f"checkpoint: nothing there can be resumed, so delete that folder or set out_dir to a new "
                          "directory")
    if differ:
        raise RunDirError(f"{run_dir} holds a different run (its config differs in: {', '.join(differ)}); "
                          f"a resumed run may change only {', '.join(sorted(resumable_keys(config)))}")
    if (run_dir / DIVERGED).is_file():
        step = read_json_object(run_dir / DIVERGED).get("step", 0)
        raise TrainingDiverged(f"{run_dir} diverged at step {step} (see {DIVERGED}); the same settings diverge "
                               "again, so change them and train in a new out_dir", step)
    if not resume:
        raise RunDirError(f"{run_dir} already holds this run; pass --resume to continue it, "
                          "or set out_dir to a new directory")
    checkpoint = run_dir / LAST_CHECKPOINT
    if checkpoint.exists():
        return checkpoint
    logged = [r.get("step", 0) for name in (STATS, METRICS) for r in read_jsonl(run_dir / name)]
    if any(logged):
        raise RunDirError(f"{run_dir} has logs up to step {max(logged)} but no checkpoint ({LAST_CHECKPOINT}); "
                          "move it aside to train again")
    return None


class RunLock:
    """An exclusive lock on a run directory (``flock`` on the folder itself, released when the process ends,
    however it ends), so that two processes never train one run: ``ganzoo train`` refuses a run in use, a
    benchmark waits for it and then reuses it. Makes the folder (and its parents) if missing."""

    def __init__(self, run_dir: Path, *, wait: bool):
        if run_dir.exists() and not run_dir.is_dir():
            raise RunDirError(f"out_dir {run_dir} is a file, not a directory")
        self.created_dirs = [path for path in (run_dir, *run_dir.parents) if not path.exists()]  # deepest first
        self.release: Callable[[], Any] = lambda: None
        while True:
            run_dir.mkdir(parents=True, exist_ok=True)
            if fcntl is None:  # no flock (Windows): runs are not guarded against each other
                return
            fd = os.open(run_dir, os.O_RDONLY)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
                if os.path.samestat(os.fstat(fd), os.stat(run_dir)):
                    self.release = weakref.finalize(self, os.close, fd)  # at the latest when the lock is dropped
                    return
            except FileNotFoundError:
                pass  # the folder was removed (and maybe made again) while we waited: lock the one there now
            except BlockingIOError:
                os.close(fd)
                raise RunDirError(f"{run_dir} is in use by another ganzoo process; wait for it to finish, or set "
                                  "out_dir to another directory") from None
            except BaseException:  # Ctrl-C while waiting
                os.close(fd)
                raise
            os.close(fd)


class Claim:
    """What a new run writes into its directory, so that a run failing before its first checkpoint takes it back
    out and the corrected rerun starts in the same out_dir. What was there before is left as it was."""

    def __init__(self, run_dir: Path, created_dirs: list[Path]):
        self.run_dir = run_dir
        self.created_dirs = created_dirs  # the folders the run made, deepest first
        self.before = set(run_dir.rglob("*")) if run_dir.is_dir() else set()

    def withdraw(self) -> None:
        """Remove what the run wrote, unless it got as far as a checkpoint."""
        if (self.run_dir / LAST_CHECKPOINT).exists() or not self.run_dir.is_dir():
            return
        written = [path for path in self.run_dir.rglob("*") if path not in self.before
                   and path.relative_to(self.run_dir).parts[0] in RUN_FILES]
        for path in sorted(written, key=lambda p: len(p.parts), reverse=True):  # files before their folders
            try:
                path.rmdir() if path.is_dir() and not path.is_symlink() else path.unlink()
            except OSError:
                pass  # a folder the user put something in meanwhile stays
        for directory in self.created_dirs:
            try:
                directory.rmdir()
            except OSError:
                break


def fids(run_dir: Path, protocol: dict[str, Any]) -> list[float]:
    """The FIDs training's own evaluations logged under ``protocol`` (its checkpoint step aside): FIDs from other
    sample counts, references or weights do not compare, and a later `ganzoo eval` does not count."""
    def same(other: Any) -> bool:
        return isinstance(other, dict) and {**other, "checkpoint_step": None} == {**protocol, "checkpoint_step": None}

    return [r["metrics"]["fid"] for r in read_jsonl(run_dir / METRICS)
            if "source" not in r and same(r.get("protocol")) and isinstance(r.get("metrics"), dict)
            and r["metrics"].get("fid") is not None]


def keep_as_best(run_dir: Path) -> None:
    """Copy the last checkpoint to the best one, atomically."""
    partial = run_dir / BEST_CHECKPOINT.with_name(BEST_CHECKPOINT.name + ".partial")
    try:
        shutil.copyfile(run_dir / LAST_CHECKPOINT, partial)
        replace_durably(partial, run_dir / BEST_CHECKPOINT)
    except OSError as exc:  # a full disk: the best checkpoint so far stays as it was
        partial.unlink(missing_ok=True)
        raise CheckpointError(f"could not write {run_dir / BEST_CHECKPOINT} ({exc.strerror or exc}); the previous "
                              "best checkpoint is kept: make room and continue the run with --resume") from None


def mark_diverged(run_dir: Path, step: int, keys: list[str]) -> None:
    (run_dir / DIVERGED).write_text(json.dumps({"step": step, "not_finite": keys}) + "\n", encoding="utf-8")


def find_checkpoint(path: Path) -> Path:
    """A checkpoint file, or the last checkpoint of a run directory."""
    if path.is_dir():
        candidate = path / LAST_CHECKPOINT
        if not candidate.exists():
            raise RunDirError(f"{path} has no checkpoint ({LAST_CHECKPOINT}); is it a ganzoo run directory?")
        return candidate
    if not path.exists():
        raise RunDirError(f"no such run directory or checkpoint: {path}")
    return path


def run_dir_of(checkpoint: Path) -> Path | None:
    """The run directory a checkpoint file lives in, if it lives in one."""
    candidate = checkpoint.parent.parent
    return candidate if (candidate / CONFIG).is_file() else None
