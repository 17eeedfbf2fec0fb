"""The growing generator and discriminator: shapes at every level of detail, the fade, Table 2's layers."""

from __future__ import annotations

import math

import pytest
import torch

import ganzoo
from ganzoo_progan.layers import downscale, upscale
from ganzoo_progan.networks import Discriminator, Generator, level_widths

TINY = {"fmap_base": 32, "fmap_max": 8}  # 8 feature maps up to 8x8, then 4, 2
Z = 16


def pair(levels: int, channels: int = 3) -> tuple[Generator, Discriminator]:
    widths = level_widths(levels, TINY["fmap_base"], 1.0, TINY["fmap_max"])
    return Generator(Z, channels, levels, widths), Discriminator(channels, levels, widths)


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("lod", [2.0, 1.75, 1.0, 0.5, 0.0])
def test_full_resolution_images_in_and_out_at_every_lod(channels, lod):
    torch.manual_seed(0)
    G, D = pair(4, channels)  # 16x16, growing from 4x4 (lod 2)
    G.set_lod(lod)
    D.set_lod(lod)
    images = G(torch.randn(4, Z))
    assert images.shape == (4, channels, 16, 16)
    # at lod k + t the image is made at side 16 / 2^k: constant on 2^k x 2^k squares
    block = 2 ** math.floor(lod)
    assert torch.equal(images, upscale(images[:, :, ::block, ::block], block))
    scores = D(images)
    assert scores.shape == (4,) and torch.isfinite(scores).all()


def test_a_fresh_pair_works_at_full_resolution_and_keeps_its_lod_in_its_state():
    # lod 0 until the progressive algorithm sets it: under another algorithm the pair trains without growing
    G, D = ganzoo.build_gan("progan-32", ganzoo.DataInfo((3, 32, 32)), z_dim=Z, **TINY)
    assert G.lod.item() == D.lod.item() == 0.0 and G.max_lod == 3.0
    images = G(torch.randn(2, Z))
    assert not torch.equal(images, upscale(images[:, :, ::2, ::2], 2))  # not blocks of a coarser level
    G.set_lod(1.5)
    assert G.state_dict()["lod"].item() == 1.5
    with pytest.raises(ValueError, match=r"lod must lie in \[0, 3\]"):
        G.set_lod(3.5)


@pytest.mark.parametrize("whole", [0, 1])
@pytest.mark.parametrize("fraction", [0.3, 0.8])
def test_generator_fades_linearly_from_the_previous_resolution_to_the_new(whole, fraction):
    # lerp(toRGB_new, upsampled toRGB_old, t), replicated: G(k + t) = (1 - t) G(k) + t G(k + 1), alpha = 1 - t
    torch.manual_seed(0)
    G, _ = pair(4)
    z = torch.randn(3, Z)

    def at(lod: float) -> torch.Tensor:
        G.set_lod(lod)
        return G(z)

    expected = (1 - fraction) * at(whole) + fraction * at(whole + 1)
    assert torch.allclose(at(whole + fraction), expected, atol=1e-5)
    assert not torch.allclose(at(whole), at(whole + 1), atol=1e-3)


def test_alpha_zero_is_the_previous_resolutions_network_upsampled():
    # A 16x16 pair at lod 1 is exactly the 8x8 pair with the same weights, images replicated 2x2 / averaged 2x2
    torch.manual_seed(0)
    G16, D16 = pair(4)
    G8, D8 = pair(3)
    for small, large in ((G8, G16), (D8, D16)):
        shared = {key: value for key, value in large.state_dict().items() if key in small.state_dict()}
        small.load_state_dict({**shared, "lod": torch.tensor(0.0)})
        large.set_lod(1.0)
    z = torch.randn(4, Z)
    assert torch.allclose(G16(z), upscale(G8(z), 2), atol=1e-6)
    x = torch.randn(4, 3, 16, 16)
    assert torch.allclose(D16(x), D8(downscale(x, 2)), atol=1e-5)


def test_discriminator_fade_is_continuous_at_both_ends():
    torch.manual_seed(0)
    _, D = pair(4)
    x = torch.randn(4, 3, 16, 16)

    def at(lod: float) -> torch.Tensor:
        D.set_lod(lod)
        return D(x)

    assert torch.allclose(at(1 + 1e-6), at(1.0), atol=1e-4)  # alpha = 1: the new layers alone
    assert torch.allclose(at(2 - 1e-6), at(2.0), atol=1e-4)  # alpha = 0: the previous resolution's layers alone
    assert not torch.allclose(at(1.5), at(1.0), atol=1e-3)


def test_generator_output_is_linear_in_training_and_clipped_for_pictures():
    torch.manual_seed(0)
    G, _ = pair(3)
    G.set_lod(G.max_lod)  # at 4x4, the first toRGB makes the image
    with torch.no_grad():
        G.to_rgb[0].bias.fill_(10.0)  # push every pixel past 1
    z = torch.randn(2, Z)
    assert G.train()(z).min() > 1
    assert torch.equal(G.eval()(z), torch.ones(2, 3, 8, 8))


def test_layers_and_widths_follow_the_release():
    G, D = ganzoo.build_gan("progan-128", ganzoo.DataInfo((3, 128, 128)), z_dim=512)
    # G_paper with fmap_base 8192, fmap_max 512: dense to 512 x 4 x 4 with gain sqrt(2)/4; 512 maps up to 32x32,
    # then 256 and 128; toRGB 1x1 with gain 1
    assert G.dense.weight.shape == (512 * 16, 512) and G.dense.scale == pytest.approx(math.sqrt(2) / 4 / math.sqrt(512))
    assert [block.conv1.weight.shape[0] for block in G.blocks] == [512, 512, 512, 256, 128]
    assert all(rgb.weight.shape[2:] == (1, 1) and rgb.scale == pytest.approx(1 / math.sqrt(rgb.weight.shape[1]))
               for rgb in G.to_rgb)
    # D_paper: fromRGB to nf(res - 1); blocks nf(res - 1) -> nf(res - 2); minibatch stddev adds one map at 4x4;
    # dense 512 x 4 x 4 -> 512, then the score with gain 1
    assert [rgb.weight.shape[0] for rgb in D.from_rgb] == [512, 512, 512, 512, 256, 128]
    assert [block.conv0.weight.shape[0] for block in D.blocks] == [512, 512, 512, 256, 128]
    assert [block.conv1.weight.shape[0] for block in D.blocks] == [512, 512, 512, 512, 256]
    assert D.last_conv.weight.shape[1] == 513 and D.dense.weight.shape == (512, 512 * 16)
    assert D.score.weight.shape == (1, 512) and D.score.scale == pytest.approx(1 / math.sqrt(512))


@pytest.mark.parametrize("name, side", [("progan-32", 32), ("progan-128", 128)])
def test_refuses_other_data_and_says_what_to_set(name, side):
    with pytest.raises(ValueError, match=rf"{name} serves {side}x{side} images only.*resolution = {side}"):
        ganzoo.build_gan(name, ganzoo.DataInfo((1, 28, 28)))
    with pytest.raises(ValueError, match="no class-conditional variant.*set conditional = false"):
        ganzoo.build_gan(name, ganzoo.DataInfo((3, side, side), num_classes=10, conditional=True))
    with pytest.raises(ValueError, match="leaves no feature maps at .*; raise fmap_base"):
        ganzoo.build_gan(name, ganzoo.DataInfo((3, side, side)), fmap_base=8)
