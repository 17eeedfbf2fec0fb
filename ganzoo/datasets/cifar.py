"""CIFAR-10 and CIFAR-100, read from the "python version" batches with a reader that cannot run code.

Expected layout (torchvision's, which is also what the archives unpack to)::

    root/cifar-10-batches-py/data_batch_1 .. data_batch_5, test_batch
    root/cifar-100-python/train, test

The batch files may also sit directly in ``root``. Each is a pickled dict whose
``data`` is a uint8 array of shape (n, 3072) (1024 red, then green, then blue
values, each a 32x32 image in row-major order) and whose ``labels`` (CIFAR-10)
or ``fine_labels`` (CIFAR-100) is a list of n ints.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from pydantic import Field

from ganzoo.api.options import Options
from ganzoo.api.specs import DatasetSpec, LoadedData
from ganzoo.datasets.common import (
    DOWNLOAD,
    DOWNLOAD_HINT,
    ROOT_HINT,
    array_samples,
    check_labels,
    data_root,
    download_archive,
    in_memory_field,
    loaded,
    missing_files,
    resolution_field,
    root_field,
)
from ganzoo.datasets.safepickle import load_array_pickle
from ganzoo.errors import GanzooError

CITATION = "Krizhevsky 2009, Learning Multiple Layers of Features from Tiny Images"
# Class names as stored in the archives' own metadata: batches.meta "label_names" (CIFAR-10) and
# meta "fine_label_names" (CIFAR-100), listed on https://www.cs.toronto.edu/~kriz/cifar.html.
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
CIFAR100_CLASSES = (
    "apple", "aquarium_fish", "baby", "bear", "beaver", "bed", "bee", "beetle", "bicycle", "bottle",
    "bowl", "boy", "bridge", "bus", "butterfly", "camel", "can", "castle", "caterpillar", "cattle",
    "chair", "chimpanzee", "clock", "cloud", "cockroach", "couch", "crab", "crocodile", "cup", "dinosaur",
    "dolphin", "elephant", "flatfish", "forest", "fox", "girl", "hamster", "house", "kangaroo", "keyboard",
    "lamp", "lawn_mower", "leopard", "lion", "lizard", "lobster", "man", "maple_tree", "motorcycle", "mountain",
    "mouse", "mushroom", "oak_tree", "orange", "orchid", "otter", "palm_tree", "pear", "pickup_truck", "pine_tree",
    "plain", "plate", "poppy", "porcupine", "possum", "rabbit", "raccoon", "ray", "road", "rocket",
    "rose", "sea", "seal", "shark", "shrew", "skunk", "skyscraper", "snail", "snake", "spider",
    "squirrel", "streetcar", "sunflower", "sweet_pepper", "table", "tank", "telephone", "television", "tiger",
    "tractor", "train", "trout", "tulip", "turtle", "wardrobe", "whale", "willow_tree", "wolf", "woman", "worm",
)
PIXELS_PER_IMAGE = 3 * 32 * 32


class CifarOptions(Options):
    root: Path | None = root_field("cifar-10-batches-py/ or cifar-100-python/ (or the batch files themselves)")
    split: Literal["train", "test"] = Field("train", description="train (50,000 images) or test (10,000)")
    download: bool = DOWNLOAD
    resolution: int = resolution_field(32, "; native 32")
    in_memory: bool = in_memory_field(True)


@dataclass(frozen=True)
class CifarSource:
    name: str
    folder: str
    files: dict[str, tuple[str, ...]]
    label_key: str
    class_names: tuple[str, ...]
    torchvision_class: str  # its url, filename and tgz_md5 are used to download


CIFAR10 = CifarSource("cifar10", "cifar-10-batches-py",
                      {"train": tuple(f"data_batch_{i}" for i in range(1, 6)), "test": ("test_batch",)},
                      "labels", CIFAR10_CLASSES, "CIFAR10")
CIFAR100 = CifarSource("cifar100", "cifar-100-python", {"train": ("train",), "test": ("test",)},
                       "fine_labels", CIFAR100_CLASSES, "CIFAR100")


def find_batches(source: CifarSource, root: Path, split: str) -> tuple[list[Path], list[str]]:
    """Paths of the split's batch files (in ``root/<folder>`` or ``root``), and the names not found."""
    found, missing = [], []
    for name in source.files[split]:
        candidates = [root / source.folder / name, root / name]
        path = next((candidate for candidate in candidates if candidate.is_file()), None)
        if path is None:
            missing.append(f"{source.folder}/{name}")
        else:
            found.append(path)
    return found, missing


def read_batch(source: CifarSource, path: Path) -> tuple[np.ndarray, torch.Tensor]:
    """``(pixels (n, 3, 32, 32) uint8, labels int64)`` of one batch file."""
    batch = load_array_pickle(path)
    if not isinstance(batch, dict):
        raise GanzooError(f"{source.name}: {path} holds a {type(batch).__name__}, not a CIFAR batch dict")
    # Python 2 wrote the keys as byte strings: read with latin1 they are str, but a Python 3 re-dump may keep bytes.
    batch = {key.decode("latin1") if isinstance(key, bytes) else key: value for key, value in batch.items()}
    data, labels = batch.get("data"), batch.get(source.label_key)
    if not (isinstance(data, np.ndarray) and data.dtype == np.uint8 and data.ndim == 2
            and data.shape[1] == PIXELS_PER_IMAGE):
        raise GanzooError(f"{source.name}: {path} has no 'data' uint8 array of shape (n, {PIXELS_PER_IMAGE}); "
                          "the file is damaged or not a CIFAR python batch")
    try:
        label_tensor = torch.as_tensor(np.asarray(labels, dtype=np.int64))
    except (TypeError, ValueError):
        raise GanzooError(f"{source.name}: {path} has no list of ints under '{source.label_key}'; the file is "
                          "damaged or belongs to the other CIFAR") from None
    label_tensor = check_labels(source.name, label_tensor, len(data), len(source.class_names), path)
    return data.reshape(-1, 3, 32, 32), label_tensor


def load_cifar(source: CifarSource, options: CifarOptions) -> LoadedData:
    """CIFAR-10 or CIFAR-100 from the python batches; see the module docstring for the layout."""
    root = data_root(options.root)
    paths, missing = find_batches(source, root, options.split)
    if missing and options.download:
        download_archive(source.name, _torchvision_class(source), root)
        paths, missing = find_batches(source, root, options.split)
    if missing:
        raise missing_files(source.name, missing, [root], [ROOT_HINT, DOWNLOAD_HINT])
    batches = [read_batch(source, path) for path in paths]
    pixels = np.concatenate([pixels for pixels, _ in batches])
    labels = torch.cat([labels for _, labels in batches])
    samples = array_samples(pixels, labels, options.resolution, options.in_memory)
    return loaded(samples, 3, options.resolution, source.class_names)


def _torchvision_class(source: CifarSource) -> Any:
    import torchvision.datasets

    return getattr(torchvision.datasets, source.torchvision_class)


CIFAR_DATASETS = [
    DatasetSpec(
        name="cifar10",
        build=partial(load_cifar, CIFAR10),
        citation=CITATION,
        description="32x32 colour photos, 10 classes (50,000 train, 10,000 test)",
        options=CifarOptions,
    ),
    DatasetSpec(
        name="cifar100",
        build=partial(load_cifar, CIFAR100),
        citation=CITATION,
        description="32x32 colour photos, 100 fine classes (50,000 train, 10,000 test)",
        options=CifarOptions,
    ),
]
