"""The generator and discriminator: shapes, the mapping network, truncation and the average w, style mixing,
noise inputs, the two discriminator architectures and the conditional projection."""

from __future__ import annotations

import math

import pytest
import torch

import ganzoo
from ganzoo.utils import seeded_draws
from ganzoo_stylegan2.discriminator import Discriminator
from ganzoo_stylegan2.generator import Generator, channels_at

SMALL = {"w_dim": 16, "channel_base": 128, "channel_max": 16}  # 16, 16, 8, 4, 2 channels at 4 ... 64
Z = 8


def build(name, channels=3, side=32, classes=None, **options):
    info = ganzoo.DataInfo((channels, side, side), num_classes=classes, conditional=classes is not None)
    return ganzoo.build_gan(name, info, z_dim=Z, **{**SMALL, **options})


def labels_for(classes, n):
    return None if classes is None else torch.arange(n) % classes


@pytest.mark.parametrize("name, side", [("stylegan2-32", 32), ("stylegan2", 64)])
@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("classes", [None, 10])
def test_shapes_of_both_networks(name, side, channels, classes):
    torch.manual_seed(0)
    G, D = build(name, channels, side, classes)
    z, labels = torch.randn(4, Z), labels_for(classes, 4)
    assert G.num_ws == 2 * int(math.log2(side)) - 2  # two codes a resolution, one at 4x4, one for the last toRGB
    w = G.mapping(z, labels)
    assert w.shape == (4, 16)
    images = G(z, labels) if classes else G(z)
    assert images.shape == (4, channels, side, side)
    scores = D(images, labels) if classes else D(images)
    assert scores.shape == (4,) and torch.isfinite(scores).all()
    G.eval()
    with torch.no_grad():  # sampling: images in [-1, 1], and G(z) is mapping then synthesis
        sampled = G(z, labels) if classes else G(z)
        assert sampled.abs().max() <= 1
        assert torch.equal(sampled, G.synthesis(G.mapping(z, labels)))
        assert torch.equal(sampled, G.synthesis(w.unsqueeze(1).repeat(1, G.num_ws, 1)))


@pytest.mark.parametrize("name, sides", [("stylegan2-32", "32x32 images only"), ("stylegan2", "64x64, 128x128, 256x256")])
def test_refuses_other_shapes_and_says_how_to_fix_it(name, sides):
    for shape in [(3, 16, 16), (3, 512, 512), (3, 64, 32)]:
        with pytest.raises(ValueError, match=rf"{name} serves (square images of )?{sides}.*dataset_options.resolution"):
            ganzoo.build_gan(name, ganzoo.DataInfo(shape))


def test_channels_follow_the_release_rule():
    # min(channel_base / res, channel_max), in G's blocks and D's
    G = Generator(Z, (3, 64, 64), w_dim=8, mapping_layers=2, channel_base=512, channel_max=32)
    assert [block.conv1.weight.shape[0] for block in G.synthesis.blocks] == [32, 32, 32, 16, 8]
    assert [channels_at(r, 16384, 512) for r in (4, 8, 16, 32, 64, 128, 256)] == [512] * 4 + [256, 128, 64]
    D = Discriminator((3, 64, 64), channel_base=512, channel_max=32, architecture="resnet", mbstd_group=4,
                      mbstd_channels=1)
    assert [(block.conv0.weight.shape[0], block.conv1.weight.shape[0]) for block in D.blocks] == \
        [(8, 16), (16, 32), (32, 32), (32, 32)]
    assert D.conv.weight.shape[:2] == (32, 33)  # + the minibatch-stddev feature


def test_mapping_network_layers_and_learning_rate_multiplier():
    G, _ = build("stylegan2", side=64, classes=5, mapping_layers=3, mapping_lr_multiplier=0.01)
    layers = list(G.mapping.layers)
    assert len(layers) == 3 and all(layer.leaky for layer in layers)
    assert layers[0].weight.shape == (16, Z + 16)  # z concatenated with the 16-feature label embedding
    assert all(layer.weight_gain == pytest.approx(0.01 / math.sqrt(layer.weight.shape[1])) for layer in layers)
    assert G.mapping.embed.weight.shape == (16, 5) and G.mapping.embed.weight_gain == pytest.approx(1 / math.sqrt(5))
    z = torch.randn(3, Z)
    assert torch.allclose(G.mapping(z, torch.arange(3)), G.mapping(5 * z, torch.arange(3)), atol=1e-5)  # z normalised
    assert not torch.allclose(G.mapping(z, torch.zeros(3, dtype=torch.long)), G.mapping(z, torch.ones(3, dtype=torch.long)))


