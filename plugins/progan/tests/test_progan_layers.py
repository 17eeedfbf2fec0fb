"""The layers of section 3 and 4 of Karras et al. 2018, each against its definition."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from ganzoo_progan.layers import (
    EqualizedConv2d,
    EqualizedLinear,
    feature_maps,
    images_at_lod,
    minibatch_stddev,
    pixel_norm,
)


def test_equalised_conv_stores_unit_normal_weights_and_scales_them_by_he_at_run_time():
    torch.manual_seed(0)
    conv = EqualizedConv2d(64, 128, 3)
    stored = conv.weight.detach()
    # 73,728 draws: their mean and deviation are within a few 1/sqrt(n) = 0.004 of N(0, 1)'s
    assert abs(stored.mean().item()) < 0.02 and abs(stored.std().item() - 1) < 0.02
    assert torch.equal(conv.bias.detach(), torch.zeros(128))
    x = torch.randn(2, 64, 5, 5)
    effective = stored * math.sqrt(2 / (64 * 3 * 3))
    assert torch.allclose(conv(x), F.conv2d(x, effective, padding=1), atol=1e-5)
    # the scale is applied at every call, not folded into the stored weight once
    with torch.no_grad():
        conv.weight.mul_(3)
    assert torch.allclose(conv(x), F.conv2d(x, 3 * effective, padding=1), atol=1e-4)


def test_equalised_linear_uses_its_own_gain():
    torch.manual_seed(0)
    dense = EqualizedLinear(512, 16, gain=1.0)
    x = torch.randn(3, 512)
    assert torch.allclose(dense(x), x @ (dense.weight.detach() / math.sqrt(512)).T, atol=1e-5)


def test_pixel_norm_gives_unit_mean_square_over_channels_at_every_pixel():
    torch.manual_seed(0)
    x = torch.randn(4, 16, 3, 3) * torch.rand(4, 1, 3, 3) * 10  # a different scale at every pixel
    y = pixel_norm(x)
    assert torch.allclose(y.square().mean(dim=1), torch.ones(4, 3, 3), atol=1e-5)
    assert torch.allclose(pixel_norm(5 * x), y, atol=1e-6)  # only the direction of each feature vector is kept


def test_minibatch_stddev_appends_each_groups_mean_deviation_as_the_release_groups_samples():
    torch.manual_seed(0)
    x = torch.randn(8, 3, 2, 2)
    out = minibatch_stddev(x, group_size=4)
    assert out.shape == (8, 4, 2, 2) and torch.equal(out[:, :3], x)
    # groups of 4, sample n in group n mod 2 (the release reshapes the batch to (group, batch / group, ...))
    for members in ([0, 2, 4, 6], [1, 3, 5, 7]):
        group = x[members]
        deviation = torch.sqrt(((group - group.mean(0)) ** 2).mean(0) + 1e-8)  # population std per feature, pixel
        expected = deviation.mean()
        for n in members:
            assert torch.allclose(out[n, 3], torch.full((2, 2), expected.item()), atol=1e-6)


def test_minibatch_stddev_groups_a_small_batch_whole_and_refuses_a_ragged_one():
    x = torch.tensor([[[[1.0]]], [[[3.0]]]])  # two samples, one feature: deviation 1 around the mean 2
    assert torch.allclose(minibatch_stddev(x, 4)[:, 1], torch.ones(2, 1, 1), atol=1e-6)
    with pytest.raises(ValueError, match="batch of 6 does not split.*set batch_size to a multiple of 4"):
        minibatch_stddev(torch.randn(6, 2, 4, 4), 4)


def test_channel_rule_is_the_releases():
    # nf(stage) = min(int(8192 / 2^stage), 512): 512 up to 32x32 (stage 4), then 256, 128, ..., 16 at 1024x1024
    assert [feature_maps(stage, 8192, 1.0, 512) for stage in range(10)] == [512] * 5 + [256, 128, 64, 32, 16]
    assert feature_maps(3, 8192, 0.5, 512) == 512 and feature_maps(9, 8192, 0.5, 10**6) == int(8192 / 2**4.5)


def test_real_images_at_a_whole_lod_are_their_block_means_replicated():
    torch.manual_seed(0)
    x = torch.randn(2, 3, 16, 16)
    assert torch.equal(images_at_lod(x, 0.0), x)
    at_two = images_at_lod(x, 2.0)
    blocks = x.reshape(2, 3, 4, 4, 4, 4).mean(dim=(3, 5))  # 4x4 means: the 4x4 image
    assert torch.allclose(at_two, blocks.repeat_interleave(4, 2).repeat_interleave(4, 3), atol=1e-6)


@pytest.mark.parametrize("whole", [0, 1, 2])
@pytest.mark.parametrize("fraction", [0.25, 0.6])
def test_real_images_fade_linearly_between_neighbouring_levels(whole, fraction):
    torch.manual_seed(0)
    x = torch.randn(2, 1, 16, 16)
    expected = (1 - fraction) * images_at_lod(x, whole) + fraction * images_at_lod(x, whole + 1)
    assert torch.allclose(images_at_lod(x, whole + fraction), expected, atol=1e-6)
