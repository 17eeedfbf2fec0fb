"""The ganzoo command: listings, the train/sample/eval path, bench, and one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from conftest import toy_run
from ganzoo.cli import main


def write_toml(path, raw: dict) -> str:
    lines = [f"{k} = {json.dumps(v)}" for k, v in raw.items() if not isinstance(v, dict)]
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse's own exits
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def test_plugins_lists_distributions_versions_and_contributions(capsys, make_distribution):
    make_distribution("ganzoo-broken", "0.0.1", "ganzoo_broken", "raise ImportError('needs libfoo')")
    code, out, err = run_cli(capsys, "plugins")
    assert code == 0
    assert f"ganzoo-gan {version('ganzoo-gan')}  (plugin 'gan', ok)" in out
    assert "gans: gan" in out and "objectives: minimax, nonsaturating" in out
    assert "ganzoo-broken 0.0.1  (plugin 'ganzoo_broken', FAILED)" in out and "needs libfoo" in out
    assert err.startswith("ganzoo: warning: plugin 'ganzoo_broken'") and err.count("\n") == 1


def test_list_with_kind_and_wildcards(capsys):
    code, out, _ = run_cli(capsys, "list", "datasets", "r*")
    assert code == 0 and "ring8" in out and "grid25" not in out and "gans:" not in out
    code, out, _ = run_cli(capsys, "list")
    assert "gans:" in out and "objectives:" in out and "datasets:" in out
    assert "gan " in out and "(default objective: nonsaturating)" in out and f"[ganzoo-gan {version('ganzoo-gan')}]" in out
    code, out, _ = run_cli(capsys, "list", "gans", "--verbose")
    assert "cite: Goodfellow et al. 2014" in out
    code, out, _ = run_cli(capsys, "list", "objectives", "zz*")
    assert code == 0 and "none match 'zz*'" in out


def test_train_sample_eval_path(tmp_path, capsys):
    config = write_toml(tmp_path / "run.toml", toy_run(tmp_path))
    code, out, _ = run_cli(capsys, "train", config, "--set", "steps=12", "--quiet")
    assert code == 0 and "done at step 12" in out and "modes" in out
    run = tmp_path / "run"
    code, out, _ = run_cli(capsys, "train", str(run), "--resume", "--set", "steps=24", "--quiet")
    assert code == 0 and "done at step 24" in out
    code, out, _ = run_cli(capsys, "sample", str(run), "-n", "64", "-o", str(tmp_path / "s.png"))
    assert code == 0 and (tmp_path / "s.png").stat().st_size > 1000
    code, out, _ = run_cli(capsys, "eval", str(run / "checkpoints" / "last.safetensors"))
    assert code == 0 and out.startswith("step 24: modes ")
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    # the evaluation during training and a later `ganzoo eval` follow one protocol, so they agree
    assert records[-1]["source"] == "ganzoo eval" and records[-1]["metrics"] == records[-2]["metrics"]


def test_bench_toy_trains_every_gan_on_both_data_sets_and_reuses_finished_runs(tmp_path, capsys):
    code, out, _ = run_cli(capsys, "bench", "toy", "--steps", "15", "--out", str(tmp_path / "b"), "--device", "cpu",
                           "--gans", "gan")
    assert code == 0
    table = out[out.index("entry  "):out.index("leaderboard written")]
    assert "gan    nonsaturating  ring8" in table and "gan    nonsaturating  grid25" in table
    results = [json.loads(line) for line in (tmp_path / "b" / "results.jsonl").read_text().splitlines()]
    assert [(r["gan"], r["dataset"]) for r in results] == [("gan", "ring8"), ("gan", "grid25")]
    checkpoint = tmp_path / "b" / "gan-nonsaturating-ring8-seed0" / "checkpoints" / "last.safetensors"
    stamp = checkpoint.stat().st_mtime_ns
    code, again, _ = run_cli(capsys, "bench", "toy", "--steps", "15", "--out", str(tmp_path / "b"), "--device", "cpu",
                             "--gans", "gan")
    assert code == 0 and again[again.index("entry  "):again.index("leaderboard written")] == table
    assert "2 of 2 runs already finished" in again and checkpoint.stat().st_mtime_ns == stamp


def test_bench_pairs_gans_with_objectives_by_pattern(tmp_path, capsys):
    code, out, _ = run_cli(capsys, "bench", "toy", "--steps", "4", "--out", str(tmp_path / "b"), "--device", "cpu",
                           "--gans", "gan", "--objectives", "fgan-[kj][ls]")
    assert code == 0
    rows = [line.split()[:3] for line in out[out.index("entry  "):].splitlines()[2:6]]
    assert rows == [["gan", "fgan-js", "ring8"], ["gan", "fgan-kl", "ring8"],
                    ["gan", "fgan-js", "grid25"], ["gan", "fgan-kl", "grid25"]]


@pytest.mark.parametrize(("argv", "message"), [
    (["train", "{tmp}/absent.toml"], "config file not found"),
    (["train", "{tmp}/bad.toml"], "malformed TOML"),
    (["train", "{tmp}/typo.toml"], "unknown GAN 'gna'; did you mean 'gan'"),
    (["train", "{tmp}/typo.toml", "--set", "gan=gan", "--set", "steps=lots"], "steps: Input should be a valid integer"),
    (["train", "{tmp}/typo.toml", "--set", "gan=gan", "--set", "seeed=1"], "unknown key 'seeed' (did you mean 'seed'?)"),
    (["eval", "{tmp}/nowhere"], "no such run directory or checkpoint"),
    (["sample", "{tmp}", "-n", "4"], "has no checkpoint"),
    (["eval", "{tmp}/bad.toml"], "not a readable safetensors file"),
    (["list", "gans", "a", "b"], "unrecognized arguments: b"),
    (["list", "widgets", "x*"], "unknown kind 'widgets'; KIND is one of gans, objectives, datasets"),
    (["train", "{tmp}/typo.toml", "--set", "gan=gan", "--set", "device=cpu:x"], "device: Value error, must be 'auto'"),
    (["train", "{tmp}/typo.toml", "--set", "gan=gan", "--set", "seed=99999999999999999999"], "seed: Input should be less than"),
    (["train", "{tmp}/typo.toml", "--set", "gan=gan", "--set", "out_dir=''"], "out_dir: Value error, must name a directory"),
    (["train", "{tmp}/typo.toml", "--set", "gan=gan", "--set", "out_dir='{tmp}/bad.toml'"], "is a file, not a directory"),
    (["train", "{tmp}/typo.toml", "--set", "gan=gan", "--set", "objective=''"], "objective: Value error, must be a registered name (see 'ganzoo list'), not empty"),
    (["sample", "{tmp}", "-o", "{tmp}/x.txt"], "-o must name a .png or .jpg file"),
    (["sample", "{tmp}", "--seed", "-1"], "a seed must be in [0, 2**62)"),
    (["bench", "toy", "--seeds", "0"], "must be a whole number from 1 to 1000, got '0'"),
    (["interpolate", "{tmp}", "--rows", "100000"], "--rows: must be a whole number from 1 to 256, got '100000'"),
    (["interpolate", "{tmp}", "--steps", "1"], "--steps: must be a whole number from 2 to 256, got '1'"),
    (["sample", "{tmp}", "-n", "1e9"], "must be a whole number from 1 to 100000, got '1e9'"),
    (["eval", "{tmp}", "--num-generated", str(10**8)], "ganzoo eval: num_generated: Input should be less than or equal to 10000000"),
    (["bench", "toy", "--gans", "nothing*"], "suite 'toy' has no run with --gans 'nothing*'"),
    (["bench", "toys"], "unknown suite 'toys'; did you mean 'toy'"),
    (["bench", "toy", "--budget", "paper"], "suite 'toy' has no budget 'paper' (its budgets: quick, long)"),
    (["bench", "{tmp}/bad.toml"], "malformed TOML"),
    (["bench"], "name a suite (see 'ganzoo bench --list')"),
    (["bench", "toy", "--workers", "2", "--launcher", "slurm"], "--workers is for --launcher local"),
    (["bench", "toy", "--mem-gb", "4"], "are job resources of --launcher slurm"),
    (["bench", "toy", "--cluster", "local"], "--cluster chooses submitit's executor for --launcher slurm"),
    (["leaderboard", "{tmp}"], "is not a suite's results folder: it has no suite.json"),
    (["bench", "toy", "--out", "{tmp}/bad.toml/x", "--gans", "gan", "--steps", "1"], "Not a directory"),
    (["bench", "toy", "--objectives", "nothing*"], "no installed objective matches 'nothing*'"),
    (["train"], "the following arguments are required: CONFIG"),
])
def test_bad_input_gets_one_line_and_exit_2(tmp_path, capsys, argv, message):
    (tmp_path / "bad.toml").write_text("gan = [unclosed\n")
    write_toml(tmp_path / "typo.toml", {"gan": "gna", "dataset": "ring8", "out_dir": str(tmp_path / "r")})
    code, _, err = run_cli(capsys, *(a.format(tmp=tmp_path) for a in argv))
    assert code == 2
    assert err.startswith("ganzoo: error: ") and err.count("\n") == 1 and message in err


def test_installed_command_reports_errors_without_traceback(tmp_path):
    command = Path(sys.executable).with_name("ganzoo")
    assert command.is_file(), "the ganzoo console script is not installed beside this Python"
    (tmp_path / "broken.toml").write_text("steps = \n")
    result = subprocess.run([command, "train", str(tmp_path / "broken.toml")], capture_output=True, text=True)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and result.stderr.startswith("ganzoo: error:")
    version = subprocess.run([sys.executable, "-m", "ganzoo", "--version"], capture_output=True, text=True)
    assert version.returncode == 0 and version.stdout.startswith("ganzoo ")


BAD_GANS = """
import os
import sys
import torch
from torch import nn
from torch.utils.data import TensorDataset
from ganzoo import DataInfo, DatasetSpec, GanSpec, GaussianMixture, LoadedData, ObjectiveSpec, hookimpl
from ganzoo_gan.objectives import Minimax

