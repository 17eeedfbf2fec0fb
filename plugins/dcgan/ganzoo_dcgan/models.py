"""The deep convolutional GAN of Radford, Metz and Chintala 2015 (arXiv:1511.06434).

The paper's architecture guidelines (section 3): strided convolutions in D and
transposed ("fractional-strided") convolutions in G instead of pooling; batch
norm in both nets except G's output layer and D's input layer; no fully
connected hidden layers; ReLU in G with tanh at the output; LeakyReLU with
slope 0.2 in D. Section 4: every weight drawn from N(0, 0.02).

Generator: z is projected by one matrix multiply (Figure 1, "project and
reshape") to a ``start x start`` map, then ``n`` transposed convolutions of
kernel 4, stride 2, padding 1 each double the side and halve the channels, the
last one giving the image's channels: 28 = 7 * 2^2, 32 = 4 * 2^3, 64 = 4 * 2^4.
The widest map has ``width * 2^(n-1)`` channels: 512 at 64x64 for the default
width 64 (the ngf = 64 of soumith/dcgan.torch); Figure 1 draws 1024, width 128.

Discriminator: the mirror image, ``n`` stride-2 convolutions of kernel 4 that
halve the side and double the channels, then the last feature map is flattened
and fed to a single output (section 3). The output is a logit; the objectives
apply the sigmoid.

Class-conditional variant (not in the paper): G's batch norms become
conditional batch norms (de Vries et al. 2017) and D's output a projection
head on the flattened features (Miyato & Koyama 2018).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ganzoo.layers import ProjectionHead, batch_norm_2d, check_labels

START_SIDE = {28: 7, 32: 4, 64: 4}  # image side -> side of G's first (and D's last) feature map
LEAKY_SLOPE = 0.2


def doublings(side: int) -> int:
    return int(math.log2(side // START_SIDE[side]))


class DCGANGenerator(nn.Module):
    def __init__(self, z_dim: int, shape: tuple[int, int, int], width: int, num_classes: int | None = None):
        super().__init__()
        channels, side = shape[0], shape[1]
        self.num_classes, self.start = num_classes, START_SIDE[side]
        n = doublings(side)
        widths = [width * 2 ** (n - 1 - i) for i in range(n)]  # e.g. 256, 128, 64 for 32x32
        self.top = widths[0]
        # every hidden layer feeds batch norm, which removes a bias: only the output layer has one
        self.project = nn.Linear(z_dim, self.top * self.start**2, bias=False)
        self.norms = nn.ModuleList([batch_norm_2d(w, num_classes) for w in widths])
        self.ups = nn.ModuleList(
            [nn.ConvTranspose2d(w_in, w_out, 4, stride=2, padding=1, bias=False)
             for w_in, w_out in zip(widths, widths[1:])]
            + [nn.ConvTranspose2d(widths[-1], channels, 4, stride=2, padding=1)])

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        check_labels(labels, self.num_classes, "this generator")
        h = self.project(z).view(z.shape[0], self.top, self.start, self.start)
        for norm, up in zip(self.norms, self.ups):
            h = up(F.relu(norm(h, labels)))
        return torch.tanh(h)


class DCGANDiscriminator(nn.Module):
    def __init__(self, shape: tuple[int, int, int], width: int, num_classes: int | None = None):
        super().__init__()
        channels, side = shape[0], shape[1]
        n = doublings(side)
        widths = [width * 2**i for i in range(n)]  # e.g. 64, 128, 256 for 32x32
        self.convs = nn.ModuleList(
            [nn.Conv2d(channels, widths[0], 4, stride=2, padding=1)]  # no batch norm here, so it keeps its bias
            + [nn.Conv2d(w_in, w_out, 4, stride=2, padding=1, bias=False) for w_in, w_out in zip(widths, widths[1:])])
        self.norms = nn.ModuleList([nn.Identity()] + [nn.BatchNorm2d(w) for w in widths[1:]])
        self.head = ProjectionHead(widths[-1] * START_SIDE[side] ** 2, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """phi(x): the last feature map, flattened."""
        h = x
        for conv, norm in zip(self.convs, self.norms):
            h = F.leaky_relu(norm(conv(h)), LEAKY_SLOPE)
        return h.flatten(1)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.head(self.features(x), labels)


@torch.no_grad()
def init_weights(network: nn.Module) -> None:
    """Section 4: weights from N(0, 0.02); batch norm gains from N(1, 0.02) as in the authors'
    torch code (dcgan.torch). Conditional batch norm keeps its gains at 1 and biases at 0."""
    for module in network.modules():
        if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(module.weight, 0.0, 0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.BatchNorm2d) and module.affine:
            nn.init.normal_(module.weight, 1.0, 0.02)
            nn.init.zeros_(module.bias)
        elif isinstance(module, ProjectionHead) and module.embed is not None:
            nn.init.normal_(module.embed.weight, 0.0, 0.02)
