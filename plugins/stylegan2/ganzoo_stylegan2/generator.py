"""The StyleGAN2 generator: a mapping network z -> w, and a skip-architecture synthesis network w -> image.

Follows Karras et al. 2020 (Figure 2d, Figure 7b) and the release's
training/networks.py (NVlabs/stylegan2-ada-pytorch):

- Mapping (``MappingNetwork``): z normalised to unit mean square; for a
  conditional run, the one-hot label through a dense layer (``embed``) to
  w_dim features, also normalised, and concatenated to z; then
  ``mapping_layers`` dense layers with leaky ReLU, learning-rate multiplier
  0.01. It tracks the average w of training (``w_avg``, updated in training
  mode only, ``w_avg <- beta w_avg + (1 - beta) mean(w)``, beta 0.995), towards
  which truncation pulls: ``w_avg + psi (w - w_avg)``.
- Synthesis (``SynthesisNetwork``): a learned 4x4 constant, then one block per
  resolution 4, 8, ..., R with min(channel_base / res, channel_max) channels.
  A block has two modulated 3x3 convolutions (one at 4x4), the first
  upsampling (transposed convolution, then the [1, 3, 3, 1] filter); each adds
  per-pixel noise times a learned strength (starting at 0), a bias and the
  scaled leaky ReLU. Each block's toRGB (a modulated 1x1 convolution without
  demodulation) is added to the image so far, upsampled with the filter
  (the "skip" generator, Figure 7b). Styles come from w through a dense
  layer per convolution whose bias starts at 1.
- w per layer: a block's toRGB shares its w with the next block's first
  convolution, so R = 2^r has 2r - 2 codes (``num_ws``), as the release counts them.

Style mixing regularisation (section 2 of Karras et al. 2019, StyleGAN; the
release's ``run_G`` in training/loss.py): in training mode, with probability
``style_mixing``, one crossover layer, uniform in 1 .. num_ws - 1, is drawn for
the batch; layers from it on take the w of a second, fresh z (that second
mapping does not update ``w_avg``).

Noise inputs are fresh N(0, 1) draws per call in training mode (the release's
``noise_mode='random'``). In eval mode ``eval_noise`` decides: ``random`` (the
default) draws them too, as the release's metrics do (its metric_utils calls
``G(z, c)`` with the default noise mode), from torch's global generator, which
ganzoo's sampling and metrics seed with their sampling seed
(``ganzoo.utils.seeded_draws``), so a seed still gives the same pictures;
``const`` uses each layer's fixed draw stored with the network, as the
release's generate.py does by default; ``none`` leaves them out.

Output range: the release does not clamp its images (it clamps when it writes
them to bytes). Here images are clamped to [-1, 1] in eval mode only, which
is how sampling, pictures and metrics see them (the core's generator
contract); training sees them unclamped, as in the release.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from ganzoo.layers import check_labels
from ganzoo_stylegan2.layers import EqualLinear, bias_act, fuse_modulation, modulated_conv2d, normalize_2nd_moment
from ganzoo_stylegan2.resample import fir_filter, upsample2d

NoiseMode = Literal["const", "random", "none"]


def channels_at(resolution: int, channel_base: int, channel_max: int) -> int:
    """The release's channel rule: min(channel_base / resolution, channel_max)."""
    return max(1, min(channel_base // resolution, channel_max))


class MappingNetwork(nn.Module):
    """z (and labels) -> w; also the discriminator's label embedding (with ``z_dim = 0``)."""

    w_avg: torch.Tensor

    def __init__(self, z_dim: int, w_dim: int, num_layers: int, num_classes: int | None = None,
                 lr_multiplier: float = 0.01, w_avg_beta: float | None = 0.995):
        super().__init__()
        self.z_dim, self.w_dim, self.num_classes, self.w_avg_beta = z_dim, w_dim, num_classes, w_avg_beta
        self.embed = EqualLinear(num_classes, w_dim) if num_classes else None
        features = [z_dim + (w_dim if num_classes else 0)] + [w_dim] * num_layers
        self.layers = nn.Sequential(*[EqualLinear(a, b, leaky=True, lr_multiplier=lr_multiplier)
                                      for a, b in zip(features, features[1:])])
        if w_avg_beta is not None:
            self.register_buffer("w_avg", torch.zeros(w_dim))

    def forward(self, z: torch.Tensor | None, labels: torch.Tensor | None = None, psi: float = 1.0, *,
                track: bool = True) -> torch.Tensor:
        """W codes ``(n, w_dim)``, truncated towards ``w_avg`` by ``psi``; ``w_avg`` is updated in training mode
        (unless ``track`` is off)."""
        check_labels(labels, self.num_classes, "this mapping network")
        parts = []
        if self.z_dim:
            if z is None:
                raise TypeError("this mapping network takes latent codes z")
            parts.append(normalize_2nd_moment(z.float()))
        if self.embed is not None:
            assert labels is not None and self.num_classes is not None
            parts.append(normalize_2nd_moment(self.embed(F.one_hot(labels, self.num_classes).float())))
        w = self.layers(torch.cat(parts, dim=1))
        if self.w_avg_beta is not None and self.training and track:
            with torch.no_grad():
                self.w_avg.copy_(w.detach().float().mean(dim=0).lerp(self.w_avg, self.w_avg_beta))
        if psi != 1:
            if self.w_avg_beta is None:
                raise ValueError("truncation needs the tracked average w, which this mapping network does not keep")
            w = self.w_avg.lerp(w.float(), psi)
        return w


class SynthesisLayer(nn.Module):
    """Modulated 3x3 convolution (upsampling when ``up``), noise, bias, leaky ReLU."""

    noise_const: torch.Tensor
    fir: torch.Tensor

    def __init__(self, in_channels: int, out_channels: int, w_dim: int, resolution: int, up: bool = False,
                 clamp: float | None = None):
        super().__init__()
        self.up, self.resolution, self.clamp = up, resolution, clamp
        self.affine = EqualLinear(w_dim, in_channels, bias_init=1.0)
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, 3, 3))
        self.bias = nn.Parameter(torch.zeros(out_channels))
        self.noise_strength = nn.Parameter(torch.zeros(()))
        self.register_buffer("noise_const", torch.randn(resolution, resolution))
        self.register_buffer("fir", fir_filter(), persistent=False)

    def forward(self, x: torch.Tensor, w: torch.Tensor, noise_mode: NoiseMode) -> torch.Tensor:
        x = modulated_conv2d(x, self.weight, self.affine(w), up=self.up, fir=self.fir,
                             fused=fuse_modulation(self.training, len(x)))
        if noise_mode == "random":
            x = x + torch.randn(len(x), 1, self.resolution, self.resolution, device=x.device) * self.noise_strength
        elif noise_mode == "const":
            x = x + self.noise_const * self.noise_strength
        return bias_act(x, self.bias, leaky=True, clamp=self.clamp)


