"""The leaderboard: JSON, CSV, Markdown and the static page (rendered in headless Chromium), with provenance."""

from __future__ import annotations

import csv
import html
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
from ganzoo.bench.records import read_results
from ganzoo.bench.run import BenchRequest, run_bench
from ganzoo.bench.seeds import over_seeds
from ganzoo.bench.table import summarize, text_table
from ganzoo.cli import main
from ganzoo.errors import GanzooError
from ganzoo.leaderboard.page import HEADER_COLOUR
from ganzoo.leaderboard.write import write_leaderboard
from ganzoo.registry.discovery import Zoo
from ganzoo.run import rundir

QUOTED = {"entry": "gan", "dataset": "ring8", "source": "Somebody et al. 2099, Table 9",
          "pm_means": "standard deviation over 5 runs", "values": {"modes": {"mean": 7.5, "pm": 0.5}}}


def bench(request: BenchRequest) -> Path:
    """What 'ganzoo bench' does: the suite's runs and records, then the folder's leaderboard."""
    out = run_bench(Zoo(), request)
    write_leaderboard([out], out / "leaderboard")
    return out


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("bench")
    suite = mini_suite(published=[QUOTED], bibtex="@article{somebody2099, year = {2099}}")
    suite["budgets"]["paper"] = {"steps": 400, "seeds": 5, "comparable": True, "description": "the paper's"}
    write_toml(folder / "mini.toml", suite)
    bench(BenchRequest(suite=str(folder / "mini.toml"), out=folder / "out", device="cpu", progress=False))
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
    # two tables of one suite, budget and data set: each says which results folder it shows
    markdown = (tmp_path / "board" / "leaderboard.md").read_text()
    headings = [line for line in markdown.splitlines() if line.startswith("## ")]
    assert len(headings) == len(set(headings)) == 2
    assert headings[0].endswith(f"results in {results}") and headings[1].endswith(f"results in {other}")
    page = (tmp_path / "board" / "index.html").read_text()
    assert [h.endswith(f"results in {folder}</h3>") for h, folder in
            zip(re.findall(r"<h3>.*?</h3>", page), (results, other))] == [True, True]
    lines = list(csv.DictReader(io.StringIO((tmp_path / "board" / "leaderboard.csv").read_text())))
    assert [line["results"] for line in lines] == [str(results)] * 2 + [str(other)] * 2  # a row and a quoted row each


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
    assert (f"modes {modes['mean']:.1f} \\ensuremath{{\\pm}} {modes['sd']:.1f} (95 \\% interval "
            f"{modes['ci95'][0]:.1f}") in out
    assert "over 2 training seeds (0 diverged), 10 steps each" in out and "NOT comparable" in out
    assert "@misc{ganzoo," in out and "@article{somebody2099, year = {2099}}" in out
    assert "Goodfellow" in out  # the GAN's and the objective's papers, from their plugins


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


