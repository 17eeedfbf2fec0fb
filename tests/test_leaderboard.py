"""The leaderboard: JSON, CSV, Markdown and the static page (rendered in headless Chromium), with provenance."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import matplotlib.image
import numpy as np
import pytest

from conftest import mini_suite, write_toml
from ganzoo.bench.run import BenchRequest, run_bench
from ganzoo.cli import main
from ganzoo.leaderboard.page import HEADER_COLOUR
from ganzoo.leaderboard.write import write_leaderboard
from ganzoo.registry.discovery import Zoo
from ganzoo.training import rundir

QUOTED = {"entry": "gan", "dataset": "ring8", "source": "Somebody et al. 2099, Table 9",
          "pm_means": "standard deviation over 5 runs", "values": {"modes": {"mean": 7.5, "pm": 0.5}}}


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("bench")
    suite = mini_suite(published=[QUOTED], bibtex="@article{somebody2099, year = {2099}}")
    suite["budgets"]["paper"] = {"steps": 400, "seeds": 5, "comparable": True, "description": "the paper's"}
    write_toml(folder / "mini.toml", suite)
    run_bench(Zoo(), BenchRequest(suite=str(folder / "mini.toml"), out=folder / "out", device="cpu", progress=False))
    return folder / "out"


def test_the_json_record_holds_every_seed_and_full_provenance(results):
    board = json.loads((results / "leaderboard" / "leaderboard.json").read_text())
    (table,) = board["tables"]
    assert (table["suite"], table["budget"], table["dataset"], table["conditional"]) == ("mini", "quick", "ring8", False)
    assert table["protocol"]["num_generated"] == 2500 and table["protocol"]["sampling_seed"] == 12345
    (row,) = table["rows"]
    records = rundir.read_jsonl(results / "results.jsonl")
    assert row["per_seed"]["modes"] == [float(r["metrics"]["modes"]) for r in records]
    assert row["values"]["modes"]["mean"] == pytest.approx(np.mean(row["per_seed"]["modes"]))
    run = row["runs"][0]
    assert re.fullmatch(r"[0-9a-f]{64}", run["config_sha256"]) and run["config"]["gan"] == "gan"
    provenance = run["provenance"]
    assert re.fullmatch(r"[0-9a-f]{64}", provenance["data_sha256"])
    assert {"ganzoo", "torch", "cuda", "device", "device_name", "torch_threads", "gan", "metric"} <= set(provenance)
    assert provenance["gan"]["distribution"] == "ganzoo-gan" and run["steps"] == 10 and run["wall_seconds"] > 0
    assert table["published"] == [{key: value for key, value in QUOTED.items() if key != "dataset"}]
    # the same data and the same settings hash alike; another seed is another config
    assert len({r["provenance"]["data_sha256"] for r in records}) == 1
    assert len({r["config_sha256"] for r in records}) == 2


def test_csv_and_markdown_carry_the_figures_and_mark_the_quoted_row(results):
    rows = list(csv.DictReader(io.StringIO((results / "leaderboard" / "leaderboard.csv").read_text())))
    ours, quoted = rows
    assert ours["entry"] == "gan" and ours["quoted_from"] == "" and ours["seeds"] == "2"
    assert float(ours["modes_mean"]) == pytest.approx(json.loads((results / "leaderboard" / "leaderboard.json")
                                                               .read_text())["tables"][0]["rows"][0]["values"]["modes"]["mean"])
    assert quoted["quoted_from"].startswith("Somebody et al. 2099, Table 9") and quoted["modes_mean"] == "7.5"
    markdown = (results / "leaderboard" / "leaderboard.md").read_text()
    assert "| *gan, quoted: Somebody et al. 2099, Table 9* |" in markdown and "*7.5 ± 0.5*" in markdown
    assert "Protocol (toy-modes):" in markdown and "](figures/01-mini-quick-ring8.png)" in markdown


def test_the_page_needs_no_network_and_embeds_its_pictures(results):
    page = (results / "leaderboard" / "index.html").read_text()
    assert not re.search(r"""(src|href)\s*=\s*['"]?(https?:)?//""", page)  # nothing fetched from elsewhere
    assert page.count("data:image/png;base64,") == 2  # the thumbnail and the per-seed figure
    assert "quoted: Somebody et al. 2099, Table 9" in page and "Not comparable with published figures" in page


def test_leaderboard_command_combines_results_folders(results, tmp_path, capsys):
    other = tmp_path / "copy"
    shutil.copytree(results, other)
    assert main(["leaderboard", str(results), str(other), "--out", str(tmp_path / "board")]) == 0
    assert f"leaderboard written to {tmp_path / 'board' / 'index.html'}" in capsys.readouterr().out
    board = json.loads((tmp_path / "board" / "leaderboard.json").read_text())
    assert [t["results"] for t in board["tables"]] == [str(results), str(other)]


def screenshot(page: Path, png: Path) -> np.ndarray:
    """Chromium's headless screenshot of ``page`` as RGB floats; it exits 0 even when it wrote nothing."""
    png.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
                        "--no-default-browser-check", f"--user-data-dir={profile}", "--disable-dev-shm-usage",
                        "--window-size=1200,900", "--force-device-scale-factor=1", "--virtual-time-budget=2000",
                        "--timeout=10000", f"--screenshot={png}", page.as_uri()],
                       capture_output=True, timeout=120, check=False)
    assert png.is_file() and png.stat().st_size > 0, "chromium wrote no screenshot"
    return matplotlib.image.imread(png)[..., :3]


