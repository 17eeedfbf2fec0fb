"""Training statistics: what the runner, algorithms, objectives and augmentations report, averaged per interval.

``ganzoo.report(name, value)`` adds a value to the statistics of the step in
progress (outside training it does nothing), as stylegan2's
``training_stats.report``; the runner writes each name's mean over the log
interval to ``stats.jsonl``. Values stay on their device until the interval
ends, so reporting adds no host synchronisation to the step.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import torch

RESERVED = ("step", "seconds")


class Statistics:
    """Sums and counts of each reported name since the last log."""

    def __init__(self) -> None:
        self.sums: dict[str, torch.Tensor] = {}
        self.counts: dict[str, int] = {}

    def add(self, name: str, value: torch.Tensor | float) -> None:
        if not isinstance(name, str) or not name or name in RESERVED:
            raise ValueError(f"a statistic needs a name other than {' and '.join(RESERVED)}, got {name!r}")
        tensor = value.detach() if isinstance(value, torch.Tensor) else torch.tensor(float(value))
        mean = tensor.float().mean()
        self.sums[name] = self.sums[name] + mean if name in self.sums else mean
        self.counts[name] = self.counts.get(name, 0) + 1

    def means(self) -> dict[str, float]:
        """Each name's mean over the values reported (one host synchronisation per name)."""
        return {name: float(total) / self.counts[name] for name, total in self.sums.items()}

    def state_dict(self) -> dict[str, torch.Tensor]:
        """The sums and counts so far, for a checkpoint taken between two logs."""
        state = {f"sum/{name}": total for name, total in self.sums.items()}
        state.update({f"count/{name}": torch.tensor(count) for name, count in self.counts.items()})
        return state

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        sums: dict[str, torch.Tensor] = {}
        counts: dict[str, int] = {}
        for key, value in state.items():
            kind, _, name = key.partition("/")
            if kind == "sum" and value.dim() == 0 and value.is_floating_point():
                sums[name] = value
            elif kind == "count" and value.dim() == 0 and not value.is_floating_point() and int(value) > 0:
                counts[name] = int(value)
            else:
                raise ValueError(f"unexpected entry '{key}' of shape {tuple(value.shape)}")
        if set(sums) != set(counts):
            raise ValueError("the sums and the counts name different statistics")
        self.sums, self.counts = sums, counts

    def __bool__(self) -> bool:
        return bool(self.sums)


_current: ContextVar[Statistics | None] = ContextVar("ganzoo_statistics", default=None)


def report(name: str, value: torch.Tensor | float) -> None:
    """Log ``value`` (a tensor is averaged over its elements) under ``name`` for the step in progress."""
    statistics = _current.get()
    if statistics is not None:
        statistics.add(name, value)


@contextmanager
def collecting(statistics: Statistics) -> Iterator[Statistics]:
    """Route :func:`report` into ``statistics`` inside the block."""
    token = _current.set(statistics)
    try:
        yield statistics
    finally:
        _current.reset(token)
