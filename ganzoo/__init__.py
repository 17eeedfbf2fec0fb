"""ganzoo: a plugin-based GAN zoo with one shared runner.

The public API for plugin authors and users (plugin API version ``ganzoo.PLUGIN_API``;
what changed between versions: docs/changelog.md)::

    import ganzoo
    ganzoo.list("gans", "w*")                     # registered names of a kind, fnmatch wildcards
    G, D = ganzoo.build_gan("gan", ganzoo.DataInfo((2,)), z_dim=100)

Public are ``ganzoo`` (these names), ``ganzoo.layers`` and ``ganzoo.testing``; every other module is the core's
own and may change in any release (docs/plugin-authors.md).
"""

from __future__ import annotations

import builtins
import difflib
import importlib
import warnings
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
    "ganzoo.api.prior": ("Prior", "generate"),
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
    from ganzoo.api.prior import Prior, generate
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
    kind = name.removeprefix("list_") if name.startswith("list_") else None
    if kind in ("gans", "objectives", "datasets", "algorithms", "augmentations", "metrics"):
        warnings.warn(f"ganzoo.{name}(pattern) is deprecated and goes in ganzoo 0.3; use ganzoo.list('{kind}', "
                      "pattern)", DeprecationWarning, stacklevel=2)
        return lambda pattern="*": list(kind, pattern)
    if name not in _HOME:
        raise AttributeError(f"module 'ganzoo' has no attribute '{name}'")
    value = getattr(importlib.import_module(_HOME[name]), name)
    globals()[name] = value
    return value


def __dir__() -> builtins.list[str]:
    return sorted({*globals(), *_HOME})


__version__ = CORE_VERSION

__all__ = [
    "PLUGIN_API", "Algorithm", "AlgorithmSpec", "Alternating", "Augmentation", "AugmentationSpec", "Batch", "DataInfo",
    "DatasetSpec", "EvaluationInput", "GanSpec", "GaussianMixture", "LoadedData", "Metric", "MetricSpec",
    "NoOptions", "Objective", "ObjectiveSpec", "Options", "Prior", "Reference", "ScoreLayout", "Stateful",
    "StepContext", "StepWrapper", "SuiteSpec", "TrainingStep", "build_gan", "build_objective", "generate", "hookimpl",
    "hookspec", "list", "load_dataset", "report",
]


def _zoo():
    from ganzoo.registry.discovery import get_zoo

    return get_zoo()


def list(kind: str, pattern: str = "*") -> builtins.list[str]:  # noqa: A001 (ganzoo.list, as timm.list_models)
    """The registered names of one ``kind`` (gans, objectives, datasets, algorithms, augmentations, metrics or
    suites) matching ``pattern``'s fnmatch wildcards (several patterns: comma-separated), sorted."""
    from ganzoo.registry.discovery import KINDS
    from ganzoo.registry.registry import split_patterns

    if kind not in KINDS:
        close = difflib.get_close_matches(kind, KINDS, n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        raise ValueError(f"unknown kind '{kind}'; {hint}kinds: {', '.join(KINDS)}")
    return sorted({name for part in split_patterns(pattern) for name in _zoo().registry(kind).names(part)})


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
