"""StyleGAN2's building blocks: equalised learning rate, modulated convolution, minibatch standard deviation.

Equalised learning rate (Karras et al. 2018, Progressive Growing of GANs,
section 4.1; StyleGAN2 keeps it throughout): weights are stored as N(0, 1)
draws and scaled at every use by c = lr_multiplier / sqrt(fan_in) (He's
constant), biases by lr_multiplier. With Adam, whose steps are invariant to a
parameter's scale, each layer then learns at the same effective speed. The
stored weight starts at N(0, 1) / lr_multiplier, so the used weight starts at
N(0, 1 / fan_in) whatever the multiplier; the mapping network uses 0.01
(release: ``FullyConnectedLayer`` and ``Conv2dLayer`` in training/networks.py).

Activations are the release's ``bias_act``: add the bias, leaky ReLU of slope
0.2 times sqrt(2) (its "def_gain", which keeps the second moment) or the
identity, then clamp to +-``clamp`` when set (the release's ``conv_clamp``).

Modulated convolution (Karras et al. 2020, section 2.2, eq. 1-3): the weight
w_ijk (i input, j output channel, k tap) is scaled per sample by the style s_i,
w'_ijk = s_i w_ijk; demodulation divides each output channel by
sigma_j = sqrt(sum_ik w'_ijk^2 + 1e-8), which restores unit output variance
for inputs of unit variance (eq. 2-3). Two equal ways to run it, as in the
release's ``modulated_conv2d``: fused, one grouped convolution with a weight per
sample, or unfused, scaling the activations before and after a convolution
with the shared weight. The release fuses in eval mode at float32 and not in
training; here eval batches of more than ``FUSED_MAX_BATCH`` samples are not
fused either, since the fused form holds a weight per sample (ganzoo samples
1,000 at a time: 9 GB for one 512-channel layer).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ganzoo_stylegan2.resample import conv2d_down, conv2d_up, fir_filter

LRELU_SLOPE = 0.2
LRELU_GAIN = math.sqrt(2)
DEMODULATION_EPS = 1e-8
FUSED_MAX_BATCH = 16


def fuse_modulation(training: bool, batch: int) -> bool:
    """Whether to run a modulated convolution as one grouped convolution (see the module docstring)."""
    return not training and batch <= FUSED_MAX_BATCH


def normalize_2nd_moment(x: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Scale each row to unit mean square (the mapping network's input normalisation; pixel norm on vectors)."""
    return x * (x.square().mean(dim=1, keepdim=True) + eps).rsqrt()


def bias_act(x: torch.Tensor, bias: torch.Tensor | None, leaky: bool, gain: float = 1.0,
             clamp: float | None = None) -> torch.Tensor:
    """x + bias (broadcast over channels), then leaky ReLU times sqrt(2) * gain (or times gain), then a clamp."""
    if bias is not None:
        x = x + bias.reshape(1, -1, *([1] * (x.dim() - 2)))
    if leaky:
        x = F.leaky_relu(x, LRELU_SLOPE) * (LRELU_GAIN * gain)
    elif gain != 1:
        x = x * gain
    if clamp is not None:
        x = x.clamp(-clamp * gain, clamp * gain)
    return x


class EqualLinear(nn.Module):
    """A dense layer with equalised learning rate; ``leaky`` adds the scaled leaky ReLU."""

    def __init__(self, in_features: int, out_features: int, leaky: bool = False, lr_multiplier: float = 1.0,
                 bias_init: float = 0.0):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_features, in_features) / lr_multiplier)
        self.bias = nn.Parameter(torch.full((out_features,), float(bias_init)))
        self.weight_gain = lr_multiplier / math.sqrt(in_features)
        self.bias_gain = lr_multiplier
        self.leaky = leaky

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.linear(x, self.weight * self.weight_gain)
        return bias_act(x, self.bias * self.bias_gain, self.leaky)


