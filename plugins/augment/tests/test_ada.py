"""ADA: the resampling filter, each transform against its definition, the draws' probabilities, gradients,
and the controller that steers p with the overfitting heuristic (Karras et al. 2020)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from ganzoo.errors import GanzooError
from ganzoo.testing import train
from ganzoo_augment.ada import ADA
from ganzoo_augment.pipeline import (
    apply_color,
    apply_geometric,
    augment,
    brightness,
    contrast,
    geometric_inverse,
    hue_rotation,
    luma_flip,
    matrices,
    rotate,
    saturation,
    scale,
    translate,
)
from ganzoo_augment.resample import SYM6, downsample2x, lowpass, upsample2x

ALL_GROUPS = ("blit", "geom", "color", "noise", "cutout")


def test_the_symlet_filter_is_orthogonal_to_its_even_shifts():
    h = np.array(SYM6)
    assert h.sum() == pytest.approx(math.sqrt(2)) and (h * h).sum() == pytest.approx(1.0)
    for shift in range(2, len(h), 2):
        assert (h[shift:] * h[:-shift]).sum() == pytest.approx(0.0, abs=1e-12)


def test_upsampling_is_zero_insertion_then_convolution_along_each_axis():
    x = torch.randn(2, 3, 5, 7, dtype=torch.float64)
    f = lowpass(dtype=torch.float64).numpy()

    def along(a: np.ndarray, axis: int) -> np.ndarray:
        def one(signal: np.ndarray) -> np.ndarray:
            spread = np.zeros(2 * len(signal))
            spread[::2] = signal
            # upfirdn2d's upsample2d pads (12 + 1) // 2 = 6 before: the full convolution from its 6th sample
            return np.convolve(spread, 2 * f)[5:5 + 2 * len(signal)]
        return np.apply_along_axis(one, axis, a)

    expected = along(along(x.numpy(), 3), 2)
    assert torch.allclose(upsample2x(x, lowpass(dtype=torch.float64)), torch.from_numpy(expected), atol=1e-12)


def test_downsampling_after_upsampling_gives_back_the_interior_exactly():
    x = torch.randn(2, 1, 20, 24, dtype=torch.float64)
    back = downsample2x(upsample2x(x, lowpass(dtype=torch.float64)), lowpass(dtype=torch.float64))
    assert back.shape == x.shape
    assert torch.allclose(back[..., 6:-6, 6:-6], x[..., 6:-6, 6:-6], atol=1e-12)


@pytest.mark.parametrize("shape", [(3, 3, 32, 32), (2, 1, 28, 28), (2, 3, 17, 24)])
def test_every_group_at_p_0_leaves_the_image_as_it_was(shape):
    torch.manual_seed(0)
    x = torch.rand(shape) * 2 - 1
    assert torch.allclose(augment(x, 0.0, ALL_GROUPS), x, atol=2e-5)


def _resampled(x: torch.Tensor, inverse: torch.Tensor) -> torch.Tensor:
    return apply_geometric(x, inverse.expand(len(x), 3, 3))


def testgeometric_inverse_execution_shifts_whole_pixels_exactly_and_flips_and_turns_smooth_images():
    torch.manual_seed(1)
    x = torch.rand(2, 3, 16, 16)
    # output pixel j reads input pixel j - 2; the two columns brought in are reflections of the image
    shift = translate(-2, 0, 1, x.device)
    expected = F.pad(x, [2, 0, 0, 0], mode="reflect")[..., :16]
    assert torch.allclose(_resampled(x, shift), expected, atol=1e-5)
    # the symlet filter is not symmetric, so a mirrored image is resampled through a phase error that the
    # identity cancels (as in the release): close to the exact mirror for smooth images, not equal
    smooth = F.interpolate(torch.rand(2, 3, 4, 4), size=(16, 16), mode="bilinear", align_corners=False)
    flip = scale(-1, 1, 1, x.device)
    assert (_resampled(smooth, flip) - smooth.flip(-1)).abs().max() < 0.03
    quarter = rotate(torch.tensor([math.pi / 2]), 1, x.device)
    assert (_resampled(smooth, quarter) - torch.rot90(smooth, 1, dims=(2, 3))).abs().max() < 0.03
    assert (smooth.flip(-1) - smooth).abs().max() > 0.3


def test_blit_draws_the_eight_symmetries_and_whole_pixel_shifts_each_with_probability_p():
    torch.manual_seed(2)
    images = torch.zeros(20000, 1, 32, 32)
    inverse = geometric_inverse(images, 1.0, ("blit",))
    linear, shift = inverse[:, :2, :2].round(), inverse[:, :2, 2]
    assert torch.allclose(inverse[:, :2, :2], linear, atol=1e-6)  # cos and sin of quarter turns, rounded
    assert torch.equal(linear.abs().sum(1), torch.ones(20000, 2))  # signed permutations
    kinds = torch.unique(linear.reshape(-1, 4), dim=0, return_counts=True)[1]
    assert len(kinds) == 8 and (kinds / 20000 - 1 / 8).abs().max() < 0.015
    assert torch.allclose(shift, shift.round(), atol=1e-5) and shift.abs().max().round() == 4  # 1/8 of 32
    # at p = 0.5: no flip with probability 1 - 0.5 / 2, no rotation with 1 - 0.5 * 3 / 4
    identity = (geometric_inverse(images, 0.5, ("blit",))[:, :2, :2].round() == torch.eye(2)).all(-1).all(-1).float().mean()
    assert identity.item() == pytest.approx(0.75 * 0.625, abs=0.015)


def test_geomscales_with_probability_p_and_the_papers_spread():
    torch.manual_seed(3)
    inverse = geometric_inverse(torch.zeros(20000, 1, 32, 32), 0.5, ("geom",))
    # rotations and the anisotropic stretch keep the area: only the isotropic scaling s changes it, by 1 / s^2
    log_area = torch.log2(torch.linalg.det(inverse[:, :2, :2]).abs())
    scaled = log_area.abs() > 1e-5
    assert scaled.float().mean().item() == pytest.approx(0.5, abs=0.015)
    assert (-log_area[scaled] / 2).std().item() == pytest.approx(0.2, rel=0.05)  # log2 s ~ N(0, 0.2^2)


def test_color_transforms_match_their_definitions_on_rgb_pixels():
    torch.manual_seed(4)
    x = torch.rand(1, 3, 4, 4)
    mean = x.mean(dim=1, keepdim=True)

    def apply(matrix: torch.Tensor) -> torch.Tensor:
        return apply_color(x, matrix)

    assert torch.allclose(apply(brightness(torch.tensor([0.3]))), x + 0.3, atol=1e-6)
    assert torch.allclose(apply(contrast(torch.tensor([1.7]))), x * 1.7, atol=1e-6)
    assert torch.allclose(apply(luma_flip(torch.ones(1, 1, 1))), x - 2 * mean, atol=1e-6)
    # a third of a turn about (1, 1, 1) permutes the channels cyclically
    turned = apply(hue_rotation(torch.tensor([2 * math.pi / 3])))
    assert torch.allclose(turned, x[:, [2, 0, 1]], atol=1e-6)
    assert torch.allclose(apply(saturation(torch.full((1, 1, 1), 0.25))), mean + 0.25 * (x - mean), atol=1e-6)


def test_grayscale_images_take_the_mean_output_channel_of_the_colour_map():
    x = torch.rand(1, 1, 4, 4)
    assert torch.allclose(apply_color(x, luma_flip(torch.ones(1, 1, 1))), -x, atol=1e-6)
    assert torch.allclose(apply_color(x, contrast(torch.tensor([2.0])) @ brightness(torch.tensor([0.5]))),
                          2 * (x + 0.5), atol=1e-6)


def test_color_refuses_images_that_are_neither_rgb_nor_gray():
    with pytest.raises(ValueError, match="RGB or grayscale images, not 4 channels"):
        augment(torch.zeros(2, 4, 8, 8), 0.5, ("color",))
    assert augment(torch.zeros(2, 4, 8, 8), 0.5, ("blit", "geom")).shape == (2, 4, 8, 8)


def test_generated_images_get_the_gradient_of_the_same_affine_map():
    # for drawn parameters the pipeline is affine in the pixels: J d, read from two calls, is what autograd's
    # vector-Jacobian product says it is
    x = torch.rand(3, 3, 16, 16) * 2 - 1
    direction, weights = torch.randn_like(x), torch.randn_like(x)

    def run(images: torch.Tensor) -> torch.Tensor:
        torch.manual_seed(5)
        return augment(images, 1.0, ALL_GROUPS)

    moved = ((run(x + direction) - run(x)) * weights).sum()
    source = x.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad((run(source) * weights).sum(), source)
    assert grad.abs().sum() > 0
    assert (grad * direction).sum().item() == pytest.approx(moved.item(), rel=1e-3, abs=1e-3)


def _observe(ada: ADA, sign: float, batch: int = 8, times: int = 1) -> None:
    for _ in range(times):
        ada(torch.zeros(batch, 1, 8, 8))
        ada.observe(torch.full((batch,), sign))


def test_p_moves_by_the_images_of_an_interval_toward_the_heuristics_target():
    ada = ADA(["blit"], target=0.6, interval=4, kimg=0.1)  # 32 images per interval: steps of 0.32
    _observe(ada, 1.0, times=3)
    assert float(ada.p) == 0.0  # not before the interval ends
    _observe(ada, 1.0)
    assert float(ada.p) == pytest.approx(0.32)  # r_t = 1 > 0.6: D overfits, augment more
    _observe(ada, 1.0, times=4)
    assert float(ada.p) == pytest.approx(0.64)
    _observe(ada, -1.0, times=4)  # r_t = -1 < 0.6: augment less
    assert float(ada.p) == pytest.approx(0.32)
    _observe(ada, -1.0, times=8)
    assert float(ada.p) == 0.0  # never below 0
    ada.observe(torch.tensor([1.0, 1.0, 1.0, 1.0, -1.0]))  # mixed: r_t = 0.6 exactly (weights per score)
    for _ in range(3):
        ada.observe(torch.tensor([1.0, 1.0, 1.0, 1.0, -1.0]))
    assert float(ada.p) == 0.0


def test_a_fixed_probability_does_not_move():
    ada = ADA(["blit"], p=0.3, adaptive=False, interval=1, kimg=0.001)
    _observe(ada, 1.0, times=5)
    assert float(ada.p) == pytest.approx(0.3)


def test_the_controller_resumes_mid_interval_as_if_never_stopped():
    signs = [1.0, 1.0, 1.0, 1.0, -1.0, 1.0, 1.0]
    whole = ADA(["blit"], interval=4, kimg=0.1)
    first = ADA(["blit"], interval=4, kimg=0.1)
    for sign in signs[:2]:
        _observe(whole, sign)
        _observe(first, sign)
    resumed = ADA(["blit"], interval=4, kimg=0.1)
    resumed.load_state_dict(first.state_dict())
    for sign in signs[2:]:
        _observe(whole, sign)
        _observe(resumed, sign)
    assert float(whole.p) > 0 and {k: v.tolist() for k, v in whole.state_dict().items()} == \
        {k: v.tolist() for k, v in resumed.state_dict().items()}
    with pytest.raises(ValueError, match="ADA's state has p, signs"):
        resumed.load_state_dict({"p": torch.tensor(0.0)})


def test_a_run_logs_p_rising_while_d_tells_real_images_apart(tmp_path):
    run = train(tmp_path / "run", gan="dcgan", dataset="fashion-mnist", augmentation="ada",
                augmentation_options={"interval": 1, "kimg": 0.04}, gan_options={"g_channels": 8, "d_channels": 8},
                steps=6, batch_size=4, log_every=1, checkpoint_every=3)
    lines = [json.loads(line) for line in (tmp_path / "run" / "stats.jsonl").read_text().splitlines()]
    ps = [line["ada_p"] for line in lines if "ada_p" in line]
    rts = [line["ada_rt"] for line in lines if "ada_rt" in line]
    assert len(ps) == 6 and len(rts) == 6
    # each step moves p by 4 / 40 toward r_t's side of 0.6, from 0, never below it
    expected = [0.0]
    for rt in rts[:-1]:
        expected.append(max(expected[-1] + (0.1 if rt > 0.6 else -0.1 if rt < 0.6 else 0.0), 0.0))
    assert ps == pytest.approx(expected, abs=1e-6)
    assert float(run.augmentation.p) == pytest.approx(
        max(expected[-1] + (0.1 if rts[-1] > 0.6 else -0.1 if rts[-1] < 0.6 else 0.0), 0.0), abs=1e-6)


@pytest.mark.parametrize(("options", "message"), [
    ({"pipeline": ["blit", "blit"]}, "list each group once; blit repeated"),
    ({"pipeline": ["filter"]}, "pipeline"),
    ({"target": 1.5}, "target"),
])
def test_bad_options_are_refused_in_one_line(tmp_path, options, message):
    with pytest.raises(GanzooError, match=message):
        train(tmp_path / "run", gan="dcgan", dataset="fashion-mnist", augmentation="ada",
              augmentation_options=options, steps=1)


def testmatrices_broadcast_numbers_and_per_image_values():
    built = matrices([[1, torch.tensor([2.0, 3.0])], [0, 1]], 2, torch.device("cpu"))
    assert torch.equal(built, torch.tensor([[[1.0, 2.0], [0.0, 1.0]], [[1.0, 3.0], [0.0, 1.0]]]))


def test_a_run_augments_real_and_generated_batches_with_the_same_pipeline(tmp_path, monkeypatch):
    seen: list[tuple[int, bool]] = []
    original = ADA.__call__

    def watched(self, samples):
        seen.append((len(samples), samples.requires_grad))
        return original(self, samples)

    monkeypatch.setattr(ADA, "__call__", watched)
    train(tmp_path / "run", gan="dcgan", dataset="fashion-mnist", augmentation="ada",
          gan_options={"g_channels": 8, "d_channels": 8}, steps=2, batch_size=4)
    # each step: real and generated in D's step, generated (with gradients for G) in G's step
    assert seen[:3] == [(4, False), (4, False), (4, True)]
