"""The ResNet pair of Miyato et al. 2018 (arXiv:1802.05957), Table 4, CIFAR-10 version (32x32),
and its class-conditional form with a projection discriminator (Miyato & Koyama 2018, arXiv:1802.05637).

Generator: z in R^128 from N(0, I); dense to a 4x4x256 map; three residual
blocks that each double the side ("ResBlock up 256"); batch norm, ReLU, a 3x3
convolution to the image's channels, tanh. A block is pre-activation:
BN, ReLU, nearest-neighbour upsampling, 3x3 conv, BN, ReLU, 3x3 conv, added to
a shortcut of upsampling and a 1x1 conv.

Discriminator: an optimised first block (3x3 conv, ReLU, 3x3 conv, 2x2 average
pooling, with a shortcut of pooling then a 1x1 conv: no activation before its
first conv, which would only clip the input image), then blocks "down",
"none", "none" of 128 channels (ReLU, 3x3 conv, ReLU, 3x3 conv, pooling when
down; the shortcut is a 1x1 conv (then pooling) where the block downsamples,
the identity elsewhere), ReLU, global sum pooling, a dense layer to one score
without bias. Spectral normalisation on every weight of D, none in G.

Details follow the authors' code (pfnet-research/sngan_projection:
gen_models/resnet_32.py, dis_models/snresnet_32.py and the resblocks files):
Glorot-uniform weights with gain sqrt(2) inside residual branches and 1 on
shortcuts and the input and output layers; the generator's last batch norm is
unconditional even in the conditional model.

Class-conditional variant (Miyato & Koyama 2018, section 5 and their CIFAR-10
config sn_cifar10.yml): every batch norm inside G's blocks becomes a
conditional batch norm, and D's output is the projection
psi(phi(x)) + <embed(y), phi(x)> with phi(x) the pooled 128 features and a
spectrally normalised class embedding.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ganzoo.layers import ProjectionHead, check_labels
from ganzoo.layers.resblocks import UpBlock, discriminator_blocks, glorot
from ganzoo_sngan.spectral import spectral_normalize


class ResNetGenerator(nn.Module):
    def __init__(self, z_dim: int, channels: int, width: int = 256, num_classes: int | None = None):
        super().__init__()
        self.num_classes, self.width = num_classes, width
        self.project = glorot(nn.Linear(z_dim, width * 4 * 4))
        self.blocks = nn.ModuleList([UpBlock(width, width, num_classes) for _ in range(3)])  # 4 -> 8 -> 16 -> 32
        self.norm = nn.BatchNorm2d(width)
        self.out = glorot(nn.Conv2d(width, channels, 3, padding=1))

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        check_labels(labels, self.num_classes, "this generator")
        h = self.project(z).view(z.shape[0], self.width, 4, 4)
        for block in self.blocks:
            h = block(h, labels)
        return torch.tanh(self.out(F.relu(self.norm(h))))


class ResNetDiscriminator(nn.Module):
    def __init__(self, channels: int, width: int = 128, num_classes: int | None = None):
        super().__init__()
        self.blocks = discriminator_blocks(channels, width)
        self.head = ProjectionHead(width, num_classes, bias=False)
        glorot(self.head.linear)
        spectral_normalize(self)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """phi(x): ReLU, then global sum pooling (not mean) as in Table 4 and the authors' code."""
        return F.relu(self.blocks(x)).sum(dim=(2, 3))

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.head(self.features(x), labels)