class EqualConv2d(nn.Module):
    """A k x k convolution with equalised learning rate, "same" padding, optional filtered downsampling by 2."""

    fir: torch.Tensor

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, bias: bool = True, leaky: bool = True,
                 down: bool = False, clamp: float | None = None):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        self.weight_gain = 1 / math.sqrt(in_channels * kernel_size**2)
        self.leaky, self.down, self.clamp = leaky, down, clamp
        self.register_buffer("fir", fir_filter(), persistent=False)

    def forward(self, x: torch.Tensor, gain: float = 1.0) -> torch.Tensor:
        weight = self.weight * self.weight_gain
        if self.down:
            x = conv2d_down(x, weight, self.fir)
        else:
            x = F.conv2d(x, weight, padding=weight.shape[-1] // 2)
        return bias_act(x, self.bias, self.leaky, gain, self.clamp)


def modulated_conv2d(x: torch.Tensor, weight: torch.Tensor, styles: torch.Tensor, demodulate: bool = True,
                     up: bool = False, fir: torch.Tensor | None = None, fused: bool = True) -> torch.Tensor:
    """Convolve each sample of ``x`` (N, I, H, W) with ``weight`` (O, I, k, k) modulated by its ``styles`` (N, I).

    ``up`` doubles the resolution with the filter ``fir`` (a transposed convolution, then the filter).
    """
    n, in_channels = styles.shape
    out_channels, _, size, _ = weight.shape
    coefficients = None
    if demodulate:  # sum_ik (s_i w_oik)^2 = sum_i s_i^2 (sum_k w_oik^2): no weight per sample needed
        coefficients = (styles.square() @ weight.square().sum(dim=(2, 3)).T + DEMODULATION_EPS).rsqrt()  # (N, O)
    if not fused:
        x = x * styles.reshape(n, in_channels, 1, 1)
        x = _convolve(x, weight, up, fir, groups=1)
        return x if coefficients is None else x * coefficients.reshape(n, out_channels, 1, 1)
    per_sample = weight.unsqueeze(0) * styles.reshape(n, 1, in_channels, 1, 1)  # (N, O, I, k, k)
    if coefficients is not None:
        per_sample = per_sample * coefficients.reshape(n, out_channels, 1, 1, 1)
    # one grouped convolution: the batch becomes the groups, each with its own weight
    x = x.reshape(1, n * in_channels, *x.shape[2:])
    x = _convolve(x, per_sample.reshape(n * out_channels, in_channels, size, size), up, fir, groups=n)
    return x.reshape(n, out_channels, *x.shape[2:])


def _convolve(x: torch.Tensor, weight: torch.Tensor, up: bool, fir: torch.Tensor | None, groups: int) -> torch.Tensor:
    if up:
        if fir is None:
            raise ValueError("upsampling needs the FIR filter")
        return conv2d_up(x, weight, fir, groups=groups)
    return F.conv2d(x, weight, padding=weight.shape[-1] // 2, groups=groups)


class MinibatchStd(nn.Module):
    """Minibatch standard deviation (Karras et al. 2018, section 3; release ``MinibatchStdLayer``).

    The batch is split into groups of ``group_size`` (sample i in group i mod N / G, as the release reshapes
    it); for each group the standard deviation of every feature over its members is averaged over ``channels``
    slices of the channels and all pixels, and appended as ``channels`` constant feature maps.
    """

    def __init__(self, group_size: int, channels: int = 1):
        super().__init__()
        self.group_size, self.channels = group_size, channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        group = min(self.group_size, n)
        if n % group:
            raise ValueError(f"the minibatch standard deviation layer takes groups of {group} samples, which do not "
                             f"divide the batch of {n}; set a batch_size that is a multiple of {group} or change "
                             "gan_options.mbstd_group")
        y = x.reshape(group, -1, self.channels, c // self.channels, h, w)
        y = (y - y.mean(dim=0)).square().mean(dim=0)  # variance over each group's members
        y = (y + 1e-8).sqrt().mean(dim=(2, 3, 4))  # (N / G, channels)
        y = y.reshape(-1, self.channels, 1, 1).repeat(group, 1, h, w)
        return torch.cat([x, y], dim=1)
