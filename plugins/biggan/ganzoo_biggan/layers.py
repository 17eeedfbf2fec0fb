"""BigGAN's building blocks, as the authors' PyTorch release builds them (ajbrock/BigGAN-PyTorch, layers.py).

- ``LatentBatchNorm2d`` (the release's ``ccbn``): batch norm without an affine
  map of its own, then a per-sample gain ``1 + W_g c`` and bias ``W_b c``, both
  linear in a conditioning vector c (paper, section 3 and Appendix B: the
  shared class embedding, and with hierarchical latents a chunk of z, "linearly
  projected to each layer's gains and biases"). W_g and W_b have no bias.
- ``GeneratorBlock`` (``GBlock``): BN, ReLU, nearest-neighbour upsampling,
  3x3 conv, BN, ReLU, 3x3 conv; shortcut: upsampling, then a 1x1 conv (every
  G block upsamples, so the shortcut is always learned).
- ``DiscriminatorBlock`` (``DBlock`` with ``wide=True``, the release's default
  ``--D_wide``): [ReLU,] 3x3 conv to the output width, ReLU, 3x3 conv, 2x2
  average pooling if it downsamples. The first block of D has no ReLU before
  its first conv (``preactivation=(index > 0)`` in BigGAN.py). The shortcut is
  a 1x1 conv (and pooling) where the block downsamples or changes width, the
  identity elsewhere.
- ``SelfAttention`` (``Attention``, SAGAN's non-local block, Zhang et al. 2019):
  1x1 convs to queries and keys of C/8 channels and values of C/2, keys and
  values max-pooled 2x2, a softmax over the pooled positions, a 1x1 conv back
  to C channels, and ``x + gamma * o`` with gamma a learned scalar that starts
  at 0, so a fresh block is the identity. None of its convs has a bias.

``initialise`` is the release's ``init_weights``: every conv, dense layer and
embedding's weight from ``ortho`` (orthogonal), ``N02`` (N(0, 0.02)) or
``xavier`` (Glorot uniform). Biases start at 0, a departure: the release
leaves PyTorch's default, uniform in +-1/sqrt(fan_in), because its
``init_weights`` draws weights only. Zero is what TensorFlow implementations
of BigGAN use (google/compare_gan, architectures/arch_ops.py: ``conv2d`` and
``linear`` take ``constant_initializer(0.0)`` biases), and with spectrally
normalised weights PyTorch's default biases dominate D's features at the
start: on 32x32 noise images ||phi(x)|| is about 110, nearly the same for real
and generated batches, against about 18 with zero biases, and under the
release's Adam settings (beta1 = 0: the first steps move every weight by lr)
a discriminator's hinge loss on a fixed batch then rises instead of falling.
``spectral_normalise`` then normalises every such weight but the ones named
(BigGAN.py keeps G's shared embedding unnormalised: "applying SN to G's
embedding seems to randomly cripple G"): ``W / sigma(W)``, sigma by one power
iteration per training forward pass, a conv kernel read as (out, in * kh * kw)
(the release's ``SN`` class, ``num_svs=1``, ``num_itrs=1``). PyTorch's
``parametrizations.spectral_norm`` does this; it also runs 15 iterations when
it is attached, where the release starts from a random vector.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import parametrizations

Init = Literal["ortho", "N02", "xavier"]
WEIGHTED = (nn.Conv2d, nn.Linear, nn.Embedding)
BN_EPS = 1e-5  # --BN_eps in both launch scripts (the parser's default too)
BN_MOMENTUM = 0.1  # F.batch_norm(..., momentum 0.1, ...) in layers.ccbn and layers.bn
ATTENTION_DIVISOR = 8  # queries and keys have C/8 channels


def initialise(network: nn.Module, scheme: Init) -> None:
    """Draw every conv, dense and embedding weight of ``network`` afresh, biases at 0 (before spectral norm)."""
    for module in network.modules():
        if isinstance(module, WEIGHTED):
            weight = module.weight
            if scheme == "ortho":
                nn.init.orthogonal_(weight)
            elif scheme == "N02":
                nn.init.normal_(weight, 0.0, 0.02)
            else:
                nn.init.xavier_uniform_(weight)
            bias = getattr(module, "bias", None)
            if isinstance(bias, nn.Parameter):
                nn.init.zeros_(bias)


def spectral_normalise(network: nn.Module, eps: float, skip: Iterable[nn.Module] = ()) -> None:
    """Spectrally normalise every conv, dense layer and embedding of ``network`` except those in ``skip``."""
    skipped = {id(module) for module in skip}
    for module in list(network.modules()):
        if isinstance(module, WEIGHTED) and id(module) not in skipped and not is_normalised(module):
            parametrizations.spectral_norm(module, eps=eps)


def is_normalised(module: nn.Module) -> bool:
    return "weight" in getattr(module, "parametrizations", {})


def upsample(x: torch.Tensor) -> torch.Tensor:
    return F.interpolate(x, scale_factor=2, mode="nearest")  # F.interpolate's default mode, as GBlock calls it


def conv3x3(fan_in: int, fan_out: int) -> nn.Conv2d:
    return nn.Conv2d(fan_in, fan_out, 3, padding=1)


class LatentBatchNorm2d(nn.Module):
    """Batch norm with gain ``1 + W_g c`` and bias ``W_b c`` for a conditioning vector ``c`` per sample."""

    def __init__(self, channels: int, condition_size: int, eps: float = BN_EPS):
        super().__init__()
        self.norm = nn.BatchNorm2d(channels, eps=eps, momentum=BN_MOMENTUM, affine=False)
        self.gain = nn.Linear(condition_size, channels, bias=False)
        self.bias = nn.Linear(condition_size, channels, bias=False)

    def forward(self, x: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        gain = 1 + self.gain(condition)
        bias = self.bias(condition)
        return self.norm(x) * gain[:, :, None, None] + bias[:, :, None, None]


class GeneratorBlock(nn.Module):
    """Doubles the side; called as ``block(h, c)`` with ``c`` the block's conditioning vectors."""

    def __init__(self, fan_in: int, fan_out: int, condition_size: int):
        super().__init__()
        self.norm1 = LatentBatchNorm2d(fan_in, condition_size)
        self.conv1 = conv3x3(fan_in, fan_out)
        self.norm2 = LatentBatchNorm2d(fan_out, condition_size)
        self.conv2 = conv3x3(fan_out, fan_out)
        self.shortcut = nn.Conv2d(fan_in, fan_out, 1)

    def forward(self, x: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        h = self.conv1(upsample(F.relu(self.norm1(x, condition))))
        h = self.conv2(F.relu(self.norm2(h, condition)))
        return h + self.shortcut(upsample(x))


class DiscriminatorBlock(nn.Module):
    """A wide residual block of D, halving the side if ``downsample``."""

    def __init__(self, fan_in: int, fan_out: int, downsample: bool, preactivation: bool):
        super().__init__()
        self.downsample, self.preactivation = downsample, preactivation
        self.conv1 = conv3x3(fan_in, fan_out)
        self.conv2 = conv3x3(fan_out, fan_out)
        self.shortcut = nn.Conv2d(fan_in, fan_out, 1) if downsample or fan_in != fan_out else None

    def pool(self, x: torch.Tensor) -> torch.Tensor:
        return F.avg_pool2d(x, 2) if self.downsample else x

    def skip(self, x: torch.Tensor) -> torch.Tensor:
        if self.shortcut is None:
            return x
        # The release pools before the first block's 1x1 conv and after the others': a 1x1 conv commutes with
        # average pooling, so only the cost differs
        return self.pool(self.shortcut(x)) if self.preactivation else self.shortcut(self.pool(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu(x) if self.preactivation else x
        h = self.conv2(F.relu(self.conv1(h)))
        return self.pool(h) + self.skip(x)


class SelfAttention(nn.Module):
    """SAGAN's non-local block: every position attends to all (2x2 max-pooled) positions of the map."""

    def __init__(self, channels: int):
        super().__init__()
        if channels < ATTENTION_DIVISOR:
            raise ValueError(f"self-attention needs at least {ATTENTION_DIVISOR} channels where it sits, got "
                             f"{channels}; widen the network (g_channels / d_channels) or move the attention")
        self.channels = channels
        self.query = nn.Conv2d(channels, channels // ATTENTION_DIVISOR, 1, bias=False)  # theta
        self.key = nn.Conv2d(channels, channels // ATTENTION_DIVISOR, 1, bias=False)  # phi
        self.value = nn.Conv2d(channels, channels // 2, 1, bias=False)  # g
        self.out = nn.Conv2d(channels // 2, channels, 1, bias=False)  # o
        self.gamma = nn.Parameter(torch.zeros(()))

    def attention_map(self, x: torch.Tensor) -> torch.Tensor:
        """Each position's weights over the pooled positions, ``(batch, H * W, H * W / 4)``; rows sum to 1."""
        query = self.query(x).flatten(2)
        key = F.max_pool2d(self.key(x), 2).flatten(2)
        return torch.softmax(query.transpose(1, 2) @ key, dim=-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, _, height, width = x.shape
        value = F.max_pool2d(self.value(x), 2).flatten(2)
        # (map @ value^T)^T rather than value @ map^T: only the small value tensor is transposed, not the map
        attended = (self.attention_map(x) @ value.transpose(1, 2)).transpose(1, 2)
        return x + self.gamma * self.out(attended.reshape(batch, self.channels // 2, height, width))

    def extra_repr(self) -> str:
        return f"{self.channels}"
