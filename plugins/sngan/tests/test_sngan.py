"""The 32x32 CNN and ResNet pairs ``sngan-cnn`` and ``sngan-resnet`` (Miyato et al. 2018; Miyato & Koyama 2018)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import ganzoo
from ganzoo.layers import ConditionalBatchNorm2d
from ganzoo.layers.resblocks import DownBlock, OptimizedDownBlock, UpBlock
from ganzoo.testing import resolved_config
from ganzoo_sngan.spectral import normalised_layers

SNGANS = ("sngan-cnn", "sngan-resnet")
SMALL = {"sngan-cnn": {"g_channels": 16, "d_channels": 16}, "sngan-resnet": {"g_channels": 32, "d_channels": 32}}


def conditional(shape=(3, 32, 32), classes=10):
    return ganzoo.DataInfo(shape, num_classes=classes, conditional=True)


@pytest.mark.parametrize("name", SNGANS)
@pytest.mark.parametrize("channels", (1, 3))
def test_builds_32x32_images_of_any_channel_count(name, channels):
    torch.manual_seed(0)
    G, D = ganzoo.build_gan(name, ganzoo.DataInfo((channels, 32, 32)), z_dim=128, **SMALL[name])
    images = G(torch.randn(4, 128))
    assert images.shape == (4, channels, 32, 32) and images.abs().max() <= 1
    scores = D(images)
    assert scores.shape == (4,) and torch.isfinite(scores).all()


@pytest.mark.parametrize("name", SNGANS)
@pytest.mark.parametrize("shape", [(3, 28, 28), (3, 64, 64), (3, 32, 16)])
def test_refuses_other_shapes_and_says_how_to_fix_it(name, shape):
    with pytest.raises(ValueError, match=rf"{name} serves 32x32 images only.*dataset_options.resolution = 32"):
        ganzoo.build_gan(name, ganzoo.DataInfo(shape))
    with pytest.raises(ValueError, match=rf"{name} serves images, not data of shape \(2,\)"):
        ganzoo.build_gan(name, ganzoo.DataInfo((2,)))


@pytest.mark.parametrize("name", SNGANS)
def test_every_discriminator_layer_is_spectrally_normalised_to_unit_norm(name):
    # the paper normalises every weight of D (a conv kernel read as out x (in * kh * kw)) and none of G
    torch.manual_seed(0)
    G, D = ganzoo.build_gan(name, conditional(), **SMALL[name])
    layers = normalised_layers(D)
    weighted = [m for m in D.modules() if isinstance(m, (nn.Conv2d, nn.Linear, nn.Embedding))]
    assert layers == weighted and len(layers) >= 8
    assert normalised_layers(G) == []
    for _ in range(200):  # in training mode, each use of a weight runs one power iteration (Algorithm 1)
        for layer in layers:
            _ = layer.weight
    D.eval()  # eval mode: W / sigma with the converged estimate, no further iteration
    for layer in layers:
        weight = layer.weight.detach()
        sigma = torch.linalg.matrix_norm(weight.reshape(weight.shape[0], -1), ord=2).item()
        assert sigma == pytest.approx(1.0, abs=5e-3), layer


def test_resnet_follows_table_4():
    G, D = ganzoo.build_gan("sngan-resnet", ganzoo.DataInfo((3, 32, 32)), z_dim=128)
    assert G.project.out_features == 256 * 4 * 4
    assert [type(b) for b in G.blocks] == [UpBlock] * 3 and all(b.conv2.out_channels == 256 for b in G.blocks)
    assert isinstance(D.blocks[0], OptimizedDownBlock)
    blocks = [(type(b), b.downsample) for b in D.blocks[1:]]
    assert blocks == [(DownBlock, True), (DownBlock, False), (DownBlock, False)]
    assert all(m.out_channels == 128 for m in D.modules() if isinstance(m, nn.Conv2d))
    assert not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in D.modules())
    assert D.head.linear.bias is None
    # global sum pooling: phi(x) is the sum over the 8x8 positions of ReLU(last block's output)
    seen = []
    D.blocks[-1].register_forward_hook(lambda module, inputs, output: seen.append(output))
    x = torch.randn(2, 3, 32, 32)
    phi = D.features(x)
    assert seen[0].shape == (2, 128, 8, 8)
    assert torch.allclose(phi, torch.relu(seen[0]).sum(dim=(2, 3)))


def test_cnn_follows_table_3():
    G, D = ganzoo.build_gan("sngan-cnn", ganzoo.DataInfo((3, 32, 32)), z_dim=128)
    assert G.project.out_features == 512 * 4 * 4
    assert [m.out_channels for m in G.ups] == [256, 128, 64] and G.out.kernel_size == (3, 3)
    plan = [(m.out_channels, m.kernel_size[0], m.stride[0]) for m in D.convs]
    assert plan == [(64, 3, 1), (64, 4, 2), (128, 3, 1), (128, 4, 2), (256, 3, 1), (256, 4, 2), (512, 3, 1)]
    assert D.head.features == 512 * 4 * 4
    assert not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in D.modules())
    # leaky ReLU of slope 0.1 (Table 3's caption) between convolutions
    D.eval()  # no power iteration between the two calls below, so both see the same W / sigma
    seen = []
    D.convs[1].register_forward_hook(lambda module, inputs, output: seen.append(inputs[0]))
    x = torch.randn(2, 3, 32, 32)
    D(x)
    h = D.convs[0](x)
    assert (h < 0).any() and torch.allclose(seen[0], torch.where(h > 0, h, 0.1 * h))


@pytest.mark.parametrize("name", SNGANS)
def test_conditional_pair_uses_conditional_batch_norm_and_projection(name):
    torch.manual_seed(0)
    G, D = ganzoo.build_gan(name, conditional(), z_dim=128, **SMALL[name])
    z = torch.randn(6, 128)
    a, b = torch.full((6,), 2), torch.full((6,), 7)
    # fresh conditional batch norms are the identity affine map for every class
    assert torch.equal(G(z, a), G(z, b))
    with torch.no_grad():
        for module in G.modules():
            if isinstance(module, ConditionalBatchNorm2d):
                module.gain.weight.normal_(1.0, 0.3)
                module.bias.weight.normal_(0.0, 0.3)
    images = G(z, a)
    assert not torch.allclose(images, G(z, b), atol=1e-3)
    # D(x, y) - D(x, y') = <embed(y) - embed(y'), phi(x)>, with the normalised embedding
    D.eval()
    phi, V = D.features(images), D.head.embed.weight.detach()
    assert torch.allclose(D(images, a) - D(images, b), ((V[2] - V[7]) * phi).sum(1), rtol=1e-4, atol=1e-4)
    assert not torch.allclose(D(images, a), D(images, b))
    with pytest.raises(TypeError):
        D(images)


def test_conditional_resnet_conditions_the_blocks_not_the_last_norm():
    # as in the authors' gen_models/resnet_32.py: conditional BN inside the blocks, plain BN before the output
    G, _ = ganzoo.build_gan("sngan-resnet", conditional(), **SMALL["sngan-resnet"])
    block_norms = [m for b in G.blocks for m in (b.norm1, b.norm2)]
    assert all(isinstance(m, ConditionalBatchNorm2d) for m in block_norms)
    assert type(G.norm) is nn.BatchNorm2d


@pytest.mark.parametrize("name, d_steps, betas", [("sngan-cnn", 1, (0.5, 0.999)), ("sngan-resnet", 5, (0.0, 0.9))])
def test_registered_defaults_are_the_papers(name, d_steps, betas):
    config = resolved_config(gan=name)
    assert config.objective == "hinge" and config.z_dim == 128 and config.batch_size == 64
    assert config.prior == "normal" and config.d_steps == d_steps and not config.ema.enabled
    for optimizer in (config.optimizer_g, config.optimizer_d):
        assert optimizer.kind == "adam" and optimizer.lr == 2e-4 and optimizer.betas == betas
