"""Style-based generators: truncation in W (``--psi``) and interpolation in W (``ganzoo interpolate --space w``)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from conftest import TINY
from ganzoo.api.prior import generate, has_w_space, w_codes
from ganzoo.cli import main
from ganzoo.cli.restore import restore_run
from ganzoo.registry.discovery import get_zoo
from ganzoo.testing import train

# A linear style-based pair for 2D points: W codes tracked to their mean in training, as StyleGAN's w_avg
STYLISH = """
import torch
from torch import nn
from ganzoo import GanSpec, hookimpl

ganzoo_plugin_api = "2.0"


class Generator(nn.Module):
    def __init__(self, z_dim):
        super().__init__()
        self.to_w = nn.Linear(z_dim, 4)
        self.to_points = nn.Linear(4, 2)
        self.register_buffer("w_avg", torch.zeros(4))

    def mapping(self, z, labels=None, psi=1.0):
        w = self.to_w(z)
        if self.training:
            self.w_avg.copy_(w.detach().mean(0).lerp(self.w_avg, 0.9))
        return self.w_avg + psi * (w - self.w_avg)

    def synthesis(self, w):
        return torch.tanh(self.to_points(w))

    def forward(self, z):
        return self.synthesis(self.mapping(z))


def pair(info, z_dim, options):
    return Generator(z_dim), nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 1))


@hookimpl
def register_gans(register):
    register(GanSpec(name="stylish", build=pair, citation="a test", default_objective="minimax"))
"""


@pytest.fixture
def style_run(tmp_path, make_distribution):
    make_distribution("ganzoo-stylish", "0.1", "ganzoo_stylish", STYLISH)
    train(tmp_path / "run", **{**TINY, "gan": "stylish", "steps": 4})
    return tmp_path / "run"


def test_psi_pulls_w_codes_toward_their_tracked_mean(style_run):
    run = restore_run(style_run, get_zoo())
    assert has_w_space(run.generator) and run.generator.w_avg.abs().sum() > 0  # trained: the mean moved
    plain = generate(run.generator, run.prior, 50, seed=3)
    assert torch.equal(generate(run.generator, run.prior, 50, seed=3, psi=1.0), plain)
    average = generate(run.generator, run.prior, 50, seed=3, psi=0.0)
    expected = run.generator.synthesis(run.generator.w_avg).detach()
    assert torch.allclose(average, expected.expand(50, 2), atol=1e-6)
    z = run.prior.sample(5, torch.Generator().manual_seed(0))
    half = w_codes(run.generator, z, None, 0.5)
    assert torch.allclose(half, run.generator.w_avg + 0.5 * (w_codes(run.generator, z, None) - run.generator.w_avg))


def test_sample_and_interpolate_in_w_from_the_command_line(style_run, capsys):
    assert main(["sample", str(style_run), "--psi", "0.5", "-n", "20"]) == 0
    assert "W truncated by psi 0.5" in capsys.readouterr().out
    assert main(["interpolate", str(style_run), "--space", "w", "--rows", "2", "--steps", "3"]) == 0
    out = capsys.readouterr().out
    assert "linear paths in W of 3 steps" in out
    assert (style_run / "samples" / "interpolate-linear-w-0000004.png").is_file()


class Synthesis(nn.Module):
    def __init__(self):
        super().__init__()
        self.seen: list[torch.Tensor] = []

    def mapping(self, z, labels=None, psi=1.0):
        raise AssertionError("W codes were given: nothing to map")

    def synthesis(self, w):
        self.seen.append(w)
        return w[:, :2]


def test_w_codes_given_go_to_the_synthesis_network_as_they_are():
    from ganzoo.api.prior import Prior

    codes = torch.randn(7, 4)
    recorder = Synthesis()
    out = generate(recorder, Prior("normal", 3, torch.device("cpu")), 7, seed=0, latents=codes, in_w=True)
    assert torch.equal(torch.cat(recorder.seen), codes) and torch.equal(out, codes[:, :2])


@pytest.mark.parametrize("args", [["sample", "--psi", "0.7"], ["interpolate", "--space", "w"],
                                  ["interpolate", "--psi", "0.7"]])
def test_w_options_are_refused_for_a_generator_without_a_w_space(tmp_path, capsys, args):
    train(tmp_path / "run", **TINY)
    command, *options = args
    assert main([command, str(tmp_path / "run"), *options]) == 2
    err = capsys.readouterr().err
    assert "needs a style-based generator" in err and "GAN 'gan' has none" in err and len(err.splitlines()) == 1


def test_two_truncations_at_once_and_a_psi_that_is_not_a_number_are_refused(style_run, capsys):
    assert main(["sample", str(style_run), "--psi", "0.5", "--truncation", "1"]) == 2
    assert "use one" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["sample", str(style_run), "--psi", "nan"])
    assert exit_info.value.code == 2 and "must be a number" in capsys.readouterr().err