def test_truncation_pulls_towards_the_average_w():
    G, _ = build("stylegan2-32")
    G.eval()
    with torch.no_grad():
        G.mapping.w_avg.normal_()
    z = torch.randn(5, Z)
    w = G.mapping(z)
    assert torch.allclose(G.mapping(z, psi=0.0), G.mapping.w_avg.expand(5, -1))  # every z maps to w_avg
    assert torch.equal(G.mapping(z, psi=1.0), w)
    assert torch.allclose(G.mapping(z, psi=0.5), (w + G.mapping.w_avg) / 2, atol=1e-6)
    assert torch.allclose(G.mapping(z, psi=-1.0), 2 * G.mapping.w_avg - w, atol=1e-6)


def test_average_w_is_tracked_in_training_mode_only():
    G, _ = build("stylegan2-32", w_avg_beta=0.9)
    z = torch.randn(6, Z)
    G.eval()
    G(z)
    assert torch.equal(G.mapping.w_avg, torch.zeros(16))
    G.train()
    with torch.no_grad():
        G.mapping.w_avg.fill_(1.0)
        w = G.mapping(z, track=False)
    G(z)
    assert torch.allclose(G.mapping.w_avg, 0.9 * torch.ones(16) + 0.1 * w.mean(dim=0), atol=1e-6)


def test_style_mixing_crosses_over_between_two_ws():
    torch.manual_seed(0)
    G, _ = build("stylegan2", side=64, style_mixing=1.0)
    z = torch.randn(4, Z)
    with torch.no_grad():
        own = G.mapping(z, track=False)
    crossovers = set()
    for _ in range(30):
        ws = G.training_ws(z)
        layer = next(i for i in range(G.num_ws) if not torch.allclose(ws[:, i], own))  # the first mixed layer
        assert 1 <= layer < G.num_ws
        assert torch.allclose(ws[:, :layer], own.unsqueeze(1).expand(-1, layer, -1))
        other = ws[:, layer]
        assert torch.allclose(ws[:, layer:], other.unsqueeze(1).expand_as(ws[:, layer:]))
        assert not torch.allclose(other, own, atol=1e-3)
        crossovers.add(layer)
    assert len(crossovers) > 3  # the crossover is drawn anew each time
    seen = []
    G.synthesis.register_forward_pre_hook(lambda module, args: seen.append(args[0]))
    G(z)
    assert not torch.allclose(seen[0][:, -1], own)  # the forward pass trains on mixed codes
    G.eval()
    assert torch.equal(G.training_ws(z), own.unsqueeze(1).expand(-1, G.num_ws, -1))  # never in eval mode
    G.train()
    G.style_mixing = 0.0
    assert torch.allclose(G.training_ws(z), own.unsqueeze(1).expand(-1, G.num_ws, -1))


def test_noise_inputs_random_in_training_and_seeded_for_sampling():
    torch.manual_seed(0)
    G, _ = build("stylegan2-32")
    layers = [m for m in G.modules() if hasattr(m, "noise_strength")]
    assert len(layers) == 7 and all(layer.noise_strength.item() == 0 for layer in layers)  # learned, from 0
    with torch.no_grad():
        for layer in layers:
            layer.noise_strength.fill_(0.5)
    z = torch.randn(2, Z)
    assert not torch.allclose(G(z), G(z))  # fresh noise each call
    G.eval()
    assert not torch.equal(G(z), G(z))  # eval_noise 'random', the default: fresh draws, as the release's metrics
    with seeded_draws(3, torch.device("cpu")):
        first = G(z)
    with seeded_draws(3, torch.device("cpu")):
        assert torch.equal(G(z), first)  # ganzoo's sampling seeds them: one seed, one picture
    G.synthesis.eval_noise = "const"
    assert torch.equal(G(z), G(z))  # the stored draw
    with torch.no_grad():  # 'none' is noise strength 0
        G.synthesis.eval_noise = "none"
        no_noise = G(z)
        for layer in layers:
            layer.noise_strength.zero_()
        G.synthesis.eval_noise = "const"
        assert torch.allclose(no_noise, G(z), atol=1e-6)


