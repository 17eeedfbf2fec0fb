"""The embedded toy data sets and the toy metrics, checked against their definitions."""

from __future__ import annotations

import math

import pytest
import torch

import ganzoo
from ganzoo.datasets.toy import sample_mixture
from ganzoo.metrics.toy import toy_metrics


def test_ring8_is_eight_modes_evenly_spaced_on_the_unit_circle():
    data = ganzoo.load_dataset("ring8")
    centers = data.mixture.centers
    assert data.mixture.std == 0.01 and data.info.shape == (2,)
    assert torch.allclose(centers.norm(dim=1), torch.ones(8))
    angles = torch.sort(torch.atan2(centers[:, 1], centers[:, 0]) % (2 * math.pi)).values
    assert torch.allclose(angles.diff(), torch.full((7,), 2 * math.pi / 8), atol=1e-6)


def test_grid25_is_the_five_by_five_grid():
    data = ganzoo.load_dataset("grid25")
    got = {tuple(p) for p in data.mixture.centers.tolist()}
    assert got == {(-4.0 + 2 * i, -4.0 + 2 * j) for i in range(5) for j in range(5)}
    assert data.mixture.std == 0.05


@pytest.mark.parametrize("name", ["ring8", "grid25"])
def test_points_scatter_around_their_mode_with_the_stated_std(name):
    data = ganzoo.load_dataset(name, num_samples=20_000)
    points = data.samples.tensors[0]
    offsets = points - data.mixture.centers[torch.cdist(points, data.mixture.centers).argmin(dim=1)]
    # the sample std of 40,000 coordinates is within 2% of the true std with overwhelming probability
    assert offsets.std().item() == pytest.approx(data.mixture.std, rel=0.02)
    assert ganzoo.load_dataset(name, num_samples=100).samples.tensors[0].equal(
        ganzoo.load_dataset(name, num_samples=100).samples.tensors[0])


def test_samples_from_the_data_distribution_score_as_theory_says():
    mixture = ganzoo.load_dataset("ring8").mixture
    samples = sample_mixture(mixture, 2500, torch.Generator().manual_seed(1))
    m = toy_metrics(samples, mixture)
    assert (m["modes"], m["num_modes"]) == (8, 8)
    # |offset| / std is Rayleigh-distributed: P(r <= 3) = 1 - exp(-9/2); binomial sd over 2500 draws is 0.2%
    assert m["high_quality_pct"] == pytest.approx(100 * (1 - math.exp(-4.5)), abs=1.0)
    # for a multinomial sample, E[KL(empirical || uniform)] is about (K - 1) / (2N) = 0.0014
    assert 0 <= m["reverse_kl"] < 0.01


def test_all_samples_on_one_mode_give_log_k():
    mixture = ganzoo.load_dataset("grid25").mixture
    samples = mixture.centers[7].repeat(100, 1)
    m = toy_metrics(samples, mixture)
    assert (m["modes"], m["high_quality_pct"]) == (1, 100.0)
    assert m["reverse_kl"] == pytest.approx(math.log(25))


def test_two_modes_equally_and_low_quality_points_excluded():
    mixture = ganzoo.load_dataset("ring8").mixture
    on_modes = torch.cat([mixture.centers[0].repeat(30, 1), mixture.centers[3].repeat(30, 1)])
    off_modes = torch.tensor([[0.0, 0.0]]).repeat(40, 1)  # distance 1 from every mode: not high quality
    m = toy_metrics(torch.cat([on_modes, off_modes]), mixture)
    assert (m["modes"], m["high_quality_pct"]) == (2, 60.0)
    assert m["reverse_kl"] == pytest.approx(math.log(4))


def test_no_high_quality_samples_has_no_reverse_kl():
    mixture = ganzoo.load_dataset("ring8").mixture
    m = toy_metrics(torch.full((10, 2), 5.0), mixture)
    assert (m["modes"], m["high_quality_pct"], m["reverse_kl"]) == (0, 0.0, None)
