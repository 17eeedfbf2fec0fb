"""CelebA's aligned and cropped faces (178x218 JPEGs), read with ganzoo's own reader.

Expected layout (the archive's, as torchvision also keeps it under ``root/celeba``)::

    root/img_align_celeba/000001.jpg .. 202599.jpg
    root/list_eval_partition.txt         lines "000001.jpg 0": 0 train, 1 valid, 2 test

or the same inside ``root/celeba/``. torchvision's own CelebA class is only
used to download: it also insists on the attribute files and their checksums,
which a GAN does not need.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field

from ganzoo.api.options import Options
from ganzoo.api.specs import DatasetSpec, LoadedData
from ganzoo.datasets.common import (
    DOWNLOAD_HINT,
    ROOT_HINT,
    ImageFiles,
    LazyImages,
    data_root,
    downloading,
    in_memory_field,
    lazy_samples,
    loaded,
    missing_files,
    resolution_field,
    root_field,
)
from ganzoo.errors import GanzooError, one_line

CITATION = "Liu, Luo, Wang and Tang 2015, Deep Learning Face Attributes in the Wild (ICCV)"
IMAGES = "img_align_celeba"
PARTITION = "list_eval_partition.txt"
TORCHVISION_FOLDER = "celeba"
SPLIT_CODES = {"train": {"0"}, "valid": {"1"}, "test": {"2"}, "all": {"0", "1", "2"}}


class CelebaOptions(Options):
    root: Path | None = root_field(f"{IMAGES}/ and {PARTITION} (or torchvision's {TORCHVISION_FOLDER}/ holding them)")
    split: Literal["train", "valid", "test", "all"] = Field("train", description=(
        "the official partition: train (162,770 images), valid (19,867), test (19,962) or all (202,599)"))
    download: bool = Field(False, description=(
        "when no local copy is found, fetch it through torchvision (Google Drive, needs the gdown package and "
        "network access) into root"))
    resolution: int = resolution_field(64, "; native 178x218, so the crop keeps the centre 178x178")
    in_memory: bool = in_memory_field(False, "; 64x64 float images take about 8 GB for the train split")


def find_folder(root: Path) -> Path | None:
    for folder in (root, root / TORCHVISION_FOLDER):
        if (folder / IMAGES).is_dir() and (folder / PARTITION).is_file():
            return folder
    return None


def read_partition(path: Path, split: str) -> list[str]:
    """Image file names of ``split``, in the file's order."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise GanzooError(f"celeba: cannot read {path} ({one_line(exc)})") from None
    names = []
    for number, line in enumerate(lines, start=1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 2 or fields[1] not in SPLIT_CODES["all"]:
            raise GanzooError(f"celeba: {path} line {number} is {line.strip()[:60]!r}, not '<image>.jpg <0|1|2>'; "
                              "the file is damaged")
        if fields[1] in SPLIT_CODES[split]:
            names.append(fields[0])
    return names


def load_celeba(options: CelebaOptions) -> LoadedData:
    """CelebA's aligned faces of one split; see the module docstring for the layout."""
    root = data_root(options.root)
    folder = find_folder(root)
    if folder is None and options.download:
        _download(root)
        folder = find_folder(root)
    if folder is None:
        raise missing_files("celeba", [f"{IMAGES}/ and {PARTITION}"], [root, root / TORCHVISION_FOLDER],
                            [f"{ROOT_HINT} (from the CelebA site, mmlab.ie.cuhk.edu.hk/projects/CelebA.html)",
                             DOWNLOAD_HINT + " and gdown is installed"])
    names = read_partition(folder / PARTITION, options.split)
    present = set(os.listdir(folder / IMAGES))  # one directory read instead of 200,000 stat calls
    absent = [name for name in names if name not in present]
    if absent:
        raise GanzooError(f"celeba: {len(absent)} images listed in {folder / PARTITION} are missing from "
                          f"{folder / IMAGES} (first: {absent[0]}); unpack img_align_celeba.zip again")
    lazy = LazyImages(len(names), ImageFiles([folder / IMAGES / name for name in names]), options.resolution)
    return loaded(lazy_samples(lazy, options.in_memory), 3, options.resolution, None)


def _download(root: Path) -> None:
    from torchvision.datasets import CelebA

    with downloading("celeba", root / TORCHVISION_FOLDER):  # also no gdown, or Google Drive's quota
        CelebA(str(root), split="all", target_type=[], download=True)


CELEBA_DATASETS = [
    DatasetSpec(
        name="celeba",
        build=load_celeba,
        citation=CITATION,
        description="202,599 aligned celebrity faces (178x218 colour), no class labels",
        options=CelebaOptions,
    ),
]
