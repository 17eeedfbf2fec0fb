"""Drawing samples from a generator and picturing them."""

from __future__ import annotations

import math
import os
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from ganzoo.api.specs import DataInfo, LoadedData
from ganzoo.run.config import RunConfig

SCATTER_REAL_POINTS = 2500
PICTURE_POINTS = 1000      # points in a scatter picture
PICTURE_IMAGES = 64        # images in an unconditional grid
PICTURE_PER_CLASS = 8      # images per class (one row each) in a conditional grid
MIN_CELL_PIXELS = 64       # labelled grids draw smaller images enlarged to at least this
DPI = 100


def run_title(config: RunConfig, step: int, weights: str) -> str:
    """How pictures name a run: its GAN, objective, data set, step and the generator weights drawn from."""
    return f"{config.gan} / {config.objective} on {config.dataset}, step {step}, {weights} weights"


def class_rows(classes: list[int], per_class: int) -> torch.Tensor:
    """Labels for a grid of one row per entry of ``classes``, ``per_class`` images each."""
    return torch.tensor(classes, dtype=torch.long).repeat_interleave(per_class)


def picture_plan(info: DataInfo, classes: list[int] | None,
                 num: int | None = None) -> tuple[torch.Tensor | None, int]:
    """The labels and the number of samples of a picture: ``num`` (default 8) per class, one row per entry of
    ``classes``, for a conditional generator (``classes`` set); else ``num`` samples (default 1000 points or
    64 images)."""
    if classes is not None:
        labels = class_rows(classes, num or PICTURE_PER_CLASS)
        return labels, len(labels)
    return None, num or (PICTURE_IMAGES if info.is_image else PICTURE_POINTS)


def save_picture(samples: torch.Tensor, info: DataInfo, path: Path, title: str = "",
                 row_classes: list[int] | None = None, real_points: torch.Tensor | None = None) -> None:
    """A scatter over ``real_points`` for 2D points; an image grid for images, with one named row per
    entry of ``row_classes`` (samples in row order) for a conditional generator."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not info.is_image:
        if real_points is None:
            raise ValueError("a scatter of generated points needs the real points")
        _save_scatter(samples, real_points, path, title)
    elif row_classes is None:
        from torchvision.utils import save_image

        nrow = max(1, int(len(samples) ** 0.5))
        save_image(samples.clamp(-1, 1) * 0.5 + 0.5, str(path), nrow=nrow)
    else:
        save_labelled_grid(samples, [class_name(info, c) for c in row_classes], len(samples) // len(row_classes),
                           path, title)


def class_name(info: DataInfo, label: int) -> str:
    names = info.class_names or ()
    return names[label] if label < len(names) else str(label)


def save_labelled_grid(images: torch.Tensor, row_names: list[str], columns: int, path: Path, title: str) -> None:
    """Images in rows of ``columns``, each row named on the left (its class, or its interpolation).

    Small images are drawn enlarged, pixel for pixel, so a grid of 28x28 images stays legible.
    """
    from torchvision.utils import make_grid

    grid = make_grid(images.clamp(-1, 1) * 0.5 + 0.5, nrow=columns, padding=2, pad_value=1.0)
    scale = max(1, math.ceil(MIN_CELL_PIXELS / images.shape[-1]))
    height, width = grid.shape[1] * scale, grid.shape[2] * scale
    left = 16 + 7 * max(len(name) for name in row_names)
    lines = textwrap.wrap(title, width=max(20, (left + width) // 7)) or [""]
    top = 8 + 14 * len(lines)
    fig_width, fig_height = left + width + 8, top + height + 8
    fig = _figure(fig_width / DPI, fig_height / DPI)
    ax = fig.add_axes((left / fig_width, 8 / fig_height, width / fig_width, height / fig_height))
    ax.imshow(grid.permute(1, 2, 0).numpy(), interpolation="nearest")
    row_height = (grid.shape[1] - 2) / len(row_names)
    ax.set_yticks([1 + row_height * (i + 0.5) for i in range(len(row_names))], row_names, fontsize=8)
    ax.set_xticks([])
    for side in ax.spines.values():
        side.set_visible(False)
    fig.text(0.5, 1 - 4 / fig_height, "\n".join(lines), ha="center", va="top", fontsize=8)
    _write(fig, path)


def save_point_paths(paths: torch.Tensor, real_points: torch.Tensor, path: Path, title: str) -> None:
    """2D generated points along latent paths ``(rows, steps, 2)``, each a line over the real data."""
    def draw(ax) -> None:
        for row in paths:
            ax.plot(row[:, 0], row[:, 1], "-o", markersize=3, linewidth=1)

    _plot_over_data(real_points, path, title, draw)


def _save_scatter(samples: torch.Tensor, real_points: torch.Tensor, path: Path, title: str) -> None:
    def draw(ax) -> None:
        ax.scatter(samples[:, 0], samples[:, 1], s=4, c="tab:orange", alpha=0.4, label="generated", zorder=0)
        ax.legend(loc="upper right", fontsize=7)

    _plot_over_data(real_points, path, title, draw)


def _plot_over_data(real: torch.Tensor, path: Path, title: str, draw: Callable[[Any], None]) -> None:
    """A square plot of the real 2D points with ``draw(axes)`` adding the generated ones."""
    fig = _figure(5, 5)
    ax = fig.subplots()
    ax.scatter(real[:, 0], real[:, 1], s=2, c="tab:blue", alpha=0.8, label="data")
    draw(ax)
    ax.set_aspect("equal")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    _write(fig, path)


def _figure(width: float, height: float) -> Any:
    """A figure outside pyplot: nothing global to close, even when drawing is interrupted."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=DPI)


def _write(fig: Any, path: Path) -> None:
    """Save beside ``path``, then rename: a picture is whole or absent, never cut short."""
    partial = path.with_name(path.name + ".partial")
    try:
        fig.savefig(partial, format=path.suffix.lstrip(".").lower() or "png")
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def first_samples(data: LoadedData, limit: int | None = SCATTER_REAL_POINTS,
                  convert: Callable[[torch.Tensor], torch.Tensor] = lambda batch: batch) -> torch.Tensor:
    """The first ``limit`` samples of a data set (all if None), on the CPU, passed through ``convert`` (a batch
    function); a lazy set is decoded and converted sample by sample, so only converted samples are held."""
    dataset = data.samples
    if isinstance(dataset, torch.utils.data.TensorDataset):
        return convert(dataset.tensors[0][:limit].cpu())
    count = len(dataset) if limit is None else min(limit, len(dataset))  # type: ignore[arg-type]
    items = (dataset[i] for i in range(count))
    return torch.stack([convert((item[0] if isinstance(item, (tuple, list)) else item).unsqueeze(0))[0]
                        for item in items])
