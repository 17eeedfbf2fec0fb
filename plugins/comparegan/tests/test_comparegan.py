"""The ``comparegan-infogan`` networks against compare_gan's definition (google/compare_gan, src/gans/abstract_gan.py
and ops.py) and the settings of Lucic et al. 2018."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import ganzoo
from ganzoo.testing import resolved_config

GREY = ganzoo.DataInfo((1, 28, 28))


def of(network: nn.Module, kind: type[nn.Module]) -> list[nn.Module]:
    return [m for m in network.modules() if isinstance(m, kind)]


def test_the_generator_is_compare_gans():
    torch.manual_seed(0)
    G, _ = ganzoo.build_gan("comparegan-infogan", GREY, z_dim=64)
    linears = [(m.in_features, m.out_features) for m in of(G, nn.Linear)]
    assert linears == [(64, 1024), (1024, 128 * 7 * 7)]
    deconvs = [(m.in_channels, m.out_channels, m.kernel_size, m.stride, m.padding) for m in of(G, nn.ConvTranspose2d)]
    assert deconvs == [(128, 64, (4, 4), (2, 2), (1, 1)), (64, 1, (4, 4), (2, 2), (1, 1))]
    norms = of(G, nn.modules.batchnorm._BatchNorm)
    assert [n.num_features for n in norms] == [1024, 6272, 64]
    assert all(n.eps == 1e-3 and n.momentum == pytest.approx(1e-3) and n.affine for n in norms)  # decay 0.999
    assert [m.negative_slope for m in of(G, nn.LeakyReLU)] == [0.2] * 3 and isinstance(G.net[-1], nn.Tanh)
    # every parameter of the graph: 64*1024+1024, 1024*6272+6272, 128*64*16+64, 64*16+1, and 2 per batch-norm unit
    weights = 64 * 1024 + 1024 + 1024 * 6272 + 6272 + 128 * 64 * 16 + 64 + 64 * 16 + 1
    assert sum(p.numel() for p in G.parameters()) == weights + 2 * (1024 + 6272 + 64)
    out = G.eval()(torch.rand(3, 64) * 2 - 1)
    assert out.shape == (3, 1, 28, 28) and out.abs().max() <= 1


@pytest.mark.parametrize("batchnorm", [True, False])
def test_the_discriminator_is_compare_gans(batchnorm):
    torch.manual_seed(0)
    _, D = ganzoo.build_gan("comparegan-infogan", GREY, z_dim=64, discriminator_batchnorm=batchnorm)
    convs = [(m.in_channels, m.out_channels, m.kernel_size, m.stride, m.padding) for m in of(D, nn.Conv2d)]
    assert convs == [(1, 64, (4, 4), (2, 2), (1, 1)), (64, 128, (4, 4), (2, 2), (1, 1))]
    assert [(m.in_features, m.out_features) for m in of(D, nn.Linear)] == [(6272, 1024), (1024, 1)]
    assert [n.num_features for n in of(D, nn.modules.batchnorm._BatchNorm)] == ([128, 1024] if batchnorm else [])
    assert D.eval()(torch.zeros(5, 1, 28, 28)).shape == (5,)
    # TensorFlow's SAME padding of a 4x4 stride-2 kernel: 28 -> 14 -> 7
    assert D.net[0](torch.zeros(1, 1, 28, 28)).shape[-1] == 14


def test_weights_start_as_compare_gan_draws_them():
    torch.manual_seed(0)
    G, D = ganzoo.build_gan("comparegan-infogan", GREY, z_dim=64)
    conv = D.net[2].weight  # truncated at two standard deviations
    assert conv.abs().max() <= 0.04 and conv.std().item() == pytest.approx(0.02 * 0.8796, rel=0.05)
    wide = G.net[3].weight  # plain normal: values beyond 2 std occur
    assert wide.std().item() == pytest.approx(0.02, rel=0.02) and wide.abs().max() > 0.04
    assert all(torch.equal(m.bias, torch.zeros_like(m.bias)) for m in of(D, nn.Linear) + of(G, nn.ConvTranspose2d))


def test_defaults_are_compare_gans_settings_for_the_gan():
    config = resolved_config(gan="comparegan-infogan", dataset="fashion-mnist")
    assert (config.objective, config.z_dim, config.prior, config.batch_size, config.d_steps) == (
        "nonsaturating", 64, "uniform", 64, 1)
    for optimizer in (config.optimizer_g, config.optimizer_d):
        assert (optimizer.kind, optimizer.lr, optimizer.betas) == ("adam", 5e-5, (0.0, 0.999))


def test_other_image_sizes_are_refused_with_what_to_set():
    with pytest.raises(ValueError, match=r"serves 28x28 images only \(got shape \(1, 32, 32\)\); set "
                                         r"dataset_options.resolution = 28"):
        ganzoo.build_gan("comparegan-infogan", ganzoo.DataInfo((1, 32, 32)), z_dim=64)