def edited_copy(results: Path, folder: Path, edit) -> Path:
    """A copy of the results folder whose records ``edit`` changed (it is handed the list and may replace it)."""
    shutil.copytree(results, folder)
    records = rundir.read_jsonl(folder / "results.jsonl")
    records = edit(records) or records
    (folder / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    return folder


def two_rows(records: list) -> list:
    """The records of another entry, 'other', with 10 more modes, ahead of gan's: a table of two rows out of order."""
    other = [{**r, "entry": "other", "metrics": {**r["metrics"], "modes": r["metrics"]["modes"] + 10}}
             for r in records]
    return other + records


PROBE = """<script>
window.addEventListener("load", function () {
  var found = [];
  document.querySelectorAll("table.board").forEach(function (table) {
    var th = Array.from(table.tHead.rows[0].cells).find(function (c) { return c.textContent.startsWith("modes"); });
    var orders = [];
    for (var i = 0; i < 2; i++) {
      th.click();
      orders.push(Array.from(table.tBodies[0].rows).map(function (r) {
        return (r.classList.contains("quoted") ? "quoted " : "") + r.cells[1].textContent; }));
    }
    found.push(orders);
  });
  var pre = document.createElement("pre");
  pre.id = "probe";
  pre.textContent = JSON.stringify({orders: found, errors: window.probeErrors});
  document.body.appendChild(pre);
});
</script>"""


@pytest.mark.skipif(shutil.which("chromium") is None, reason="needs Debian's chromium (tests/install-debian-data.sh)")
def test_clicking_a_header_sorts_every_table_of_the_page_not_only_the_first(results, tmp_path):
    folders = [edited_copy(results, tmp_path / name, two_rows) for name in ("a", "b")]
    page = write_leaderboard(folders, tmp_path / "board")
    catch = "<script>window.probeErrors = []; window.addEventListener('error', function (e) { " \
            "window.probeErrors.push(e.message); });</script>"
    probed = tmp_path / "board" / "probed.html"
    probed.write_text(page.read_text().replace("<head>", "<head>" + catch, 1).replace("</body>", PROBE + "</body>"))
    with tempfile.TemporaryDirectory() as profile:
        done = subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                               f"--user-data-dir={profile}", "--disable-dev-shm-usage", "--virtual-time-budget=5000",
                               "--timeout=20000", "--dump-dom", probed.as_uri()],
                              capture_output=True, text=True, timeout=120, check=False)
    found = re.search(r'<pre id="probe">(.*?)</pre>', done.stdout, flags=re.S)
    assert found, f"chromium ran no probe: {done.stderr[-500:]}"
    probe = json.loads(html.unescape(found.group(1)))
    assert probe["errors"] == []
    board = json.loads((tmp_path / "board" / "leaderboard.json").read_text())
    assert len(probe["orders"]) == len(board["tables"]) == 2
    for table, (first, second) in zip(board["tables"], probe["orders"]):
        by_modes = [row["entry"] for row in sorted(table["rows"], key=lambda row: row["values"]["modes"]["mean"])]
        assert by_modes == ["gan", "other"] != [row["entry"] for row in table["rows"]]
        # ascending, then descending; gan's quoted row stays under gan
        assert first == ["gan", "quoted gan", "other"] and second == ["other", "gan", "quoted gan"]


def test_a_cell_over_fewer_seeds_than_its_row_says_how_many(results, tmp_path):
    def no_mode_in_seed0(records):
        records[0]["metrics"]["reverse_kl"] = None  # as toy_metrics records a run with no high-quality sample
        records[1]["metrics"]["reverse_kl"] = 0.5
    folder = edited_copy(results, tmp_path / "fewer", no_mode_in_seed0)
    page = write_leaderboard([folder], tmp_path / "board").read_text()
    board = json.loads((tmp_path / "board" / "leaderboard.json").read_text())
    (row,) = board["tables"][0]["rows"]
    assert row["seeds"] == 2 and row["values"]["reverse_kl"]["count"] == 1 and row["values"]["modes"]["count"] == 2
    (ours, _) = csv.DictReader(io.StringIO((tmp_path / "board" / "leaderboard.csv").read_text()))
    assert (ours["reverse_kl_seeds"], ours["modes_seeds"], ours["seeds"]) == ("1", "2", "2")
    markdown = (tmp_path / "board" / "leaderboard.md").read_text()
    line = next(line for line in markdown.splitlines() if line.startswith("| gan | nonsaturating"))
    kl, modes = f"{row['values']['reverse_kl']['mean']:.3f} (1 of 2 seeds)", f"{row['values']['modes']['mean']:.1f}"
    assert kl in line and kl in page and "(2 of 2 seeds)" not in line and f"| {modes} ± " in line
    suite, records = read_results(folder)
    table = text_table(suite, "quick", summarize(suite, records))
    assert kl in table and table.count("of 2 seeds") == 1