@pytest.mark.skipif(shutil.which("chromium") is None, reason="needs Debian's chromium (tests/install-debian-data.sh)")
def test_chromium_shows_the_table_not_only_parses_the_page(results, tmp_path):
    pixels = screenshot(results / "leaderboard" / "index.html", tmp_path / "shot.png")
    header = np.array([int(HEADER_COLOUR[i:i + 2], 16) / 255 for i in (1, 3, 5)])
    band = np.abs(pixels - header).max(axis=2) < 0.02
    rows = np.flatnonzero(band.sum(axis=1) > 400)  # the table's header: a band of its colour 400+ pixels wide
    assert len(rows) > 20, "no table header in the screenshot"
    below = pixels[rows.max() + 5:rows.max() + 80, :800]
    assert (below.max(axis=2) < 0.3).sum() > 200  # dark text in the rows under the header
    # with the tables taken out, the same page shows no such band: it was the table that drew it
    bare = tmp_path / "bare.html"
    bare.write_text(re.sub(r"<table.*?</table>", "", (results / "leaderboard" / "index.html").read_text(), flags=re.S))
    empty = np.abs(screenshot(bare, tmp_path / "bare.png") - header).max(axis=2) < 0.02
    assert (empty.sum(axis=1) > 400).sum() == 0


def test_a_leaderboard_of_nothing_is_refused(tmp_path):
    with pytest.raises(Exception, match="is not a suite's results folder"):
        write_leaderboard([tmp_path], tmp_path / "board")


def test_cite_prints_the_result_ganzoo_and_the_papers_it_rests_on(results, capsys):
    assert main(["cite", str(results / "gan-nonsaturating-ring8-seed1")]) == 0
    out = capsys.readouterr().out
    board = json.loads((results / "leaderboard" / "leaderboard.json").read_text())
    modes = board["tables"][0]["rows"][0]["values"]["modes"]
    assert "@misc{ganzoo:mini:quick:gan:nonsaturating:ring8," in out
    assert f"modes {modes['mean']:.1f} ± {modes['sd']:.1f} (95 % interval {modes['ci95'][0]:.1f}" in out
    assert "over 2 training seeds (0 diverged), 10 steps each" in out and "NOT comparable" in out
    assert "@software{ganzoo," in out and "@article{somebody2099, year = {2099}}" in out
    assert "Goodfellow" in out  # the GAN's and the objective's papers, from their plugins


def test_reproduce_reruns_a_record_and_says_whether_it_falls_inside(results, tmp_path, capsys):
    run = results / "gan-nonsaturating-ring8-seed0"
    assert main(["reproduce", str(run), "--out", str(tmp_path / "again")]) == 0
    out = capsys.readouterr().out
    assert "modes: " in out and "over 2 seeds: inside (seed 0 gave" in out and "the same)" in out
    # a record whose seeds all lie far above what the rerun gives: the new figure falls outside
    moved = tmp_path / "moved"
    shutil.copytree(results, moved)
    records = rundir.read_jsonl(moved / "results.jsonl")
    for shift, record in enumerate(records):
        record["metrics"]["modes"] += 50 + shift
    (moved / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    assert main(["reproduce", str(moved / run.name), "--out", str(tmp_path / "again")]) == 1
    assert "over 2 seeds: OUTSIDE" in capsys.readouterr().out


@pytest.mark.parametrize("command", ["cite", "reproduce"])
def test_an_entry_outside_a_results_folder_is_one_line(tmp_path, capsys, command):
    assert main([command, str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err
    assert "is not a run of a suite's results folder" in err and err.count("\n") == 1


def test_conditional_and_unconditional_tables_stand_apart(results, tmp_path):
    """Records of one suite with and without class conditioning: two tables, under their own headings."""
    folder = tmp_path / "both"
    shutil.copytree(results, folder)
    records = rundir.read_jsonl(folder / "results.jsonl")
    records[1]["conditional"] = True
    (folder / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    page = write_leaderboard([folder], tmp_path / "board").read_text()
    board = json.loads((tmp_path / "board" / "leaderboard.json").read_text())
    assert [t["conditional"] for t in board["tables"]] == [False, True]
    assert [len(t["rows"][0]["runs"]) for t in board["tables"]] == [1, 1]
    unconditional, conditional = page.index("<h2>Unconditional generation"), page.index("<h2>Class-conditional")
    assert unconditional < page.index("(unconditional, not comparable") < conditional
    assert page.index("(class-conditional, not comparable") > conditional
