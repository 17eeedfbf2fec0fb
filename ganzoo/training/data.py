"""The run's data: the data set from its config, and endless real batches drawn from it."""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Any

import torch

from ganzoo.api.specs import DataInfo, LoadedData, data_info_problem, mixture_problem
from ganzoo.errors import GanzooError, PluginError
from ganzoo.training.config import validate
from ganzoo.training.plan import Part


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


class BatchSampler:
    """Endless real batches ``(samples, labels or None)``, drawn with replacement from a seeded generator.

    A ``TensorDataset`` is moved to the device once and indexed there; any other
    data set is indexed item by item and collated. Labels are kept only if asked for.
    """

    def __init__(self, dataset: torch.utils.data.Dataset, device: torch.device, seed: int, labelled: bool = False):
        in_memory = isinstance(dataset, torch.utils.data.TensorDataset)
        self.device = device
        self.labelled = labelled
        self.tensors = None
        if isinstance(dataset, torch.utils.data.TensorDataset):
            self.tensors = [t.to(device) for t in dataset.tensors[:2 if labelled else 1]]
        self.dataset = dataset
        self.length = len(dataset)  # type: ignore[arg-type]
        self.rng = torch.Generator(device=device if in_memory else "cpu").manual_seed(seed)

    def next(self, size: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        """A batch; if reading it fails (an unreadable image, Ctrl-C), the stream is left as it was, so the run can
        be saved as it stood before the draw."""
        state = self.rng.get_state()
        try:
            return self._draw(size)
        except BaseException:
            self.rng.set_state(state)
            raise

    def _draw(self, size: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        index = torch.randint(self.length, (size,), generator=self.rng, device=self.rng.device)
        if self.tensors is not None:
            batch = [t[index] for t in self.tensors]
        else:
            items = [self.dataset[i] for i in index.tolist()]
            items = [item if isinstance(item, (tuple, list)) else (item,) for item in items]
            columns = 2 if self.labelled else 1
            batch = [torch.stack([torch.as_tensor(item[c]) for item in items]).to(self.device, non_blocking=True)
                     for c in range(columns)]
        return batch[0], (batch[1].long() if self.labelled else None)
