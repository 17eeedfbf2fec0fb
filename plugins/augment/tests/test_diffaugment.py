"""DiffAugment against the released code's definitions, written out pixel by pixel; its gradients; a run."""

from __future__ import annotations

import pytest
import torch

from ganzoo.errors import GanzooError
from ganzoo.testing import train
from ganzoo_augment.diffaugment import POLICIES, DiffAugment


def released(x: torch.Tensor, policy: tuple[str, ...]) -> torch.Tensor:
    """What mit-han-lab/data-efficient-gans' DiffAugment_pytorch.py (commit 297dc8c) computes, one image and one
    pixel at a time, drawing from torch's global generator in its order."""
    x = x.clone()
    batch, channels, height, width = x.shape
    for name in policy:
        if name == "color":
            x = x + (torch.rand(batch, 1, 1, 1) - 0.5)
            mean = x.mean(dim=1, keepdim=True)
            x = (x - mean) * (torch.rand(batch, 1, 1, 1) * 2) + mean
            mean = x.mean(dim=(1, 2, 3), keepdim=True)
            x = (x - mean) * (torch.rand(batch, 1, 1, 1) + 0.5) + mean
        elif name == "translation":
            shift_r, shift_c = height // 8, width // 8
            by_r = torch.randint(-shift_r, shift_r + 1, (batch, 1, 1)).flatten().tolist()
            by_c = torch.randint(-shift_c, shift_c + 1, (batch, 1, 1)).flatten().tolist()
            out = torch.zeros_like(x)
            for b in range(batch):
                for i in range(height):
                    for j in range(width):
                        if 0 <= i + by_r[b] < height and 0 <= j + by_c[b] < width:
                            out[b, :, i, j] = x[b, :, i + by_r[b], j + by_c[b]]
            x = out
        else:
            size_r, size_c = height // 2, width // 2
            at_r = torch.randint(0, height + (1 - size_r % 2), (batch, 1, 1)).flatten().tolist()
            at_c = torch.randint(0, width + (1 - size_c % 2), (batch, 1, 1)).flatten().tolist()
            for b in range(batch):
                for i in range(size_r):
                    for j in range(size_c):
                        row = min(max(i + at_r[b] - size_r // 2, 0), height - 1)
                        col = min(max(j + at_c[b] - size_c // 2, 0), width - 1)
                        x[b, :, row, col] = 0
    return x


@pytest.mark.parametrize("shape", [(6, 3, 16, 16), (5, 1, 28, 28), (4, 3, 15, 9)])
@pytest.mark.parametrize("policy", [("color",), ("translation",), ("cutout",), ("color", "translation", "cutout")])
def test_each_policy_computes_what_the_released_code_does(shape, policy):
    x = torch.rand(shape) * 2 - 1
    torch.manual_seed(7)
    expected = released(x, policy)
    torch.manual_seed(7)
    got = DiffAugment(policy)(x)
    assert torch.allclose(got, expected, rtol=1e-6, atol=1e-6)
    assert torch.rand(()).item() == pytest.approx(_after(7, x, policy))  # the same number of draws


def _after(seed: int, x: torch.Tensor, policy: tuple[str, ...]) -> float:
    torch.manual_seed(seed)
    released(x, policy)
    return torch.rand(()).item()


def test_translation_and_cutout_pass_gradients_to_the_pixels_they_keep():
    x = torch.randn(8, 3, 16, 16, requires_grad=True)
    torch.manual_seed(1)
    out = POLICIES["translation"][0](x)
    out.sum().backward()
    assert x.grad is not None
    # each output pixel copies one input pixel, or is zero: the gradient counts the copies
    assert set(x.grad.unique().tolist()) <= {0.0, 1.0} and x.grad.sum() == (out != 0).sum()
    y = torch.randn(8, 3, 16, 16, requires_grad=True)
    torch.manual_seed(2)
    cut = POLICIES["cutout"][0](y)
    cut.sum().backward()
    assert y.grad is not None and torch.equal(y.grad, (cut != 0).to(y.dtype))
    assert ((cut == 0).flatten(1).sum(1) == 3 * 8 * 8).any()  # a whole 8x8 square, for a centre well inside


def test_color_is_differentiable_and_keeps_the_mean_where_it_should():
    x = torch.rand(4, 3, 8, 8, requires_grad=True)
    torch.manual_seed(3)
    out = DiffAugment(("color",))(x)
    (grad,) = torch.autograd.grad(out.sum(), x)
    assert torch.isfinite(grad).all() and grad.abs().sum() > 0


def test_a_run_augments_real_and_generated_batches_alike(tmp_path, monkeypatch):
    seen: list[tuple[int, bool]] = []
    original = DiffAugment.__call__

    def watched(self, samples):
        seen.append((len(samples), samples.requires_grad))
        return original(self, samples)

    monkeypatch.setattr(DiffAugment, "__call__", watched)
    run = train(tmp_path / "run", gan="dcgan", dataset="fashion-mnist", augmentation="diffaugment",
                gan_options={"g_channels": 8, "d_channels": 8}, steps=2, batch_size=4)
    assert run.step == 2
    # each step: real and generated in D's step, generated (with gradients for G) in G's step
    assert seen[:3] == [(4, False), (4, False), (4, True)]


def test_points_are_refused_in_one_line(tmp_path):
    with pytest.raises(GanzooError, match="DiffAugment transforms images"):
        train(tmp_path / "run", gan="gan", augmentation="diffaugment", steps=1)
