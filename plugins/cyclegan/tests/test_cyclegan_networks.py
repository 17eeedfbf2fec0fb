"""CycleGAN's networks: shapes, the generator's range, the PatchGAN's patch size, the released initialisation."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import ganzoo
from ganzoo_cyclegan.networks import PatchDiscriminator, ResnetGenerator, patch_map_side, receptive_field

NARROW = {"ngf": 4, "ndf": 4, "blocks": 1}


@pytest.mark.parametrize("shape", [(2, 1, 28, 28), (2, 3, 32, 32), (2, 3, 24, 40), (2, 1, 64, 64)])
def test_generators_keep_the_shape_and_the_range_and_patch_maps_have_the_computed_size(shape):
    torch.manual_seed(0)
    nets = ganzoo.build_gan("cyclegan", ganzoo.DataInfo(shape), **NARROW)
    _, channels, height, width = shape
    images = torch.rand(3, channels, height, width) * 2 - 1
    for name in ("generator_ab", "generator_ba"):
        out = nets[name](images * 50)  # far outside [-1, 1]: tanh must still bound the output
        assert out.shape == images.shape and out.abs().max() <= 1
    rows, columns = patch_map_side(height, 3)[1], patch_map_side(width, 3)[1]
    for name in ("discriminator_a", "discriminator_b"):
        assert nets[name](images).shape == (3, 1, rows, columns)


@pytest.mark.parametrize(("shape", "options", "message"), [
    ((1, 28, 28), {}, r"samples of shape \(2, C, H, W\).*dataset = \"unpaired\""),
    ((2, 28), {}, r"dataset = \"unpaired\""),
    ((2, 1, 30, 30), {}, "multiples of 4"),
    ((2, 1, 4, 4), {}, "multiples of 4, at least 8"),
    ((2, 1, 16, 16), {}, "d_layers = 3 leaves no patch"),
])
def test_refuses_data_it_cannot_serve_in_one_line(shape, options, message):
    with pytest.raises(ValueError, match=message) as refused:
        ganzoo.build_gan("cyclegan", ganzoo.DataInfo(shape), **NARROW, **options)
    assert "\n" not in str(refused.value)


def test_smaller_images_are_served_by_fewer_patchgan_layers():
    nets = ganzoo.build_gan("cyclegan", ganzoo.DataInfo((2, 1, 16, 16)), **NARROW, d_layers=2)
    assert nets["discriminator_a"](torch.zeros(2, 1, 16, 16)).shape == (2, 1, 2, 2)


def test_refuses_a_conditional_run():
    with pytest.raises(ValueError, match="no class-conditional variant"):
        ganzoo.build_gan("cyclegan", ganzoo.DataInfo((2, 1, 28, 28), num_classes=2, conditional=True), **NARROW)


# pix2pix (Isola et al. 2017, section 4.4) names its PatchGANs by patch size: 16x16, 70x70 (CycleGAN's) and
# 286x286 for 1, 3 and 5 strided layers
@pytest.mark.parametrize(("d_layers", "patch"), [(1, 16), (3, 70), (5, 286)])
def test_patchgan_receptive_field_computed_from_its_layers(d_layers, patch):
    assert receptive_field(PatchDiscriminator(3, 4, d_layers)) == patch


def test_patchgan_scores_depend_on_a_70_by_70_patch():
    """Without instance norm (which mixes every position's statistics), the gradient of one score reaches
    exactly a 70x70 window of the input: the receptive field, measured."""
    torch.manual_seed(0)
    critic = PatchDiscriminator(1, 4, 3)
    for index, layer in enumerate(critic.model):
        if isinstance(layer, nn.InstanceNorm2d):
            critic.model[index] = nn.Identity()
    with torch.no_grad():  # positive weights and a leak of 1: no gradient cancels or is cut
        for layer in critic.modules():
            if isinstance(layer, nn.Conv2d):
                layer.weight.abs_()
            if isinstance(layer, nn.LeakyReLU):
                layer.negative_slope = 1.0
    images = torch.zeros(1, 1, 160, 160, requires_grad=True)
    scores = critic(images)
    row, column = scores.shape[2] // 2, scores.shape[3] // 2
    scores[0, 0, row, column].backward()
    reached = images.grad[0, 0].abs() > 0
    assert (reached.sum(0) > 0).sum() == 70 and (reached.sum(1) > 0).sum() == 70
    assert reached.sum() == 70 * 70


def test_generator_follows_the_released_resnet_layout():
    generator = ResnetGenerator(3, 8, blocks=6)
    convolutions = [m for m in generator.modules() if isinstance(m, nn.Conv2d)]
    # c7s1-8, d16, d32, 6 x (two 3x3 at 32), u16, u8 (transposed), c7s1-3
    assert [c.kernel_size[0] for c in convolutions] == [7, 3, 3] + [3] * 12 + [7]
    assert [c.out_channels for c in convolutions] == [8, 16, 32] + [32] * 12 + [3]
    transposed = [m for m in generator.modules() if isinstance(m, nn.ConvTranspose2d)]
    assert [(t.out_channels, t.stride[0]) for t in transposed] == [(16, 2), (8, 2)]
    # reflection padding for the 7x7 and residual convolutions; no dropout
    assert sum(isinstance(m, nn.ReflectionPad2d) for m in generator.modules()) == 2 + 2 * 6
    assert not any(isinstance(m, nn.Dropout) for m in generator.modules())
    norms = [m for m in generator.modules() if isinstance(m, nn.InstanceNorm2d)]
    assert len(norms) == 3 + 12 + 2 and not any(n.affine or n.track_running_stats for n in norms)


def test_instance_norm_makes_each_translation_independent_of_the_rest_of_the_batch():
    torch.manual_seed(0)
    generator = ResnetGenerator(1, 4, blocks=1)
    images = torch.randn(4, 1, 28, 28)
    assert torch.allclose(generator(images)[:1], generator(images[:1]), atol=1e-6)


def test_weights_start_normal_with_std_002_and_biases_zero():
    torch.manual_seed(0)
    generator, critic = ResnetGenerator(3, 64, blocks=1), PatchDiscriminator(3, 64, 3)
    for network in (generator, critic):
        layers = [m for m in network.modules() if isinstance(m, nn.Conv2d | nn.ConvTranspose2d)]
        weights = torch.cat([layer.weight.detach().flatten() for layer in layers])
        assert weights.mean().abs() < 1e-3 and weights.std().item() == pytest.approx(0.02, rel=0.02)
        assert all(layer.bias is not None and not layer.bias.any() for layer in layers)
