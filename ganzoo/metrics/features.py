"""Differentiable Inception features: what 'ganzoo invert' compares images by, besides their pixels."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from ganzoo.metrics.inception import EXTRACTOR_NAME, SafetensorsInceptionV3


class InceptionFeatures(nn.Module):
    """Differentiable pool3 features of torch-fidelity's Inception-v3 (the metrics' network) for images in [-1, 1]."""

    def __init__(self, weights: Path):
        super().__init__()
        self.net = SafetensorsInceptionV3(EXTRACTOR_NAME, ["2048"], feature_extractor_weights_path=str(weights))
        self.net.eval().requires_grad_(False)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        from torch_fidelity.interpolate_compat_tensorflow import interpolate_bilinear_2d_like_tensorflow1x

        x = (images.clamp(-1, 1) + 1) * 127.5
        x = x.expand(-1, 3, -1, -1) if x.shape[1] == 1 else x
        x = interpolate_bilinear_2d_like_tensorflow1x(x, size=(299, 299), align_corners=False)
        x = (x - 128) / 128
        net = self.net
        for name in ("Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", "MaxPool_1", "Conv2d_3b_1x1",
                     "Conv2d_4a_3x3", "MaxPool_2", "Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6a", "Mixed_6b",
                     "Mixed_6c", "Mixed_6d", "Mixed_6e", "Mixed_7a", "Mixed_7b", "Mixed_7c", "AvgPool"):
            x = getattr(net, name)(x)
        return torch.flatten(x, 1)