def test_intervals_are_clipped_to_a_columns_range_and_the_tables_say_it(results, tmp_path):
    def far_apart(records):  # 0 and 8 of ring8's 8 modes: Student's t with one degree of freedom reaches far past both
        for record, modes in zip(records, (0, 8)):
            record["metrics"].update(modes=modes, num_modes=8)
    folder = edited_copy(results, tmp_path / "clipped", far_apart)
    stored = json.loads((folder / "suite.json").read_text())
    stored["columns"][0].update(range=[0, None], high_from="num_modes")
    stored["columns"][1].update(range=[0, None])
    (folder / "suite.json").write_text(json.dumps(stored))
    unclipped = over_seeds([0.0, 8.0], higher_is_better=True)
    assert unclipped is not None and unclipped.interval is not None and unclipped.interval[0] < -40
    page = write_leaderboard([folder], tmp_path / "board").read_text()
    (table,) = json.loads((tmp_path / "board" / "leaderboard.json").read_text())["tables"]
    modes = table["rows"][0]["values"]["modes"]
    assert modes["ci95"] == [0.0, 8.0] and modes["mean"] == 4.0 and table["rows"][0]["bounds"]["modes"] == [0.0, 8.0]
    assert table["column_info"]["modes"]["bounds_text"] == "0 to 8"
    assert table["column_info"]["reverse_kl"]["bounds_text"] == ">= 0"
    markdown = (tmp_path / "board" / "leaderboard.md").read_text()
    assert "| modes (0 to 8) | reverse KL (>= 0) |" in markdown and "4.0 ± 5.7 [0.0, 8.0] best 8.0" in markdown
    assert "modes (0 to 8)<br>" in page and "reverse KL (&gt;= 0)<br>" in page
    (ours, _) = csv.DictReader(io.StringIO((tmp_path / "board" / "leaderboard.csv").read_text()))
    assert (ours["modes_ci95_low"], ours["modes_ci95_high"], ours["modes_range_high"]) == ("0.0", "8.0", "8.0")
    suite, records = read_results(folder)
    assert "modes (0 to 8)" in text_table(suite, "quick", summarize(suite, records))


def test_each_column_says_where_its_figure_comes_from(results, tmp_path):
    """A figure of the last training log is not measured with the evaluation's protocol, and must not say it is."""
    folder = edited_copy(results, tmp_path / "stat", lambda records: None)
    stored = json.loads((folder / "suite.json").read_text())
    stored["columns"].append({"key": "divergence", "label": "D estimate", "better": "neither", "stat": True})
    (folder / "suite.json").write_text(json.dumps(stored))
    page = write_leaderboard([folder], tmp_path / "board").read_text()
    (table,) = json.loads((tmp_path / "board" / "leaderboard.json").read_text())["tables"]
    records = rundir.read_jsonl(folder / "results.jsonl")
    step, every = records[0]["last_stats"]["step"], records[0]["config"]["log_every"]
    assert step == 10 and every == 5
    info = table["column_info"]
    assert info["divergence"]["source"].startswith("the training log's last interval: the mean over steps 6 to 10")
    assert "2,500 generated" in info["modes"]["source"] and "generated" not in info["divergence"]["source"]
    heads = {label: title for title, label in re.findall(r"<th title='([^']*)'>([^<]*)<br>", page)}
    assert "2,500 generated" in heads["modes"] and "training log" in heads["D estimate"]
    assert "generated" not in heads["D estimate"]
    assert re.search(r"<th title='[^']*'>D estimate<br><small>training log, steps 6-10</small>", page)
    markdown = (tmp_path / "board" / "leaderboard.md").read_text()
    assert "D estimate: the training log's last interval: the mean over steps 6 to 10" in markdown


def two_budget_suite(folder: Path, **changes) -> str:
    """A mini suite with a comparable 'paper' budget of 3 seeds, written to ``folder``; returns its path."""
    suite = mini_suite(**changes)
    suite["budgets"]["paper"] = {"steps": 10, "seeds": 3, "comparable": True, "description": "the paper's"}
    return str(write_toml(folder / "mini.toml", suite))


def test_fewer_seeds_than_the_budget_stay_comparable_and_the_tables_say_of_how_many(tmp_path, capsys):
    path = two_budget_suite(tmp_path)
    fewer = BenchRequest(suite=path, budget="paper", seeds=1, out=tmp_path / "fewer", device="cpu", progress=False,
                         overrides=("log_every=2",))  # where a run logs changes no protocol
    bench(fewer)
    printed = capsys.readouterr().out
    (record,) = rundir.read_jsonl(tmp_path / "fewer" / "results.jsonl")
    assert record["comparable"] is True
    assert record["overrides"] == {"steps": None, "seeds": 1, "set": {"log_every": 2}}
    assert re.search(r"gan +nonsaturating +ring8 +10 +1 of 3 .* --seeds 1, --set log_every=2\n", printed)
    markdown = (tmp_path / "fewer" / "leaderboard" / "leaderboard.md").read_text()
    assert "| gan | nonsaturating | 10 | 1 of 3 | " in markdown and "| --seeds 1, --set log_every=2 |" in markdown
    (line,) = csv.DictReader(io.StringIO((tmp_path / "fewer" / "leaderboard" / "leaderboard.csv").read_text()))
    assert (line["steps"], line["seeds"], line["budget_seeds"], line["changed"], line["comparable"]) == (
        "10", "1", "3", "--seeds 1, --set log_every=2", "True")
    # other steps change the protocol: not comparable, and said so
    bench(BenchRequest(suite=path, budget="paper", seeds=1, steps=4, out=tmp_path / "steps",
           device="cpu", progress=False))
    (record,) = rundir.read_jsonl(tmp_path / "steps" / "results.jsonl")
    assert record["comparable"] is False and record["overrides"] == {"steps": 4, "seeds": 1, "set": {}}
    (table,) = json.loads((tmp_path / "steps" / "leaderboard" / "leaderboard.json").read_text())["tables"]
    assert table["rows"][0]["changed"] == "--steps 4, --seeds 1" and table["rows"][0]["steps"] == [4]


