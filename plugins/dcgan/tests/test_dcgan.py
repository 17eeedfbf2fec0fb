"""The ``dcgan`` plugin against Radford, Metz and Chintala 2015."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import ganzoo
from ganzoo.layers import ConditionalBatchNorm2d
from ganzoo.testing import resolved_config

SHAPES = [(c, s, s) for s in (28, 32, 64) for c in (1, 3)]


@pytest.mark.parametrize("shape", SHAPES)
def test_builds_every_supported_size_and_channel_count(shape):
    torch.manual_seed(0)
    G, D = ganzoo.build_gan("dcgan", ganzoo.DataInfo(shape), z_dim=100)
    images = G(torch.randn(3, 100))
    assert images.shape == (3, *shape)
    assert images.abs().max() <= 1 and images.std() > 0.01  # tanh output, not collapsed to a constant
    scores = D(images)
    assert scores.shape == (3,) and torch.isfinite(scores).all()


@pytest.mark.parametrize("shape", [(3, 48, 48), (3, 16, 16), (1, 32, 28), (3, 128, 128)])
def test_refuses_other_shapes_naming_the_supported_sizes(shape):
    with pytest.raises(ValueError, match=r"28x28, 32x32, 64x64.*dataset_options.resolution"):
        ganzoo.build_gan("dcgan", ganzoo.DataInfo(shape))
    with pytest.raises(ValueError, match=r"dcgan serves images, not data of shape \(2,\)"):
        ganzoo.build_gan("dcgan", ganzoo.DataInfo((2,)))


def test_follows_the_papers_architecture_guidelines():
    G, D = ganzoo.build_gan("dcgan", ganzoo.DataInfo((3, 64, 64)))
    # section 3: no pooling, no fully connected hidden layers: one dense map in G (the projection of z)
    # and one in D (the flattened last conv map to the single output)
    for net in (G, D):
        assert not any(isinstance(m, (nn.MaxPool2d, nn.AvgPool2d)) for m in net.modules())
        assert sum(isinstance(m, nn.Linear) for m in net.modules()) == 1
    # 4x4 -> 64x64 is four doublings: four transposed convs in G, four stride-2 convs in D
    assert [m.stride for m in G.modules() if isinstance(m, nn.ConvTranspose2d)] == [(2, 2)] * 4
    assert [m.stride for m in D.modules() if isinstance(m, nn.Conv2d)] == [(2, 2)] * 4
    assert G.project.out_features == 512 * 4 * 4  # default width 64: 64 * 2^3 channels at 4x4
    # batch norm everywhere but D's input layer and G's output layer
    assert isinstance(D.norms[0], nn.Identity) and all(isinstance(n, nn.BatchNorm2d) for n in D.norms[1:])
    assert len(G.norms) == len(G.ups) and G.ups[-1].out_channels == 3
    # D's LeakyReLU has slope 0.2: what its second conv receives is the first conv's output h,
    # with h < 0 scaled by 0.2
    seen = []
    D.convs[1].register_forward_hook(lambda module, inputs, output: seen.append(inputs[0]))
    x = torch.randn(2, 3, 64, 64)
    D(x)
    h = D.convs[0](x)
    assert (h < 0).any() and torch.allclose(seen[0], torch.where(h > 0, h, 0.2 * h))


def test_weights_start_from_normal_0_002_and_batch_norm_gains_from_normal_1_002():
    torch.manual_seed(0)
    G, D = ganzoo.build_gan("dcgan", ganzoo.DataInfo((3, 64, 64)))
    weights = torch.cat([m.weight.detach().flatten() for net in (G, D) for m in net.modules()
                         if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear))])
    assert weights.numel() > 5_000_000
    assert weights.std().item() == pytest.approx(0.02, rel=0.01)
    assert abs(weights.mean().item()) < 1e-4
    gains = torch.cat([m.weight.detach() for net in (G, D) for m in net.modules()
                       if isinstance(m, nn.BatchNorm2d) and m.affine])
    assert gains.mean().item() == pytest.approx(1.0, abs=0.005)
    assert gains.std().item() == pytest.approx(0.02, rel=0.15)
    biases = [m.bias for net in (G, D) for m in net.modules() if getattr(m, "bias", None) is not None]
    assert all(torch.count_nonzero(b) == 0 for b in biases)


def test_options_set_the_widths():
    G, D = ganzoo.build_gan("dcgan", ganzoo.DataInfo((1, 28, 28)), g_channels=16, d_channels=8)
    assert G.project.out_features == 32 * 7 * 7 and G.ups[0].out_channels == 16
    assert [m.out_channels for m in D.convs] == [8, 16]


def test_conditional_pair_depends_on_the_labels():
    torch.manual_seed(0)
    info = ganzoo.DataInfo((1, 28, 28), num_classes=10, conditional=True)
    G, D = ganzoo.build_gan("dcgan", info, z_dim=100)
    assert any(isinstance(m, ConditionalBatchNorm2d) for m in G.modules())
    z = torch.randn(8, 100)
    zeros, fives = torch.zeros(8, dtype=torch.long), torch.full((8,), 5)
    # every class starts with gain 1 and bias 0: a fresh G ignores its labels exactly ...
    assert torch.equal(G(z, zeros), G(z, fives))
    # ... and follows them once the per-class parameters differ, as training makes them
    with torch.no_grad():
        for module in G.modules():
            if isinstance(module, ConditionalBatchNorm2d):
                module.gain.weight.normal_(1.0, 0.3)
                module.bias.weight.normal_(0.0, 0.3)
    images = G(z, zeros)
    assert images.shape == (8, 1, 28, 28) and not torch.allclose(images, G(z, fives), atol=1e-3)
    scores = D(images, zeros)
    assert scores.shape == (8,) and not torch.allclose(scores, D(images, fives), atol=1e-5)
    with pytest.raises(TypeError):
        G(z)


def test_registered_defaults_are_the_papers():
    config = resolved_config(gan="dcgan")
    assert config.objective == "nonsaturating"
    assert config.z_dim == 100 and config.batch_size == 128 and config.prior == "uniform"
    for optimizer in (config.optimizer_g, config.optimizer_d):
        assert optimizer.kind == "adam" and optimizer.lr == 2e-4 and optimizer.betas == (0.5, 0.999)
    assert config.d_steps == 1 and not config.ema.enabled


def test_one_training_step_moves_both_networks():
    torch.manual_seed(0)
    G, D = ganzoo.build_gan("dcgan", ganzoo.DataInfo((1, 28, 28)), g_channels=16, d_channels=16)
    objective = ganzoo.build_objective("nonsaturating")
    real, z = torch.rand(16, 1, 28, 28) * 2 - 1, torch.rand(16, 100) * 2 - 1
    before = [p.detach().clone() for p in (*G.parameters(), *D.parameters())]
    opt_d, opt_g = torch.optim.Adam(D.parameters(), 2e-4, betas=(0.5, 0.999)), torch.optim.Adam(G.parameters(), 2e-4)
    objective.discriminator_loss(D(real), D(G(z).detach())).backward()
    opt_d.step()
    objective.generator_loss(D(G(z))).backward()
    opt_g.step()
    after = [p.detach() for p in (*G.parameters(), *D.parameters())]
    assert all(not torch.equal(a, b) for a, b in zip(before, after))
