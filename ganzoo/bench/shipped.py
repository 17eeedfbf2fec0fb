"""Where the core's own suites are: ``benchmarks/suites/`` in a source checkout, installed beside this module as
``ganzoo/bench/suites/`` (pyproject.toml maps the folder into the wheel)."""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent
CANDIDATES = (HERE / "suites", HERE.parents[1] / "benchmarks" / "suites")


def shipped_folder() -> Path | None:
    return next((folder for folder in CANDIDATES if folder.is_dir()), None)


def shipped_suites() -> list[tuple[str, Path]]:
    """(name, file) of each shipped suite: a suite's name is its file's stem (the file's own ``name`` must agree)."""
    folder = shipped_folder()
    return [] if folder is None else [(path.stem, path) for path in sorted(folder.glob("*.toml"))]