class ToRGB(nn.Module):
    """Modulated 1x1 convolution to the image's channels, without demodulation, then a bias."""

    def __init__(self, in_channels: int, image_channels: int, w_dim: int, clamp: float | None = None):
        super().__init__()
        self.clamp = clamp
        self.affine = EqualLinear(w_dim, in_channels, bias_init=1.0)
        self.weight = nn.Parameter(torch.randn(image_channels, in_channels, 1, 1))
        self.bias = nn.Parameter(torch.zeros(image_channels))
        self.weight_gain = in_channels**-0.5  # equalised lr, applied to the styles as the release does

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        styles = self.affine(w) * self.weight_gain
        x = modulated_conv2d(x, self.weight, styles, demodulate=False, fused=fuse_modulation(self.training, len(x)))
        return bias_act(x, self.bias, leaky=False, clamp=self.clamp)


class SynthesisBlock(nn.Module):
    """One resolution of the skip generator: (upsampling conv,) conv, toRGB added to the upsampled image."""

    fir: torch.Tensor

    def __init__(self, in_channels: int, out_channels: int, w_dim: int, resolution: int, image_channels: int,
                 clamp: float | None = None):
        super().__init__()
        self.first = in_channels == 0
        if self.first:
            self.const = nn.Parameter(torch.randn(out_channels, resolution, resolution))
        else:
            self.conv0 = SynthesisLayer(in_channels, out_channels, w_dim, resolution, up=True, clamp=clamp)
        self.conv1 = SynthesisLayer(out_channels, out_channels, w_dim, resolution, clamp=clamp)
        self.torgb = ToRGB(out_channels, image_channels, w_dim, clamp=clamp)
        self.num_conv = 1 if self.first else 2
        self.register_buffer("fir", fir_filter(), persistent=False)

    def forward(self, x: torch.Tensor | None, image: torch.Tensor | None, ws: torch.Tensor,
                noise_mode: NoiseMode) -> tuple[torch.Tensor, torch.Tensor]:
        codes = iter(ws.unbind(dim=1))
        if self.first:
            x = self.const.unsqueeze(0).repeat(len(ws), 1, 1, 1)
        else:
            assert x is not None
            x = self.conv0(x, next(codes), noise_mode)
        x = self.conv1(x, next(codes), noise_mode)
        rgb = self.torgb(x, next(codes))
        image = rgb if image is None else upsample2d(image, self.fir) + rgb
        return x, image


