"""BigGAN's generator and projection discriminator (Brock, Donahue and Simonyan 2019, section 3 and Appendix B),
laid out by the release's ``G_arch`` and ``D_arch`` tables (ajbrock/BigGAN-PyTorch, BigGAN.py).

Generator ``G(z, y)``: z is split into one chunk per block plus one (the
hierarchical latent space, "skip-z"); the first chunk goes through a dense
layer to a 4x4 map of ``G[0] * ch`` channels; block i doubles the side to
``G[i+1] * ch`` channels and its conditional batch norms read
``c_i = [shared(y), z_{i+1}]``, the shared class embedding concatenated with
the block's own chunk; an optional self-attention block follows a block of
the sides listed; then batch norm, ReLU, a 3x3 conv to the image's channels,
tanh. Every conv and dense layer is spectrally normalised, the shared
embedding is not.

Discriminator ``D(x, y)``: residual blocks of ``D[i] * ch`` channels, halving
the side where the table says, optional self-attention after the blocks of
the sides listed; ReLU, global sum pooling to phi(x), and the projection
output ``psi(phi) + <embed(y), phi>`` (Miyato and Koyama 2018). Every conv,
dense layer and the class embedding are spectrally normalised.

Tables (multipliers of ``ch``, the release's ``--G_ch`` / ``--D_ch``)::

    32x32:   G 4, 4, 4, 4 (three blocks)          D 4, 4, 4, 4, pooling in the first two
    128x128: G 16, 16, 8, 4, 2, 1 (five blocks)   D 1, 2, 4, 8, 16, 16, pooling in all but the last

Attention sides are the sides of the blocks' outputs. The release's 32x32 D
table labels all four blocks "16"; here they are 16, 8, 8, 8, the sides the
blocks really produce.

Unconditional data: as BigGAN-PyTorch trains unconditional models (every
image gets class 0), an unconditional pair keeps a one-class shared embedding
in G and a one-class projection in D and is called without labels, which
stand for class 0. The class vector is then one learned vector: a constant
input to every conditional batch norm, and a linear term ``<v, phi>`` in D.

z_dim need not be a multiple of the number of chunks (the release rounds
z_dim down to one): chunk sizes differ by at most one, the first ones larger.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ganzoo.layers import ProjectionHead, check_labels
from ganzoo_biggan.layers import (
    BN_EPS,
    BN_MOMENTUM,
    DiscriminatorBlock,
    GeneratorBlock,
    Init,
    SelfAttention,
    initialise,
    spectral_normalise,
)

BOTTOM = 4  # side of G's first map (--bottom_width)


@dataclass(frozen=True)
class Architecture:
    """One resolution's column of the release's tables: channel multipliers and where D pools."""

    side: int
    generator: tuple[int, ...]  # the first map's width, then each block's output width
    discriminator: tuple[int, ...]  # each block's output width
    downsample: tuple[bool, ...]  # which D blocks halve the side

    @property
    def generator_sides(self) -> list[int]:
        return [BOTTOM * 2 ** (i + 1) for i in range(len(self.generator) - 1)]

    @property
    def discriminator_sides(self) -> list[int]:
        sides, side = [], self.side
        for down in self.downsample:
            side //= 2 if down else 1
            sides.append(side)
        return sides


ARCHITECTURES = {
    32: Architecture(32, (4, 4, 4, 4), (4, 4, 4, 4), (True, True, False, False)),
    128: Architecture(128, (16, 16, 8, 4, 2, 1), (1, 2, 4, 8, 16, 16), (True,) * 5 + (False,)),
}


def chunk_sizes(z_dim: int, chunks: int) -> list[int]:
    """Sizes of ``chunks`` nearly equal parts of z (equal where z_dim is a multiple, as in the release)."""
    if z_dim < chunks:
        raise ValueError(f"BigGAN's generator splits z into {chunks} chunks (one per block and one for its first "
                         f"layer), so z_dim must be at least {chunks}; got {z_dim}")
    return [z_dim // chunks + (1 if i < z_dim % chunks else 0) for i in range(chunks)]


def attention_blocks(sides: list[int], wanted: tuple[int, ...], widths: list[int], network: str) -> nn.ModuleList:
    """A self-attention block after each block whose output side is wanted, the identity after the others."""
    unknown = sorted(set(wanted) - set(sides))
    if unknown:
        raise ValueError(f"{network} attention at side {unknown[0]}: its blocks produce sides "
                         f"{', '.join(map(str, sorted(set(sides))))}")
    return nn.ModuleList([SelfAttention(width) if side in wanted else nn.Identity()
                          for side, width in zip(sides, widths)])


class BigGANGenerator(nn.Module):
    def __init__(self, arch: Architecture, z_dim: int, channels: int, width: int, shared_dim: int,
                 num_classes: int | None, attention: tuple[int, ...] = (), init: Init = "ortho",
                 sn_eps: float = 1e-8):
        super().__init__()
        self.num_classes = num_classes
        widths = [m * width for m in arch.generator]
        self.chunks = chunk_sizes(z_dim, len(widths))
        self.top = widths[0]
        self.shared = nn.Embedding(num_classes or 1, shared_dim)
        self.linear = nn.Linear(self.chunks[0], widths[0] * BOTTOM**2)
        self.blocks = nn.ModuleList([GeneratorBlock(fan_in, fan_out, shared_dim + chunk)
                                     for fan_in, fan_out, chunk in zip(widths, widths[1:], self.chunks[1:])])
        self.attention = attention_blocks(arch.generator_sides, attention, widths[1:], "G")
        self.out_norm = nn.BatchNorm2d(widths[-1], eps=BN_EPS, momentum=BN_MOMENTUM)
        self.out_conv = nn.Conv2d(widths[-1], channels, 3, padding=1)
        initialise(self, init)
        spectral_normalise(self, sn_eps, skip=[self.shared])

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        check_labels(labels, self.num_classes, "this generator")
        if labels is None:  # unconditional: every sample is class 0, as in BigGAN-PyTorch
            labels = torch.zeros(len(z), dtype=torch.long, device=z.device)
        first, *rest = torch.split(z, self.chunks, dim=1)
        embedding = self.shared(labels)
        h = self.linear(first).view(len(z), self.top, BOTTOM, BOTTOM)
        for block, attend, chunk in zip(self.blocks, self.attention, rest):
            h = attend(block(h, torch.cat([embedding, chunk], dim=1)))
        return torch.tanh(self.out_conv(F.relu(self.out_norm(h))))


class BigGANDiscriminator(nn.Module):
    def __init__(self, arch: Architecture, channels: int, width: int, num_classes: int | None,
                 attention: tuple[int, ...] = (), init: Init = "ortho", sn_eps: float = 1e-8):
        super().__init__()
        self.num_classes = num_classes
        widths = [m * width for m in arch.discriminator]
        self.blocks = nn.ModuleList([
            DiscriminatorBlock(fan_in, fan_out, down, preactivation=index > 0)
            for index, (fan_in, fan_out, down) in enumerate(zip([channels, *widths], widths, arch.downsample))])
        self.attention = attention_blocks(arch.discriminator_sides, attention, widths, "D")
        self.head = ProjectionHead(widths[-1], num_classes or 1)
        initialise(self, init)
        spectral_normalise(self, sn_eps)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """phi(x): ReLU of the last block's output, summed over positions (global sum pooling, as SNGAN)."""
        h = x
        for block, attend in zip(self.blocks, self.attention):
            h = attend(block(h))
        return F.relu(h).sum(dim=(2, 3))

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        check_labels(labels, self.num_classes, "this discriminator")
        if labels is None:
            labels = torch.zeros(len(x), dtype=torch.long, device=x.device)
        return self.head(self.features(x), labels)
