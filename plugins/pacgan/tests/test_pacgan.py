"""The first-party ``pacgan`` plugin against PacGAN's definition and its 2D setup (Lin et al. 2018, Table 1;
the authors' fjxmlzn/PacGAN synthetic_data_experiments)."""

from __future__ import annotations

from contextlib import nullcontext

import pytest
import torch
from torch import nn

import ganzoo
import ganzoo.errors
from ganzoo.testing import resolved_config, train, trainer

POINTS = ganzoo.DataInfo((2,))
SMALL = {"g_hidden": 64, "g_layers": 2, "d_hidden": 32, "d_layers": 2}  # for runs: fewer, narrower layers


def layers(network: nn.Module, kind: type[nn.Module]) -> list[nn.Module]:
    return [m for m in network.modules() if isinstance(m, kind)]


def maxout_layers(network: nn.Module) -> list[nn.Module]:
    # found by what they hold, so the test imports nothing but the public API
    return [m for m in network.modules() if hasattr(m, "pieces") and hasattr(m, "units")]


def test_networks_are_the_papers_2d_networks():
    torch.manual_seed(0)
    G, D = ganzoo.build_gan("pacgan", POINTS, z_dim=2)
    # G: 4 hidden layers of 400 ReLU units with batch norm, linear output of 2 units
    linears = layers(G, nn.Linear)
    assert [(m.in_features, m.out_features) for m in linears] == [(2, 400)] + [(400, 400)] * 3 + [(400, 2)]
    assert [m.bias is None for m in linears] == [True] * 4 + [False]  # batch norm's shift replaces the bias
    norms = layers(G, nn.BatchNorm1d)
    assert [n.num_features for n in norms] == [400] * 4 and len(layers(G, nn.ReLU)) == 4
    assert all(n.eps == 1e-4 and n.momentum == 0.05 for n in norms)  # Blocks' epsilon, the code's bn_updates
    assert isinstance(G.net[-1], nn.Linear)  # no squashing: points lie anywhere in the plane
    # D: 3 maxout layers of 200 units with 5 pieces, then one logit; input 2m = 4 features for PacGAN2
    maxouts = maxout_layers(D)
    assert [(m.linear.in_features, m.units, m.pieces) for m in maxouts] == [(4, 200, 5), (200, 200, 5), (200, 200, 5)]
    assert isinstance(D.net[-1], nn.Linear) and D.net[-1].out_features == 1
    assert not layers(D, nn.modules.batchnorm._BatchNorm) and not layers(D, nn.Dropout)  # with_dropout=False
    # every weight from N(0, 0.02^2), every bias 0 (weights_init_std, biases_init)
    wide = maxouts[1].linear
    assert wide.weight.std().item() == pytest.approx(0.02, rel=0.02) and wide.weight.mean().abs() < 1e-3
    assert all(torch.equal(m.bias, torch.zeros_like(m.bias)) for m in layers(D, nn.Linear))


def test_defaults_are_table_1s_setting():
    config = resolved_config(gan="pacgan")
    assert config.objective == "nonsaturating" and config.algorithm == "alternating"
    assert (config.z_dim, config.prior, config.batch_size, config.d_steps) == (2, "normal", 100, 1)
    for optimizer in (config.optimizer_g, config.optimizer_d):
        assert (optimizer.kind, optimizer.lr, optimizer.betas) == ("adam", 1e-4, (0.8, 0.999))
    _, D = ganzoo.build_gan("pacgan", POINTS, z_dim=2)
    assert D.pack == 2  # PacGAN2 unless gan_options.pack says otherwise


def test_maxout_takes_the_max_over_adjacent_pieces():
    _, D = ganzoo.build_gan("pacgan", POINTS, z_dim=2, pack=1, d_hidden=2, pieces=4)
    layer = D.net[0]
    with torch.no_grad():
        layer.linear.bias.normal_()
    x = torch.randn(6, 2)
    pieces = (x @ layer.linear.weight.T + layer.linear.bias).view(6, 2, 4)
    assert torch.equal(layer(x), pieces.max(dim=2).values)


