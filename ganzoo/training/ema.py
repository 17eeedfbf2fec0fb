"""An exponential moving average (EMA) of the generator's weights.

After generator step t the average is ``ema = decay * ema + (1 - decay) * G``
for every parameter, so after T steps from a copy of G_0 it equals
``decay^T G_0 + (1 - decay) * sum_t decay^(T - t) G_t``. Sampling from the
average gives smoother, usually better samples than the last weights (Yazıcı
et al. 2019, "The Unusual Effectiveness of Averaging in GAN Training").
Buffers (batch-norm running statistics, power-iteration vectors) are copied,
not averaged: they describe the current weights' activations.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping

import torch
from torch import nn

from ganzoo.errors import ConfigError


def weights_name(decay: float | None, rampup: float | None = None) -> str:
    """How metrics protocols and pictures name the weights used: ``raw``, or the average, its decay and ramp-up."""
    if decay is None:
        return "raw"
    return f"ema (decay {decay:g})" if rampup is None else f"ema (decay {decay:g}, rampup {rampup:g})"


def ema_copy(generator: nn.Module) -> nn.Module:
    """A frozen copy of ``generator`` in eval mode, to be updated by :func:`update_ema`."""
    average = copy.deepcopy(generator).eval()
    average.requires_grad_(False)
    return average


@torch.no_grad()
def update_ema(average: nn.Module, generator: nn.Module, decay: float) -> None:
    """One averaging step; ``decay = 0`` copies the generator's weights."""
    for mean, current in zip(average.parameters(), generator.parameters()):
        mean.lerp_(current, 1.0 - decay)
    for kept, buffer in zip(average.buffers(), generator.buffers()):
        kept.copy_(buffer)


def generator_average(enabled: bool, networks: Mapping[str, nn.Module], generator: str | None,
                      algorithm: str) -> nn.Module | None:
    """The moving average a run with ``ema.enabled`` keeps, starting as a copy of its generator."""
    if not enabled:
        return None
    if generator is None:
        raise ConfigError(f"ema.enabled averages the generator's weights, but algorithm '{algorithm}' has no "
                          "generator; set ema.enabled = false")
    return ema_copy(networks[generator])
