"""Name -> spec registries with wildcard listing and "did you mean" errors."""

from __future__ import annotations

import difflib
import fnmatch
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from ganzoo.errors import UnknownNameError


@dataclass(frozen=True)
class Source:
    """The installed distribution a registered name came from."""

    plugin: str
    distribution: str
    version: str

    def __str__(self) -> str:
        return f"{self.distribution} {self.version}"


class _Named(Protocol):
    @property
    def name(self) -> str: ...


SpecT = TypeVar("SpecT", bound=_Named)


class DuplicateNameError(Exception):
    def __init__(self, kind: str, name: str, first: Source, second: Source):
        super().__init__(f"{kind} '{name}' is registered by both {first} and {second}; uninstall one of them")
        self.name = name


class Registry(Generic[SpecT]):
    """Specs of one kind (GANs, objectives or data sets), keyed by name."""

    def __init__(self, kind: str):
        self.kind = kind
        self._specs: dict[str, SpecT] = {}
        self._sources: dict[str, Source] = {}
        self._conflicts: dict[str, str] = {}

    def add(self, spec: SpecT, source: Source) -> None:
        """Add ``spec``; a name already taken by another plugin becomes unusable and raises."""
        name = spec.name
        if name in self._conflicts:
            raise DuplicateNameError(self.kind, name, self._sources[name], source)
        if name in self._specs:
            error = DuplicateNameError(self.kind, name, self._sources[name], source)
            self._conflicts[name] = str(error)
            del self._specs[name]
            raise error
        self._specs[name] = spec
        self._sources[name] = source

    def get(self, name: str) -> SpecT:
        if name in self._specs:
            return self._specs[name]
        if name in self._conflicts:
            raise UnknownNameError(self._conflicts[name])
        raise UnknownNameError(self.unknown_message(name))

    def unknown_message(self, name: str) -> str:
        close = difflib.get_close_matches(name, list(self._specs), n=3, cutoff=0.5)
        hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        known = ", ".join(sorted(self._specs)) or "none: is a plugin installed?"
        return f"unknown {self.kind} '{name}'{hint} (registered: {known})"

    def source(self, name: str) -> Source:
        self.get(name)
        return self._sources[name]

    def names(self, pattern: str = "*") -> list[str]:
        """Sorted names matching an fnmatch ``pattern`` (``*``, ``?``, ``[seq]``)."""
        return sorted(n for n in self._specs if fnmatch.fnmatchcase(n, pattern))

    def __contains__(self, name: object) -> bool:
        return name in self._specs

    def __len__(self) -> int:
        return len(self._specs)


def split_patterns(text: str) -> list[str]:
    """Comma-separated patterns (``ganzoo.list``, ``bench --gans``): ``'gan,wgan*'`` as ['gan', 'wgan*']; a comma
    inside a set (``[a,b]``) belongs to the set."""
    parts, current, in_set = [], "", False
    for char in text:
        if char == "," and not in_set:
            parts.append(current)
            current = ""
            continue
        in_set = (in_set or char == "[") and not (in_set and char == "]")
        current += char
    return [part.strip() for part in [*parts, current] if part.strip()]
