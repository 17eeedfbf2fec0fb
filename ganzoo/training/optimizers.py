"""Optimizers from their config, and the learning-rate schedule."""

from __future__ import annotations

from collections.abc import Iterable

import torch

from ganzoo.errors import GanzooError
from ganzoo.training.config import OptimizerConfig


def build_optimizer(settings: OptimizerConfig, params: Iterable[torch.nn.Parameter]) -> torch.optim.Optimizer:
    params = list(params)
    if not params:
        raise GanzooError("a network has no parameters to train")
    if settings.kind == "adam":
        return torch.optim.Adam(params, lr=settings.lr, betas=settings.betas, weight_decay=settings.weight_decay)
    if settings.kind == "rmsprop":
        return torch.optim.RMSprop(params, lr=settings.lr, momentum=settings.momentum,
                                   weight_decay=settings.weight_decay)
    return torch.optim.SGD(params, lr=settings.lr, momentum=settings.momentum, weight_decay=settings.weight_decay)


def scale_learning_rate(optimizer: torch.optim.Optimizer, settings: OptimizerConfig, factor: float) -> None:
    """Set every group's rate to ``factor`` times the configured one (a function of the step alone, so a
    resumed run needs no schedule state)."""
    for group in optimizer.param_groups:
        group["lr"] = settings.lr * factor
