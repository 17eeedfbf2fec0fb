"""The run's plugin-made parts other than networks and data, and where each came from."""

from __future__ import annotations

from typing import Any

import torch

import ganzoo
from ganzoo.api.objective import Objective
from ganzoo.registry.calls import call_plugin
from ganzoo.registry.discovery import Zoo
from ganzoo.training.config import RunConfig, validate


def build_objective(config: RunConfig, zoo: Zoo) -> Objective:
    spec = zoo.objectives.get(str(config.objective))
    options = validate(spec.options, config.objective_options, f"objective_options for '{spec.name}'")
    return call_plugin(zoo.objectives, spec.name, spec.build, options,
                       check=lambda result: isinstance(result, Objective))


def provenance(config: RunConfig, zoo: Zoo, device: torch.device) -> dict[str, Any]:
    """Which installed distributions (and versions) supplied each named part of the run."""
    parts = {"gan": (zoo.gans, config.gan), "objective": (zoo.objectives, str(config.objective)),
             "dataset": (zoo.datasets, config.dataset)}
    result: dict[str, Any] = {"ganzoo": ganzoo.__version__, "torch": torch.__version__, "device": str(device)}
    for key, (registry, name) in parts.items():
        source = registry.source(name)
        result[key] = {"name": name, "distribution": source.distribution, "version": source.version}
    return result
