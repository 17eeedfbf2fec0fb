"""STL-10, read from its binary files.

Expected layout (torchvision's, which is also what stl10_binary.tar.gz unpacks to)::

    root/stl10_binary/train_X.bin, train_y.bin, test_X.bin, test_y.bin, unlabeled_X.bin

The files may also sit directly in ``root``. ``*_X.bin`` holds uint8 images,
each 3 x 96 x 96 stored channel by channel in column-major order (so a
row-major read gives channel, column, row); ``*_y.bin`` holds one uint8 label
per image, 1 to 10.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

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
    stack_arrays,
)
from ganzoo.errors import GanzooError, one_line

CITATION = ("Coates, Ng and Lee 2011, An Analysis of Single-Layer Networks in Unsupervised Feature Learning "
            "(AISTATS)")
FOLDER = "stl10_binary"
NATIVE = 96
BYTES_PER_IMAGE = 3 * NATIVE * NATIVE
# The archive's class_names.txt, in label order 1..10.
CLASSES = ("airplane", "bird", "car", "cat", "deer", "dog", "horse", "monkey", "ship", "truck")
# Which files make each split; unlabeled images have no *_y.bin.
SPLIT_PARTS = {"train": ("train",), "test": ("test",), "unlabeled": ("unlabeled",),
               "train+unlabeled": ("train", "unlabeled")}
LABELLED = {"train", "test"}


class Stl10Options(Options):
    root: Path | None = root_field("stl10_binary/ (or its .bin files)")
    split: Literal["train", "test", "unlabeled", "train+unlabeled"] = Field("train", description=(
        "train (5,000 labelled), test (8,000 labelled), unlabeled (100,000) or train+unlabeled (105,000, no labels)"))
    download: bool = DOWNLOAD
    resolution: int = resolution_field(64, "; native 96, the SNGAN paper (Miyato et al. 2018) used 48")
    in_memory: bool | None = in_memory_field(None, "; default: true for train and test, false for the splits with "
                                                   "the 100,000 unlabeled images")


def needed_files(split: str) -> list[str]:
    images = [f"{part}_X.bin" for part in SPLIT_PARTS[split]]
    return images + [f"{split}_y.bin"] if split in LABELLED else images


def find_files(root: Path, names: list[str]) -> tuple[dict[str, Path], list[str]]:
    found, missing = {}, []
    for name in names:
        path = next((p for p in (root / FOLDER / name, root / name) if p.is_file()), None)
        if path is None:
            missing.append(f"{FOLDER}/{name}")
        else:
            found[name] = path
    return found, missing


def map_images(path: Path) -> np.ndarray:
    """A lazy (n, 3, 96, 96) view of an ``*_X.bin`` file: memory-mapped, so nothing is read until used."""
    size = path.stat().st_size
    if size == 0 or size % BYTES_PER_IMAGE:
        raise GanzooError(f"stl10: {path} has {size} bytes, not a whole number of {NATIVE}x{NATIVE} colour images "
                          f"({BYTES_PER_IMAGE} bytes each); the file is cut short or damaged")
    try:
        columns_first = np.memmap(path, dtype=np.uint8, mode="r", shape=(size // BYTES_PER_IMAGE, 3, NATIVE, NATIVE))
    except (OSError, ValueError) as exc:
        raise GanzooError(f"stl10: cannot read {path} ({one_line(exc)})") from None
    return columns_first.transpose(0, 1, 3, 2)


def read_labels(path: Path, count: int) -> torch.Tensor:
    """0-based int64 labels of a ``*_y.bin`` file (stored 1..10)."""
    try:
        raw = torch.from_numpy(np.fromfile(path, dtype=np.uint8))
    except (OSError, ValueError) as exc:
        raise GanzooError(f"stl10: cannot read {path} ({one_line(exc)})") from None
    return check_labels("stl10", raw.long() - 1, count, len(CLASSES), path)


def load_stl10(options: Stl10Options) -> LoadedData:
    """STL-10 from its binary files; see the module docstring for the layout."""
    root = data_root(options.root)
    names = needed_files(options.split)
    found, missing = find_files(root, names)
    if missing and options.download:
        import torchvision.datasets

        download_archive("stl10", torchvision.datasets.STL10, root)
        found, missing = find_files(root, names)
    if missing:
        raise missing_files("stl10", missing, [root], [ROOT_HINT, DOWNLOAD_HINT])
    in_memory = options.split in LABELLED if options.in_memory is None else options.in_memory
    arrays = [map_images(found[f"{part}_X.bin"]) for part in SPLIT_PARTS[options.split]]
    if options.split in LABELLED:
        labels = read_labels(found[f"{options.split}_y.bin"], len(arrays[0]))
        samples = array_samples(arrays[0], labels, options.resolution, in_memory)
        return loaded(samples, 3, options.resolution, CLASSES)
    if in_memory:
        samples = torch.utils.data.TensorDataset(stack_arrays(arrays, options.resolution))
    else:
        samples = torch.utils.data.ConcatDataset([array_samples(a, None, options.resolution, False) for a in arrays])
    return loaded(samples, 3, options.resolution, None)


STL10_DATASETS = [
    DatasetSpec(
        name="stl10",
        build=load_stl10,
        citation=CITATION,
        description="96x96 colour photos, 10 classes (5,000 train, 8,000 test) plus 100,000 unlabeled images",
        options=Stl10Options,
    ),
]
