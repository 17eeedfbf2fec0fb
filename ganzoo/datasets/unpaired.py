"""Two image domains for unpaired translation (CycleGAN): each sample is an image of domain A beside an
independently drawn image of domain B.

Each domain is any registered data set with its options, optionally cut down to some of its classes::

    dataset = "unpaired"
    [dataset_options]
    a = { dataset = "fashion-mnist", classes = ["Sneaker"] }
    b = { dataset = "image-folder", options = { root = "boots", channels = 1, resolution = 28 } }

A sample has shape ``(2, C, H, W)``: ``sample[0]`` from A, ``sample[1]`` from B. Item ``i`` pairs A's image
``i // len(B)`` with B's image ``i % len(B)``, so the runner's uniform draws over all ``len(A) * len(B)`` items
give an A image and a B image that are uniform and independent, the unaligned sampling of CycleGAN's released
code (``data/unaligned_dataset.py`` there draws B's index at random for each A image).
"""

from __future__ import annotations

import difflib
from typing import Any

import torch
from pydantic import Field

from ganzoo.api.options import Options
from ganzoo.api.specs import DataInfo, DatasetSpec, LoadedData
from ganzoo.errors import ConfigError

NAME = "unpaired"
CYCLEGAN = ("Zhu, Park, Isola and Efros 2017, Unpaired Image-to-Image Translation using Cycle-Consistent "
            "Adversarial Networks, ICCV (arXiv:1703.10593)")


class DomainOptions(Options):
    dataset: str = Field(description="a registered data set (see 'ganzoo list datasets')")
    options: dict[str, Any] = Field(default_factory=dict, description="that data set's own options")
    classes: list[int | str] | None = Field(None, min_length=1, description=(
        "keep only these classes of a labelled data set, by number or name (default: every image)"))


class UnpairedOptions(Options):
    a: DomainOptions = Field(description="domain A: { dataset = ..., options = {...}, classes = [...] }")
    b: DomainOptions = Field(description="domain B, as domain A; both must give images of one shape")


class UnpairedImages(torch.utils.data.Dataset):
    """Every (A image, B image) combination, as a ``(2, *shape)`` tensor."""

    def __init__(self, a: torch.utils.data.Dataset, b: torch.utils.data.Dataset):
        self.a, self.b = a, b
        self.count_a, self.count_b = len(a), len(b)  # type: ignore[arg-type]

    def __len__(self) -> int:
        return self.count_a * self.count_b

    def __getitem__(self, index: int) -> torch.Tensor:
        if not 0 <= index < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} pairs")
        return torch.stack([_image(self.a[index // self.count_b]), _image(self.b[index % self.count_b])])


def _image(item: Any) -> torch.Tensor:
    return item[0] if isinstance(item, (tuple, list)) else item


def load_unpaired(options: UnpairedOptions) -> LoadedData:
    a, b = _domain("a", options.a), _domain("b", options.b)
    if a.info.shape != b.info.shape:
        raise ConfigError(f"dataset_options: domain a gives samples of shape {a.info.shape} and domain b "
                          f"{b.info.shape}; set both data sets' channels and resolution options alike")
    if len(a.info.shape) > 3:
        raise ConfigError(f"dataset_options: the domains' samples have {len(a.info.shape)} axes; unpaired takes "
                          "images (3 axes) or points")
    return LoadedData(UnpairedImages(a.samples, b.samples), DataInfo(shape=(2, *a.info.shape)))


def _domain(side: str, domain: DomainOptions) -> LoadedData:
    # imported here: the registry imports this module to register the data set
    from ganzoo.registry.discovery import get_zoo
    from ganzoo.run.data import load_data
    from ganzoo.run.plan import part

    if domain.dataset == NAME:
        raise ConfigError(f"dataset_options.{side}: a domain of 'unpaired' cannot itself be 'unpaired'")
    where = f"dataset_options.{side}.options for '{domain.dataset}'"
    data = load_data(part(get_zoo(), "datasets", domain.dataset, domain.options, where))
    if domain.classes is None:
        return data
    wanted = _class_numbers(side, domain, data.info)
    kept = [i for i, label in enumerate(_labels(data.samples).tolist()) if label in wanted]
    if not kept:
        raise ConfigError(f"dataset_options.{side}: '{domain.dataset}' has no images of classes {domain.classes}")
    samples = data.samples
    if isinstance(samples, torch.utils.data.TensorDataset):
        return LoadedData(torch.utils.data.TensorDataset(samples.tensors[0][kept]), data.info)
    return LoadedData(torch.utils.data.Subset(samples, kept), data.info)


def _class_numbers(side: str, domain: DomainOptions, info: DataInfo) -> set[int]:
    if not info.num_classes:
        raise ConfigError(f"dataset_options.{side}.classes is set, but '{domain.dataset}' has no labels; remove "
                          "classes")
    names = list(info.class_names or [])
    numbers = set()
    for wanted in domain.classes or []:
        if isinstance(wanted, int):
            if not 0 <= wanted < info.num_classes:
                raise ConfigError(f"dataset_options.{side}.classes: {wanted} is not a class of '{domain.dataset}' "
                                  f"(0 to {info.num_classes - 1})")
            numbers.add(wanted)
        elif wanted in names:
            numbers.add(names.index(wanted))
        else:
            close = difflib.get_close_matches(wanted, names, n=3)
            hint = f"; did you mean {', '.join(repr(n) for n in close)}?" if close else (
                f"; its classes: {', '.join(names)}" if names else "; give class numbers")
            raise ConfigError(f"dataset_options.{side}.classes: '{domain.dataset}' has no class '{wanted}'{hint}")
    return numbers


def _labels(samples: torch.utils.data.Dataset) -> torch.Tensor:
    """Every item's label: from the label tensor where the data set holds one, else item by item."""
    if isinstance(samples, torch.utils.data.TensorDataset) and len(samples.tensors) > 1:
        return samples.tensors[1]
    held = getattr(samples, "labels", None)
    if isinstance(held, torch.Tensor):
        return held
    return torch.tensor([int(samples[i][1]) for i in range(len(samples))])  # type: ignore[arg-type]


UNPAIRED_DATASETS = [
    DatasetSpec(
        name=NAME,
        build=load_unpaired,
        citation=CYCLEGAN,
        description="two image domains for unpaired translation (CycleGAN): each sample an A image beside an "
                    "independently drawn B image, shape (2, C, H, W)",
        options=UnpairedOptions,
    ),
]
