"""The registered defaults resolve to train.py's configs (NVlabs/stylegan2-ada-pytorch): cfg 'cifar' with its
special cases for ``stylegan2-32``, cfg 'paper256' for ``stylegan2``, and training_loop.py's lazy regularisation."""

from __future__ import annotations

import pytest

import ganzoo
from ganzoo.registry.discovery import get_zoo
from ganzoo.testing import resolved_config

# train.py cfg_specs: (lrate, gamma, ema kimg, ramp, mb); training_loop.py: G_reg_interval 4, D_reg_interval 16
RELEASE = {"stylegan2-32": (0.0025, 0.01, 500, 0.05, 64), "stylegan2": (0.0025, 1.0, 20, None, 64)}


@pytest.mark.parametrize("name", RELEASE)
def test_optimizers_take_the_lazy_regularisation_ratio(name):
    lrate, gamma, ema_kimg, ramp, batch = RELEASE[name]
    config = resolved_config(gan=name)
    assert config.objective == "stylegan2" and config.algorithm == "alternating"
    assert (config.z_dim, config.prior, config.batch_size, config.d_steps) == (512, "normal", batch, 1)
    for optimizer, interval in ((config.optimizer_g, 4), (config.optimizer_d, 16)):
        ratio = interval / (interval + 1)  # k + 1 optimizer steps per k minibatches
        assert optimizer.kind == "adam"
        assert optimizer.lr == pytest.approx(lrate * ratio, rel=1e-12)
        assert optimizer.betas == pytest.approx((0.0, 0.99**ratio), rel=1e-12)
    objective = ganzoo.build_objective(config.objective, **config.objective_options)
    assert (objective.d_penalty_every, objective.g_penalty_every, objective.gamma) == (16, 4, gamma)
    assert objective.pl_weight == (0.0 if name == "stylegan2-32" else 2.0)  # cifar: "disable path length reg."
    assert (objective.pl_batch_shrink, objective.pl_decay) == (2, 0.01)


@pytest.mark.parametrize("name", RELEASE)
def test_moving_average_takes_the_releases_half_life(name):
    _, _, ema_kimg, ramp, batch = RELEASE[name]
    ema = resolved_config(gan=name).ema
    assert ema.enabled
    assert ema.decay == pytest.approx(0.5 ** (batch / (ema_kimg * 1000)), rel=1e-12)  # beta per minibatch
    assert ema.start == 0 and ema.rampup == ramp  # the release's ramp-up, as ganzoo's ema.rampup has it


@pytest.mark.parametrize("name", RELEASE)
def test_augmentation_is_ada_for_the_ada_papers_cifar_config_only(name):
    config = resolved_config(gan=name)
    assert config.augmentation == ("ada" if name == "stylegan2-32" else None)
    assert resolved_config(gan=name, augmentation="diffaugment").augmentation == "diffaugment"


def test_network_options_are_the_configs():
    zoo = get_zoo()
    cifar, paper256 = zoo.gans.get("stylegan2-32").options(), zoo.gans.get("stylegan2").options()
    assert (cifar.mapping_layers, cifar.channel_base, cifar.channel_max, cifar.mbstd_group) == (2, 32768, 512, 32)
    assert (cifar.style_mixing, cifar.d_architecture) == (0.0, "orig")  # train.py's cifar special cases
    assert (paper256.mapping_layers, paper256.channel_base, paper256.mbstd_group) == (8, 16384, 8)
    assert (paper256.style_mixing, paper256.d_architecture) == (0.9, "resnet")
    for options in (cifar, paper256):
        assert (options.w_dim, options.mapping_lr_multiplier, options.w_avg_beta) == (512, 0.01, 0.995)
        assert (options.mbstd_channels, options.conv_clamp) == (1, 256.0)


def test_cifar_networks_at_full_width():
    G, D = ganzoo.build_gan("stylegan2-32", ganzoo.DataInfo((3, 32, 32)), z_dim=512)
    assert [block.conv1.weight.shape[:2] for block in G.synthesis.blocks] == [(512, 512)] * 4  # fmaps 1
    assert len(G.mapping.layers) == 2 and G.num_ws == 8 and G.style_mixing == 0
    assert all(block.skip is None for block in D.blocks) and D.mbstd.group_size == 32


def test_options_refuse_bad_values():
    for bad in ({"style_mixing": 1.5}, {"d_architecture": "skip"}, {"mbstd_group": 0}, {"eval_noise": "fixed"},
                {"channels": 3}):
        with pytest.raises(ValueError):
            ganzoo.build_gan("stylegan2-32", ganzoo.DataInfo((3, 32, 32)), **bad)
    with pytest.raises(ValueError, match="mbstd_channels = 3 must divide"):
        ganzoo.build_gan("stylegan2-32", ganzoo.DataInfo((3, 32, 32)), channel_base=64, channel_max=16,
                         mbstd_channels=3)
