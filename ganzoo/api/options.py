"""Options models: how plugins declare their settings, validated strictly by pydantic."""

from __future__ import annotations

import math
import os
import typing
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator


def _scalar_kinds(annotation: Any) -> set[type]:
    """The scalar types a field's annotation admits: ``int | None`` -> {int, NoneType}; Literal values by type."""
    if annotation in (bool, int, float, type(None)):
        return {annotation}
    if typing.get_origin(annotation) is typing.Literal:
        return {type(value) for value in typing.get_args(annotation)}
    return set().union(*(_scalar_kinds(arg) for arg in typing.get_args(annotation)))


def _admits_path(annotation: Any) -> bool:
    """Whether a field's annotation admits a filesystem path: ``Path``, ``Path | None``, ``list[Path]``..."""
    if isinstance(annotation, type) and issubclass(annotation, os.PathLike):
        return True
    return any(_admits_path(arg) for arg in typing.get_args(annotation))


def _has_nul(value: Any) -> bool:
    """Whether a path, or any path of a list of them, holds a NUL character."""
    items = value if isinstance(value, (list, tuple)) else [value]
    return any(isinstance(item, (str, PurePath)) and "\x00" in str(item) for item in items)


# Config tables nested deeper than this are a mistake (real configs nest a few levels), and deep enough ones make
# tomllib, copy.deepcopy and pydantic hit Python's recursion limit.
MAX_DEPTH = 32


def table_problem(data: Any) -> str | None:
    """What makes ``data`` unfit as a config table: tables or arrays nested deeper than :data:`MAX_DEPTH` (walked
    without recursion, so a table that contains itself is caught too) or keys that are not strings; None if fit."""
    stack: list[tuple[Any, list[str]]] = [(data, [])]
    while stack:
        node, path = stack.pop()
        if len(path) > MAX_DEPTH:
            shown = ".".join(part[:20] for part in path[:4])
            return f"'{shown}...' is nested {len(path)}+ levels deep; at most {MAX_DEPTH}"
        if isinstance(node, Mapping):
            if not all(type(key) is str for key in node):
                return f"'{'.'.join(path) or '(top level)'}' has keys that are not strings"
            stack.extend((value, [*path, key]) for key, value in node.items())
        elif isinstance(node, (list, tuple)):
            stack.extend((value, [*path, str(index)]) for index, value in enumerate(node))
    return None


class StrictFields(BaseModel):
    """Unknown keys are refused, and so is pydantic's looseness with booleans: ``true`` is not a count
    (it would read as 1), and a switch takes ``true`` or ``false``, not 1 or "yes"."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _booleans_are_booleans(cls, value: Any, info: ValidationInfo) -> Any:
        kinds = _scalar_kinds(cls.model_fields[info.field_name].annotation)  # type: ignore[index]
        if isinstance(value, bool) and bool not in kinds and kinds & {int, float}:
            raise ValueError("must be a number, not true or false")
        # a tuple of numbers (Adam's betas) would take true as 1.0 just as a lone number would
        if (isinstance(value, (list, tuple)) and bool not in kinds and kinds & {int, float}
                and any(isinstance(item, bool) for item in value)):
            raise ValueError("must hold numbers, not true or false")
        if bool in kinds and kinds <= {bool, type(None)} and value is not None and not isinstance(value, bool):
            raise ValueError("must be true or false")
        return value

    @field_validator("*", mode="before")
    @classmethod
    def _paths_without_nul(cls, value: Any, info: ValidationInfo) -> Any:
        # pydantic takes "a\0b" as a Path; the OS refuses it only when the path is first used, deep inside a run
        if _has_nul(value) and _admits_path(cls.model_fields[info.field_name].annotation):  # type: ignore[index]
            raise ValueError("a path cannot contain a NUL character")
        return value


class Options(StrictFields):
    """Base for a plugin's options model: unknown keys are rejected, booleans are kept apart from numbers."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class NoOptions(Options):
    """Used by specs that take no options."""


class StrictModel(StrictFields):
    """A config table: unknown keys refused, booleans kept apart from numbers, no infinite or NaN numbers."""

    model_config = ConfigDict(allow_inf_nan=False)


def finite_table(value: Any) -> Any:
    """A plugin's options table, refused if it holds an infinite or NaN number anywhere: the model checks its own
    fields, but config.json and checkpoints store the table as JSON, which would turn such a number into null."""
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, float) and not math.isfinite(node):
            raise ValueError(f"holds {node}; a run config's numbers are finite")
        if isinstance(node, Mapping):
            stack.extend(node.values())
        elif isinstance(node, (list, tuple)):
            stack.extend(node)
    return value
