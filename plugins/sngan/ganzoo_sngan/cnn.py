"""The "standard CNN" of Miyato et al. 2018 (arXiv:1802.05957), Table 3, CIFAR-10 version (32x32).

Generator: z in R^128 from N(0, I); dense to a 4x4x512 map; three 4x4 stride-2
transposed convolutions to 256, 128 and 64 channels, each followed by batch
norm and ReLU; a 3x3 stride-1 convolution to the image's channels; tanh.

Discriminator: 3x3 stride-1 convolutions and 4x4 stride-2 convolutions
alternating, with 64, 64, 128, 128, 256, 256, 512 channels, each followed by a
leaky ReLU of slope 0.1 (Table 3's caption), then a dense layer to one score.
Spectral normalisation is applied to every weight of the discriminator
(section 2.1) and the discriminator has no batch norm; the generator is not
normalised.

The authors' code for this table is chainer-gan-lib's common/net.py
(DCGANGenerator and SNDCGANDiscriminator, pointed to by the first author in
pfnet-research/sngan_projection issue #51): weights start from N(0, 0.02), and
the dense layer of G is followed by batch norm and ReLU. Here that batch norm
is taken per channel after the reshape, like the other layers, rather than
over the 8192 dense outputs one by one, so the class-conditional variant can
use conditional batch norm there too.

Class-conditional variant (the paper's conditional results use the ResNet;
this is the same recipe on the CNN): conditional batch norm in G and a
spectrally normalised projection head on D's flattened features
(Miyato & Koyama 2018).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ganzoo.layers import ProjectionHead, batch_norm_2d, check_labels
from ganzoo_sngan.spectral import spectral_normalize

START = 4  # side of G's first map and D's last: 32 / 2^3
LEAKY_SLOPE = 0.1


class CNNGenerator(nn.Module):
    def __init__(self, z_dim: int, channels: int, width: int = 64, num_classes: int | None = None):
        super().__init__()
        self.num_classes = num_classes
        widths = [8 * width, 4 * width, 2 * width, width]  # 512, 256, 128, 64
        self.top = widths[0]
        self.project = nn.Linear(z_dim, self.top * START**2)
        self.norms = nn.ModuleList([batch_norm_2d(w, num_classes) for w in widths])
        self.ups = nn.ModuleList([nn.ConvTranspose2d(w_in, w_out, 4, stride=2, padding=1)
                                  for w_in, w_out in zip(widths, widths[1:])])
        self.out = nn.Conv2d(width, channels, 3, padding=1)
        for module in self.modules():
            if isinstance(module, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
                nn.init.normal_(module.weight, 0.0, 0.02)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        check_labels(labels, self.num_classes, "this generator")
        h = self.project(z).view(z.shape[0], self.top, START, START)
        h = F.relu(self.norms[0](h, labels))
        for up, norm in zip(self.ups, self.norms[1:]):
            h = F.relu(norm(up(h), labels))
        return torch.tanh(self.out(h))


class CNNDiscriminator(nn.Module):
    def __init__(self, channels: int, width: int = 64, num_classes: int | None = None):
        super().__init__()
        # (out channels, kernel, stride): Table 3 with width 64
        plan = [(width, 3, 1), (width, 4, 2), (2 * width, 3, 1), (2 * width, 4, 2),
                (4 * width, 3, 1), (4 * width, 4, 2), (8 * width, 3, 1)]
        convs, fan_in = [], channels
        for fan_out, kernel, stride in plan:
            convs.append(nn.Conv2d(fan_in, fan_out, kernel, stride=stride, padding=1))
            fan_in = fan_out
        self.convs = nn.ModuleList(convs)
        self.head = ProjectionHead(8 * width * START**2, num_classes)
        for module in self.modules():
            if isinstance(module, (nn.Linear, nn.Conv2d, nn.Embedding)):
                nn.init.normal_(module.weight, 0.0, 0.02)
        spectral_normalize(self)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """phi(x): the last feature map, flattened."""
        h = x
        for conv in self.convs:
            h = F.leaky_relu(conv(h), LEAKY_SLOPE)
        return h.flatten(1)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.head(self.features(x), labels)
