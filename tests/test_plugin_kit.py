"""The plugin authors' kit: ``ganzoo plugin new`` writes a distribution that installs, trains and passes its own
tests; ``ganzoo plugin check`` runs the conformance checks and catches plugins that break them."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from ganzoo.cli import main

FLAWED = """
import torch
from torch import nn
from ganzoo import DataInfo, GanSpec, Objective, ObjectiveSpec, hookimpl

ganzoo_plugin_api = "2.0"

class Unbounded(nn.Module):
    def __init__(self, z_dim):
        super().__init__()
        self.net = nn.Linear(z_dim, 64)

    def forward(self, z):
        return 10 * self.net(z).view(-1, 1, 8, 8)  # images should end in tanh: these leave [-1, 1]

class Flat(Objective):
    def discriminator_loss(self, real_scores, fake_scores):
        return real_scores.mean() * 0 + 1.0  # a loss with a zero gradient: D cannot learn

    def generator_loss(self, fake_scores):
        return -fake_scores.mean()

@hookimpl
def register_gans(register):
    register(GanSpec(name="unbounded", default_objective="flat", citation="-", serves=(DataInfo((1, 8, 8)),),
                     build=lambda info, z, o: (Unbounded(z), nn.Sequential(nn.Flatten(), nn.Linear(64, 1)))))

@hookimpl
def register_objectives(register):
    register(ObjectiveSpec(name="flat", build=lambda options: Flat(), citation=""))
"""


def test_plugin_check_passes_a_first_party_plugin(capsys):
    assert main(["plugin", "check", "ganzoo-losses"]) == 0
    out = capsys.readouterr().out
    assert "PASS  objective[hinge]-discriminator-learns" in out and out.rstrip().endswith("0 failed, 0 skipped")


def test_plugin_check_fails_a_plugin_that_breaks_the_contract(capsys, make_distribution):
    make_distribution("ganzoo-flawed", "0.1", "ganzoo_flawed", FLAWED, entry_point="flawed")
    assert main(["plugin", "check", "flawed"]) == 1  # by its entry-point name too
    lines = capsys.readouterr().out.splitlines()
    failed = {line.split()[1]: line for line in lines if line.startswith("FAIL")}
    assert "generated images leave [-1, 1]" in failed["gan[unbounded]-(1,8,8)-builds"]
    assert "should fall" in failed["objective[flat]-discriminator-learns"]
    assert "no citation" in failed["objective[flat]-declaration"]
    assert "should fall" in failed["gan[unbounded]-(1,8,8)-discriminator-learns"]  # with its default objective
    assert lines[-1] == "4 passed, 4 failed, 0 skipped"


FORGETFUL = """
from ganzoo import AlgorithmSpec, hookimpl
from ganzoo.algorithms.alternating import Alternating

ganzoo_plugin_api = "2.0"

class Forgetful(Alternating):
    \"\"\"Skips the generator's update every 4th step, and keeps its counter out of checkpoints.\"\"\"

    def __init__(self):
        self.count = 0

    def step(self, step):
        self.count += 1
        if self.count % 4:
            super().step(step)
        else:
            step.optimize("d", step.objective.d_loss(self.discriminator_context(step)))

@hookimpl
def register_algorithms(register):
    register(AlgorithmSpec(name="forgetful", build=lambda options: Forgetful(), citation="-"))
"""


def test_plugin_check_catches_state_that_is_not_checkpointed(capsys, make_distribution):
    make_distribution("ganzoo-forgetful", "0.1", "ganzoo_forgetful", FORGETFUL)
    assert main(["plugin", "check", "ganzoo-forgetful"]) == 1
    out = capsys.readouterr().out
    assert "FAIL  algorithm[forgetful]-trains-and-resumes" in out and "differs from the uninterrupted run" in out


WIDE = """
from pydantic import Field
from torch import nn
from ganzoo import DataInfo, GanSpec, Options, hookimpl

ganzoo_plugin_api = "2.0"
WIDTHS = []


class Width(Options):
    width: int = Field(4096, gt=0)


