"""Layers shared by image GANs: class-conditional batch norm and the projection discriminator's head.

Plugin authors import them::

    from ganzoo.layers import ConditionalBatchNorm2d, ProjectionHead, batch_norm_2d

A class-conditional generator is called as ``G(z, labels)`` and a conditional
discriminator as ``D(x, labels)`` (see :class:`ganzoo.api.specs.DataInfo`). The
layers here take the labels as a second argument so one network class can
serve both the conditional and the unconditional variant.
"""

from __future__ import annotations

from typing import cast

import torch
from torch import nn
from torch.nn.utils import parametrizations

from ganzoo.api.specs import DataInfo


def square_side(info: DataInfo, gan: str, sides: tuple[int, ...]) -> int:
    """The side of the square images ``info`` describes, if ``gan`` serves it; else a ``ValueError`` that says
    which ``dataset_options.resolution`` to set (the core turns it into a one-line config error)."""
    if not info.is_image:
        raise ValueError(f"{gan} serves images, not data of shape {info.shape}")
    side = info.shape[1]
    if info.shape[2] == side and side in sides:
        return side
    if len(sides) == 1:
        (only,) = sides
        raise ValueError(f"{gan} serves {only}x{only} images only (got shape {info.shape}); "
                         f"set dataset_options.resolution = {only}")
    sizes = ", ".join(f"{s}x{s}" for s in sides)
    raise ValueError(f"{gan} serves square images of {sizes} (got shape {info.shape}); "
                     f"set dataset_options.resolution to one of {', '.join(map(str, sides))}")


def check_labels(labels: torch.Tensor | None, num_classes: int | None, network: str) -> None:
    """Refuse labels given to an unconditional network, or missing from a conditional one.

    Raises ``TypeError``, as calling a network with the wrong arguments would:
    the core reads it as "this network has no class-conditional variant".
    """
    if num_classes is None and labels is not None:
        raise TypeError(f"{network} is unconditional: call it without labels")
    if num_classes is not None and labels is None:
        raise TypeError(f"{network} is class-conditional: call it with labels, int64 of shape (batch,)")


class ConditionalBatchNorm2d(nn.Module):
    """Batch norm whose gain and bias are chosen by the class label.

    y = gamma[label] * (x - mean) / sqrt(var + eps) + beta[label], per channel,
    the normalisation being the usual one (batch statistics while training,
    running averages in eval mode) shared by every class. Gains start at 1 and
    biases at 0, so a fresh layer is plain batch norm for every class.
    (de Vries et al. 2017, Modulating early visual processing by language, eq. 2-3;
    Miyato & Koyama 2018, cGANs with Projection Discriminator, section 5, as
    "categorical conditional batch normalization".)
    """

    def __init__(self, num_features: int, num_classes: int, eps: float = 1e-5, momentum: float = 0.1):
        super().__init__()
        self.num_features, self.num_classes = num_features, num_classes
        self.norm = nn.BatchNorm2d(num_features, eps=eps, momentum=momentum, affine=False)
        self.gain = nn.Embedding(num_classes, num_features)
        self.bias = nn.Embedding(num_classes, num_features)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.norm.reset_running_stats()
        nn.init.ones_(self.gain.weight)
        nn.init.zeros_(self.bias.weight)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        check_labels(labels, self.num_classes, "ConditionalBatchNorm2d")
        gain = self.gain(labels)[:, :, None, None]
        bias = self.bias(labels)[:, :, None, None]
        return gain * self.norm(x) + bias

    def extra_repr(self) -> str:
        return f"{self.num_features}, num_classes={self.num_classes}"


class UnconditionalBatchNorm2d(nn.BatchNorm2d):
    """``nn.BatchNorm2d`` that accepts (and ignores) a labels argument, to stand in for
    :class:`ConditionalBatchNorm2d` in the unconditional variant of a network."""

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return super().forward(x)


def batch_norm_2d(num_features: int, num_classes: int | None = None) -> nn.Module:
    """Conditional batch norm when ``num_classes`` is set, plain batch norm otherwise;
    either is called as ``norm(x, labels)``."""
    if num_classes is None:
        return UnconditionalBatchNorm2d(num_features)
    return ConditionalBatchNorm2d(num_features, num_classes)


class ProjectionHead(nn.Module):
    """The output of a projection discriminator (Miyato & Koyama 2018, eq. 3 and Figure 1):

        D(x, y) = psi(phi(x)) + <embed(y), phi(x)>

    ``phi(x)`` is the feature vector the discriminator's body computes, of
    ``features`` entries; psi is a linear map to one score and embed(y) a
    learned vector per class (their V, with y one-hot: y^T V phi(x)). With
    ``num_classes=None`` the head is psi alone, the unconditional output.
    ``spectral_norm=True`` normalises psi and the embedding as the paper does
    (SNLinear and SNEmbedID in the authors' code). The embedding starts
    Glorot-uniform, as in the authors' code; callers may re-initialise it.
    Returns scores of shape ``(batch,)``.
    """

    def __init__(self, features: int, num_classes: int | None = None, *, spectral_norm: bool = False,
                 bias: bool = True):
        super().__init__()
        self.features, self.num_classes = features, num_classes
        self.linear = nn.Linear(features, 1, bias=bias)
        self.embed = nn.Embedding(num_classes, features) if num_classes is not None else None
        if self.embed is not None:
            nn.init.xavier_uniform_(self.embed.weight)
        if spectral_norm:
            # spectral_norm returns the module it was given, now parametrized
            self.linear = cast(nn.Linear, parametrizations.spectral_norm(self.linear))
            if self.embed is not None:
                self.embed = cast(nn.Embedding, parametrizations.spectral_norm(self.embed))

    def forward(self, phi: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        check_labels(labels, self.num_classes, "this discriminator")
        score = self.linear(phi).view(-1)
        if self.embed is not None:
            score = score + (self.embed(labels) * phi).sum(dim=1)
        return score

    def extra_repr(self) -> str:
        return f"features={self.features}, num_classes={self.num_classes}"


class Maxout(nn.Module):
    """``units`` outputs, each the maximum of ``pieces`` affine functions of the input (Goodfellow et al. 2013),
    laid out as pylearn2's and Blocks' maxout layers: one linear map to ``units * pieces``, the pieces of a unit
    adjacent. The discriminators of the original GAN and of PacGAN are built from it."""

    def __init__(self, in_features: int, units: int, pieces: int):
        super().__init__()
        self.units, self.pieces = units, pieces
        self.linear = nn.Linear(in_features, units * pieces)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x).view(x.shape[0], self.units, self.pieces).amax(dim=2)
