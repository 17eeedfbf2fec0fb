"""How often a class-conditional generator draws the class it is asked for, judged by a classifier.

A small CNN is trained on the real training split, its accuracy on the real test
split is printed as the reference, and then it classifies samples drawn from a
run's generator, equally many per class. A generator that ignored its labels
would score chance (1 / classes).

    python benchmarks/conditional_accuracy.py runs/dcgan-fashion-mnist-conditional [--raw] [--per-class 500]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
from torch import nn

from ganzoo.api.prior import generate
from ganzoo.cli.commands import restore_run
from ganzoo.registry.discovery import get_zoo
from ganzoo.run.config import RunConfig
from ganzoo.sampling.generation import class_rows


def classifier(channels: int, side: int, classes: int) -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(channels, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * (side // 4) ** 2, classes))


def load_split(config: RunConfig, split: str) -> tuple[torch.Tensor, torch.Tensor]:
    zoo = get_zoo()
    options = {**config.dataset_options, "split": split, "in_memory": True}
    data = zoo.datasets.get(config.dataset).build(zoo.datasets.get(config.dataset).options(**options))
    return data.samples.tensors[0], data.samples.tensors[1]


def train_classifier(images: torch.Tensor, labels: torch.Tensor, classes: int, epochs: int) -> nn.Module:
    torch.manual_seed(0)
    model = classifier(images.shape[1], images.shape[-1], classes)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    for _ in range(epochs):
        for index in torch.randperm(len(images)).split(128):
            loss = nn.functional.cross_entropy(model(images[index]), labels[index])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return model.eval()


@torch.no_grad()
def predict(model: nn.Module, images: torch.Tensor) -> torch.Tensor:
    return torch.cat([model(chunk).argmax(1) for chunk in images.split(1000)])


def accuracy(model: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> float:
    return float((predict(model, images) == labels).float().mean())


def per_class(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, names: tuple[str, ...]) -> str:
    hits = predict(model, images) == labels
    return ", ".join(f"{name} {100 * float(hits[labels == c].float().mean()):.0f}%" for c, name in enumerate(names))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", type=Path, help="a class-conditional run directory or checkpoint")
    parser.add_argument("--raw", action="store_true", help="the generator's last weights, not their average")
    parser.add_argument("--per-class", type=int, default=500, help="samples per class (default 500)")
    parser.add_argument("--epochs", type=int, default=2, help="classifier training epochs (default 2)")
    args = parser.parse_args()

    run = restore_run(args.run, get_zoo(), raw=args.raw)
    classes = run.prior.num_classes
    if classes is None:
        raise SystemExit(f"{args.run} is not a class-conditional run")
    started = time.time()
    model = train_classifier(*load_split(run.config, "train"), classes, args.epochs)
    test_images, test_labels = load_split(run.config, "test")
    labels = class_rows(list(range(classes)), args.per_class)
    samples = generate(run.generator, run.prior, len(labels), seed=0, labels=labels)
    names = run.info.class_names or tuple(map(str, range(classes)))
    print(f"classifier accuracy on the real test split: {100 * accuracy(model, test_images, test_labels):.1f}%")
    print(f"    per class: {per_class(model, test_images, test_labels, names)}")
    print(f"accuracy on {len(labels)} samples of {args.run} ({run.weights} weights, step {run.checkpoint.step}): "
          f"{100 * accuracy(model, samples, labels):.1f}% (chance {100 / classes:.1f}%)")
    print(f"    per class: {per_class(model, samples, labels, names)}")
    print(f"({time.time() - started:.0f} s)")


if __name__ == "__main__":
    main()
