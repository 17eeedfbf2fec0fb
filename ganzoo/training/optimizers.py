"""Optimizers from their config, one per name an algorithm declares, and the learning-rate schedule."""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn

from ganzoo.api.algorithm import Algorithm
from ganzoo.errors import ConfigError, GanzooError
from ganzoo.run.config import OptimizerConfig, RunConfig


def build_optimizer(settings: OptimizerConfig, params: list[torch.nn.Parameter]) -> torch.optim.Optimizer:
    if settings.kind == "adam":
        return torch.optim.Adam(params, lr=settings.lr, betas=settings.betas, eps=settings.eps,
                                weight_decay=settings.weight_decay)
    if settings.kind == "rmsprop":
        return torch.optim.RMSprop(params, lr=settings.lr, momentum=settings.momentum, eps=settings.eps,
                                   weight_decay=settings.weight_decay)
    return torch.optim.SGD(params, lr=settings.lr, momentum=settings.momentum, weight_decay=settings.weight_decay)


def optimizer_settings(config: RunConfig, name: str) -> OptimizerConfig:
    """``optimizer_g`` and ``optimizer_d`` for ``g`` and ``d``; ``optimizers.<name>`` (or the defaults) else."""
    if name in ("g", "d"):
        settings: OptimizerConfig = getattr(config, f"optimizer_{name}")
        return settings
    return config.optimizers.get(name, OptimizerConfig())


def build_optimizers(config: RunConfig, algorithm: Algorithm, algorithm_name: str,
                     networks: Mapping[str, nn.Module]) -> dict[str, torch.optim.Optimizer]:
    """One optimizer per name the algorithm declares, over the parameters of its networks."""
    stray = sorted(set(config.optimizers) - set(algorithm.optimizers))
    if stray:
        raise ConfigError(f"optimizers.{stray[0]} is set, but algorithm '{algorithm_name}' has optimizers "
                          f"{', '.join(sorted(algorithm.optimizers))}")
    optimizers = {}
    for name, members in algorithm.optimizers.items():
        params = [p for member in members for p in networks[member].parameters()]
        if not params:
            raise GanzooError(f"optimizer '{name}' of algorithm '{algorithm_name}' has nothing to train: "
                              f"{', '.join(members)} have no parameters")
        optimizers[name] = build_optimizer(optimizer_settings(config, name), params)
    return optimizers


def scale_learning_rates(optimizers: Mapping[str, torch.optim.Optimizer], config: RunConfig, factor: float) -> None:
    """Set every group's rate to ``factor`` times the configured one (a function of the step alone, so a
    resumed run needs no schedule state)."""
    for name, optimizer in optimizers.items():
        for group in optimizer.param_groups:
            group["lr"] = optimizer_settings(config, name).lr * factor
