"""MNIST and Fashion-MNIST, read from their standard IDX files (gzipped or not).

Files (``train-*`` for split train, ``t10k-*`` for split test), each plain or
with ``.gz``: ``{train,t10k}-images-idx3-ubyte`` and ``{train,t10k}-labels-idx1-ubyte``.
They are looked for directly in ``root``, in ``root/raw`` and in torchvision's
``root/MNIST/raw`` or ``root/FashionMNIST/raw``; Fashion-MNIST also in Debian's
package ``dataset-fashion-mnist`` (``/usr/share/datasets/fashion-mnist``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Literal

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
    downloading,
    in_memory_field,
    loaded,
    missing_files,
    resolution_field,
    root_field,
)
from ganzoo.datasets.idx import read_idx
from ganzoo.errors import GanzooError

MNIST_CITATION = "LeCun, Bottou, Bengio and Haffner 1998, Gradient-based learning applied to document recognition"
FASHION_CITATION = ("Xiao, Rasul and Vollgraf 2017, Fashion-MNIST: a Novel Image Dataset for Benchmarking Machine "
                    "Learning Algorithms")
DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")
PREFIX = {"train": "train", "test": "t10k"}
# Label names from the Fashion-MNIST README (github.com/zalandoresearch/fashion-mnist, "Labels" table).
FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                   "Ankle boot")
DIGITS = tuple(str(digit) for digit in range(10))


class MnistOptions(Options):
    root: Path | None = root_field(
        "the IDX files (also root/raw, torchvision's root/MNIST/raw or root/FashionMNIST/raw)")
    split: Literal["train", "test"] = Field("train", description="train (60,000 images) or test (10,000)")
    download: bool = DOWNLOAD
    resolution: int = resolution_field(28, "; native 28, use 32 for networks built for 32x32")
    in_memory: bool = in_memory_field(True)


@dataclass(frozen=True)
class IdxSource:
    name: str
    torchvision_class: str  # also the folder torchvision downloads into: root/<class>/raw
    class_names: tuple[str, ...]


MNIST = IdxSource("mnist", "MNIST", DIGITS)
FASHION = IdxSource("fashion-mnist", "FashionMNIST", FASHION_CLASSES)


def find_idx(name: str, folders: list[Path], torchvision_class: str = "") -> Path | None:
    """The first of ``name`` or ``name.gz`` in ``folders``, their ``raw/`` or torchvision's ``<class>/raw/``."""
    for folder in folders:
        for place in (folder, folder / "raw", folder / torchvision_class / "raw"):
            for candidate in (place / name, place / f"{name}.gz"):
                if candidate.is_file():
                    return candidate
    return None


def load_idx_images(source: IdxSource, options: MnistOptions) -> LoadedData:
    """Images and labels of ``source`` from its IDX files; see the module docstring for where they are looked for."""
    root = data_root(options.root)
    # Read at call time so tests (and users without Debian's package) can point it elsewhere.
    folders = [root] + ([DEBIAN_FASHION] if source is FASHION else [])
    names = [f"{PREFIX[options.split]}-images-idx3-ubyte", f"{PREFIX[options.split]}-labels-idx1-ubyte"]
    found = [find_idx(name, folders, source.torchvision_class) for name in names]
    if None in found and options.download:
        raw = _download(source, root, options.split)
        found = [find_idx(name, [raw]) for name in names]
    if None in found:
        debian = ["install Debian's package dataset-fashion-mnist"] if source is FASHION else []
        raise missing_files(source.name, [f"{n}(.gz)" for n, f in zip(names, found, strict=True) if f is None], folders,
                            debian + [ROOT_HINT, DOWNLOAD_HINT])
    image_path, label_path = found
    images, labels = read_idx(image_path), read_idx(label_path)  # type: ignore[arg-type]
    if images.dim() != 3:
        raise GanzooError(f"{source.name}: {image_path} holds a {images.dim()}-d array, not images (n, rows, columns)")
    labels = check_labels(source.name, labels, len(images), len(source.class_names), label_path)  # type: ignore[arg-type]
    samples = array_samples(images.unsqueeze(1), labels, options.resolution, options.in_memory)
    return loaded(samples, 1, options.resolution, source.class_names)


def _download(source: IdxSource, root: Path, split: str) -> Path:
    """Fetch through torchvision's own class (mirrors and checksums); returns the folder holding the IDX files."""
    import torchvision.datasets

    dataset_class = getattr(torchvision.datasets, source.torchvision_class)
    with downloading(source.name, root):
        dataset = dataset_class(str(root), train=split == "train", download=True)
    return Path(dataset.raw_folder)


MNIST_DATASETS = [
    DatasetSpec(
        name="mnist",
        build=partial(load_idx_images, MNIST),
        citation=MNIST_CITATION,
        description="handwritten digits, 28x28 grayscale, 10 classes (60,000 train, 10,000 test)",
        options=MnistOptions,
    ),
    DatasetSpec(
        name="fashion-mnist",
        build=partial(load_idx_images, FASHION),
        citation=FASHION_CITATION,
        description="Zalando's 28x28 grayscale clothing images, 10 classes (60,000 train, 10,000 test)",
        options=MnistOptions,
    ),
]
