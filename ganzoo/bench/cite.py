"""``ganzoo cite`` and ``ganzoo reproduce``: an entry of a suite's results, named by one of its run folders, as
BibTeX beside the papers it rests on, or run again from its record alone and set against the recorded figures."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ganzoo
from ganzoo.bench.records import read_results
from ganzoo.bench.seeds import OverSeeds
from ganzoo.bench.suite import Suite
from ganzoo.bench.table import Row, summarize
from ganzoo.errors import GanzooError
from ganzoo.leaderboard.board import protocol_text, shared_protocol
from ganzoo.registry.discovery import Zoo

DISTRIBUTION = "ganzoo-core"


@dataclass(frozen=True)
class ResultEntry:
    """A row of a suite's results (one entry, objective and data set over its seeds) and the run asked for."""

    suite: Suite
    row: Row
    record: dict[str, Any]
    folder: Path


def find_entry(run: Path) -> ResultEntry:
    """The row a run folder belongs to; the folder's parent is the suite's results folder."""
    folder = run.parent
    if not (folder / "results.jsonl").is_file():
        raise GanzooError(f"{run} is not a run of a suite's results folder (its parent has no results.jsonl): "
                          f"name one of the run folders 'ganzoo bench' wrote, e.g. {folder}/<entry>-...-seed0")
    suite, records = read_results(folder)
    record = next((r for r in records if Path(r["run_dir"]).name == run.name), None)
    if record is None:
        raise GanzooError(f"{folder}/results.jsonl has no record of run '{run.name}' (runs: "
                          f"{', '.join(Path(r['run_dir']).name for r in records[:5])}...)")
    row = next(row for row in summarize(suite, records) if record in row.records)
    return ResultEntry(suite, row, record, folder)


def _key(*parts: str) -> str:
    return ":".join(re.sub(r"[^A-Za-z0-9_-]+", "-", part) for part in parts)


def _figure(value: OverSeeds | None, fmt: str) -> str:
    if value is None:
        return "n/a"
    text = format(value.mean, fmt)
    if value.sd is not None and value.interval is not None:
        text += f" ± {value.sd:{fmt}} (95 % interval {value.interval[0]:{fmt}} to {value.interval[1]:{fmt}})"
    return text


def cite(entry: ResultEntry, zoo: Zoo) -> str:
    """BibTeX: the result, ganzoo itself, the paper whose protocol the suite follows, and the plugins' papers."""
    suite, row, record = entry.suite, entry.row, entry.record
    figures = "; ".join(f"{c.label} {_figure(row.values[c.key], c.format)}" for c in suite.columns)
    protocol = protocol_text(shared_protocol(row.records))
    year = time.strftime("%Y")
    incomparable = not record["comparable"] and bool(suite.follows or suite.published)
    versions = record["provenance"].get("ganzoo", ganzoo.__version__)
    blocks = [
        f"@misc{{{_key('ganzoo', suite.name, record['budget'], row.entry, row.objective, row.dataset)},\n"
        f"  title = {{{row.entry} ({row.gan} with {row.objective}) on {row.dataset}: the {suite.name} suite of "
        f"ganzoo, {record['budget']} budget}},\n"
        f"  author = {{{{ganzoo contributors}}}},\n"
        f"  howpublished = {{{DISTRIBUTION} {versions} on the Python package index}},\n"
        f"  note = {{{figures}; over {len(row.records)} training seeds ({row.diverged} diverged), "
        f"{record['steps']:,} steps each; {suite.metric} protocol: {protocol}; suite sha256 "
        f"{record['suite_sha256'][:16]}, config sha256 {record['config_sha256'][:16]} (seed {record['seed']})"
        f"{'; NOT comparable with published figures' if incomparable else ''}}},\n"
        f"  year = {{{year}}}\n}}",
        f"@software{{ganzoo,\n  title = {{ganzoo: a plugin-based GAN zoo}},\n  author = {{{{ganzoo contributors}}}},"
        f"\n  version = {{{versions}}},\n  note = {{the {DISTRIBUTION} distribution; CITATION.cff in its "
        f"repository}},\n  year = {{{year}}}\n}}",
    ]
    if suite.bibtex:
        blocks.append(suite.bibtex.strip())
    for role in ("gan", "objective"):
        name = record["provenance"].get(role, {}).get("name")
        registry = zoo.gans if role == "gan" else zoo.objectives
        if name in registry:
            blocks.append(f"@misc{{{_key(role, name)},\n  note = {{{registry.get(name).citation}}}\n}}")
    return "\n\n".join(blocks)
