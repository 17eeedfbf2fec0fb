"""The hooks a ganzoo plugin may implement.

A plugin is a module (or object) with functions marked ``@ganzoo.hookimpl``
whose names match the specifications below. Each hook receives a ``register``
callback; call it once per contribution. The core attributes every
contribution to the plugin's distribution and refuses duplicate names.

Plugins are found through the ``ganzoo`` entry-point group::

    [project.entry-points.ganzoo]
    myplugin = "my_package"
"""

from __future__ import annotations

from collections.abc import Callable

import pluggy

from ganzoo.api.specs import DatasetSpec, GanSpec, ObjectiveSpec

PROJECT = "ganzoo"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def register_gans(register: Callable[[GanSpec], None]) -> None:
    """Contribute generator/discriminator pairs.

    Call ``register(GanSpec(...))`` for each pair. Its ``build`` is called with
    the data set's :class:`~ganzoo.api.specs.DataInfo`, so one spec may serve
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
