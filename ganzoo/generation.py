"""Drawing samples from a generator and picturing them."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from ganzoo.build import Prior, forward
from ganzoo.specs import LoadedData

SCATTER_REAL_POINTS = 2500
PICTURE_POINTS = 1000      # points in a scatter picture
PICTURE_IMAGES = 64        # images in an unconditional grid
PICTURE_PER_CLASS = 8      # images per class (one row each) in a conditional grid


@torch.no_grad()
def generate(generator: nn.Module, prior: Prior, n: int, seed: int, labels: torch.Tensor | None = None,
             batch_size: int = 500) -> torch.Tensor:
    """``n`` samples on the CPU, from a fixed seed, with the generator in eval mode.

    A conditional generator gets ``labels``, or labels drawn uniformly from the same seed.
    """
    rng = torch.Generator(device=prior.device).manual_seed(seed)
    if labels is None:
        labels = prior.sample_labels(n, rng)
    elif prior.num_classes is None:
        raise ValueError("labels given to an unconditional generator")
    was_training = generator.training
    generator.eval()
    try:
        chunks = []
        for start in range(0, n, batch_size):
            size = min(batch_size, n - start)
            chunk_labels = None if labels is None else labels[start:start + size].to(prior.device)
            chunks.append(forward(generator, prior.sample(size, rng), chunk_labels).cpu())
    finally:
        generator.train(was_training)
    return torch.cat(chunks) if chunks else torch.empty(0)


def picture_labels(prior: Prior, per_class: int = PICTURE_PER_CLASS,
                   classes: list[int] | None = None) -> torch.Tensor | None:
    """Labels for a conditional grid, ``per_class`` of each class in row order; None if unconditional."""
    if prior.num_classes is None:
        return None
    chosen = torch.tensor(classes if classes is not None else range(prior.num_classes), dtype=torch.long)
    return chosen.repeat_interleave(per_class)


def default_picture_size(data: LoadedData, prior: Prior) -> int:
    if not data.info.is_image:
        return PICTURE_POINTS
    return PICTURE_PER_CLASS if prior.num_classes is not None else PICTURE_IMAGES


def save_picture(samples: torch.Tensor, data: LoadedData, path: Path, title: str = "",
                 labels: torch.Tensor | None = None) -> None:
    """A scatter over the real data for 2D points; an image grid for images, one row per class if labelled."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not data.info.is_image:
        _save_scatter(samples, data, path, title)
    elif labels is None:
        from torchvision.utils import save_image

        nrow = max(1, int(len(samples) ** 0.5))
        save_image(samples.clamp(-1, 1) * 0.5 + 0.5, str(path), nrow=nrow)
    else:
        rows = torch.unique_consecutive(labels).tolist()
        names = data.info.class_names or ()
        save_labelled_grid(samples, [names[c] if c < len(names) else str(c) for c in rows],
                           len(samples) // len(rows), path, title)


def save_labelled_grid(images: torch.Tensor, row_names: list[str], columns: int, path: Path, title: str) -> None:
    """Images in rows of ``columns``, each row named on the left (its class, or its interpolation)."""
    from torchvision.utils import make_grid

    plt = _pyplot()
    grid = make_grid(images.clamp(-1, 1) * 0.5 + 0.5, nrow=columns, padding=2, pad_value=1.0)
    height, width = grid.shape[1:]
    dpi = 100
    fig = plt.figure(figsize=((width + 160) / dpi, (height + 40) / dpi), dpi=dpi)
    ax = fig.add_axes((140 / (width + 160), 10 / (height + 40), width / (width + 160), height / (height + 40)))
    ax.imshow(grid.permute(1, 2, 0).numpy(), interpolation="nearest")
    row_height = (height - 2) / len(row_names)
    ax.set_yticks([2 + row_height * (i + 0.5) - 1 for i in range(len(row_names))], row_names, fontsize=8)
    ax.set_xticks([])
    for side in ax.spines.values():
        side.set_visible(False)
    fig.suptitle(title, fontsize=8)
    fig.savefig(path)
    plt.close(fig)


def save_point_paths(paths: torch.Tensor, data: LoadedData, path: Path, title: str) -> None:
    """2D generated points along latent paths ``(rows, steps, 2)``, each a line over the real data."""
    plt = _pyplot()
    real = _real_points(data, SCATTER_REAL_POINTS)
    fig, ax = plt.subplots(figsize=(5, 5), dpi=100)
    ax.scatter(real[:, 0], real[:, 1], s=2, c="tab:blue", alpha=0.5, label="data")
    for row in paths:
        ax.plot(row[:, 0], row[:, 1], "-o", markersize=3, linewidth=1)
    ax.set_aspect("equal")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _save_scatter(samples: torch.Tensor, data: LoadedData, path: Path, title: str) -> None:
    plt = _pyplot()
    real = _real_points(data, SCATTER_REAL_POINTS)
    fig, ax = plt.subplots(figsize=(5, 5), dpi=100)
    ax.scatter(samples[:, 0], samples[:, 1], s=4, c="tab:orange", alpha=0.4, label="generated")
    ax.scatter(real[:, 0], real[:, 1], s=2, c="tab:blue", alpha=0.8, label="data")
    ax.set_aspect("equal")
    ax.legend(loc="upper right", fontsize=7)
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _real_points(data: LoadedData, n: int) -> torch.Tensor:
    dataset = data.samples
    if isinstance(dataset, torch.utils.data.TensorDataset):
        return dataset.tensors[0][:n].cpu()
    items = [dataset[i] for i in range(min(n, len(dataset)))]
    return torch.stack([item[0] if isinstance(item, (tuple, list)) else item for item in items])
