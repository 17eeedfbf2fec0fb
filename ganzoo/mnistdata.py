"""MNIST-format image data sets read from their standard IDX files.

Fashion-MNIST (Xiao, Rasul and Vollgraf 2017) is looked for in, in order:
``dataset_options.root``, then Debian's package ``dataset-fashion-mnist``
(``/usr/share/datasets/fashion-mnist``). With ``download = true`` it is
fetched through torchvision into ``root`` (default ``~/.cache/ganzoo``) when
no local copy exists. Images are scaled to [-1, 1]; labels are kept for
conditional models.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import torch
from pydantic import Field

from ganzoo.errors import GanzooError
from ganzoo.idx import read_idx
from ganzoo.specs import DataInfo, DatasetSpec, LoadedData, Options

FASHION = "Xiao, Rasul and Vollgraf 2017, Fashion-MNIST: a Novel Image Dataset for Benchmarking Machine Learning Algorithms"
DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")
DEFAULT_CACHE = Path.home() / ".cache" / "ganzoo"
PREFIX = {"train": "train", "test": "t10k"}


class MnistOptions(Options):
    root: Path | None = Field(None, description="a folder holding the IDX files (looked in first)")
    split: Literal["train", "test"] = "train"
    download: bool = Field(False, description="fetch through torchvision when no local copy exists")


def find_idx(name: str, folders: list[Path]) -> Path | None:
    """The first of ``name`` or ``name.gz`` in ``folders`` (torchvision keeps them under ``raw/``)."""
    for folder in folders:
        for candidate in (folder / name, folder / f"{name}.gz", folder / "raw" / name, folder / "raw" / f"{name}.gz"):
            if candidate.is_file():
                return candidate
    return None


def load_fashion_mnist(options: MnistOptions) -> LoadedData:
    folders = [f for f in (options.root, DEBIAN_FASHION) if f is not None]
    names = [f"{PREFIX[options.split]}-images-idx3-ubyte", f"{PREFIX[options.split]}-labels-idx1-ubyte"]
    found = [find_idx(name, folders) for name in names]
    if None in found and options.download:
        found = [find_idx(name, [_download(options)]) for name in names]
    if None in found:
        missing = " and ".join(f"{n}(.gz)" for n, f in zip(names, found) if f is None)
        raise GanzooError(f"fashion-mnist: {missing} not found in {', '.join(map(str, folders))}; install Debian's "
                          "dataset-fashion-mnist, set dataset_options.root to a folder holding them, or set "
                          "dataset_options.download = true when online")
    images, labels = (read_idx(path) for path in found)  # type: ignore[arg-type]
    if images.dim() != 3 or labels.dim() != 1 or len(images) != len(labels):
        raise GanzooError(f"fashion-mnist: {found[0]} and {found[1]} do not hold matching images and labels")
    scaled = images.unsqueeze(1).float().div(127.5).sub(1.0)
    return LoadedData(torch.utils.data.TensorDataset(scaled, labels.long()),
                      DataInfo(shape=tuple(scaled.shape[1:]), num_classes=10))


def _download(options: MnistOptions) -> Path:
    from torchvision.datasets import FashionMNIST

    root = options.root or DEFAULT_CACHE
    try:
        dataset = FashionMNIST(str(root), train=options.split == "train", download=True)
    except Exception as exc:  # no network, a proxy error, a full disk: say so in one line
        raise GanzooError(f"fashion-mnist: download into {root} failed ({type(exc).__name__}: {exc})") from None
    return Path(dataset.raw_folder)


IMAGE_DATASETS = [
    DatasetSpec(
        name="fashion-mnist",
        build=load_fashion_mnist,
        citation=FASHION,
        description="Zalando's 28x28 grayscale clothing images, 10 classes (60,000 train, 10,000 test)",
        options=MnistOptions,
    ),
]
