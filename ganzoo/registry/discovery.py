"""Plugin discovery: entry points -> pluggy -> registries.

Environment switches (values ``1``, ``true`` or ``yes``):

- ``GANZOO_STRICT_PLUGINS``: a plugin that fails to load or register is fatal.
- ``GANZOO_DISABLE_PLUGIN_AUTOLOAD``: skip the ``ganzoo`` entry points; only
  the modules named in ``GANZOO_PLUGINS`` (comma separated) are loaded.
"""

from __future__ import annotations

import functools
import importlib
import importlib.metadata as metadata
import os
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pluggy

from ganzoo.api import hookspecs
from ganzoo.api.options import MAX_DEPTH, Options, table_problem
from ganzoo.api.specs import (
    AlgorithmSpec,
    AugmentationSpec,
    DataInfo,
    DatasetSpec,
    GanSpec,
    MetricSpec,
    ObjectiveSpec,
    SuiteSpec,
)
from ganzoo.api.version import CORE_VERSION, DECLARATION, incompatibility
from ganzoo.errors import PluginError, one_line
from ganzoo.interrupts import InterruptGuard
from ganzoo.registry import blame
from ganzoo.registry.registry import DuplicateNameError, Registry, Source

ENTRY_POINT_GROUP = "ganzoo"
# The core's own contributions sit above the registry (they use data sets, metrics and suites), so it loads
# them by name, as it loads every plugin
CORE_PLUGIN = "ganzoo.builtin"
STRICT_ENV = "GANZOO_STRICT_PLUGINS"
NO_AUTOLOAD_ENV = "GANZOO_DISABLE_PLUGIN_AUTOLOAD"
PLUGINS_ENV = "GANZOO_PLUGINS"

CORE_DISTRIBUTION = "ganzoo-core"

# hook name -> (registry attribute, spec type)
HOOKS = {
    "register_gans": ("gans", GanSpec),
    "register_objectives": ("objectives", ObjectiveSpec),
    "register_datasets": ("datasets", DatasetSpec),
    "register_algorithms": ("algorithms", AlgorithmSpec),
    "register_augmentations": ("augmentations", AugmentationSpec),
    "register_metrics": ("metrics", MetricSpec),
    "register_suites": ("suites", SuiteSpec),
}
KINDS = tuple(attr for attr, _ in HOOKS.values())


class PluginLoadWarning(UserWarning):
    """A plugin failed to load; the others were loaded."""


