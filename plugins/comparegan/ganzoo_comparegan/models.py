"""The networks of compare_gan (google/compare_gan, ``src/gans/abstract_gan.py``), which Lucic et al. 2018 trained
every GAN of their MNIST and Fashion-MNIST study with ("discriminator architecture based on InfoGAN").

For 28x28 grey images:

- generator: z -> linear 1024, batch norm, leaky ReLU -> linear 128 x 7 x 7, batch norm, leaky ReLU -> 4x4
  transposed convolution of stride 2 to 64 x 14 x 14, batch norm, leaky ReLU -> 4x4 transposed convolution of
  stride 2 to 1 x 28 x 28 -> sigmoid;
- discriminator: 4x4 convolution of stride 2 to 64 x 14 x 14, leaky ReLU -> 4x4 convolution of stride 2 to
  128 x 7 x 7, [batch norm], leaky ReLU -> linear 1024, [batch norm], leaky ReLU -> linear 1 (a logit);
  the bracketed batch norms only with ``discriminator_batchnorm`` (compare_gan's parameter of that name).

Leaky ReLUs have slope 0.2 (``ops.lrelu``); batch norm keeps its averages with decay 0.999 and adds epsilon 1e-3
(``ops.batch_norm``: torch's momentum 0.001); linear and transposed-convolution weights are drawn from N(0, 0.02^2),
convolution weights from the normal truncated at two standard deviations, biases are 0 (``ops.linear``,
``ops.deconv2d``, ``ops.conv2d``). TensorFlow's "SAME" padding of a 4x4 kernel with stride 2 on 28 and 14 pixels
pads one pixel on each side, torch's ``padding=1``. ganzoo scales images to [-1, 1], so G ends in tanh (the
sigmoid up to an affine map: tanh(x) = 2 sigmoid(2x) - 1).
"""

from __future__ import annotations

import torch
from torch import nn

SLOPE = 0.2
INIT_STD = 0.02
BN_EPS = 1e-3
BN_MOMENTUM = 0.001  # TensorFlow's decay 0.999


def _init(module: nn.Module) -> None:
    for layer in module.modules():
        if isinstance(layer, nn.Conv2d):
            nn.init.trunc_normal_(layer.weight, 0.0, INIT_STD, -2 * INIT_STD, 2 * INIT_STD)
        elif isinstance(layer, (nn.Linear, nn.ConvTranspose2d)):
            nn.init.normal_(layer.weight, 0.0, INIT_STD)
        if isinstance(layer, (nn.Conv2d, nn.Linear, nn.ConvTranspose2d)) and layer.bias is not None:
            nn.init.zeros_(layer.bias)


class Generator(nn.Module):
    def __init__(self, z_dim: int, channels: int, side: int):
        super().__init__()
        quarter = side // 4
        self.net = nn.Sequential(
            nn.Linear(z_dim, 1024), nn.BatchNorm1d(1024, BN_EPS, BN_MOMENTUM), nn.LeakyReLU(SLOPE),
            nn.Linear(1024, 128 * quarter * quarter), nn.BatchNorm1d(128 * quarter * quarter, BN_EPS, BN_MOMENTUM),
            nn.LeakyReLU(SLOPE),
            nn.Unflatten(1, (128, quarter, quarter)),
            nn.ConvTranspose2d(128, 64, 4, 2, 1), nn.BatchNorm2d(64, BN_EPS, BN_MOMENTUM), nn.LeakyReLU(SLOPE),
            nn.ConvTranspose2d(64, channels, 4, 2, 1), nn.Tanh(),
        )
        _init(self)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)


class Discriminator(nn.Module):
    def __init__(self, channels: int, side: int, batchnorm: bool):
        super().__init__()
        quarter = side // 4

        def norm(layer: nn.Module) -> list[nn.Module]:
            return [layer] if batchnorm else []

        self.net = nn.Sequential(
            nn.Conv2d(channels, 64, 4, 2, 1), nn.LeakyReLU(SLOPE),
            nn.Conv2d(64, 128, 4, 2, 1), *norm(nn.BatchNorm2d(128, BN_EPS, BN_MOMENTUM)), nn.LeakyReLU(SLOPE),
            nn.Flatten(),
            nn.Linear(128 * quarter * quarter, 1024), *norm(nn.BatchNorm1d(1024, BN_EPS, BN_MOMENTUM)),
            nn.LeakyReLU(SLOPE),
            nn.Linear(1024, 1),
        )
        _init(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).view(-1)
