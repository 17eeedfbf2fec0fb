"""Any folder of images, searched recursively.

Layouts::

    root/cat/0001.jpg, root/dog/0002.png, ...   every image under a first-level subfolder:
                                                labelled, classes = subfolder names, sorted
    root/0001.jpg, root/more/0002.png, ...      any image directly in root: no labels

This is torchvision's ImageFolder layout when labelled. Files count as images
by their extension (torchvision's IMG_EXTENSIONS, any case); files and folders
whose names start with "." are skipped, and so are broken links and anything
that is not a regular file (a FIFO, a socket, a device).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import torch
from pydantic import Field

from ganzoo.api.options import Options
from ganzoo.api.specs import DatasetSpec, LoadedData
from ganzoo.datasets.common import (
    REGULAR,
    ImageFiles,
    LazyImages,
    in_memory_field,
    lazy_samples,
    loaded,
    path_kind,
    resolution_field,
)
from ganzoo.errors import GanzooError

MODES = {1: "L", 3: "RGB"}


class ImageFolderOptions(Options):
    root: Path = Field(description="the folder of images (required); class subfolders give labels")
    channels: Literal[1, 3] = Field(3, description="3: every image converted to RGB; 1: converted to grayscale")
    resolution: int = resolution_field(64)
    in_memory: bool = in_memory_field(False)


def image_files(root: Path) -> list[Path]:
    """Every image file under ``root`` as a path relative to it, sorted so the order is the same on every machine."""
    from torchvision.datasets.folder import IMG_EXTENSIONS

    found = []
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = [name for name in subfolders if not name.startswith(".")]
        found += [Path(folder, name).relative_to(root) for name in files
                  if not name.startswith(".") and name.lower().endswith(IMG_EXTENSIONS)
                  # opening a FIFO named like an image would block forever; a broken link is no file at all
                  and path_kind(Path(folder, name)) == REGULAR]
    return sorted(found)


def load_image_folder(options: ImageFolderOptions) -> LoadedData:
    """The images under ``root``; see the module docstring for when they are labelled."""
    root = options.root.expanduser()
    if not root.is_dir():
        raise GanzooError(f"image-folder: {root} is not a folder; set dataset_options.root to a folder of images")
    files = image_files(root)
    if not files:
        raise GanzooError(f"image-folder: no image files (.jpg, .png, .webp, ...) under {root}")
    labels, class_names = None, None
    if all(len(path.parts) > 1 for path in files):
        class_names = sorted({path.parts[0] for path in files})
        index = {name: number for number, name in enumerate(class_names)}
        labels = torch.tensor([index[path.parts[0]] for path in files], dtype=torch.int64)
    reader = ImageFiles([root / path for path in files], MODES[options.channels])
    lazy = LazyImages(len(files), reader, options.resolution, labels)
    return loaded(lazy_samples(lazy, options.in_memory), options.channels, options.resolution, class_names)


IMAGE_FOLDER_DATASETS = [
    DatasetSpec(
        name="image-folder",
        build=load_image_folder,
        citation="(your own images: cite their source)",
        description="every image under dataset_options.root; labelled by first-level subfolder when none sits in root",
        options=ImageFolderOptions,
    ),
]
