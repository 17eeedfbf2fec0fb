"""The run's data: the data set from its config, and endless real batches drawn from it."""

from __future__ import annotations

import torch

from ganzoo.api.specs import LoadedData
from ganzoo.errors import GanzooError
from ganzoo.registry.calls import call_plugin
from ganzoo.registry.discovery import Zoo
from ganzoo.training.config import RunConfig, validate


def load_data(config: RunConfig, zoo: Zoo) -> LoadedData:
    spec = zoo.datasets.get(config.dataset)
    options = validate(spec.options, config.dataset_options, f"dataset_options for '{spec.name}'")
    data = call_plugin(zoo.datasets, spec.name, spec.build, options,
                       check=lambda result: isinstance(result, LoadedData))
    if len(data.samples) == 0:  # type: ignore[arg-type]
        raise GanzooError(f"data set '{spec.name}' from {zoo.datasets.source(spec.name)} is empty")
    return data


class BatchSampler:
    """Endless real batches ``(samples, labels or None)``, drawn with replacement from a seeded generator.

    A ``TensorDataset`` is moved to the device once and indexed there; any other
    data set is indexed item by item and collated. Labels are kept only if asked for.
    """

    def __init__(self, dataset: torch.utils.data.Dataset, batch_size: int, device: torch.device, seed: int,
                 labelled: bool = False):
        in_memory = isinstance(dataset, torch.utils.data.TensorDataset)
        self.batch_size = batch_size
        self.device = device
        self.labelled = labelled
        self.tensors = [t.to(device) for t in dataset.tensors[:2 if labelled else 1]] if in_memory else None
        self.dataset = dataset
        self.length = len(dataset)  # type: ignore[arg-type]
        self.rng = torch.Generator(device=device if in_memory else "cpu").manual_seed(seed)

    def next(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        index = torch.randint(self.length, (self.batch_size,), generator=self.rng, device=self.rng.device)
        if self.tensors is not None:
            batch = [t[index] for t in self.tensors]
        else:
            items = [self.dataset[i] for i in index.tolist()]
            items = [item if isinstance(item, (tuple, list)) else (item,) for item in items]
            columns = 2 if self.labelled else 1
            batch = [torch.stack([torch.as_tensor(item[c]) for item in items]).to(self.device, non_blocking=True)
                     for c in range(columns)]
        return batch[0], (batch[1].long() if self.labelled else None)