@dataclass
class PluginRecord:
    """One loaded (or failed) plugin, as ``ganzoo plugins`` shows it."""

    source: Source
    contributes: dict[str, list[str]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes"}


class Zoo:
    """The plugin manager and the registries it fills, one per kind of contribution."""

    def __init__(self, *, autoload: bool | None = None, strict: bool | None = None,
                 plugins: Iterable[tuple[object, Source]] = ()):
        self.strict = env_flag(STRICT_ENV) if strict is None else strict
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self.gans: Registry[GanSpec] = Registry("GAN")
        self.objectives: Registry[ObjectiveSpec] = Registry("objective")
        self.datasets: Registry[DatasetSpec] = Registry("dataset")
        self.algorithms: Registry[AlgorithmSpec] = Registry("algorithm")
        self.augmentations: Registry[AugmentationSpec] = Registry("augmentation")
        self.metrics: Registry[MetricSpec] = Registry("metric")
        self.suites: Registry[SuiteSpec] = Registry("suite")
        self.records: list[PluginRecord] = []

        self.interrupts = InterruptGuard()
        self._add(importlib.import_module(CORE_PLUGIN), Source("ganzoo", CORE_DISTRIBUTION, core_version()))
        with self.interrupts.deferred():  # Ctrl-C while plugins load: once they have (see _plugin_failure)
            if env_flag(NO_AUTOLOAD_ENV) if autoload is None else not autoload:
                self._load_named_modules(os.environ.get(PLUGINS_ENV, ""))
            else:
                self._load_entry_points()
            for plugin, source in plugins:
                self._add(plugin, source)

    def registry(self, kind: str) -> Registry[Any]:
        """The registry of one kind: ``gans``, ``objectives``, ``datasets``, ``algorithms``, ``augmentations``,
        ``metrics`` or ``suites``."""
        if kind not in KINDS:
            raise KeyError(kind)
        registry: Registry[Any] = getattr(self, kind)
        return registry

    def failed(self) -> list[PluginRecord]:
        return [r for r in self.records if r.errors]

    # -- loading ---------------------------------------------------------

    def _load_entry_points(self) -> None:
        for ep in sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            dist = ep.dist
            source = Source(ep.name, dist.name if dist else ep.value, dist.version if dist else "?")
            self._load(source, ep.load)

    def _load_named_modules(self, names: str) -> None:
        for name in filter(None, (n.strip() for n in names.split(","))):
            self._load(Source(name, name, "local"), functools.partial(importlib.import_module, name))

    def _load(self, source: Source, importer: Callable[[], object]) -> None:
        try:
            plugin = importer()
        except BaseException as exc:  # a broken plugin, even one that calls sys.exit, must not break the zoo
            self._reraise_ctrl_c(exc)
            record = PluginRecord(source)
            self.records.append(record)
            self._fail(record, f"import failed: {one_line(exc)}")
            return
        self._add(plugin, source)

    def _add(self, plugin: object, source: Source) -> None:
        """Register ``plugin`` with pluggy, run its hooks, and commit what it registered."""
        record = PluginRecord(source)
        self.records.append(record)
        blame.remember(plugin, source)
        taken = next((r.source for r in self.records if r.source.plugin == source.plugin and r is not record), None)
        if taken is not None:
            self._fail(record, f"plugin name '{source.plugin}' is also used by {taken}")
            return
        try:  # a module's __getattr__ is plugin code too
            declared = getattr(plugin, DECLARATION, None)
            refusal = incompatibility(declared, core_version()) or _hooks_too_new(plugin, str(declared))
        except BaseException as exc:
            self._reraise_ctrl_c(exc)
            self._fail(record, f"reading {DECLARATION} failed: {one_line(exc)}")
            return
        if refusal is not None:
            self._fail(record, refusal)
            return
        try:
            self.pm.register(plugin, name=source.plugin)
            staged = self._collect(source.plugin)
        except BaseException as exc:  # hooks are plugin code: SystemExit or a BaseException of its own included
            self._reraise_ctrl_c(exc)
            if self.pm.is_registered(plugin):
                self.pm.unregister(plugin)
            self._fail(record, f"registration failed: {one_line(exc)}")
            return
        for registry_attr, spec in staged:
            try:
                self.registry(registry_attr).add(spec, source)
                record.contributes.setdefault(registry_attr, []).append(spec.name)
            except DuplicateNameError as exc:
                self._fail(record, str(exc))

    def _reraise_ctrl_c(self, exc: BaseException) -> None:
        """A KeyboardInterrupt from the user stops the command; one a plugin raised itself is that plugin's
        failure (while plugins load, a Ctrl-C is held, so a KeyboardInterrupt without one is the plugin's)."""
        if isinstance(exc, KeyboardInterrupt) and self.interrupts.signalled:
            raise exc

    def _collect(self, plugin_name: str) -> list[tuple[str, Any]]:
        staged: list[tuple[str, Any]] = []
        for hook_name, (registry_attr, spec_type) in HOOKS.items():
            for impl in getattr(self.pm.hook, hook_name).get_hookimpls():
                if impl.plugin_name == plugin_name:
                    impl.function(register=_stager(staged, hook_name, registry_attr, spec_type))
        return staged

    def _fail(self, record: PluginRecord, message: str) -> None:
        record.errors.append(message)
        text = f"plugin '{record.source.plugin}' ({record.source}): {message}"
        if self.strict:
            raise PluginError(f"{text} (unset {STRICT_ENV} to skip broken plugins)")
        warnings.warn(text, PluginLoadWarning, stacklevel=2)


# Hooks added after API 2.0, and the version that added each: a plugin implementing one declares at least that
# version, so that an older core, which would ignore the hook, refuses the plugin instead.
HOOKS_SINCE = {"register_suites": (2, 1)}


def _hooks_too_new(plugin: object, declared: str) -> str | None:
    major, minor = (int(part) for part in declared.split("."))
    newer = [(hook, since) for hook, since in HOOKS_SINCE.items()
             if callable(getattr(plugin, hook, None)) and (major, minor) < since]
    if not newer:
        return None
    version = ".".join(map(str, max(since for _, since in newer)))
    return (f"implements {', '.join(hook for hook, _ in newer)}, a hook of plugin API {version}, but declares "
            f"{DECLARATION} = \"{declared}\"; declare \"{version}\"")


def core_version() -> str:
    """The installed core's version (the source tree's own when it runs uninstalled)."""
    try:
        return metadata.version(CORE_DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return CORE_VERSION


def _stager(staged: list[tuple[str, Any]], hook_name: str, registry_attr: str,
            spec_type: type[Any]) -> Callable[[Any], None]:
    """The ``register`` callback handed to one hook: it checks each spec and stages it for the registry."""
    def register(spec: Any) -> None:
        if not isinstance(spec, spec_type):
            raise TypeError(f"{hook_name} got {type(spec).__name__}, expected {spec_type.__name__}")
        problem = _malformed(spec)
        if problem:
            raise TypeError(f"{spec_type.__name__} {getattr(spec, 'name', '?')!r}: {problem}")
        staged.append((registry_attr, spec))

    return register


MAX_NAME = 64
# Run-config keys a plugin's defaults may not set: they say where a run is written, on what, from which seed.
USERS_KEYS = frozenset({"out_dir", "device", "seed", "gan", "dataset"})


def _malformed(spec: Any) -> str | None:
    """What is wrong with a spec's fields (dataclasses do not check their types), or None."""
    # exactly str: a subclass could hash, compare or print differently in the registry and in listings
    if not (type(spec.name) is str and spec.name.strip() and spec.name == "".join(spec.name.split())
            and spec.name.isprintable() and len(spec.name) <= MAX_NAME):
        return f"name must be a non-empty string of at most {MAX_NAME} printable characters, without spaces"
    if isinstance(spec, SuiteSpec):
        return None if isinstance(spec.path, Path) else "path must be a pathlib.Path to the suite's TOML file"
    if not (isinstance(spec.citation, str) and isinstance(spec.description, str)):
        return "citation and description must be strings"
    if not (isinstance(spec.options, type) and issubclass(spec.options, Options)):
        return "options must be a ganzoo.Options subclass"
    if not callable(spec.build) or not callable(getattr(spec, "applies", callable)):
        return "build (and a metric's applies) must be callable"
    tables = [getattr(spec, key) for key in ("defaults", "overrides") if hasattr(spec, key)]
    if not all(isinstance(table, Mapping) and table_problem(table) is None for table in tables):
        return (f"defaults and overrides must be dicts of run-config values, keyed by strings and nested at most "
                f"{MAX_DEPTH} levels deep")
    claimed = sorted({key for table in tables for key in table if key in USERS_KEYS})
    if claimed:
        return f"defaults and overrides may not set {', '.join(claimed)}: where and how a run goes is the user's"
    if isinstance(spec, GanSpec) and not all(isinstance(name, str)
                                             for name in (spec.default_objective, spec.default_algorithm)):
        return "default_objective and default_algorithm must be names"
    if isinstance(spec, (GanSpec, AugmentationSpec)) and not (
            isinstance(spec.serves, (tuple, list)) and spec.serves
            and all(isinstance(info, DataInfo) for info in spec.serves)):
        what = "GAN" if isinstance(spec, GanSpec) else "augmentation"
        return f"serves must be a non-empty tuple of ganzoo.DataInfo (the data the {what} claims to serve)"
    return None


_zoo: Zoo | None = None


def get_zoo() -> Zoo:
    """The process-wide zoo, loaded on first use."""
    global _zoo
    if _zoo is None:
        _zoo = Zoo()
    return _zoo


def reset_zoo() -> None:
    """Forget the loaded zoo so the next :func:`get_zoo` rediscovers plugins."""
    global _zoo
    _zoo = None
