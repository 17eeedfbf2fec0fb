"""The shared image-GAN layers against their defining equations."""

from __future__ import annotations

import pytest
import torch

from ganzoo.layers import ConditionalBatchNorm2d, ProjectionHead, UnconditionalBatchNorm2d, batch_norm_2d


def hand_batch_norm(x: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """(x - mean) / sqrt(var + eps) per channel, over batch and space, with the biased variance."""
    mean = x.mean(dim=(0, 2, 3), keepdim=True)
    var = x.var(dim=(0, 2, 3), unbiased=False, keepdim=True)
    return (x - mean) / torch.sqrt(var + eps)


def test_conditional_batch_norm_applies_the_affine_map_of_each_sample_class():
    torch.manual_seed(0)
    layer = ConditionalBatchNorm2d(num_features=3, num_classes=4)
    gains = torch.tensor([[1.0, 2.0, 3.0], [0.5, -1.0, 4.0], [2.0, 2.0, 2.0], [0.0, 1.0, -3.0]])
    biases = torch.tensor([[0.0, 1.0, -1.0], [3.0, 0.5, 0.0], [-2.0, 0.0, 2.0], [1.0, 1.0, 1.0]])
    with torch.no_grad():
        layer.gain.weight.copy_(gains)
        layer.bias.weight.copy_(biases)
    x = torch.randn(6, 3, 5, 5) * 3 + 1
    labels = torch.tensor([0, 1, 2, 3, 1, 0])
    normalised = hand_batch_norm(x)
    expected = gains[labels][:, :, None, None] * normalised + biases[labels][:, :, None, None]
    assert torch.allclose(layer(x, labels), expected, atol=1e-5)

    # the same input under two labellings: the batch statistics are shared, so the outputs
    # differ by exactly (gamma_a - gamma_b) * normalised + (beta_a - beta_b)
    all_a, all_b = torch.full((6,), 1), torch.full((6,), 3)
    difference = layer(x, all_a) - layer(x, all_b)
    by_hand = (gains[1] - gains[3])[None, :, None, None] * normalised + (biases[1] - biases[3])[None, :, None, None]
    assert torch.allclose(difference, by_hand, atol=1e-5)


def test_a_fresh_conditional_batch_norm_is_plain_batch_norm_for_every_class():
    layer = ConditionalBatchNorm2d(num_features=4, num_classes=10)
    assert torch.equal(layer.gain.weight, torch.ones(10, 4)) and torch.equal(layer.bias.weight, torch.zeros(10, 4))
    x = torch.randn(8, 4, 3, 3)
    for label in range(10):
        assert torch.allclose(layer(x, torch.full((8,), label)), hand_batch_norm(x), atol=1e-5)


def test_conditional_batch_norm_uses_running_statistics_in_eval_mode():
    torch.manual_seed(1)
    layer = ConditionalBatchNorm2d(num_features=2, num_classes=3, momentum=None)  # cumulative average
    batches = [torch.randn(16, 2, 4, 4) * 2 + 5 for _ in range(3)]
    for batch in batches:
        layer(batch, torch.zeros(16, dtype=torch.long))
    with torch.no_grad():
        layer.gain.weight[2] = torch.tensor([2.0, -1.0])
        layer.bias.weight[2] = torch.tensor([0.5, 0.25])
    layer.eval()
    # each batch's mean and unbiased variance, averaged over the batches (momentum=None)
    means = torch.stack([b.mean(dim=(0, 2, 3)) for b in batches]).mean(0)
    variances = torch.stack([b.var(dim=(0, 2, 3), unbiased=True) for b in batches]).mean(0)
    x = torch.randn(4, 2, 4, 4)
    normalised = (x - means[None, :, None, None]) / torch.sqrt(variances[None, :, None, None] + 1e-5)
    gain, bias = torch.tensor([2.0, -1.0])[None, :, None, None], torch.tensor([0.5, 0.25])[None, :, None, None]
    expected = gain * normalised + bias
    assert torch.allclose(layer(x, torch.full((4,), 2)), expected, atol=1e-5)


def test_batch_norm_2d_picks_the_conditional_layer_only_with_classes():
    assert isinstance(batch_norm_2d(5, 3), ConditionalBatchNorm2d)
    plain = batch_norm_2d(5)
    assert isinstance(plain, UnconditionalBatchNorm2d)
    x = torch.randn(4, 5, 2, 2)
    assert torch.allclose(plain(x, None), torch.nn.functional.batch_norm(x, None, None, training=True), atol=1e-6)
    with pytest.raises(TypeError, match="class-conditional"):
        ConditionalBatchNorm2d(5, 3)(x)


def test_projection_head_is_psi_of_phi_plus_the_class_embedding_dot_phi():
    torch.manual_seed(2)
    head = ProjectionHead(features=6, num_classes=5)
    phi, labels = torch.randn(7, 6), torch.tensor([0, 4, 2, 2, 1, 3, 0])
    w, b, V = head.linear.weight.detach(), head.linear.bias.detach(), head.embed.weight.detach()
    by_hand = torch.stack([phi[i] @ w[0] + b[0] + V[labels[i]] @ phi[i] for i in range(7)])
    scores = head(phi, labels)
    assert scores.shape == (7,)
    assert torch.allclose(scores, by_hand, atol=1e-5)
    # changing only the label moves the score by <embed(y') - embed(y), phi>
    other = (labels + 1) % 5
    assert torch.allclose(head(phi, other) - scores, ((V[other] - V[labels]) * phi).sum(1), atol=1e-5)


def test_an_unconditional_projection_head_is_a_linear_map_and_refuses_labels():
    head = ProjectionHead(features=3, bias=False)
    phi = torch.randn(4, 3)
    assert head.linear.bias is None and head.embed is None
    assert torch.allclose(head(phi), phi @ head.linear.weight.detach()[0])
    with pytest.raises(TypeError, match="unconditional"):
        head(phi, torch.zeros(4, dtype=torch.long))
    with pytest.raises(TypeError, match="class-conditional"):
        ProjectionHead(3, num_classes=2)(phi)


def test_spectrally_normalised_projection_head_uses_unit_norm_psi_and_embedding():
    torch.manual_seed(3)
    head = ProjectionHead(features=8, num_classes=4, spectral_norm=True)
    for _ in range(100):  # each access in training mode runs one power iteration
        _ = head.linear.weight, head.embed.weight
    head.eval()
    w, V = head.linear.weight.detach(), head.embed.weight.detach()
    assert torch.linalg.matrix_norm(w, ord=2).item() == pytest.approx(1.0, abs=1e-3)
    assert torch.linalg.matrix_norm(V, ord=2).item() == pytest.approx(1.0, abs=1e-3)
    phi, labels = torch.randn(5, 8), torch.tensor([3, 2, 1, 0, 3])
    by_hand = phi @ w[0] + head.linear.bias.detach() + (V[labels] * phi).sum(1)
    assert torch.allclose(head(phi, labels), by_hand, atol=1e-5)