ganzoo_plugin_api = "2.0"

def crash(info, z_dim, options):
    raise RuntimeError("out of coffee")

def wide_scores(info, z_dim, options):
    return nn.Linear(z_dim, info.shape[0]), nn.Linear(info.shape[0], 3)

def refuse(info, z_dim, options):
    raise ValueError("needs images")

def linear_pair(info, z_dim, options):
    return nn.Linear(z_dim, info.shape[0]), nn.Linear(info.shape[0], 1)

class NaNObjective(Minimax):
    def discriminator_loss(self, real_scores, fake_scores):
        return super().discriminator_loss(real_scores, fake_scores) * float("nan")

class CrashingObjective(Minimax):
    def generator_loss(self, fake_scores):
        return 1 / 0

class FloatObjective(Minimax):
    def generator_loss(self, fake_scores):
        return float(super().generator_loss(fake_scores))

class Flaky(torch.utils.data.Dataset):
    def __len__(self):
        return 16

    def __getitem__(self, index):
        raise OSError(f"unreadable item {index}")

class Quitter(BaseException):
    pass

class ExitingObjective(Minimax):
    def generator_loss(self, fake_scores):
        sys.exit(0)

class InterruptingObjective(Minimax):
    def generator_loss(self, fake_scores):
        raise KeyboardInterrupt

