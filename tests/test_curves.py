"""Training curves: the figure `ganzoo plot` and the trainer draw from real short runs, read back from its axes."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from PIL import Image

import ganzoo
import ganzoo.curves
import ganzoo_gan.objectives
from ganzoo.cli import main
from ganzoo.curves import ask_divergence_name, group_seeds, read_run
from ganzoo.curves.figure import curves_figure
from ganzoo.curves.panels import stat_group
from ganzoo.errors import CurvesWarning, DamagedRecordWarning, GanzooError, RunDirError
from ganzoo.registry.discovery import Zoo, get_zoo
from ganzoo.registry.registry import Source
from ganzoo.run import rundir
from ganzoo.testing import train, trainer

# 20 steps of an f-GAN objective on ring8: logged every 5 steps, measured every 10, pictured at the end
FGAN = {"gan": "gan", "objective": "fgan-kl", "steps": 20, "log_every": 5, "eval_every": 10,
        "metrics": {"num_generated": 256}}
STEPS = [5.0, 10.0, 15.0, 20.0]


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    """Three short trained runs that tests copy, never change: two seeds of the f-GAN config and a minimax run."""
    folder = tmp_path_factory.mktemp("curves")
    for name, overrides in {"seed0": {}, "seed1": {"seed": 1}, "minimax": {"objective": "minimax", "seed": 2}}.items():
        train(folder / name, **{**FGAN, **overrides})
    return {name: folder / name for name in ("seed0", "seed1", "minimax")}


def copy(run: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(run, tmp_path / run.name))


def titles(figure) -> list[str]:
    return [ax.get_title() for ax in figure.axes]


def lines(figure, title: str) -> dict[str, tuple[list[float], list[float]]]:
    """The lines of the panel titled ``title``, by label: their x and y data."""
    (ax,) = [ax for ax in figure.axes if ax.get_title() == title]
    return {line.get_label(): (list(line.get_xdata()), list(line.get_ydata())) for line in ax.get_lines()}


def test_a_trained_run_has_the_curves_of_its_losses_divergence_and_metrics(runs):
    run = read_run(runs["seed0"])
    figure = curves_figure([run])
    assert titles(figure)[:4] == ["losses", "divergence estimate: KL(P || Q)", "modes covered",
                                  "high-quality samples (%)"]
    assert set(titles(figure)[4:]) <= {"reverse KL to uniform over modes"}
    stats = rundir.read_jsonl(runs["seed0"] / rundir.STATS)
    label = "gan/fgan-kl on ring8, seed 0"
    assert lines(figure, "losses") == {f"{label}: {key}": (STEPS, [r[key] for r in stats]) for key in ("loss_d",
                                                                                                      "loss_g")}
    assert lines(figure, "modes covered")[f"{label}: modes"][0] == [10.0, 20.0]
    assert [text.get_text() for text in figure.legends[0].get_texts()] == [label]
    # the trainer's own curves.png is that figure: a PNG of its size
    with Image.open(runs["seed0"] / rundir.CURVES) as image:
        assert image.format == "PNG"
        assert image.size == tuple(round(size * figure.dpi) for size in figure.get_size_inches())
    assert image.size[0] == 3 * 420 and image.size[1] > 2 * 270


def test_several_runs_are_drawn_in_one_figure_each_in_its_colour(runs):
    figure = curves_figure([read_run(runs["seed0"]), read_run(runs["minimax"])])
    assert titles(figure)[1] == "divergence estimates (see the legend)"  # KL and JS: no one title fits both
    (ax,) = [ax for ax in figure.axes if ax.get_title().startswith("divergence")]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["KL(P || Q)", "JS(P, Q)"]
    losses = lines(figure, "losses")
    assert sorted(losses) == sorted(f"{run}: {key}" for run in ("gan/fgan-kl on ring8, seed 0",
                                                                "gan/minimax on ring8, seed 2")
                                    for key in ("loss_d", "loss_g"))
    (ax,) = [ax for ax in figure.axes if ax.get_title() == "losses"]
    assert len({line.get_color() for line in ax.get_lines()}) == 2


def test_seeds_of_one_config_are_drawn_as_their_mean_with_a_band(runs):
    seeds = [read_run(runs["seed0"]), read_run(runs["seed1"]), read_run(runs["minimax"])]
    grouped = group_seeds(seeds)
    assert [run.label for run in grouped] == ["gan/fgan-kl on ring8, mean of 2 seeds (0, 1)",
                                              "gan/minimax on ring8, seed 2"]
    mean = grouped[0].stats["loss_d"]
    each = [run.stats["loss_d"].values for run in seeds[:2]]
    assert list(mean.steps) == STEPS and mean.values == pytest.approx((each[0] + each[1]) / 2)
    assert list(mean.low) == list(map(min, *each)) and list(mean.high) == list(map(max, *each))
    figure = curves_figure(grouped)
    (ax,) = [ax for ax in figure.axes if ax.get_title() == "losses"]
    assert len(ax.collections) == 2  # one band per loss of the mean; none for the lone run
    assert len(curves_figure(seeds).axes[0].get_lines()) == 6  # without --mean: every run


@pytest.mark.parametrize("metrics", ["missing", "empty"])
def test_a_run_without_metrics_draws_its_statistics_only(runs, tmp_path, metrics):
    run = copy(runs["seed0"], tmp_path)
    (run / rundir.METRICS).unlink() if metrics == "missing" else (run / rundir.METRICS).write_text("")
    assert titles(curves_figure([read_run(run)])) == ["losses", "divergence estimate: KL(P || Q)"]


def test_a_damaged_line_is_skipped_with_a_warning_and_the_rest_is_drawn(runs, tmp_path):
    run = copy(runs["seed0"], tmp_path)
    text = (run / rundir.STATS).read_text().splitlines()
    text[1] = text[1][:30]  # a line cut short, as a crash leaves it
    (run / rundir.STATS).write_text("\n".join(text) + "\n")
    with pytest.warns(DamagedRecordWarning, match=r"stats.jsonl, line 2: damaged record skipped"):
        figure = curves_figure([read_run(run)])
    x, _ = lines(figure, "losses")["gan/fgan-kl on ring8, seed 0: loss_d"]
    assert x == [5.0, 15.0, 20.0]


@pytest.mark.parametrize(("key", "group"), [
    ("loss_d", "losses"), ("loss_e", "losses"), ("divergence", "divergence"), ("penalty", "penalties"),
    ("penalty_drift", "penalties"), ("d_penalty", "penalties"), ("gp", "penalties"), ("r1", "penalties"),
    ("ada_p", "statistics"), ("lod", "statistics"), ("pl_mean", "statistics"), ("step", None), ("seconds", None),
])
def test_statistics_are_grouped_into_panels_by_name(key, group):
    assert stat_group(key) == group


@pytest.mark.parametrize(("objective", "estimates"), [
    ("fgan-kl", "KL(P || Q)"), ("fgan-reverse-kl", "KL(Q || P)"), ("fgan-js", "2 JS(P, Q)"),
    ("fgan-gan", "2 JS(P, Q) - log 4"), ("minimax", "JS(P, Q)"), ("nonsaturating", "JS(P, Q)"),
    ("wgan-gp", "W1(P, Q)"), ("r1", "JS(P, Q)"), ("stylegan2", "JS(P, Q)"), ("hinge", None),
])
def test_objectives_say_what_their_divergence_estimate_estimates(objective, estimates):
    assert ganzoo.build_objective(objective).divergence_name == estimates


def test_the_trainer_draws_curves_beside_each_picture_and_a_failure_is_only_a_warning(tmp_path, monkeypatch):
    drawn = []
    monkeypatch.setattr(ganzoo.curves, "write_run_curves", lambda run_dir: drawn.append(
        tuple(len(rundir.read_jsonl(run_dir / name)) for name in (rundir.STATS, rundir.METRICS))) or 1 / 0)
    with pytest.warns(CurvesWarning, match=r"curves.png not drawn: ZeroDivisionError"):
        trainer = train(tmp_path / "run", gan="gan", steps=20, sample_every=10, log_every=5)
    # (log records, evaluations) drawn: with step 10's picture, and once at the end, its evaluation in
    assert trainer.step == 20 and drawn == [(2, 0), (4, 1)]
    assert (tmp_path / "run" / rundir.LAST_CHECKPOINT).is_file()


def test_plot_command_writes_the_figure_and_refuses_in_one_line(runs, tmp_path, capsys):
    run = copy(runs["seed0"], tmp_path)
    (run / rundir.CURVES).unlink()
    assert main(["plot", str(run)]) == 0
    assert re.search(r"wrote \d panels of 1 run \(1260x\d+ pixels\)", capsys.readouterr().out)
    assert (run / rundir.CURVES).is_file()
    assert main(["plot", str(run), str(runs["seed1"]), "--mean", "-o", str(tmp_path / "seeds.svg")]) == 0
    assert (tmp_path / "seeds.svg").read_text().startswith("<?xml")
    for argv, message in [
        ([str(run), str(runs["seed1"])], "2 runs are drawn in one figure: name its file with -o"),
        ([str(tmp_path)], f"{tmp_path} is not a run directory (no config.json)"),
        ([str(tmp_path / "nowhere")], "is not a run directory (no such folder)"),
        ([str(run), "-o", str(tmp_path / "curves.jpg")], "-o must name a .png, .pdf or .svg file"),
    ]:
        assert main(["plot", *argv]) == 2
        err = capsys.readouterr().err
        assert err.startswith("ganzoo: error: ") and message in err and len(err.strip().splitlines()) == 1


def test_a_run_from_before_the_divergence_was_named_asks_its_objective(runs, tmp_path):
    run = copy(runs["minimax"], tmp_path)
    provenance = rundir.read_json_object(run / rundir.PROVENANCE)
    del provenance["divergence_estimate"]  # as ganzoo 0.2.4 wrote it
    (run / rundir.PROVENANCE).write_text(json.dumps(provenance))
    old = read_run(run)
    assert old.divergence_name is None
    assert ask_divergence_name(old, get_zoo).divergence_name == "JS(P, Q)"
    (run / rundir.CONFIG).write_text(json.dumps({**old.config, "objective": "not-installed"}))
    assert ask_divergence_name(read_run(run), get_zoo).divergence_name is None  # the panel says less, no error


def test_a_folder_with_nothing_logged_has_nothing_to_plot(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / rundir.CONFIG).write_text('{"gan": "gan", "objective": "minimax", "dataset": "ring8", "seed": 0}')
    with pytest.raises(GanzooError, match="nothing to plot: .* logged no statistics or metrics yet"):
        curves_figure([read_run(run)])
    with pytest.raises(RunDirError, match="is not a run directory"):
        read_run(tmp_path)


class MisnamedDivergence:
    ganzoo_plugin_api = "2.0"

    @ganzoo.hookimpl
    def register_objectives(self, register):
        class Misnamed(ganzoo_gan.objectives.NonSaturating):
            divergence_name = 3

        register(ganzoo.ObjectiveSpec(name="misnamed", build=lambda options: Misnamed(), citation="-"))


def test_a_divergence_name_that_is_not_words_is_refused_before_training(tmp_path):
    zoo = Zoo(plugins=[(MisnamedDivergence(), Source("misnamed", "ganzoo-misnamed", "1.0"))])
    with pytest.raises(GanzooError, match="sets divergence_name = 3; it must be a few words"):
        trainer(tmp_path / "run", zoo=zoo, gan="gan", objective="misnamed")


def test_legends_tell_apart_runs_of_another_algorithm_or_augmentation():
    from ganzoo.curves.series import run_label

    plain = {"gan": "gan", "objective": "nonsaturating", "dataset": "ring8", "seed": 0, "algorithm": "alternating",
             "augmentation": None}
    assert run_label(plain) == "gan/nonsaturating on ring8, seed 0"
    other = {**plain, "algorithm": "unrolled", "augmentation": "diffaugment"}
    assert run_label(other, "mean of 2 seeds (0, 1)") == (
        "gan/nonsaturating (algorithm unrolled, augmentation diffaugment) on ring8, mean of 2 seeds (0, 1)")
