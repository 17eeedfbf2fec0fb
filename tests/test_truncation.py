"""The truncation trick of ``ganzoo sample`` (Brock, Donahue and Simonyan 2019, section 3.1)."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from conftest import TINY
from ganzoo.api.prior import Prior, generate
from ganzoo.cli import main
from ganzoo.testing import train


def truncated_normal_std(threshold: float) -> float:
    """The standard deviation of N(0, 1) conditioned on [-t, t]: var = 1 - 2 t phi(t) / (2 Phi(t) - 1)."""
    phi = math.exp(-threshold**2 / 2) / math.sqrt(2 * math.pi)
    mass = math.erf(threshold / math.sqrt(2))  # 2 Phi(t) - 1
    return math.sqrt(1 - 2 * threshold * phi / mass)


@pytest.mark.parametrize("threshold", [0.5, 1.0, 2.0])
def test_truncated_latents_follow_the_truncated_normal(threshold):
    prior = Prior("normal", 4, torch.device("cpu"))
    codes = prior.sample_truncated(50_000, torch.Generator().manual_seed(0), threshold)
    assert codes.shape == (50_000, 4) and codes.abs().max() <= threshold
    assert codes.std().item() == pytest.approx(truncated_normal_std(threshold), rel=0.01)
    assert codes.mean().abs().item() < 0.01
    again = prior.sample_truncated(50_000, torch.Generator().manual_seed(0), threshold)
    assert torch.equal(codes, again)  # one seed, one picture


class Recorder(nn.Module):
    def __init__(self):
        super().__init__()
        self.seen: list[torch.Tensor] = []

    def forward(self, z):
        self.seen.append(z)
        return torch.zeros(len(z), 2)


def test_generate_hands_the_generator_truncated_latents_only_when_asked():
    prior, recorder = Prior("normal", 8, torch.device("cpu")), Recorder()
    generate(recorder, prior, 3000, seed=1, truncation=0.3, batch_size=1000)
    assert len(recorder.seen) == 3 and all(z.abs().max() <= 0.3 for z in recorder.seen)
    generate(recorder, prior, 1000, seed=1)
    assert recorder.seen[-1].abs().max() > 2  # the plain normal prior, unchanged


def test_sample_with_truncation_writes_its_picture_and_says_so(tmp_path, capsys):
    train(tmp_path / "run", **TINY)
    picture = tmp_path / "truncated.png"
    assert main(["sample", str(tmp_path / "run"), "--truncation", "0.5", "-o", str(picture)]) == 0
    assert picture.stat().st_size > 1000 and "latents truncated to ±0.5" in capsys.readouterr().out


def test_truncation_is_refused_in_one_line_where_it_cannot_apply(tmp_path, capsys):
    train(tmp_path / "uniform", **TINY, prior="uniform")
    assert main(["sample", str(tmp_path / "uniform"), "--truncation", "0.5"]) == 2
    err = capsys.readouterr().err
    assert "trained with the uniform prior; leave --truncation out" in err and err.count("\n") == 1
    for bad in ("0", "-1", "nan", "inf", "half"):
        with pytest.raises(SystemExit) as stopped:
            main(["sample", str(tmp_path / "uniform"), "--truncation", bad])
        assert stopped.value.code == 2 and "must be a number above 0" in capsys.readouterr().err


class Noisy(nn.Module):
    """Draws noise of its own in eval mode, as StyleGAN2's noise inputs do."""

    def forward(self, z):
        return z + torch.randn_like(z)


def test_noise_a_generator_draws_itself_repeats_per_seed_and_leaves_the_global_stream_alone():
    prior = Prior("normal", 4, torch.device("cpu"))
    torch.manual_seed(123)
    before = torch.get_rng_state()
    first = generate(Noisy(), prior, 10, seed=5)
    assert torch.equal(torch.get_rng_state(), before)  # a run that samples mid-training trains on as if it had not
    assert torch.equal(generate(Noisy(), prior, 10, seed=5), first)
    assert not torch.equal(generate(Noisy(), prior, 10, seed=6), first)
