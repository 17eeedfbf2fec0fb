"""A run's networks: built by the GAN's plugin, then checked against the data before any training."""

from __future__ import annotations

import dataclasses

import torch
from torch import nn

from ganzoo.api.specs import DataInfo
from ganzoo.errors import ConfigError, GanzooError
from ganzoo.registry.calls import call_plugin
from ganzoo.registry.discovery import Zoo
from ganzoo.training.config import RunConfig, validate
from ganzoo.training.prior import forward
from ganzoo.utils import eval_mode


def _module_pair(result: object) -> bool:
    return isinstance(result, tuple) and len(result) == 2 and all(isinstance(m, nn.Module) for m in result)


def network_info(config: RunConfig, info: DataInfo) -> DataInfo:
    """The data's description as the GAN sees it, with the run's ``conditional`` switch."""
    if config.conditional and info.num_classes is None:
        raise ConfigError(f"conditional = true needs class labels, but data set '{config.dataset}' has none "
                          "(or this split is unlabelled); set conditional = false")
    return dataclasses.replace(info, conditional=config.conditional)


def build_networks(config: RunConfig, zoo: Zoo, info: DataInfo) -> tuple[nn.Module, nn.Module]:
    """The GAN's generator and discriminator, checked against the data shape (and labels, if conditional)."""
    spec = zoo.gans.get(config.gan)
    options = validate(spec.options, config.gan_options, f"gan_options for '{spec.name}'")
    what = f"{'a class-conditional ' if info.conditional else ''}data set '{config.dataset}' {info.shape}"
    try:
        generator, discriminator = call_plugin(zoo.gans, spec.name, spec.build, info, config.z_dim, options,
                                               check=_module_pair)
    except GanzooError as exc:
        if isinstance(exc.__cause__, ValueError):  # the plugin's way to refuse a data shape
            raise ConfigError(f"GAN '{spec.name}' cannot be built for {what}: {exc.__cause__}") from None
        raise
    try:
        samples, scores = call_plugin(zoo.gans, spec.name, _probe, generator, discriminator, config.z_dim,
                                      info.conditional,
                                      check=lambda result: all(isinstance(t, torch.Tensor) for t in result))
    except GanzooError as exc:
        if info.conditional and isinstance(exc.__cause__, TypeError):  # networks that take no labels
            raise ConfigError(f"GAN '{spec.name}' has no class-conditional variant ({exc.__cause__}); "
                              "set conditional = false") from None
        raise
    if tuple(samples.shape) != (2, *info.shape):
        raise GanzooError(f"GAN '{spec.name}' generator gives samples of shape {tuple(samples.shape[1:])}, "
                          f"but data set '{config.dataset}' has {info.shape}")
    if scores.numel() != 2:
        raise GanzooError(f"GAN '{spec.name}' discriminator gives {scores.numel() // 2} scores per sample; "
                          "it must give one")
    return generator, discriminator


@torch.no_grad()
def _probe(generator: nn.Module, discriminator: nn.Module, z_dim: int,
           conditional: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """Run both networks once on two samples, in eval mode, to check their shapes."""
    labels = torch.zeros(2, dtype=torch.long) if conditional else None
    with eval_mode(generator, discriminator):
        samples = forward(generator, torch.zeros(2, z_dim), labels)
        return samples, forward(discriminator, samples, labels)


class WithLabels(nn.Module):
    """A conditional discriminator with its labels bound, for objectives that call ``D(x)`` themselves."""

    def __init__(self, discriminator: nn.Module, labels: torch.Tensor):
        super().__init__()
        self.discriminator = discriminator
        self.labels = labels

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.discriminator(inputs, self.labels)
