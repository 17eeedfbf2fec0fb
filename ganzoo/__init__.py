"""ganzoo: a plugin-based GAN zoo with one shared runner.

The public API for plugin authors and users (plugin API version ``ganzoo.PLUGIN_API``;
what changed between versions: docs/changelog.md)::

    import ganzoo
    ganzoo.list_gans("*")                         # names, fnmatch wildcards
    G, D = ganzoo.build_gan("gan", ganzoo.DataInfo((2,)), z_dim=100)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ganzoo.api.version import CORE_VERSION

# The public names load on first use: `import ganzoo` (and the `ganzoo` command, until it needs them) does not
# import torch, so Ctrl-C while the command starts is handled by the command, and `ganzoo --help` is quick.
_EXPORTS = {
    "ganzoo.api.algorithm": ("Algorithm", "Batch", "ScoreLayout", "StepWrapper", "TrainingStep"),
    "ganzoo.algorithms.alternating": ("Alternating",),
    "ganzoo.api.augmentation": ("Augmentation",),
    "ganzoo.api.hookspecs": ("hookimpl", "hookspec"),
    "ganzoo.api.metric": ("EvaluationInput", "Metric"),
    "ganzoo.api.objective": ("Objective", "StepContext"),
    "ganzoo.api.options": ("NoOptions", "Options"),
    "ganzoo.api.specs": ("AlgorithmSpec", "AugmentationSpec", "DataInfo", "DatasetSpec", "GanSpec", "GaussianMixture",
                         "LoadedData", "MetricSpec", "ObjectiveSpec", "Reference", "SuiteSpec"),
    "ganzoo.api.state": ("Stateful",),
    "ganzoo.api.version": ("PLUGIN_API",),
    "ganzoo.api.prior": ("Prior",),
    "ganzoo.api.stats": ("report",),
}
_HOME = {name: module for module, names in _EXPORTS.items() for name in names}

if TYPE_CHECKING:
    from ganzoo.algorithms.alternating import Alternating
    from ganzoo.api.algorithm import Algorithm, Batch, ScoreLayout, StepWrapper, TrainingStep
    from ganzoo.api.augmentation import Augmentation
    from ganzoo.api.hookspecs import hookimpl, hookspec
    from ganzoo.api.metric import EvaluationInput, Metric
    from ganzoo.api.objective import Objective, StepContext
    from ganzoo.api.options import NoOptions, Options
    from ganzoo.api.prior import Prior
    from ganzoo.api.specs import (
        AlgorithmSpec,
        AugmentationSpec,
        DataInfo,
        DatasetSpec,
        GanSpec,
        GaussianMixture,
        LoadedData,
        MetricSpec,
        ObjectiveSpec,
        Reference,
        SuiteSpec,
    )
    from ganzoo.api.state import Stateful
    from ganzoo.api.stats import report
    from ganzoo.api.version import PLUGIN_API


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module 'ganzoo' has no attribute '{name}'")
    value = getattr(importlib.import_module(_HOME[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOME})


__version__ = CORE_VERSION

__all__ = [
    "PLUGIN_API", "Algorithm", "AlgorithmSpec", "Alternating", "Augmentation", "AugmentationSpec", "Batch", "DataInfo",
    "DatasetSpec", "EvaluationInput", "GanSpec", "GaussianMixture", "LoadedData", "Metric", "MetricSpec",
    "NoOptions", "Objective", "ObjectiveSpec", "Options", "Prior", "Reference", "ScoreLayout", "Stateful",
    "StepContext", "StepWrapper", "SuiteSpec", "TrainingStep", "build_gan", "build_objective", "hookimpl", "hookspec",
    "list_algorithms", "list_augmentations", "list_datasets", "list_gans", "list_metrics", "list_objectives",
    "load_dataset", "report",
]


def _zoo():
    from ganzoo.registry.discovery import get_zoo

    return get_zoo()


def list_gans(pattern: str = "*") -> list[str]:
    return _zoo().gans.names(pattern)


def list_objectives(pattern: str = "*") -> list[str]:
    return _zoo().objectives.names(pattern)


def list_datasets(pattern: str = "*") -> list[str]:
    return _zoo().datasets.names(pattern)


def list_algorithms(pattern: str = "*") -> list[str]:
    return _zoo().algorithms.names(pattern)


def list_augmentations(pattern: str = "*") -> list[str]:
    return _zoo().augmentations.names(pattern)


def list_metrics(pattern: str = "*") -> list[str]:
    return _zoo().metrics.names(pattern)


def build_gan(name: str, info: DataInfo, z_dim: int = 100, **options: Any):
    """``(generator, discriminator)`` (or the named networks) of a registered GAN; unknown names get close
    matches."""
    spec = _zoo().gans.get(name)
    return spec.build(info, z_dim, spec.options(**options))


def build_objective(name: str, **options: Any) -> Objective:
    spec = _zoo().objectives.get(name)
    return spec.build(spec.options(**options))


def load_dataset(name: str, **options: Any) -> LoadedData:
    spec = _zoo().datasets.get(name)
    return spec.build(spec.options(**options))
