"""ganzoo: a plugin-based GAN zoo with one shared runner.

The public API for plugin authors and users::

    import ganzoo
    ganzoo.list_gans("*")                         # names, fnmatch wildcards
    G, D = ganzoo.build_gan("gan", ganzoo.DataInfo((2,)), z_dim=100)
"""

from __future__ import annotations

from typing import Any

from ganzoo.api.hookspecs import hookimpl, hookspec
from ganzoo.api.objective import Objective
from ganzoo.api.options import NoOptions, Options
from ganzoo.api.specs import DataInfo, DatasetSpec, GanSpec, GaussianMixture, LoadedData, ObjectiveSpec

__version__ = "0.2.0"

__all__ = [
    "DataInfo", "DatasetSpec", "GanSpec", "GaussianMixture", "LoadedData", "NoOptions", "Objective",
    "ObjectiveSpec", "Options", "build_gan", "build_objective", "hookimpl", "hookspec", "list_datasets",
    "list_gans", "list_objectives", "load_dataset",
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


def build_gan(name: str, info: DataInfo, z_dim: int = 100, **options: Any):
    """``(generator, discriminator)`` of a registered GAN; unknown names get close matches."""
    spec = _zoo().gans.get(name)
    return spec.build(info, z_dim, spec.options(**options))


def build_objective(name: str, **options: Any) -> Objective:
    spec = _zoo().objectives.get(name)
    return spec.build(spec.options(**options))


def load_dataset(name: str, **options: Any) -> LoadedData:
    spec = _zoo().datasets.get(name)
    return spec.build(spec.options(**options))
