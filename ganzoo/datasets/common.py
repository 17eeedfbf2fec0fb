"""What every image data set shares: option fields, file look-up errors, decoding, resizing and packing.

Every loader ends the same way: pixels are scaled from bytes to [-1, 1], brought
to ``resolution`` (shorter side resized, then a centred square crop), and
handed out either as one ``TensorDataset`` (``in_memory``; the runner moves it
to the training device) or as a :class:`LazyImages` that decodes on access.
"""

from __future__ import annotations

import io
import os
import stat
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch
from pydantic import Field

from ganzoo.api.specs import DataInfo, LoadedData
from ganzoo.errors import GanzooError, one_line
from ganzoo.utils import CACHE_ENV, cache_dir

DEFAULT_CACHE = f"${CACHE_ENV} or ~/.cache/ganzoo"  # how help texts name cache_dir()
ROOT_HINT = "set dataset_options.root to a folder holding them"
DOWNLOAD_HINT = "set dataset_options.download = true when online"
# Images are converted in chunks so that a large set never needs a second full-size float copy.
CHUNK = 1024


def resolution_field(default: int, note: str = "") -> Any:
    return Field(default, ge=4, le=2048, description=(
        f"side R of the square images handed to the GAN: shorter side resized to R, then a centred RxR crop; "
        f"images already RxR are left untouched{note}"))


def in_memory_field(default: bool | None, note: str = "") -> Any:
    return Field(default, description=(
        "hold the whole set as one tensor (moved to the training device by the runner) instead of decoding "
        f"images as they are drawn{note}"))


def root_field(layout: str) -> Any:
    return Field(None, description=f"folder holding {layout} (default: {DEFAULT_CACHE}, also where downloads go)")


def data_root(root: Path | None) -> Path:
    """The folder to read from and download into: ``root`` with ``~`` expanded, or the default cache."""
    return root.expanduser() if root is not None else cache_dir()


DOWNLOAD = Field(False, description=(
    f"when no local copy is found, fetch the files into root (default {DEFAULT_CACHE}); needs network access"))


def missing_files(dataset: str, missing: Sequence[str], looked_in: Sequence[Path],
                  remedies: Sequence[str]) -> GanzooError:
    """The one-line error for a data set that has no local copy: what is missing, where we looked, what to do."""
    where = ", ".join(str(folder) for folder in looked_in)
    what = missing[0] if len(missing) == 1 else f"{', '.join(missing[:-1])} and {missing[-1]}"
    return GanzooError(f"{dataset}: {what} not found in {where}; {', or '.join(remedies)}")


@contextmanager
def downloading(dataset: str, into: Path) -> Iterator[None]:
    """Any failure of the download inside (no network, a proxy error, a bad checksum, a full disk) as one line."""
    try:
        yield
    except Exception as exc:
        raise GanzooError(f"{dataset}: download into {into} failed ({one_line(exc)})") from None


def download_archive(dataset: str, source: Any, root: Path) -> None:
    """Fetch and unpack ``source.url`` (a torchvision data set class: url, filename, tgz_md5) into ``root``."""
    from torchvision.datasets.utils import download_and_extract_archive

    with downloading(dataset, root):
        download_and_extract_archive(source.url, str(root), filename=source.filename, md5=source.tgz_md5)


def decode_image(data: bytes | Path, mode: str, where: str) -> torch.Tensor:
    """An encoded image (file path or bytes) as a uint8 ``(C, H, W)`` tensor; PIL ``mode`` is "RGB" or "L"."""
    from PIL import Image

    kind = REGULAR if isinstance(data, bytes) else path_kind(data)
    if kind != REGULAR:  # opening a FIFO would block forever
        raise GanzooError(f"{where}: cannot decode image (not a regular file: {kind})")
    try:
        with Image.open(io.BytesIO(data) if isinstance(data, bytes) else data) as image:
            if image.mode.startswith("I"):  # 16- or 32-bit grey: PIL's convert would clip it to 255, not scale it
                image = _to_8_bit(image)
            pixels = np.asarray(image.convert(mode))
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:  # truncated, unknown format...
        raise GanzooError(f"{where}: cannot decode image ({one_line(exc)})") from None
    tensor = torch.from_numpy(pixels.copy())
    return tensor.unsqueeze(0) if tensor.dim() == 2 else tensor.permute(2, 0, 1)


REGULAR = "a regular file"


