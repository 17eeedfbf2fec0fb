"""What travels to the lent GPU machine and what comes back, checked against the device tool's limits.

Standard library only: the session driver imports it before anything is installed on the GPU machine.

    python benchmarks/device/carry.py size      # bytes of the working tree plus .whl/, against the 64 MiB limit
    python benchmarks/device/carry.py digest [ROOT]  # SHA-256 of the sources ganzoo's wheels are built from
    python benchmarks/device/carry.py check DIR # the files under DIR against the limits on what comes back
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from pathlib import Path

MIB = 1 << 20
CARRY_LIMIT = 64 * MIB  # the working tree and the carried folders together
RETURN_FILES = 8
RETURN_FILE = 16 * MIB
RETURN_TOTAL = 64 * MIB
RETURN_DEPTH = 2  # folders below $OUT
COMMAND_LIMIT = 2000  # characters of the one bash command a call runs
NAME = re.compile(r"[A-Za-z0-9._-]+\Z")
ROOT = Path(__file__).resolve().parents[2]
CARRIED = (".whl",)


def tree_files(root: Path = ROOT) -> list[Path]:
    """The files a call sends: tracked, and untracked but not ignored (as git lists them), that exist."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=root,
                            check=True, capture_output=True).stdout
    files = [root / name for name in listed.decode().split("\0") if name]
    return [path for path in files if path.is_file() and not path.is_symlink()]


def folder_files(folder: Path) -> list[Path]:
    return [Path(top) / name for top, _, names in os.walk(folder) for name in names
            if not (Path(top) / name).is_symlink()]


def carried_size(root: Path = ROOT, carried: tuple[str, ...] = CARRIED) -> int:
    """Bytes a call moves to the machine: the working tree plus each carried folder (which replaces the tree's)."""
    inside = [root / path for path in carried]
    tree = [path for path in tree_files(root) if not any(path.is_relative_to(folder) for folder in inside)]
    extra = [path for folder in inside if folder.is_dir() for path in folder_files(folder)]
    return sum(path.stat().st_size for path in tree + extra)


def wheel_sources(root: Path = ROOT) -> list[Path]:
    """The files the ganzoo wheels are built from (code and suites, not docs), found by walking the folders, so
    that the GPU machine, which has no git, lists the same files."""
    found = [root / "pyproject.toml", *sorted((root / "plugins").glob("*/pyproject.toml"))]
    folders = [root / "ganzoo", root / "benchmarks" / "suites",
               *sorted(path for path in (root / "plugins").glob("*/ganzoo_*") if path.is_dir())]
    for folder in folders:
        found += [path for path in folder_files(folder)
                  if "__pycache__" not in path.parts and path.suffix not in (".pyc", ".pyo")]
    return sorted(path for path in found if path.is_file())


def sources_digest(root: Path = ROOT) -> str:
    """SHA-256 of every wheel source's path and content: equal digests, wheels built from the same code."""
    digest = hashlib.sha256()
    for path in wheel_sources(root):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def output_problems(out: Path) -> list[str]:
    """What breaks the limits on the files that come back from $OUT (empty: nothing)."""
    files = sorted(folder_files(out))
    problems = []
    if len(files) > RETURN_FILES:
        problems.append(f"{len(files)} files, more than {RETURN_FILES}")
    total = sum(path.stat().st_size for path in files)
    if total > RETURN_TOTAL:
        problems.append(f"{total / MIB:.1f} MiB in all, more than {RETURN_TOTAL // MIB} MiB")
    for path in files:
        relative = path.relative_to(out)
        if path.stat().st_size > RETURN_FILE:
            problems.append(f"{relative}: {path.stat().st_size / MIB:.1f} MiB, more than {RETURN_FILE // MIB} MiB")
        if len(relative.parts) - 1 > RETURN_DEPTH:
            problems.append(f"{relative}: more than {RETURN_DEPTH} folders down")
        bad = [part for part in relative.parts if not NAME.match(part)]
        if bad:
            problems.append(f"{relative}: '{bad[0]}' has characters other than letters, digits, '.', '_', '-'")
    return problems


def main(argv: list[str]) -> int:
    if argv[:1] == ["size"]:
        size = carried_size()
        print(f"carried: {size / MIB:.1f} MiB of {CARRY_LIMIT // MIB} MiB (working tree and {', '.join(CARRIED)})")
        return 0 if size <= CARRY_LIMIT else 1
    if argv[:1] == ["digest"] and len(argv) <= 2:
        print(sources_digest(Path(argv[1]) if len(argv) == 2 else ROOT))
        return 0
    if argv[:1] == ["check"] and len(argv) == 2:
        problems = output_problems(Path(argv[1]))
        for problem in problems:
            print(f"carry.py: {problem}", file=sys.stderr)
        return 1 if problems else 0
    print("usage: carry.py size | digest [ROOT] | check DIR", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