def test_a_filtered_rerun_adds_to_the_folders_results(tmp_path, capsys):
    path = two_budget_suite(tmp_path, entries=[{"gan": "wgan"}, {"gan": "gan"}])
    out = tmp_path / "out"
    for entries in ("gan", "wgan", "gan"):  # the last one recollects gan's runs, which replace their records
        bench(BenchRequest(suite=path, out=out, device="cpu", progress=False, entries=entries))
    printed = capsys.readouterr().out
    assert "4 runs of 10 steps (2 of them from earlier commands on this folder)" in printed
    records = rundir.read_jsonl(out / "results.jsonl")
    assert [(r["entry"], r["seed"]) for r in records] == [("wgan", 0), ("wgan", 1), ("gan", 0), ("gan", 1)]
    (table,) = json.loads((out / "leaderboard" / "leaderboard.json").read_text())["tables"]
    assert [row["entry"] for row in table["rows"]] == ["wgan", "gan"]
    # a run folder moved away takes its record with it
    shutil.move(str(out / "wgan-wgan-ring8-seed1"), str(tmp_path / "moved"))
    bench(BenchRequest(suite=path, out=out, device="cpu", progress=False, entries="gan"))
    assert [(r["entry"], r["seed"]) for r in rundir.read_jsonl(out / "results.jsonl")] == [
        ("wgan", 0), ("gan", 0), ("gan", 1)]


@pytest.mark.parametrize(("change", "message"), [
    ({"name": "other"}, r"holds results of suite 'mini', not 'other'; give the suite another --out"),
    ({"run": {"batch_size": 32, "log_every": 5, "checkpoint_every": 5, "sample_every": 0}},
     r"holds results of another version of suite 'mini' \(it differs in run\); give the "
     r"suite another --out, or move suite.json and results.jsonl out of that folder"),
])
def test_a_folder_of_another_suite_is_refused_in_one_line(results, tmp_path, change, message):
    suite = mini_suite(published=[QUOTED], bibtex="@article{somebody2099, year = {2099}}", **change)
    suite["budgets"]["paper"] = {"steps": 400, "seeds": 5, "comparable": True, "description": "the paper's"}
    write_toml(tmp_path / "mini.toml", suite)
    with pytest.raises(GanzooError, match=message) as refused:
        bench(BenchRequest(suite=str(tmp_path / "mini.toml"), out=results, device="cpu", progress=False))
    assert "\n" not in str(refused.value)


def test_a_suite_version_that_changes_only_how_figures_are_shown_keeps_the_folders_results(results, tmp_path):
    """A new title, a column's bounds or another quoted row change no figure: the folder's runs are reused."""
    folder = tmp_path / "kept"
    shutil.copytree(results, folder)
    suite = mini_suite(published=[], bibtex="@article{somebody2099, year = {2099}}", title="Renamed")
    suite["columns"][0]["range"] = [0, 8]
    suite["budgets"]["paper"] = {"steps": 400, "seeds": 5, "comparable": True, "description": "the paper's"}
    write_toml(tmp_path / "mini.toml", suite)
    bench(BenchRequest(suite=str(tmp_path / "mini.toml"), out=folder, device="cpu", progress=False))
    assert len(rundir.read_jsonl(folder / "results.jsonl")) == 2
    assert json.loads((folder / "suite.json").read_text())["title"] == "Renamed"