def path_kind(path: Path) -> str:
    """What ``path`` is, following links: :data:`REGULAR`, "missing" (a broken link too), "a folder", "a FIFO"..."""
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):  # ValueError: a NUL in the path
        return "missing"
    kinds = [(stat.S_ISREG, REGULAR), (stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO"),
             (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device")]
    return next((name for test, name in kinds if test(mode)), "not a regular file")


def _to_8_bit(image: Any) -> Any:
    """A 16-bit ("I;16") or 32-bit integer ("I") grey image as 8-bit grey ("L"), 0..65535 mapped onto 0..255."""
    from PIL import Image

    wide = np.asarray(image, dtype=np.float64)
    return Image.fromarray(np.clip(np.rint(wide / 257.0), 0, 255).astype(np.uint8), mode="L")


class ImageFiles:
    """``read(i)``: the i-th file of ``paths`` decoded as ``mode`` ("RGB" or "L")."""

    def __init__(self, paths: list[Path], mode: str = "RGB"):
        self.paths = paths
        self.mode = mode

    def __call__(self, index: int) -> torch.Tensor:
        return decode_image(self.paths[index], self.mode, str(self.paths[index]))


def fit_resolution(pixels: torch.Tensor, resolution: int) -> torch.Tensor:
    """uint8 ``(..., C, H, W)`` pixels as float32 in [-1, 1], brought to ``resolution`` x ``resolution``.

    Resizing happens on 0..255 floats (not on uint8) so no rounding is added;
    bilinear weights with antialias are non-negative, so values stay in range.
    """
    scaled = pixels.float()
    height, width = scaled.shape[-2:]
    if (height, width) != (resolution, resolution):
        from torchvision.transforms.v2 import functional as tvf

        if min(height, width) != resolution:
            scaled = tvf.resize(scaled, [resolution], antialias=True)
        scaled = tvf.center_crop(scaled, [resolution, resolution]).clamp(0, 255)
    return scaled.div(127.5).sub(1.0)


def as_tensor(pixels: Any) -> torch.Tensor:
    """A tensor for a tensor, or a copy of a (possibly memory-mapped, non-contiguous) numpy array."""
    if isinstance(pixels, torch.Tensor):
        return pixels
    array = np.ascontiguousarray(pixels)
    # a contiguous slice of a read-only memory map is not copied above; torch wants memory it may write
    return torch.from_numpy(array if array.flags.writeable else array.copy())


def read_array_item(pixels: Any, index: int) -> torch.Tensor:
    return as_tensor(pixels[index])


class LazyImages(torch.utils.data.Dataset):
    """Images decoded on access: item ``i`` is ``read(i)`` brought to ``resolution``, with its label if labelled.

    ``read(i)`` returns uint8 ``(C, H, W)``; ``labels`` is an int64 tensor or None.
    """

    def __init__(self, count: int, read: Callable[[int], torch.Tensor], resolution: int,
                 labels: torch.Tensor | None = None):
        self.count = count
        self.read = read
        self.resolution = resolution
        self.labels = labels

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, index: int) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        if not -self.count <= index < self.count:
            raise IndexError(f"index {index} out of range for {self.count} images")
        index %= self.count
        image = fit_resolution(self.read(index), self.resolution)
        return image if self.labels is None else (image, self.labels[index])


def tensor_dataset(images: torch.Tensor, labels: torch.Tensor | None) -> torch.utils.data.TensorDataset:
    return torch.utils.data.TensorDataset(images) if labels is None else torch.utils.data.TensorDataset(images, labels)


def array_samples(pixels: Any, labels: torch.Tensor | None, resolution: int,
                  in_memory: bool) -> torch.utils.data.Dataset:
    """Samples from a uint8 ``(N, C, H, W)`` array: a tensor, a numpy array or a lazy memory map."""
    if not in_memory:
        return LazyImages(len(pixels), partial(read_array_item, pixels), resolution, labels)
    return tensor_dataset(stack_arrays([pixels], resolution), labels)


def stack_arrays(arrays: Sequence[Any], resolution: int) -> torch.Tensor:
    """uint8 ``(N_i, C, H, W)`` arrays, one after the other, as one float tensor brought to ``resolution``."""
    count, channels = sum(len(pixels) for pixels in arrays), arrays[0].shape[1]
    images = torch.empty(count, channels, resolution, resolution)
    offset = 0
    for pixels in arrays:
        for start in range(0, len(pixels), CHUNK):
            chunk = fit_resolution(as_tensor(pixels[start:start + CHUNK]), resolution)
            images[offset:offset + len(chunk)] = chunk
            offset += len(chunk)
    return images


def lazy_samples(lazy: LazyImages, in_memory: bool) -> torch.utils.data.Dataset:
    """``lazy`` itself, or every image decoded once into one ``TensorDataset``."""
    if not in_memory:
        return lazy
    channels = lazy.read(0).shape[0] if len(lazy) else 3
    images = torch.empty(len(lazy), channels, lazy.resolution, lazy.resolution)
    for index in range(len(lazy)):
        images[index] = fit_resolution(lazy.read(index), lazy.resolution)
    return tensor_dataset(images, lazy.labels)


def loaded(samples: torch.utils.data.Dataset, channels: int, resolution: int,
           class_names: Sequence[str] | None) -> LoadedData:
    names = tuple(class_names) if class_names is not None else None
    info = DataInfo(shape=(channels, resolution, resolution), num_classes=len(names) if names else None,
                    class_names=names)
    return LoadedData(samples, info)


def check_labels(dataset: str, labels: torch.Tensor, count: int, num_classes: int, where: Path) -> torch.Tensor:
    """``labels`` as int64 after checking they match the images one to one and lie in ``0 .. num_classes - 1``."""
    if labels.dim() != 1 or len(labels) != count:
        raise GanzooError(f"{dataset}: {where} holds {labels.numel()} labels for {count} images; the files are damaged "
                          "or do not belong together")
    labels = labels.long()
    if count and (labels.min() < 0 or labels.max() >= num_classes):
        raise GanzooError(f"{dataset}: {where} holds labels outside 0..{num_classes - 1}; the file is damaged")
    return labels
