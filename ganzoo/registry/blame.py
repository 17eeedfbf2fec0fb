"""Which plugin an exception came from: the innermost frame of its traceback inside a plugin's own code.

The runner calls plugin code everywhere (losses, forwards, data sets, metrics), and
plugin code calls back into torch and into the core. A failure's traceback shows
who was running: its innermost frame in a plugin's package names the distribution
to blame, and the function (``Class.method``) that raised.
"""

from __future__ import annotations

import traceback
from types import ModuleType

from ganzoo.errors import PluginError, one_line
from ganzoo.registry.registry import Source

CORE_PACKAGE = "ganzoo"
_packages: dict[str, Source] = {}  # top-level package of each loaded plugin -> its distribution


def remember(plugin: object, source: Source) -> None:
    """Note the package ``plugin`` lives in (a module, or an object of a class defined in one)."""
    module = plugin.__name__ if isinstance(plugin, ModuleType) else getattr(plugin, "__module__", None)
    package = str(module or "").partition(".")[0]
    if package and package not in (CORE_PACKAGE, "builtins", "__main__"):
        _packages[package] = source


def origin(exc: BaseException) -> tuple[Source, str] | None:
    """The distribution and the function of the innermost frame of ``exc``'s traceback in plugin code."""
    for frame, _ in reversed(list(traceback.walk_tb(exc.__traceback__))):
        source = _packages.get(str(frame.f_globals.get("__name__", "")).partition(".")[0])
        if source is not None:
            return source, getattr(frame.f_code, "co_qualname", frame.f_code.co_name)
    return None


def plugin_failure(exc: BaseException, during: str, suspects: str = "") -> PluginError:
    """One line for an exception raised ``during`` a phase of a run: the plugin function that raised it and its
    distribution and version; ``suspects`` (the parts that were running) when no plugin frame is found."""
    found = origin(exc)
    if found is None:
        return PluginError(f"{during} failed{f' ({suspects})' if suspects else ''}: {one_line(exc)}")
    source, function = found
    return PluginError(f"{during}: {function} in {source} raised {one_line(exc)}")