def test_discriminator_architectures():
    _, resnet = build("stylegan2", side=64)
    _, orig = build("stylegan2-32")
    assert all(block.skip is not None for block in resnet.blocks)
    assert all(block.skip is None for block in orig.blocks)
    assert [block.fromrgb is not None for block in orig.blocks] == [True, False, False]  # fromRGB in the first only
    # residual: (shortcut + main) * sqrt(1/2)
    block, x = resnet.blocks[1], torch.randn(2, 4, 32, 32)  # the 32x32 block: 4 channels in
    main = block.conv1(block.conv0(x))
    assert torch.allclose(block(x), (block.skip(x) + main) * math.sqrt(0.5), atol=1e-5)


def test_conditional_discriminator_projects_onto_the_mapped_label():
    torch.manual_seed(0)
    _, D = build("stylegan2-32", classes=10)
    x = torch.randn(4, 3, 32, 32)
    features = []
    D.out.register_forward_hook(lambda module, args, out: features.append(out))
    a, b = torch.full((4,), 2), torch.full((4,), 7)
    difference = D(x, a) - D(x, b)
    cmap = D.label_mapping(None, a) - D.label_mapping(None, b)
    assert torch.allclose(difference, (features[0] * cmap).sum(1) / math.sqrt(16), atol=1e-5)
    assert not torch.allclose(difference, torch.zeros(4))
    with pytest.raises(TypeError):
        D(x)


def test_sampling_in_large_batches_equals_small_ones():
    # eval batches up to 16 run as one grouped convolution, larger ones unfused: the same images either way
    torch.manual_seed(0)
    G, _ = build("stylegan2-32", classes=3)
    G.eval()
    z, labels = torch.randn(40, Z), torch.arange(40) % 3
    with torch.no_grad():
        whole = G(z, labels)
        pieces = torch.cat([G(z[i:i + 8], labels[i:i + 8]) for i in range(0, 40, 8)])
    assert torch.allclose(whole, pieces, atol=1e-5)


def test_to_rgb_is_a_modulated_1x1_convolution_with_the_equalised_gain_and_no_demodulation():
    # the release's ToRGBLayer: styles = affine(w) * 1 / sqrt(in_channels * 1 * 1), then modulated_conv2d with
    # demodulate=False: per sample, the 1x1 weight scaled by the styles over its input channels, plus the bias
    torch.manual_seed(0)
    G, _ = build("stylegan2-32")
    torgb = G.synthesis.blocks[-1].torgb
    channels = torgb.weight.shape[1]
    x, w = torch.randn(3, channels, 4, 4), torch.randn(3, G.synthesis.w_dim)
    with torch.no_grad():
        torgb.bias.normal_()
        styles = torgb.affine(w) / math.sqrt(channels)
        expected = torch.stack([
            torch.nn.functional.conv2d(x[i:i + 1], torgb.weight * styles[i].reshape(1, -1, 1, 1))[0]
            for i in range(3)]) + torgb.bias.reshape(1, -1, 1, 1)
        assert torch.allclose(torgb(x, w), expected, atol=1e-5)


def test_the_image_is_the_sum_of_every_resolutions_rgb_upsampled():
    # the skip generator (Figure 7b): img = upsample(img) + rgb at each block, from the 4x4 block's rgb
    from ganzoo_stylegan2.resample import fir_filter, upsample2d

    torch.manual_seed(0)
    G, _ = build("stylegan2-32")
    rgbs = []
    for block in G.synthesis.blocks:
        block.torgb.register_forward_hook(lambda module, inputs, output: rgbs.append(output))
    with torch.no_grad():
        image = G.train()(torch.randn(2, Z))  # training mode: unclamped
        expected = rgbs[0]
        for rgb in rgbs[1:]:
            expected = upsample2d(expected, fir_filter()) + rgb
    assert len(rgbs) == 4 and [rgb.shape[-1] for rgb in rgbs] == [4, 8, 16, 32]
    assert torch.allclose(image, expected, atol=1e-5)
