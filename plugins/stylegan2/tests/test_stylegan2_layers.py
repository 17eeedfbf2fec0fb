"""The building blocks against their definitions: FIR resampling, equalised lr, pixel norm, modulated
convolution and demodulation (Karras et al. 2020, eq. 1-3), minibatch standard deviation."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from ganzoo_stylegan2.layers import EqualConv2d, EqualLinear, MinibatchStd, modulated_conv2d, normalize_2nd_moment
from ganzoo_stylegan2.resample import conv2d_up, downsample2d, fir_filter, upfirdn2d, upsample2d


def interpolation_matrix(n: int) -> torch.Tensor:
    """(2n, n): the 1D [1, 3, 3, 1] upsampler written out, y[2i] = (x[i-1] + 3 x[i]) / 4 and
    y[2i+1] = (3 x[i] + x[i+1]) / 4, zeros outside (linear interpolation at samples i -/+ 1/4)."""
    matrix = torch.zeros(2 * n, n, dtype=torch.float64)
    for i in range(n):
        matrix[2 * i, i], matrix[2 * i + 1, i] = 0.75, 0.75
        if i > 0:
            matrix[2 * i, i - 1] = 0.25
        if i + 1 < n:
            matrix[2 * i + 1, i + 1] = 0.25
    return matrix


def decimation_matrix(n: int) -> torch.Tensor:
    """(n/2, n): y[i] = (x[2i-1] + 3 x[2i] + 3 x[2i+1] + x[2i+2]) / 8, zeros outside."""
    matrix = torch.zeros(n // 2, n, dtype=torch.float64)
    for i in range(n // 2):
        for offset, tap in zip((-1, 0, 1, 2), (1, 3, 3, 1)):
            if 0 <= 2 * i + offset < n:
                matrix[i, 2 * i + offset] = tap / 8
    return matrix


def test_fir_filter_is_the_normalised_outer_product_of_1_3_3_1():
    taps = torch.tensor([1.0, 3.0, 3.0, 1.0])
    assert torch.allclose(fir_filter(), torch.outer(taps, taps) / 64)


def test_upsampling_and_downsampling_equal_their_direct_computation():
    x = torch.randn(2, 3, 6, 6, dtype=torch.float64)
    kernel = fir_filter().double()
    up, down = interpolation_matrix(6), decimation_matrix(6)  # the 2D filter is separable: rows, then columns
    assert torch.allclose(upsample2d(x, kernel), up @ x @ up.T, atol=1e-12)
    assert torch.allclose(downsample2d(x, kernel), down @ x @ down.T, atol=1e-12)
    constant = torch.ones(1, 1, 8, 8, dtype=torch.float64)  # gain: a constant keeps its value away from the borders
    assert torch.allclose(upsample2d(constant, kernel)[..., 2:-2, 2:-2], torch.ones(1, 1, 12, 12, dtype=torch.float64))
    assert torch.allclose(downsample2d(constant, kernel)[..., 1:-1, 1:-1], torch.ones(1, 1, 2, 2, dtype=torch.float64))


def test_upsampling_convolution_is_filtered_upsampling_then_a_convolution():
    # the release's transposed-convolution path computes: insert zeros, filter (gain 4), convolve with the kernel
    x, weight = torch.randn(2, 3, 5, 5, dtype=torch.float64), torch.randn(4, 3, 3, 3, dtype=torch.float64)
    kernel = fir_filter().double()
    upsampled = upfirdn2d(x, kernel, up=2, padding=(3, 2), gain=4.0)  # one more pixel each side than upsample2d
    expected = F.conv2d(upsampled, weight.flip(2, 3))  # a transposed convolution convolves: flipped for conv2d
    assert conv2d_up(x, weight, kernel).shape == (2, 4, 10, 10)
    assert torch.allclose(conv2d_up(x, weight, kernel), expected, atol=1e-12)


@pytest.mark.parametrize("lr_multiplier", [1.0, 0.01])
def test_equalised_learning_rate_scales_weights_at_runtime(lr_multiplier):
    torch.manual_seed(0)
    layer = EqualLinear(256, 64, lr_multiplier=lr_multiplier, bias_init=1.0).double()  # float64: see the last step
    c = lr_multiplier / math.sqrt(256)
    x = torch.randn(5, 256, dtype=torch.float64)
    assert torch.allclose(layer(x), x @ (layer.weight * c).T + lr_multiplier * layer.bias, atol=1e-5)
    # stored N(0, 1) / multiplier, so the weight in use starts at N(0, 1 / fan_in) whatever the multiplier
    assert (layer.weight * c).std().item() == pytest.approx(1 / 16, rel=0.05)
    # Adam's first step moves every stored weight by lr (the step is scale-free), so the weight in use moves by lr * c
    used_before = layer.weight.detach() * c
    optimizer = torch.optim.Adam(layer.parameters(), lr=1e-3)
    layer(x).square().sum().backward()
    optimizer.step()
    moved = (layer.weight.detach() * c - used_before).abs()
    assert torch.allclose(moved, torch.full_like(moved, 1e-3 * c), rtol=1e-3)


def test_equalised_convolution_with_the_scaled_leaky_relu():
    torch.manual_seed(0)
    conv = EqualConv2d(3, 5, 3)
    with torch.no_grad():
        conv.bias.normal_()
    x = torch.randn(2, 3, 6, 6)
    linear = F.conv2d(x, conv.weight / math.sqrt(3 * 9), conv.bias, padding=1)
    assert torch.allclose(conv(x), math.sqrt(2) * F.leaky_relu(linear, 0.2), atol=1e-5)
    clamped = EqualConv2d(3, 5, 3, clamp=0.1)
    clamped.load_state_dict(conv.state_dict())
    assert clamped(x).abs().max() <= 0.1 + 1e-6


def test_pixel_norm_gives_unit_mean_square_and_ignores_scale():
    z = torch.randn(7, 32) * torch.rand(7, 1) * 10
    normed = normalize_2nd_moment(z)
    assert torch.allclose(normed.square().mean(dim=1), torch.ones(7), atol=1e-5)
    assert torch.allclose(normalize_2nd_moment(3 * z), normed, atol=1e-5)


def per_sample_reference(x, weight, styles, demodulate, up=False):
    """Each sample convolved alone with w'_ijk = s_i w_ijk, demodulated by sigma_j = sqrt(sum_ik w'_ijk^2)."""
    outputs = []
    for sample, style in zip(x, styles):
        w = weight * style.reshape(1, -1, 1, 1)
        if demodulate:
            w = w / (w.square().sum(dim=(1, 2, 3), keepdim=True) + 1e-8).sqrt()
        outputs.append(conv2d_up(sample[None], w, fir_filter().double()) if up else
                       F.conv2d(sample[None], w, padding=w.shape[-1] // 2))
    return torch.cat(outputs)


@pytest.mark.parametrize("up", [False, True])
@pytest.mark.parametrize("demodulate", [True, False])
def test_modulated_convolution_equals_per_sample_convolution(up, demodulate):
    x = torch.randn(3, 4, 5, 5, dtype=torch.float64)
    weight, styles = torch.randn(6, 4, 3, 3, dtype=torch.float64), torch.randn(3, 4, dtype=torch.float64)
    expected = per_sample_reference(x, weight, styles, demodulate, up)
    fir = fir_filter().double()
    for fused in (True, False):  # one grouped convolution; or activations scaled before and after
        got = modulated_conv2d(x, weight, styles, demodulate=demodulate, up=up, fir=fir, fused=fused)
        assert torch.allclose(got, expected, atol=1e-10), fused


def test_demodulation_restores_unit_output_variance():
    # eq. 2-3: for i.i.d. unit-variance inputs the output of channel j has variance sum_ik w'_ijk^2, which
    # demodulation divides out; measured away from the zero-padded border
    torch.manual_seed(0)
    x = torch.randn(8, 32, 24, 24)
    weight, styles = torch.randn(16, 32, 3, 3), 1 + 2 * torch.rand(8, 32)
    for demodulate in (True, False):
        y = modulated_conv2d(x, weight, styles, demodulate=demodulate, fused=False)[..., 1:-1, 1:-1]
        variance = y.transpose(0, 1).reshape(16, -1).var(dim=1)
        if demodulate:
            assert torch.allclose(variance, torch.ones(16), rtol=0.1)
        else:  # without it, the variance is the modulated weights' squared norm, far from 1
            expected = (weight.square() * styles.square().mean(0).reshape(1, -1, 1, 1)).sum(dim=(1, 2, 3))
            assert variance.min() > 50 and torch.allclose(variance, expected, rtol=0.25)


def test_minibatch_standard_deviation_appends_each_groups_mean_std():
    x = torch.randn(6, 4, 3, 3, dtype=torch.float64)
    out = MinibatchStd(group_size=3)(x)
    assert out.shape == (6, 5, 3, 3) and torch.equal(out[:, :4], x)
    # the release groups sample i with i + 2 and i + 4 (a reshape to (G, N / G, ...))
    for member in range(6):
        group = x[member % 2::2]
        expected = group.std(dim=0, unbiased=False).mean()
        assert torch.allclose(out[member, 4], expected.expand(3, 3), atol=1e-6)
    assert torch.equal(MinibatchStd(group_size=8)(x)[:, 4], MinibatchStd(group_size=6)(x)[:, 4])  # at most the batch
    with pytest.raises(ValueError, match="do not divide the batch of 6"):
        MinibatchStd(group_size=4)(x)