class SynthesisNetwork(nn.Module):
    """w -> image: (n, w_dim) codes (the same for every layer) or (n, num_ws, w_dim) codes per layer."""

    def __init__(self, w_dim: int, resolution: int, image_channels: int, channel_base: int, channel_max: int,
                 clamp: float | None = None, eval_noise: NoiseMode = "random"):
        super().__init__()
        self.w_dim, self.eval_noise = w_dim, eval_noise
        resolutions = [2**i for i in range(2, resolution.bit_length())]
        blocks = [SynthesisBlock(channels_at(res // 2, channel_base, channel_max) if res > 4 else 0,
                                 channels_at(res, channel_base, channel_max), w_dim, res, image_channels, clamp)
                  for res in resolutions]
        self.blocks = nn.ModuleList(blocks)
        self.convs_per_block = [block.num_conv for block in blocks]
        self.num_ws = sum(self.convs_per_block) + 1  # + the last toRGB's own code

    def forward(self, w: torch.Tensor) -> torch.Tensor:
        ws = w.unsqueeze(1).expand(-1, self.num_ws, -1) if w.dim() == 2 else w
        if ws.dim() != 3 or ws.shape[1:] != (self.num_ws, self.w_dim):
            raise ValueError(f"synthesis takes W codes of shape (n, {self.w_dim}) or (n, {self.num_ws}, "
                             f"{self.w_dim}), got {tuple(w.shape)}")
        noise_mode: NoiseMode = "random" if self.training else self.eval_noise
        x = image = None
        start = 0
        for block, convs in zip(self.blocks, self.convs_per_block):
            x, image = block(x, image, ws[:, start:start + convs + 1], noise_mode)  # its toRGB shares the next code
            start += convs
        assert image is not None
        return image if self.training else image.clamp(-1, 1)


class Generator(nn.Module):
    """``G(z, labels)``: ``mapping`` then ``synthesis``, with style mixing in training mode."""

    def __init__(self, z_dim: int, image_shape: tuple[int, int, int], *, w_dim: int, mapping_layers: int,
                 channel_base: int, channel_max: int, num_classes: int | None = None, style_mixing: float = 0.0,
                 mapping_lr_multiplier: float = 0.01, w_avg_beta: float = 0.995, clamp: float | None = None,
                 eval_noise: NoiseMode = "random"):
        super().__init__()
        channels, resolution, _ = image_shape
        self.num_classes, self.style_mixing = num_classes, style_mixing
        self.synthesis = SynthesisNetwork(w_dim, resolution, channels, channel_base, channel_max, clamp, eval_noise)
        self.num_ws = self.synthesis.num_ws
        self.mapping = MappingNetwork(z_dim, w_dim, mapping_layers, num_classes, mapping_lr_multiplier, w_avg_beta)

    def training_ws(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Per-layer codes ``(n, num_ws, w_dim)`` as training uses them: with style mixing in training mode."""
        w = self.mapping(z, labels)
        ws = w.unsqueeze(1).repeat(1, self.num_ws, 1)
        if not self.training or self.style_mixing <= 0 or torch.rand(()) >= self.style_mixing:
            return ws
        crossover = int(torch.randint(1, self.num_ws, ()))
        other = self.mapping(torch.randn_like(z), labels, track=False)
        return torch.cat([ws[:, :crossover], other.unsqueeze(1).expand(-1, self.num_ws - crossover, -1)], dim=1)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.synthesis(self.training_ws(z, labels))
