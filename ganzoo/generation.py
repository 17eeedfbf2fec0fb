"""Drawing samples from a generator and picturing them."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from ganzoo.build import Prior
from ganzoo.specs import LoadedData

SCATTER_REAL_POINTS = 2500


@torch.no_grad()
def generate(generator: nn.Module, prior: Prior, n: int, seed: int, batch_size: int = 1000) -> torch.Tensor:
    """``n`` samples on the CPU, from a fixed seed, with the generator in eval mode."""
    rng = torch.Generator(device=prior.device).manual_seed(seed)
    was_training = generator.training
    generator.eval()
    try:
        chunks = [generator(prior.sample(min(batch_size, n - start), rng)).cpu()
                  for start in range(0, n, batch_size)]
    finally:
        generator.train(was_training)
    return torch.cat(chunks) if chunks else torch.empty(0)


def save_picture(samples: torch.Tensor, data: LoadedData, path: Path, title: str = "") -> None:
    """A scatter over the real data for 2D points, an image grid for images."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if data.info.is_image:
        from torchvision.utils import save_image

        nrow = max(1, int(len(samples) ** 0.5))
        save_image(samples.clamp(-1, 1) * 0.5 + 0.5, str(path), nrow=nrow)
        return
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

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


def _real_points(data: LoadedData, n: int) -> torch.Tensor:
    dataset = data.samples
    if isinstance(dataset, torch.utils.data.TensorDataset):
        return dataset.tensors[0][:n].cpu()
    items = [dataset[i] for i in range(min(n, len(dataset)))]
    return torch.stack([item[0] if isinstance(item, (tuple, list)) else item for item in items])