class QuittingObjective(Minimax):
    def generator_loss(self, fake_scores):
        raise Quitter("enough")

class ConstantObjective(Minimax):
    def generator_loss(self, fake_scores):
        return torch.zeros((), requires_grad=True)

class ClippingObjective(Minimax):
    def after_discriminator_step(self, discriminator):
        raise KeyError("weights")

class Detached(nn.Linear):
    def forward(self, z):
        return super().forward(z).detach()

class TwoScoresWhenTraining(nn.Linear):
    def forward(self, x):
        scores = super().forward(x)
        return torch.cat([scores, scores], 1) if self.training else scores

class FailsWhenSampling(nn.Linear):
    def forward(self, z):
        if os.environ.get("BAD_SAMPLING") and not self.training and len(z) > 8:  # not the set-up probe
            raise RuntimeError("cannot sample")
        return super().forward(z)

@hookimpl
def register_gans(register):
    builds = (("crash", crash), ("wide", wide_scores), ("picky", refuse), ("nothing", lambda i, z, o: None))
    for name, build in builds:
        register(GanSpec(name=name, build=build, default_objective="minimax", citation="-"))
    register(GanSpec(name="nan", build=linear_pair, default_objective="nan-objective", citation="-"))
    register(GanSpec(name="lost", build=linear_pair, default_objective="nope", citation="-"))
    register(GanSpec(name="boom", build=linear_pair, default_objective="boom-objective", citation="-"))
    register(GanSpec(name="float", build=linear_pair, default_objective="float-objective", citation="-"))
    register(GanSpec(name="clip", build=linear_pair, default_objective="clipping-objective", citation="-"))
    for name, objective in (("exit", "exiting"), ("interrupt", "interrupting"), ("quit", "quitting"),
                            ("constant", "constant-objective")):
        register(GanSpec(name=name, build=linear_pair, default_objective=objective, citation="-"))
    register(GanSpec(name="detached", build=lambda i, z, o: (Detached(z, 2), nn.Linear(2, 1)),
                     default_objective="minimax", citation="-"))
    register(GanSpec(name="double", build=lambda i, z, o: (nn.Linear(z, 2), TwoScoresWhenTraining(2, 1)),
                     default_objective="minimax", citation="-"))
    register(GanSpec(name="shy", build=lambda i, z, o: (FailsWhenSampling(z, 2), nn.Linear(2, 1)),
                     default_objective="minimax", citation="-"))