def build(info, z_dim, options):
    WIDTHS.append(options.width)
    return (nn.Sequential(nn.Linear(z_dim, options.width), nn.Tanh(), nn.Linear(options.width, 2), nn.Tanh()),
            nn.Sequential(nn.Linear(2, options.width), nn.ReLU(), nn.Linear(options.width, 1)))


@hookimpl
def register_gans(register):
    register(GanSpec(name="wide", build=build, default_objective="minimax", citation="-", options=Width,
                     test_options={"width": 3}))
"""


def test_conformance_checks_build_a_gan_at_its_test_options(capsys, make_distribution):
    make_distribution("ganzoo-wide", "0.1", "ganzoo_wide", WIDE)
    assert main(["plugin", "check", "ganzoo-wide"]) == 0
    assert "0 failed" in capsys.readouterr().out
    import ganzoo_wide

    assert ganzoo_wide.WIDTHS and set(ganzoo_wide.WIDTHS) == {3}


def test_plugin_check_of_something_not_installed_is_one_line(capsys):
    assert main(["plugin", "check", "ganzoo-nowhere"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ganzoo: error: no installed plugin distribution 'ganzoo-nowhere' (installed: ")
    assert err.count("\n") == 1


@pytest.mark.parametrize(("name", "message"), [
    ("My GAN", "use lowercase letters, digits and single hyphens"),
    ("ganzoo-x", "without the ganzoo prefix"),
    ("gan", "GAN 'gan', plugin 'gan' (ganzoo-gan"),
    ("sngan", "distribution 'ganzoo-sngan', module 'ganzoo_sngan' already taken by what is installed"),
])
def test_plugin_new_refuses_bad_or_taken_names(tmp_path, capsys, name, message):
    assert main(["plugin", "new", name, "--dir", str(tmp_path)]) == 2
    assert message in capsys.readouterr().err and not any(tmp_path.iterdir())


@pytest.mark.slow
def test_a_new_plugin_installs_trains_on_ring8_and_passes_its_own_tests(tmp_path, capsys):
    assert main(["plugin", "new", "tiny", "--dir", str(tmp_path)]) == 0
    folder = tmp_path / "ganzoo-tiny"
    assert main(["plugin", "new", "tiny", "--dir", str(tmp_path)]) == 2  # never over an existing folder
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--target", str(site), str(folder)], check=True, capture_output=True)
    env = {**os.environ, "PYTHONPATH": str(site)}
    command = [sys.executable, "-m", "ganzoo"]
    listed = subprocess.run([*command, "plugins"], env=env, capture_output=True, text=True, check=True).stdout
    assert "ganzoo-tiny 0.1.0  (plugin 'tiny', ok)\n    gans: tiny\n    objectives: tiny-ns" in listed
    # the run its README starts with
    trained = subprocess.run([*command, "train", "run.toml", "--quiet"], env=env, capture_output=True, text=True,
                             cwd=folder)
    assert trained.returncode == 0 and "step 300: modes" in trained.stdout, trained.stderr
    assert (folder / "runs" / "tiny-ring8" / "checkpoints" / "last.safetensors").is_file()
    tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(folder / "tests")],
                           env=env, capture_output=True, text=True, cwd=folder)
    assert tests.returncode == 0 and " passed" in tests.stdout, tests.stdout


POINTS_FLIP = """
import torch
from ganzoo import Augmentation, AugmentationSpec, DataInfo, hookimpl

ganzoo_plugin_api = "2.3"


class Flip(Augmentation):
    def __call__(self, samples):
        if samples.dim() != 2 or samples.shape[1] != 2:
            raise ValueError(f"flip takes 2D points, shape (batch, 2); got {tuple(samples.shape)}")
        return samples * torch.tensor([-1.0, 1.0])


@hookimpl
def register_augmentations(register):
    register(AugmentationSpec(name="points-flip", build=lambda options: Flip(), citation="-",
                              serves=(DataInfo((2,)),)))
"""


def test_an_augmentation_is_checked_on_the_data_it_serves(capsys, make_distribution):
    make_distribution("ganzoo-flip", "0.1", "ganzoo_flip", POINTS_FLIP)
    assert main(["plugin", "check", "ganzoo-flip"]) == 0
    out = capsys.readouterr().out
    assert "PASS  augmentation[points-flip]-differentiable-(2,)" in out and "(3,16,16)" not in out
