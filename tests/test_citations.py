"""``ganzoo cite``: BibTeX that parses strictly, compiles with pdflatex and BibTeX without losing text after a ``%``,
cites each paper once from the plugins' structured references, and says the budget as run."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import unicodedata
from pathlib import Path

import bibtexparser
import pytest
from pydantic import ValidationError

from conftest import mini_suite, write_toml
from ganzoo import GanSpec, ObjectiveSpec, Reference, hookimpl
from ganzoo.api.version import incompatibility
from ganzoo.bench.run import BenchRequest, run_bench
from ganzoo.bench.table import ResultEntry, find_entry
from ganzoo.cli import main
from ganzoo.leaderboard.cite import cite, tex
from ganzoo.registry.discovery import Zoo
from ganzoo.registry.registry import Source
from ganzoo.run import rundir
from ganzoo.run.config import read_toml

ROOT = Path(__file__).resolve().parents[1]
FIRST_PARTY = {"ganzoo-core"} | {f"ganzoo-{p.name}" for p in (ROOT / "plugins").iterdir()
                                 if (p / "pyproject.toml").is_file()}
# The suite's own entry: the same paper the pacgan plugin references, under the suite author's key
PACGAN_BIBTEX = """@inproceedings{lin2018pacgan,
  title = {{PacGAN}: The power of two samples in generative adversarial networks},
  author = {Lin, Zinan and Khetan, Ashish and Fanti, Giulia and Oh, Sewoong},
  booktitle = {Advances in Neural Information Processing Systems},
  volume = {31},
  year = {2018}
}"""
RUNS = ("gan-nonsaturating-ring8-seed0", "wgan-wgan-ring8-seed0", "pacgan-nonsaturating-ring8-seed1")
CHANGED = {"steps": 12, "seeds": None, "set": {"optimizer_g.lr": 0.001, "metrics.num_generated": 600}}
IDENTIFIERS = {"url", "doi", "eprint", "archiveprefix"}  # read verbatim by \url and \doi, never escaped


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> Path:
    """A real results folder, its budget changed on the command line (12 steps instead of 10)."""
    folder = tmp_path_factory.mktemp("cite")
    suite = mini_suite(name="mini_cite", follows="Lin et al. 2018, PacGAN", bibtex=PACGAN_BIBTEX,
                       entries=[{"gan": "gan"}, {"gan": "wgan"}, {"gan": "pacgan"}])
    suite["budgets"]["paper"] = {"steps": 400, "seeds": 5, "comparable": True, "description": "the paper's"}
    suite["columns"].append({"key": "high_quality_pct", "label": "high-quality %", "better": "higher",
                             "format": ".1f"})
    write_toml(folder / "suite.toml", suite)
    return run_bench(Zoo(), BenchRequest(suite=str(folder / "suite.toml"), out=folder / "out", device="cpu",
                                         steps=12, progress=False))


@pytest.fixture(scope="module")
def changed(results, tmp_path_factory) -> Path:
    """The same records with the command line's changes recorded, as 'ganzoo bench' writes them now."""
    folder = tmp_path_factory.mktemp("changed") / "out"
    shutil.copytree(results, folder)
    records = rundir.read_jsonl(folder / "results.jsonl")
    for record in records:
        record["overrides"] = CHANGED
        record["run_dir"] = str(folder / Path(record["run_dir"]).name)
    (folder / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    return folder


def cited(run: Path, capsys) -> str:
    assert main(["cite", str(run)]) == 0
    return capsys.readouterr().out


def field_text(value: str) -> str:
    return value[1:-1] if value.startswith("{") and value.endswith("}") else value


def raw_specials(value: str) -> str:
    """The characters of a field's TeX that would act as TeX syntax rather than print: escapes and commands
    (``\\%``, ``\\textbraceleft{}``, ``\\ensuremath{\\pm}``) removed, what is left must hold none."""
    text = re.sub(r"\\ensuremath\{[^{}]*\}", "", value)
    text = re.sub(r"\\[a-zA-Z]+|\\[^a-zA-Z]", "", text)
    return "".join(sorted(set(text) & set("%&$#_~^\\")))


def balanced(value: str) -> bool:
    depth = 0
    for char in value:
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0


def test_cite_output_parses_strictly_with_each_paper_once(results, changed, capsys):
    for folder in (results, changed):
        for run in RUNS:
            out = cited(folder / run, capsys)
            library = bibtexparser.parse_string(out)
            assert not library.failed_blocks, [block.error for block in library.failed_blocks]
            keys = [entry.key for entry in library.entries]
            assert len(keys) == len(set(keys)) and out.isascii()
            titles = [re.sub(r"[^a-z0-9]", "", field_text(e.fields_dict["title"].value).lower())
                      for e in library.entries if "title" in e.fields_dict]
            assert len(titles) == len(set(titles)), titles  # each paper once, whoever cites it
            for entry in library.entries:
                for field in entry.fields:
                    value = field_text(field.value)
                    assert balanced(value), (entry.key, field.key, value)
                    if field.key.lower() not in IDENTIFIERS:
                        assert not raw_specials(value), (entry.key, field.key, value)
            if run.startswith("pacgan"):  # the suite's own entry stands for the plugin's reference of that paper
                assert "lin2018pacgan" in keys and "lin2018pacganb" not in keys
                assert PACGAN_BIBTEX in out  # as the suite wrote it, not escaped again
            else:  # the GAN, objective and algorithm papers, not three @misc notes
                assert not any(key.startswith(("gan:", "objective:", "algorithm:")) for key in keys)
                assert "goodfellow2014generative" in keys  # the alternating algorithm's, and gan's
                assert ("arjovsky2017wasserstein" in keys) == run.startswith("wgan-")


def test_the_result_says_its_budget_as_run(results, changed, capsys):
    out = cited(results / RUNS[0], capsys)
    assert "quick budget changed on the command line (12 steps instead of 10)" in out
    assert r"95 \% interval" in out and r"high-quality \%" in out and "NOT comparable" in out
    out = cited(changed / RUNS[0], capsys)
    assert (r"quick budget changed on the command line (12 steps instead of 10; metrics.num\_generated = 600; "
            r"optimizer\_g.lr = 0.001)") in out
    entry = find_entry(changed / RUNS[0])
    unchanged = [{**r, "overrides": {"steps": None, "seeds": None, "set": {}}, "steps": 10} for r in entry.row.records]
    entry.row.records[:] = unchanged
    assert "quick budget (10 steps, 2 seeds)}" in cite(ResultEntry(entry.suite, entry.row, unchanged[0], entry.folder),
                                                       Zoo())


def plain(value: str) -> str:
    """Letters and digits of a TeX field or of extracted PDF text, for comparing what was meant with what shows."""
    text = re.sub(r"\\ensuremath\{[^{}]*\}|\\[a-zA-Z]+|\\", "", value)
    return re.sub(r"[^a-z0-9]", "", unicodedata.normalize("NFKD", text).lower())


@pytest.mark.skipif(not all(shutil.which(tool) for tool in ("pdflatex", "bibtex")),
                    reason="needs pdflatex and bibtex (tests/install-debian-data.sh installs them)")
def test_cite_output_compiles_and_shows_every_word(changed, tmp_path, capsys):
    """pdflatex with BibTeX's unsrt style, which prints notes: no warning, and the result's title and note appear
    whole in the PDF (an unescaped % would drop the rest of its line: '95 % interval' would lose 'interval')."""
    document = "\\documentclass{article}\n\\begin{document}\n\\nocite{*}\n\\bibliographystyle{unsrt}\n" \
               "\\bibliography{cite}\n\\end{document}\n"
    for run in RUNS[2:]:  # the richest: the suite's own entry beside the plugins' references
        folder = tmp_path / run
        folder.mkdir()
        out = cited(changed / run, capsys)
        (folder / "cite.bib").write_text(out)
        (folder / "paper.tex").write_text(document)
        for command in (["pdflatex"], ["bibtex"], ["pdflatex"], ["pdflatex"]):
            args = ["-interaction=nonstopmode", "-halt-on-error", "paper"] if command == ["pdflatex"] else ["paper"]
            done = subprocess.run(command + args, cwd=folder, capture_output=True, text=True, timeout=120)
            assert done.returncode == 0, done.stdout[-2000:]
        assert "Warning" not in (folder / "paper.blg").read_text()
        log = (folder / "paper.log").read_text(errors="replace")
        assert "Warning" not in log and "Missing character" not in log
        # the PDF's text; without pdftotext, what BibTeX handed LaTeX (then only BibTeX's part is checked)
        shown = (subprocess.run(["pdftotext", "paper.pdf", "-"], cwd=folder, capture_output=True, text=True,
                                check=True).stdout if shutil.which("pdftotext") else (folder / "paper.bbl").read_text())
        result = bibtexparser.parse_string(out).entries[0]
        for name in ("title", "note"):
            assert plain(field_text(result.fields_dict[name].value)) in plain(shown), name
        assert "interval" in shown and "NOT comparable with published figures" in " ".join(shown.split())


def test_every_first_party_spec_gives_a_structured_reference():
    zoo = Zoo()
    checked = 0
    for kind in ("gans", "objectives", "algorithms", "augmentations"):
        registry = zoo.registry(kind)
        for name in registry.names():
            if registry.source(name).distribution not in FIRST_PARTY:
                continue
            references = registry.get(name).references
            assert references, f"{kind} {name} has no reference"
            assert all(r.authors and r.title and r.year and (r.arxiv or r.doi or r.url) for r in references)
            checked += 1
    assert checked >= 40


def test_a_plugin_without_references_gets_a_titled_misc_with_its_words(results):
    class OldPlugin:
        ganzoo_plugin_api = "2.1"  # written before references: still loads

        @hookimpl
        def register_gans(self, register):
            register(GanSpec(name="gan", build=lambda *a: None, default_objective="nonsaturating",
                             citation="Someone & Other 2020, A_GAN at 100 % {really}"))

        @hookimpl
        def register_objectives(self, register):
            register(ObjectiveSpec(name="nonsaturating", build=lambda o: None,
                                   citation="Someone & Other 2020, A_GAN at 100 % {really}"))

    assert incompatibility(OldPlugin.ganzoo_plugin_api, "0.2.6") is None
    zoo = Zoo(autoload=False, plugins=[(OldPlugin(), Source("old", "ganzoo-old", "1.0"))])
    out = cite(find_entry(results / RUNS[0]), zoo)
    library = bibtexparser.parse_string(out)
    assert not library.failed_blocks
    misc = [e for e in library.entries if e.key == "gan:gan"]
    assert len(misc) == 1 and "objective:nonsaturating" not in [e.key for e in library.entries]  # same words: once
    assert field_text(misc[0].fields_dict["title"].value) == "What the GAN gan of ganzoo-old rests on"
    assert r"Someone \& Other 2020, A\_GAN at 100 \% \textbraceleft{}really\textbraceright{}" in out


def test_references_are_validated():
    good = {"authors": ("Goodfellow, Ian",), "title": "Generative Adversarial Nets", "venue": "NeurIPS", "year": 2014}
    assert Reference(**good, arxiv="1406.2661").arxiv == "1406.2661"
    for bad in ({"authors": ("Ian Goodfellow",)}, {"authors": ()}, {"authors": ("Smith, A and Jones, B",)},
                {"venue": None}, {"year": 14}, {"arxiv": "arXiv:1406.2661"}, {"doi": "doi.org/10.1/x"},
                {"url": "www.example.org"}, {"title": "two\nlines"}, {"publisher": "x"}):
        with pytest.raises(ValidationError):
            Reference(**{**good, **bad})
    assert Reference(kind="misc", authors=("Lim, Jae Hyun",), title="Geometric GAN", year=2017).venue is None
    with pytest.raises(TypeError, match="references must be a tuple of ganzoo.Reference"):
        GanSpec(name="x", build=lambda *a: None, default_objective="y", citation="-", references=("Goodfellow",))


def test_tex_escapes_every_special_character():
    assert tex("95 % & $5 #1 a_b {x} ~ ^ \\") == (r"95 \% \& \$5 \#1 a\_b \textbraceleft{}x\textbraceright{} "
                                                  r"\textasciitilde{} \textasciicircum{} \textbackslash{}")
    assert tex("Krähenbühl ± 0.1") == r'Kr{\"{a}}henb{\"{u}}hl \ensuremath{\pm} 0.1'


def test_the_shipped_suites_bibtex_is_one_valid_entry_each():
    files = [*(ROOT / "benchmarks" / "suites").glob("*.toml"), *ROOT.glob("plugins/*/ganzoo_*/suites/*.toml")]
    with_bibtex = 0
    for path in sorted(files):
        bibtex = read_toml(path).get("bibtex")
        if bibtex is None:
            continue
        library = bibtexparser.parse_string(bibtex)
        assert not library.failed_blocks and len(library.entries) == 1, path.name
        entry = library.entries[0]
        assert {"author", "title", "year"} <= set(entry.fields_dict), path.name
        assert ("booktitle" if entry.entry_type == "inproceedings" else "journal") in entry.fields_dict, path.name
        assert all(balanced(field.value) and not raw_specials(field.value) for field in entry.fields), path.name
        with_bibtex += 1
    assert with_bibtex >= 6