@pytest.mark.parametrize("pack", [1, 2, 3, 4])
def test_a_pack_is_scored_as_its_samples_concatenated_in_order(pack):
    torch.manual_seed(1)
    _, D = ganzoo.build_gan("pacgan", POINTS, z_dim=2, pack=pack, d_hidden=16)
    assert ganzoo.ScoreLayout.of(D) == ganzoo.ScoreLayout(pack=pack)
    assert D.net[0].linear.in_features == 2 * pack
    x = torch.randn(5 * pack, 2)
    scores = D(x)
    assert scores.shape == (5,)  # n samples, n / m scores
    rows = torch.stack([torch.cat(list(x[k * pack:(k + 1) * pack])) for k in range(5)])  # (x_1, ..., x_m)
    assert torch.allclose(scores, D.net(rows).view(-1), atol=1e-6)
    # packs are judged whole: reordering packs reorders scores, reordering inside a pack changes the score
    order = torch.tensor([3, 0, 4, 1, 2])
    assert torch.allclose(D(x.view(5, pack, 2)[order].reshape(-1, 2)), scores[order], atol=1e-6)
    if pack > 1:
        swapped = x.clone()
        swapped[[0, 1]] = x[[1, 0]]
        assert not torch.isclose(D(swapped)[0], scores[0])
    with pytest.raises(ValueError, match="not a whole number of packs") if pack > 1 else nullcontext():
        D(x[:-1])


@pytest.mark.parametrize("info, match", [
    (ganzoo.DataInfo((1, 28, 28)), r"points with one axis.*not data of shape \(1, 28, 28\); for images use dcgan"),
    (ganzoo.DataInfo((3, 4)), r"points with one axis"),
    (ganzoo.DataInfo((2,), num_classes=8, conditional=True), "no class-conditional variant; set conditional = false"),
])
def test_refuses_data_it_cannot_serve_and_says_what_to_use(info, match):
    with pytest.raises(ValueError, match=match):
        ganzoo.build_gan("pacgan", info)


@pytest.mark.parametrize("pack, batch_size", [(2, 15), (3, 100)])
def test_the_runner_refuses_a_batch_that_is_not_whole_packs(tmp_path, pack, batch_size):
    with pytest.raises(ganzoo.errors.ConfigError, match=rf"batch_size {batch_size} is not a multiple of {pack}"):
        trainer(tmp_path / "run", gan="pacgan", gan_options={"pack": pack}, batch_size=batch_size)


def test_the_discriminator_sees_packs_all_real_or_all_generated(tmp_path):
    run = trainer(tmp_path / "run", gan="pacgan", steps=2, batch_size=16, gan_options=SMALL)
    data = run.data.samples.tensors[0]
    seen: list[tuple[bool, ...]] = []

    def record(module, inputs, scores):
        (x,) = inputs
        assert scores.shape == (8,)  # 16 samples, 8 packs of 2
        seen.append(tuple((x[:, None, :] == data[None]).all(-1).any(-1).tolist()))  # each sample a data point?

    run.networks["discriminator"].register_forward_hook(record)
    run.fit()
    # per step: D's step scores one real and one generated batch, G's step one generated batch
    assert sorted(set(seen)) == [(False,) * 16, (True,) * 16] and len(seen) == 6
    assert sum(call[0] for call in seen) == 2


def test_trains_checkpoints_and_resumes_bit_for_bit(tmp_path):
    small = {"gan": "pacgan", "batch_size": 20, "gan_options": SMALL}
    whole = train(tmp_path / "whole", steps=20, **small)
    train(tmp_path / "split", steps=10, **small)
    resumed = trainer(tmp_path / "split", steps=20, **small)
    resumed.prepare(resume=True)
    assert resumed.step == 10  # continued from the checkpoint, not retrained from scratch
    resumed.fit()
    assert whole.step == resumed.step == 20
    for name in ("generator", "discriminator"):  # the generator's batch-norm statistics included
        a, b = whole.networks[name].state_dict(), resumed.networks[name].state_dict()
        assert a.keys() == b.keys() and all(torch.equal(a[key], b[key]) for key in a), name
    untrained = trainer(tmp_path / "untrained", steps=20, **small).networks["generator"]  # same seed, same init
    assert not torch.equal(untrained.net[0].weight, whole.networks["generator"].net[0].weight)
    (record,) = whole.last_eval
    assert record["metrics"]["num_modes"] == 8 and record["provenance"]["gan"]["distribution"] == "ganzoo-pacgan"
