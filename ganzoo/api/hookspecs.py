"""The hooks a ganzoo plugin may implement.

A plugin is a module (or object) with functions marked ``@ganzoo.hookimpl``
whose names match the specifications below, and the attribute
``ganzoo_plugin_api = "2.0"``: the plugin API version it was written for
(see :mod:`ganzoo.api.version`). Each hook receives a ``register`` callback;
call it once per contribution. The core attributes every contribution to the
plugin's distribution and refuses duplicate names.

Plugins are found through the ``ganzoo`` entry-point group::

    [project.entry-points.ganzoo]
    myplugin = "my_package"
"""

from __future__ import annotations

from collections.abc import Callable

import pluggy

from ganzoo.api.specs import (
    AlgorithmSpec,
    AugmentationSpec,
    DatasetSpec,
    GanSpec,
    MetricSpec,
    ObjectiveSpec,
    SuiteSpec,
)

PROJECT = "ganzoo"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def register_gans(register: Callable[[GanSpec], None]) -> None:
    """Contribute generator/discriminator pairs (or sets of named networks).

    Call ``register(GanSpec(...))`` for each. Its ``build`` is called with the
    data set's :class:`~ganzoo.api.specs.DataInfo`, so one spec may serve
    several data shapes; it should raise ``ValueError`` for shapes it cannot serve.
    """


@hookspec
def register_objectives(register: Callable[[ObjectiveSpec], None]) -> None:
    """Contribute training objectives.

    Call ``register(ObjectiveSpec(...))`` for each objective. Any registered
    objective can be paired with any registered GAN.
    """


@hookspec
def register_datasets(register: Callable[[DatasetSpec], None]) -> None:
    """Contribute data sets.

    Call ``register(DatasetSpec(...))`` for each data set.
    """


@hookspec
def register_algorithms(register: Callable[[AlgorithmSpec], None]) -> None:
    """Contribute training algorithms: what one training step does, on networks the algorithm names.

    Call ``register(AlgorithmSpec(...))`` for each. A run picks one with
    ``algorithm = "<name>"``; by default, its GAN's ``default_algorithm``
    (``alternating``, the core's k-discriminator-steps GAN step).
    """


@hookspec
def register_augmentations(register: Callable[[AugmentationSpec], None]) -> None:
    """Contribute augmentations applied to every batch a discriminator scores (DiffAugment, ADA).

    Call ``register(AugmentationSpec(...))`` for each. A run picks one with ``augmentation = "<name>"``.
    """


@hookspec
def register_metrics(register: Callable[[MetricSpec], None]) -> None:
    """Contribute metric suites.

    Call ``register(MetricSpec(...))`` for each. Every run measures the
    registered suites that apply to its data (``metrics.suites`` narrows them).
    """


@hookspec
def register_suites(register: Callable[[SuiteSpec], None]) -> None:
    """Contribute benchmark suites: TOML files that ``ganzoo bench NAME`` runs (see docs/benchmarks.md).

    Call ``register(SuiteSpec(name, path))`` for each. The file is validated when the suite is listed or run,
    and its entries may name any installed plugin's GANs and objectives.
    """
