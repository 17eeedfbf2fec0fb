"""LSUN scene categories, read from the LMDB databases the LSUN project distributes.

Expected layout (what ``<category>_<split>_lmdb.zip`` unpacks to)::

    root/bedroom_train_lmdb/data.mdb, lock.mdb
    root/church_outdoor_val_lmdb/...

Each value is one encoded image (WebP in the published databases, JPEG in
older copies); keys are image ids. Needs the ``lmdb`` package
(``pip install 'ganzoo[lsun]'``). There is no automatic download: fetch the
databases with the LSUN project's script (github.com/fyu/lsun, ``download.py``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from ganzoo.api.options import Options
from ganzoo.api.specs import DatasetSpec, LoadedData
from ganzoo.datasets.common import (
    DEFAULT_CACHE,
    LazyImages,
    data_root,
    decode_image,
    in_memory_field,
    lazy_samples,
    loaded,
    missing_files,
    resolution_field,
)
from ganzoo.errors import GanzooError, one_line

CITATION = ("Yu, Seff, Zhang, Song, Funkhouser and Xiao 2015, LSUN: Construction of a Large-scale Image Dataset "
            "using Deep Learning with Humans in the Loop")
SCENES = ("bedroom", "bridge", "church_outdoor", "classroom", "conference_room", "dining_room", "kitchen",
          "living_room", "restaurant", "tower")
FETCH_HINT = ("LSUN has no automatic download (download = true cannot help): fetch it with the LSUN project's "
              "download script (github.com/fyu/lsun: python3 download.py -c {category}, then unzip "
              "{category}_{split}_lmdb.zip) and set dataset_options.root to the folder holding it")


class LsunOptions(Options):
    root: Path | None = Field(None, description=(
        f"folder holding <category>_<split>_lmdb/ (default: {DEFAULT_CACHE})"))
    category: str = Field("bedroom", pattern=r"^[a-z_]+$", description=(
        f"scene category, the database name's first part: {', '.join(SCENES)}"))
    split: Literal["train", "val"] = Field("train", description="train (e.g. 3,033,042 bedrooms) or val (300 images)")
    download: bool = Field(False, description="not available for LSUN (kept for a uniform interface); see root")
    resolution: int = resolution_field(64, "; LSUN images have a shorter side of 256")
    in_memory: bool = in_memory_field(False, "; train splits hold 100,000s to millions of images")


def import_lmdb() -> Any:
    try:
        import lmdb
    except ImportError:
        raise GanzooError("lsun needs the lmdb package: pip install 'ganzoo[lsun]'") from None
    return lmdb


class LmdbImages:
    """``read(i)``: the image stored under the i-th key, decoded as RGB."""

    def __init__(self, folder: Path, keys: list[bytes]):
        self.folder = folder
        self.keys = keys

    def __call__(self, index: int) -> Any:
        key = self.keys[index]
        where = f"{self.folder} key {key.decode('latin1')}"
        lmdb = import_lmdb()
        try:
            with open_database(self.folder).begin(write=False) as txn:
                value = txn.get(key)
        except lmdb.Error as exc:
            raise GanzooError(f"lsun: {where}: cannot read ({one_line(exc)})") from None
        if value is None:
            raise GanzooError(f"lsun: {where} disappeared from the database")
        return decode_image(value, "RGB", f"lsun: {where}")


# lmdb refuses to open one database twice in a process, so loading a set again must reuse the environment;
# keyed by process id too, because an environment must not be used across a fork (data loader workers).
_OPEN_DATABASES: dict[tuple[int, Path], Any] = {}


def open_database(folder: Path) -> Any:
    key = (os.getpid(), folder.resolve())
    if key in _OPEN_DATABASES:
        return _OPEN_DATABASES[key]
    lmdb = import_lmdb()
    try:
        # readonly + lock=False: the published databases are never written, and may sit on read-only storage
        env = lmdb.open(str(folder), readonly=True, lock=False, readahead=False, meminit=False)
    except lmdb.Error as exc:
        raise GanzooError(f"lsun: {folder} is not a readable LMDB database ({one_line(exc)})") from None
    _OPEN_DATABASES[key] = env
    return env


def list_keys(folder: Path) -> list[bytes]:
    lmdb = import_lmdb()
    try:
        with open_database(folder).begin(write=False) as txn:
            return list(txn.cursor().iternext(keys=True, values=False))
    except lmdb.Error as exc:
        message = f"lsun: cannot list the images in {folder} ({one_line(exc)}); the database is damaged"
        raise GanzooError(message) from None


def load_lsun(options: LsunOptions) -> LoadedData:
    """One LSUN category and split from ``root/<category>_<split>_lmdb``; see the module docstring."""
    import_lmdb()  # say what to install before talking about files
    root = data_root(options.root)
    folder = root / f"{options.category}_{options.split}_lmdb"
    if not (folder / "data.mdb").is_file():
        hint = FETCH_HINT.format(category=options.category, split=options.split)
        raise missing_files("lsun", [f"{folder.name}/data.mdb"], [root], [hint])
    keys = list_keys(folder)
    if not keys:
        raise GanzooError(f"lsun: {folder} holds no images")
    lazy = LazyImages(len(keys), LmdbImages(folder, keys), options.resolution)
    return loaded(lazy_samples(lazy, options.in_memory), 3, options.resolution, None)


LSUN_DATASETS = [
    DatasetSpec(
        name="lsun",
        build=load_lsun,
        citation=CITATION,
        description="LSUN scene photos (bedroom, church_outdoor, ...) from their LMDB databases, no class labels",
        options=LsunOptions,
    ),
]
