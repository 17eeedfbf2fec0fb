"""Calling plugin code: a crash inside it, or a result that breaks its spec, becomes a one-line error."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ganzoo.errors import GanzooError, one_line
from ganzoo.registry.registry import Registry


def call_plugin(registry: Registry[Any], name: str, build: Callable[..., Any], *args: Any,
                check: Callable[[Any], bool]) -> Any:
    """Call a plugin's ``build``; a crash inside it, or a result failing ``check``, is a one-line error."""
    where = f"{registry.kind} '{name}' from {registry.source(name)}"
    try:
        result = build(*args)
    except GanzooError:
        raise
    except Exception as exc:
        raise GanzooError(f"{where} failed to build: {one_line(exc)}") from exc
    if not check(result):
        raise GanzooError(f"{where} built {type(result).__name__}, not what the spec promises")
    return result
