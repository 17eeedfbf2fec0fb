"""``ganzoo translate``: images of one domain through a trained translation network (CycleGAN's G_AB, say)."""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from ganzoo.api.prior import forward
from ganzoo.cli.invert import read_images
from ganzoo.cli.restore import RestoredNetworks, restore_networks
from ganzoo.errors import ConfigError, GanzooError
from ganzoo.registry.discovery import get_zoo
from ganzoo.sampling.generation import save_labelled_grid
from ganzoo.utils import eval_mode

GRID_IMAGES = 64  # the side-by-side picture shows the first images; every one is written as a file
PAIRS_PER_ROW = 4
GRID = "grid"  # the side-by-side picture's name, grid.png


def cmd_translate(args: argparse.Namespace) -> int:
    if args.output is not None and args.output.exists() and not args.output.is_dir():
        raise GanzooError(f"-o must name a folder for the translated images; {args.output} is a file")
    run = restore_networks(args.run, get_zoo())
    direction, name = _translator(run, args.direction)
    network = run.network(name)
    assert network is not None  # the algorithm's declarations were checked when its networks were built
    names, images = read_images(args.images, run.info.shape[1:])
    translated = run.plan.gan.call(translate, network, images, args.batch, run.device,
                                   what=f"translate images with {name}")
    output = args.output or run.default_output(f"translate-{direction}", suffix="")
    output.mkdir(parents=True, exist_ok=True)
    files = _file_names(names)
    for file, image in zip(files, translated):
        _save_image(image, output / file)
    grid = output / f"{GRID}.png"
    shown = min(len(images), GRID_IMAGES)
    pairs = torch.stack([images[:shown], translated[:shown]], dim=1).flatten(0, 1)
    per_row = min(PAIRS_PER_ROW, shown)
    rows = [_row_name(names[start:start + per_row]) for start in range(0, shown, per_row)]
    more = f", the first {shown} of {len(images)}" if shown < len(images) else ""
    save_labelled_grid(pairs, rows, 2 * per_row, grid, f"{args.run}, step {run.checkpoint.step}: {direction} "
                       f"with {name} (each input, then its translation{more})")
    print(f"translated {len(images)} images {direction} into {output} (side by side in {grid})")
    return 0


def _translator(run: RestoredNetworks, direction: str | None) -> tuple[str, str]:
    """The direction asked for (default the first the algorithm names) and the network that translates it."""
    translators = dict(run.algorithm.translators)
    if not translators:
        raise ConfigError(f"{run.path}: algorithm '{run.plan.algorithm.name}' learns no translation between "
                          "domains; translate takes a run of a translation algorithm such as cyclegan")
    if len(run.info.shape) < 2 or run.info.shape[0] != 2:
        raise ConfigError(f"{run.path}: a translation run trains on pairs of domains (samples of shape (2, ...)), "
                          f"but this one's have shape {run.info.shape}")
    chosen = direction or next(iter(translators))
    if chosen not in translators:
        raise ConfigError(f"--direction {chosen}: this run translates {', '.join(translators)}")
    return chosen, translators[chosen]


def translate(network: torch.nn.Module, images: torch.Tensor, batch: int, device: torch.device) -> torch.Tensor:
    """``network(images)`` in eval mode, ``batch`` images at a time, on the CPU, clamped to [-1, 1]."""
    parts = []
    with torch.no_grad(), eval_mode(network):
        for chunk in images.split(batch):
            out = forward(network, chunk.to(device), None)
            if not isinstance(out, torch.Tensor) or out.shape != chunk.shape:
                got = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
                raise GanzooError(f"the translation network gave {got} for images of shape {tuple(chunk.shape)}; "
                                  "it must keep the shape")
            parts.append(out.float().cpu().clamp(-1, 1))
    return torch.cat(parts)


def _row_name(names: list[str]) -> str:
    first, last = Path(names[0]).name[:16], Path(names[-1]).name[:16]
    return first if len(names) == 1 else f"{first} to {last}"


def _file_names(names: list[str]) -> list[str]:
    """``<stem>.png`` for each input, numbered where two inputs share a stem (from different folders) or where
    the stem is the grid's."""
    stems = [Path(name).stem for name in names]
    return [f"{stem}.png" if stems.count(stem) == 1 and stem != GRID else f"{stem}-{i}.png"
            for i, stem in enumerate(stems)]


def _save_image(image: torch.Tensor, path: Path) -> None:
    from PIL import Image

    pixels = (image * 127.5 + 127.5).round().clamp(0, 255).to(torch.uint8).permute(1, 2, 0).numpy()
    Image.fromarray(pixels[..., 0] if pixels.shape[2] == 1 else pixels).save(path)
