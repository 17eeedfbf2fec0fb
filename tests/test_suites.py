"""Suites as data: the shipped files, strict validation, the plugin hook, the matrix and ``ganzoo bench --list``."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from conftest import mini_suite, write_toml
from ganzoo.bench.matrix import default_out, find_suite, plan_jobs
from ganzoo.bench.shipped import shipped_suites
from ganzoo.bench.suite import load_suite_file
from ganzoo.cli import main
from ganzoo.errors import ConfigError, GanzooError, UnknownNameError
from ganzoo.registry.discovery import get_zoo

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]


def test_every_shipped_suite_is_valid_and_named_after_its_file():
    shipped = dict(shipped_suites())
    assert {"toy", "toy-pacgan"} <= set(shipped)
    for name in shipped:
        suite = find_suite(name, get_zoo())
        assert suite.name == name and "quick" in suite.budgets and not suite.budgets["quick"].comparable


def test_the_wheel_lists_every_package_of_ganzoo():
    """pyproject lists packages (so that benchmarks/suites installs inside ganzoo): a new package must be listed."""
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "ganzoo").rglob("__init__.py")}
    assert found | {"ganzoo.bench.suites"} == listed


@pytest.mark.parametrize(("change", "message"), [
    ({"budgets": {"paper": {"steps": 1, "seeds": 1, "comparable": True, "description": "x"}}}, "needs a 'quick' budget"),
    ({"budgets": {"quick": {"steps": 1, "seeds": 1, "comparable": True, "description": "x"}}},
     "budgets.quick.comparable must be false"),
    ({"follows": "Someone 2020"}, "follows a paper, so it needs a 'paper' budget"),
    ({"entries": [{"gan": "gan", "run": {"steps": 5}}]}, "sets steps, which the suite sets for each run"),
    ({"run": {"seed": 3}}, "sets seed, which the suite sets"),
    ({"entries": [{"gan": "g*", "label": "G"}]}, "gan = 'g*' is a pattern; drop the label"),
    ({"entries": [{"gan": "gan"}, {"gan": "gan"}]}, "entries named twice: gan"),
    ({"entries": [{"gan": "gan", "label": "a b"}]}, "must be letters, digits, '-' or '_'"),
    ({"columns": [{"key": "modes", "label": "m", "better": "up"}]}, "columns.0.better: Input should be 'higher'"),
    ({"columns": [{"key": "modes", "label": "m", "better": "higher", "format": "zz"}]}, "must be a Python format spec"),
    ({"published": [{"entry": "gan", "dataset": "ring8", "source": "x", "pm_means": "sd", "values": {}}]},
     "published row for 'gan' names budget 'paper', not one of the suite's (quick)"),
    ({"published": [{"entry": "wgan", "dataset": "ring8", "source": "x", "pm_means": "sd", "values": {}}]},
     "published row names entry 'wgan', which is not one of gan"),
    ({"published": [{"entry": "gan", "dataset": "ring8", "source": "x", "pm_means": "sd", "budget": "quick",
                     "values": {"fid": {"mean": 1.0}}}]}, "has values for fid, which are not column keys"),
    ({"colums": []}, "unknown key 'colums' (did you mean 'columns'?)"),
    ({"columns": [{"key": "modes", "label": "m", "better": "higher", "range": [5, 1]}]},
     "range [5, 1] must have its low end below its high end"),
    ({"columns": [{"key": "modes", "label": "m", "better": "higher", "range": [5]}]}, "columns.0.range: too few values"),
    ({"name": "a/b"}, "name: Value error, must be at most 64 letters"),
])
def test_a_malformed_suite_is_refused_in_one_line(tmp_path, change, message):
    path = tmp_path / "mini.toml"
    write_toml(path, mini_suite(**change))
    with pytest.raises(ConfigError) as caught:
        load_suite_file(path)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_the_matrix_is_entries_times_data_sets_times_seeds(tmp_path):
    path = tmp_path / "mini.toml"
    write_toml(path, mini_suite(datasets=["ring8", "grid25"], entries=[
        {"gan": "gan"}, {"gan": "pacgan", "label": "Pac2", "run": {"gan_options": {"pack": 2}, "batch_size": 8}}]))
    suite = load_suite_file(path)
    jobs = plan_jobs(suite, "quick", get_zoo(), out=tmp_path / "out")
    assert [(j.label, j.dataset, j.seed) for j in jobs] == [
        ("gan", "ring8", 0), ("gan", "ring8", 1), ("gan", "grid25", 0), ("gan", "grid25", 1),
        ("Pac2", "ring8", 0), ("Pac2", "ring8", 1), ("Pac2", "grid25", 0), ("Pac2", "grid25", 1)]
    pac = jobs[-1].config
    assert pac.gan_options == {"pack": 2} and pac.batch_size == 8 and pac.steps == 10 and pac.log_every == 5
    assert jobs[0].config.batch_size == 16  # the suite's table, where the entry sets nothing
    assert jobs[-1].run_dir == tmp_path / "out" / "Pac2-nonsaturating-grid25-seed1"
    narrowed = plan_jobs(suite, "quick", get_zoo(), out=tmp_path, gans="pac*", seeds=1, steps=3)
    assert [(j.label, j.config.steps) for j in narrowed] == [("Pac2", 3), ("Pac2", 3)]
    assert {j.label for j in plan_jobs(suite, "quick", get_zoo(), out=tmp_path, entries="Pac*")} == {"Pac2"}
    with pytest.raises(GanzooError, match=r"no run with --gans '\*' and --entries 'X\*' \(its GANs: gan, pacgan; its "
                                          r"entries: gan, Pac2; its objectives: nonsaturating\)"):
        plan_jobs(suite, "quick", get_zoo(), out=tmp_path, entries="X*")
    assert default_out(suite, "quick", None) == Path("runs/bench/mini/quick")
    assert default_out(suite, "quick", 3) == Path("runs/bench/mini/quick-steps3")  # never continues a budget's runs


def test_a_pattern_entry_leaves_out_gans_that_do_not_fit_the_data(tmp_path, capsys):
    suite = find_suite("toy", get_zoo())
    jobs = plan_jobs(suite, "quick", get_zoo(), out=tmp_path, gans="*gan")
    gans = {j.gan for j in jobs}
    assert {"gan", "wgan", "pacgan"} <= gans and "dcgan" not in gans
    assert re.search(r"not on ring8 \(no network for its shape \(2,\)\): .*dcgan", capsys.readouterr().out)


def test_a_suite_naming_an_uninstalled_gan_gets_close_matches(tmp_path):
    path = tmp_path / "mini.toml"
    write_toml(path, mini_suite(entries=[{"gan": "wgna"}]))
    with pytest.raises(UnknownNameError, match="unknown GAN 'wgna'; did you mean 'wgan'"):
        plan_jobs(load_suite_file(path), "quick", get_zoo(), out=tmp_path)


PLUGIN_SUITES = '''
from pathlib import Path
from ganzoo import SuiteSpec, hookimpl
ganzoo_plugin_api = "2.1"
HERE = Path(__file__).parent

@hookimpl
def register_suites(register):
    register(SuiteSpec("mini", HERE / "mini.toml"))
    register(SuiteSpec("misnamed", HERE / "mini.toml"))
    register(SuiteSpec("broken", HERE / "broken.toml"))
'''


def test_a_plugin_contributes_suites_and_list_shows_budgets_costs_and_broken_files(make_distribution, capsys):
    site = make_distribution("ganzoo-suites", "1.0", "ganzoo_suites", PLUGIN_SUITES)
    suite = mini_suite()
    suite["budgets"]["quick"]["minutes_per_run"] = 1.5
    write_toml(site / "mini.toml", suite)
    (site / "broken.toml").write_text('name = "broken"\ntitle = [\n')
    zoo = get_zoo()
    assert zoo.suites.source("mini").distribution == "ganzoo-suites"
    assert find_suite("mini", zoo).title == "Mini"
    with pytest.raises(ConfigError, match="registered as suite 'misnamed' .* but its file says name = 'mini'"):
        find_suite("misnamed", zoo)
    assert main(["bench", "--list"]) == 0
    out = capsys.readouterr().out
    assert "mini: Mini, from ganzoo-suites 1.0" in out
    assert "--budget quick: 2 runs of 10 steps (2 seeds), no published figures to compare; about 3 min" in out
    assert re.search(r"broken +\(from .*ganzoo-suites.*\): broken: .*malformed TOML", out)
    assert re.search(r"toy-pacgan: PacGAN Table 1.*\n.*--budget paper: 80 runs of 400,000 steps \(10 seeds\), the "
                     r"published protocol", out)
    assert "toy: Toy 2D mode coverage" in out and "--budget quick: up to " in out
    # its entry '*' takes in every installed GAN, a third party's too, and the listing says so
    toy = out[out.index("toy: Toy 2D"):out.index("toy-pacgan:")]
    assert (f"entry '*': every installed GAN it matches, so installing a GAN plugin adds it here (those that do not "
            f"take the suite's data are left out): now {len(zoo.gans.names())}, from ganzoo-ali, ") in toy


def test_budgets_set_steps_per_entry_and_published_rows_per_budget(tmp_path):
    path = tmp_path / "mini.toml"
    write_toml(path, mini_suite(
        entries=[{"gan": "gan"}, {"gan": "wgan", "label": "W", "run": {"d_steps": 5}}],
        budgets={"quick": {"steps": 10, "entry_steps": {"W": 2}, "seeds": 1, "comparable": False,
                           "description": "x"},
                 "other": {"steps": 20, "seeds": 1, "comparable": True, "description": "y"}},
        published=[{"entry": "W", "dataset": "ring8", "source": "S1", "pm_means": "sd", "budget": "other",
                    "values": {"modes": {"mean": 1.0}}}]))
    suite = load_suite_file(path)
    jobs = plan_jobs(suite, "quick", get_zoo(), out=tmp_path)
    assert [(j.label, j.config.steps, j.config.eval_every) for j in jobs] == [("gan", 10, 10), ("W", 2, 2)]
    from ganzoo.bench.table import published_for
    assert [p[0] for p in published_for(suite, "other", "W", "ring8")] == ["S1"]
    assert published_for(suite, "quick", "W", "ring8") == []  # measured under 'other', not the paper's
    write_toml(path, {**mini_suite(), "budgets": {"quick": {"steps": 1, "seeds": 1, "comparable": False,
                                                            "description": "x", "entry_steps": {"nobody": 3}}}})
    with pytest.raises(ConfigError, match="budgets.quick.entry_steps names nobody, not entries of the suite"):
        load_suite_file(path)


def test_a_finished_run_of_other_settings_is_refused_not_reported(tmp_path, capsys):
    from ganzoo.bench.run import BenchRequest, run_bench
    from ganzoo.errors import RunDirError

    suite = mini_suite(budgets={"quick": {"steps": 4, "seeds": 1, "comparable": False, "description": "4 steps"}})
    write_toml(tmp_path / "mini.toml", suite)
    request = BenchRequest(suite=str(tmp_path / "mini.toml"), out=tmp_path / "out", device="cpu", progress=False)
    assert run_bench(get_zoo(), request) == tmp_path / "out"
    suite["run"]["batch_size"] = 32  # the suite file changed since its runs finished
    write_toml(tmp_path / "mini.toml", suite)
    with pytest.raises(GanzooError, match=r"holds results of another version of suite 'mini' \(it differs in run\)"):
        run_bench(get_zoo(), request)
    for name in ("suite.json", "results.jsonl"):  # as the refusal says; the run folder itself is still checked
        (tmp_path / "out" / name).unlink()
    with pytest.raises(RunDirError, match=r"holds a finished run with other settings \(batch_size\) than suite "
                                          r"'mini' asks now; give the suite another --out"):
        run_bench(get_zoo(), request)


def test_a_plugin_using_the_suites_hook_declares_api_2_1(make_distribution):
    make_distribution("ganzoo-old", "1.0", "ganzoo_old", PLUGIN_SUITES.replace('"2.1"', '"2.0"'))
    with pytest.warns(UserWarning, match=r"implements register_suites, a hook of plugin API 2.1, but declares "
                                         r'ganzoo_plugin_api = "2.0"; declare "2.1"'):
        zoo = get_zoo()
    assert "mini" not in zoo.suites and "toy" in zoo.suites


def test_list_counts_a_single_run_in_the_singular(tmp_path, capsys, make_distribution):
    site = make_distribution("ganzoo-suites", "1.0", "ganzoo_suites", PLUGIN_SUITES)
    suite = mini_suite()
    suite["budgets"]["quick"]["seeds"] = 1
    write_toml(site / "mini.toml", suite)
    assert main(["bench", "--list"]) == 0
    assert "--budget quick: 1 run of 10 steps (1 seed)" in capsys.readouterr().out


def test_gans_entries_and_objectives_take_comma_separated_patterns(tmp_path):
    toy = find_suite("toy", get_zoo())
    jobs = plan_jobs(toy, "quick", get_zoo(), out=tmp_path, gans="gan, wgan")
    assert sorted({j.gan for j in jobs}) == ["gan", "wgan"] and len(jobs) == 4
    paired = plan_jobs(toy, "quick", get_zoo(), out=tmp_path, gans="gan", objectives="hinge,lsgan")
    assert sorted({j.objective for j in paired}) == ["hinge", "lsgan"]
    path = tmp_path / "mini.toml"
    write_toml(path, mini_suite(entries=[{"gan": "gan", "label": "A"}, {"gan": "gan", "label": "B"},
                                         {"gan": "gan", "label": "C"}]))
    chosen = plan_jobs(load_suite_file(path), "quick", get_zoo(), out=tmp_path, entries="[AB],C", seeds=1)
    assert [j.label for j in chosen] == ["A", "B", "C"]  # the comma inside [AB] is not a separator
    assert [j.label for j in plan_jobs(load_suite_file(path), "quick", get_zoo(), out=tmp_path, entries="C,A",
                                       seeds=1)] == ["A", "C"]


def test_a_pattern_that_matches_nothing_lists_what_it_could_match(tmp_path):
    toy = find_suite("toy", get_zoo())
    with pytest.raises(GanzooError) as refused:
        plan_jobs(toy, "quick", get_zoo(), out=tmp_path, gans="gna,wgna")
    message = str(refused.value)
    assert message.startswith("suite 'toy' has no run with --gans 'gna,wgna' (its GANs: ") and "\n" not in message
    listed = message.split("its GANs: ")[1].split(";")[0].split(", ")
    assert {"gan", "wgan", "pacgan"} <= set(listed) and "dcgan" not in listed  # installed, and serving 2D points
    assert "its objectives: " in message and "nonsaturating" in message and "wgan-gp" in message


def test_the_shipped_suites_declare_the_range_of_each_figure():
    from ganzoo.api.specs import GaussianMixture
    from ganzoo.datasets.toy import ring8_centers
    from ganzoo.metrics.toy import toy_metrics

    suites = {name: load_suite_file(path) for name, path in shipped_suites()}
    for name in ("toy", "toy-pacgan", "toy-veegan"):
        columns = {c.key: c for c in suites[name].columns}
        assert columns["modes"].range == (0, None) and columns["modes"].high_from == "num_modes"
        assert columns["high_quality_pct"].range == (0, 100) and columns["reverse_kl"].range == (0, None)
    assert {c.key: c.range for c in suites["cifar10-sngan"].columns} == {"inception_score": (1, None), "fid": (0, None)}
    assert suites["toy"].columns[-1].range == (None, None)  # D's estimate: an objective's, of any sign
    # the toy metric's record states the mode count the modes column's high end is read from
    mixture = GaussianMixture(ring8_centers(), 0.01)
    record = toy_metrics(mixture.centers[:3], mixture)  # samples on 3 of the 8 modes
    assert record["modes"] == 3 and suites["toy"].columns[0].bounds(record) == (0, 8)


def test_an_unbounded_end_is_written_inf_in_a_suite_file(tmp_path):
    path = tmp_path / "mini.toml"
    write_toml(path, mini_suite(columns=[{"key": "modes", "label": "m", "better": "higher", "range": [float("-inf"), 3]},
                                         {"key": "fid", "label": "FID", "better": "lower", "range": [0, float("inf")]}]))
    path.write_text(path.read_text().replace("Infinity", "inf"))
    assert [c.range for c in load_suite_file(path).columns] == [(None, 3), (0, None)]


def test_the_docs_list_every_key_a_suites_run_table_may_not_set():
    from ganzoo.bench.suite import SUITE_KEYS

    docs = (Path(__file__).parents[1] / "docs" / "benchmarks.md").read_text()
    sentence = " ".join(docs[docs.index("a `[run]` table that sets what the suite sets itself"):].split("), a missing")[0].split())
    assert {f"`{key}`" for key in SUITE_KEYS} <= set(re.findall(r"`[a-z_]+`", sentence))