@hookimpl
def register_objectives(register):
    register(ObjectiveSpec(name="nan-objective", build=lambda options: NaNObjective(), citation="-"))
    register(ObjectiveSpec(name="boom-objective", build=lambda options: CrashingObjective(), citation="-"))
    register(ObjectiveSpec(name="float-objective", build=lambda options: FloatObjective(), citation="-"))
    register(ObjectiveSpec(name="clipping-objective", build=lambda options: ClippingObjective(), citation="-"))
    register(ObjectiveSpec(name="exiting", build=lambda options: ExitingObjective(), citation="-"))
    register(ObjectiveSpec(name="constant-objective", build=lambda options: ConstantObjective(), citation="-"))
    register(ObjectiveSpec(name="interrupting", build=lambda options: InterruptingObjective(), citation="-"))
    register(ObjectiveSpec(name="quitting", build=lambda options: QuittingObjective(), citation="-"))

@hookimpl
def register_datasets(register):
    points = TensorDataset(torch.zeros(16, 2))
    odd = GaussianMixture(centers=torch.tensor([[float("nan"), 0.0]]), std=0.1)
    register(DatasetSpec(name="nan-modes", build=lambda options: LoadedData(points, DataInfo((2,)), odd), citation="-"))
    register(DatasetSpec(name="text-shape", build=lambda options: LoadedData(points, DataInfo(("2",))), citation="-"))
    register(DatasetSpec(name="flaky", build=lambda options: LoadedData(Flaky(), DataInfo((2,))), citation="-"))
