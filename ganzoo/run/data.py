"""The run's data: the data set from its config, and endless real batches drawn from it."""

from __future__ import annotations

import dataclasses
import hashlib
from collections import deque
from collections.abc import Iterator
from functools import partial
from typing import Any

import torch

from ganzoo.api.specs import DataInfo, LoadedData, data_info_problem, mixture_problem
from ganzoo.errors import GanzooError, PluginError
from ganzoo.run.config import validate
from ganzoo.run.distributed import World
from ganzoo.run.plan import Part


def load_data(dataset: Part) -> LoadedData:
    """The data set a plan's ``dataset`` part describes, checked to be a non-empty :class:`LoadedData`."""
    data: LoadedData = dataset.build(check=lambda result: isinstance(result, LoadedData))
    info = data.info
    problem = (data_info_problem(info.shape, info.num_classes, info.class_names) if isinstance(info, DataInfo)
               else f"info is a {type(info).__name__}, not a ganzoo.DataInfo")
    if problem is None and data.mixture is not None:
        problem = mixture_problem(data.mixture, info.shape)
    if problem is not None:
        raise PluginError(f"{dataset} gave a malformed data set: {problem}")
    if dataset.call(len, data.samples, what="count its samples") == 0:
        raise GanzooError(f"{dataset} is empty")
    return data


def content_sha256(samples: torch.utils.data.Dataset) -> str | None:
    """SHA-256 of a data set held in tensors (their shapes, types and bytes), for provenance: two runs with the
    same digest trained on the same data. None for a data set read item by item, which would be read whole."""
    if not isinstance(samples, torch.utils.data.TensorDataset):
        return None
    digest = hashlib.sha256()
    for tensor in samples.tensors:
        digest.update(f"{tuple(tensor.shape)} {tensor.dtype};".encode())
        digest.update(tensor.detach().cpu().contiguous().view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def with_options(dataset: Part, options: dict[str, Any], where: str) -> Part:
    """The same data set with other options (another split, say), validated."""
    return dataclasses.replace(dataset, options=validate(dataset.spec.options, options, where))


def collate(items: list[Any], columns: int) -> list[torch.Tensor]:
    """Data set items (a sample, or a tuple whose first ``columns`` entries are used) stacked into columns."""
    rows = [item if isinstance(item, (tuple, list)) else (item,) for item in items]
    return [torch.stack([torch.as_tensor(row[c]) for row in rows]) for c in range(columns)]


class BatchSampler:
    """Endless real batches ``(samples, labels or None)``, drawn with replacement from a seeded generator.

    A ``TensorDataset`` is moved to the device once and indexed there. Any other data set is read item by item:
    in this process, or, with ``workers``, by a ``DataLoader``'s worker processes, which read batches of
    ``batch_size`` ahead into pinned memory. Both draw the same indices from the same stream, so a run's batches
    do not depend on the number of workers. In a run over several processes (``world``), each draws the global
    batch and keeps its share. Labels are kept only if asked for.
    """

    def __init__(self, dataset: torch.utils.data.Dataset, device: torch.device, seed: int, *, batch_size: int,
                 labelled: bool = False, workers: int = 0, world: World | None = None):
        in_memory = isinstance(dataset, torch.utils.data.TensorDataset)
        self.device = device
        self.columns = 2 if labelled else 1
        self.tensors = None
        if isinstance(dataset, torch.utils.data.TensorDataset):
            self.tensors = [t.to(device) for t in dataset.tensors[:self.columns]]
        self.dataset = dataset
        self.length = len(dataset)  # type: ignore[arg-type]
        self.rng = torch.Generator(device=device if in_memory else "cpu").manual_seed(seed)
        self.batch_size = batch_size
        self.world = world or World()
        self.workers = 0 if in_memory else workers
        self.loader: torch.utils.data.DataLoader | None = None
        self.feed: Iterator[list[torch.Tensor]] | None = None
        self.ahead: deque[torch.Tensor] = deque()  # the stream's state before each batch read ahead, oldest first

    def next(self, size: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        """A batch; if reading it fails (an unreadable image, Ctrl-C), the stream is left as it was, so the run can
        be saved as it stood before the draw."""
        batch = self._fed() if self.workers and size == self.batch_size else None
        if batch is None:
            self.settle()  # a batch of another size comes next in the stream, after those handed out
            state = self.rng.get_state()
            try:
                batch = self._draw(size)
            except BaseException:
                self.rng.set_state(state)
                raise
        return batch[0], (batch[1].long() if self.columns == 2 else None)

    def _indices(self, size: int) -> torch.Tensor:
        """This rank's ``size`` indices of the next global batch, which every rank draws alike."""
        drawn = torch.randint(self.length, (size * self.world.size,), generator=self.rng, device=self.rng.device)
        return drawn[self.world.share(size)]

    def _draw(self, size: int) -> list[torch.Tensor]:
        index = self._indices(size)
        if self.tensors is not None:
            return [t[index] for t in self.tensors]
        return [column.to(self.device) for column in collate([self.dataset[i] for i in index.tolist()], self.columns)]

    def _fed(self) -> list[torch.Tensor] | None:
        """The next batch the workers read; None if they failed, to read it here (and report the failure as the
        data set raised it, on one line, rather than as a worker's traceback)."""
        if self.feed is None:
            self.feed = iter(self._loader())
        try:
            batch = next(self.feed)
        except BaseException as exc:
            self.close()  # a worker that failed may have left the loader unusable: the next one starts afresh
            if isinstance(exc, Exception):
                return None
            raise
        self.ahead.popleft()
        return [column.to(self.device, non_blocking=True) for column in batch]

    def _loader(self) -> torch.utils.data.DataLoader:
        if self.loader is None:
            # a generator of its own for the workers' seeds: drawn from torch's global one, they would change the
            # global stream (dropout's) whenever workers (re)start, and a resumed run would differ
            self.loader = torch.utils.data.DataLoader(
                self.dataset, batch_sampler=_Ahead(self), num_workers=self.workers,
                collate_fn=partial(collate, columns=self.columns), pin_memory=self.device.type == "cuda",
                persistent_workers=True, generator=torch.Generator().manual_seed(0))
        return self.loader

    def settle(self) -> None:
        """Forget the batches read ahead: the stream goes back to where the batches handed out leave it (what a
        checkpoint must hold); the workers read on from there at the next draw."""
        if self.ahead:
            self.rng.set_state(self.ahead[0])
            self.ahead.clear()
        self.feed = None

    def close(self) -> None:
        """Settle, and stop the workers."""
        self.settle()
        self.loader = None


class _Ahead:
    """The batch sampler the workers follow: the sampler's stream, noting its state before each batch."""

    def __init__(self, sampler: BatchSampler):
        self.sampler = sampler

    def __iter__(self) -> Iterator[list[int]]:
        while True:
            self.sampler.ahead.append(self.sampler.rng.get_state())
            yield self.sampler._indices(self.sampler.batch_size).tolist()