"""


@pytest.mark.parametrize(("gan", "message"), [
    ("crash", "GAN 'crash' from ganzoo-bad 0.3 failed to build: crash raised RuntimeError: out of coffee"),
    ("wide", "GAN 'wide' discriminator gives 6 scores for 2 samples; its ScoreLayout(pack=1, heads=1) promises 2"),
    ("picky", "GAN 'picky' cannot be built for data set 'ring8' (2,): needs images"),
    ("nothing", "GAN 'nothing' from ganzoo-bad 0.3 returned NoneType from build, not what the spec promises"),
    ("nan", "training diverged: loss_d, divergence, loss_g not finite at step 2; no checkpoint"),
    ("lost", "GAN 'lost' names default objective 'nope', which no installed plugin registers"),
    ("boom", "training step 1: CrashingObjective.generator_loss in ganzoo-bad 0.3 raised ZeroDivisionError: "
             "division by zero"),
    ("clip", "training step 1: ClippingObjective.after_discriminator_step in ganzoo-bad 0.3 raised KeyError: "
             "'weights'"),
    ("float", "training step 1: the loss for optimizer 'g' must be a floating-point scalar tensor, got 'float' "
              "(GAN 'float' from ganzoo-bad 0.3, objective 'float-objective' from ganzoo-bad 0.3, algorithm"),
    ("exit", "training step 1: ExitingObjective.generator_loss in ganzoo-bad 0.3 raised SystemExit: 0"),
    ("interrupt", "training step 1: InterruptingObjective.generator_loss in ganzoo-bad 0.3 raised KeyboardInterrupt"),
    ("quit", "training step 1: QuittingObjective.generator_loss in ganzoo-bad 0.3 raised Quitter: enough"),
    ("constant", "training step 1: the loss for optimizer 'g' does not depend on the weights it updates"),
    ("detached", "training step 1: generator 'generator' gives samples detached from its weights in training mode"),
    ("double", "training step 1: discriminator 'discriminator' gave 64 scores for 32 samples"),
])
def test_broken_plugin_code_gets_one_line_and_exit_2(tmp_path, capsys, make_distribution, gan, message):
    make_distribution("ganzoo-bad", "0.3", "ganzoo_bad", BAD_GANS)
    config = write_toml(tmp_path / "run.toml", toy_run(tmp_path, gan=gan, log_every=2))
    code, _, err = run_cli(capsys, "train", config, "--quiet")
    assert code == 2 and err.startswith(f"ganzoo: error: {message}") and err.count("\n") == 1
    assert not (tmp_path / "run" / "checkpoints").exists()


@pytest.mark.parametrize(("dataset", "message"), [
    ("nan-modes", "dataset 'nan-modes' from ganzoo-bad 0.3 gave a malformed data set: mixture centres must be a "
                  "finite float tensor of shape (modes, 2)"),
    ("text-shape", "dataset 'text-shape' from ganzoo-bad 0.3 gave a malformed data set: shape ('2',) is not 1 to 4"),
    ("flaky", "training step 1: Flaky.__getitem__ in ganzoo-bad 0.3 raised OSError: unreadable item"),
])
def test_a_malformed_data_set_is_refused_naming_its_plugin(tmp_path, capsys, make_distribution, dataset, message):
    make_distribution("ganzoo-bad", "0.3", "ganzoo_bad", BAD_GANS)
    config = write_toml(tmp_path / "run.toml", toy_run(tmp_path, dataset=dataset))
    code, _, err = run_cli(capsys, "train", config, "--quiet")
    assert code == 2 and err.startswith(f"ganzoo: error: {message}") and err.count("\n") == 1, err
    assert not (tmp_path / "run").exists()


def test_plugin_code_failing_while_sampling_names_the_plugin(tmp_path, capsys, make_distribution, monkeypatch):
    make_distribution("ganzoo-bad", "0.3", "ganzoo_bad", BAD_GANS)
    config = write_toml(tmp_path / "run.toml", toy_run(tmp_path, gan="shy", steps=2))
    assert run_cli(capsys, "train", config, "--quiet")[0] == 0
    monkeypatch.setenv("BAD_SAMPLING", "1")
    failure = "FailsWhenSampling.forward in ganzoo-bad 0.3 raised RuntimeError: cannot sample"
    for command in ("sample", "interpolate", "eval"):
        code, _, err = run_cli(capsys, command, str(tmp_path / "run"))
        assert code == 2 and err.count("\n") == 1 and failure in err, err
    code, _, err = run_cli(capsys, "train", config, "--quiet", "--resume", "--set", "steps=4")
    assert code == 2 and err == f"ganzoo: error: sampling at step 4: {failure}\n"


def test_unexpected_errors_are_one_line_unless_debugging(capsys, monkeypatch):
    def explode(args):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr("ganzoo.cli.commands.cmd_plugins", explode)
    code, _, err = run_cli(capsys, "plugins")
    assert code == 1
    assert err == "ganzoo: internal error: ZeroDivisionError: boom (set GANZOO_DEBUG=1 for the traceback)\n"
    monkeypatch.setenv("GANZOO_DEBUG", "1")
    with pytest.raises(ZeroDivisionError):
        main(["plugins"])


def test_bench_records_a_diverging_run_and_goes_on(tmp_path, capsys, make_distribution):
    make_distribution("ganzoo-bad", "0.3", "ganzoo_bad", BAD_GANS)
    argv = ["bench", "toy", "--steps", "4", "--out", str(tmp_path / "b"), "--device", "cpu", "--gans", "nan"]
    code, out, _ = run_cli(capsys, *argv)
    assert code == 0
    assert "training diverged: loss_d, divergence, loss_g not finite at step 4" in out
    table = out[out.index("entry  "):]
    assert table.count("1 (1 diverged)") == 2 and "n/a" in table
    results = [json.loads(line) for line in (tmp_path / "b" / "results.jsonl").read_text().splitlines()]
    assert [r["diverged_at"] for r in results] == [4, 4]
    code, again, _ = run_cli(capsys, *argv)  # the marker is kept: not trained again, recorded again
    assert code == 0 and "2 of 2 runs already finished" in again and "1 (1 diverged)" in again
