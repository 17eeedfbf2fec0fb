"""``ganzoo invert``: latent codes for given images, with their reconstructions beside them."""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from ganzoo.cli.commands import check_picture_path
from ganzoo.cli.restore import RestoredRun, restore_run
from ganzoo.datasets.common import decode_image, fit_resolution
from ganzoo.errors import ConfigError, GanzooError
from ganzoo.metrics.features import InceptionFeatures
from ganzoo.metrics.inception import resolve_weights
from ganzoo.registry.discovery import get_zoo
from ganzoo.sampling.codes import save_codes
from ganzoo.sampling.generation import save_labelled_grid
from ganzoo.sampling.inversion import Inversion, invert_by_optimisation, invert_with_encoder
from ganzoo.utils import write_text_whole

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".gif", ".tif", ".tiff")
ENCODER = "encoder"


def cmd_invert(args: argparse.Namespace) -> int:
    check_picture_path(args.output)
    run = restore_run(args.run, get_zoo(), raw=args.raw)
    if not run.info.is_image:
        raise ConfigError(f"invert finds codes for images; {args.run} was trained on data of shape {run.info.shape}")
    names, images = read_images(args.images, run.info.shape)
    labels = _labels(run, args.label, len(images))
    inversion, how = _invert(run, images, labels, args)
    output = args.output or run.default_output("invert")
    codes_path = output.with_suffix(".codes.safetensors")
    output.parent.mkdir(parents=True, exist_ok=True)
    save_codes(codes_path, inversion.codes, inversion.errors, labels, {"run": str(args.run), "method": how})
    pairs = torch.stack([images.cpu(), inversion.reconstructions.clamp(-1, 1)], dim=1).flatten(0, 1)
    rows = [f"{Path(name).name[:24]}: mse {error:.4f}" for name, error in zip(names, inversion.errors)]
    save_labelled_grid(pairs, rows, 2, output, f"{run.title()}, inverted {how} (left: image, right: G(z))")
    write_text_whole(output.with_suffix(".txt"), "".join(
        f"{name}\t{error:.6f}\n" for name, error in zip(names, inversion.errors.tolist())))
    print(f"inverted {len(images)} images {how}: mean squared error {inversion.errors.mean():.4f} "
          f"(each in {output.with_suffix('.txt')}); codes in {codes_path}; pictures in {output}")
    return 0


def _invert(run: RestoredRun, images: torch.Tensor, labels: torch.Tensor | None,
            args: argparse.Namespace) -> tuple[Inversion, str]:
    encoder = run.network(ENCODER) if args.method != "optimise" else None
    if args.method == "encoder" and encoder is None:
        raise ConfigError(f"--method encoder needs a run whose algorithm trained an encoder; algorithm "
                          f"'{run.plan.algorithm.name}' has none: use --method optimise")
    if encoder is not None:
        return invert_with_encoder(encoder, run.generator, images, run.prior.device, labels), "with the run's encoder"
    features = None
    if args.feature_weight > 0:
        features = InceptionFeatures(resolve_weights(args.inception_weights).path).to(run.prior.device)
    inversion = invert_by_optimisation(run.generator, run.prior, images, labels, steps=args.steps, lr=args.lr,
                                       feature_weight=args.feature_weight, features=features, seed=args.seed)
    return inversion, f"by {args.steps} Adam steps" + (
        f" (pixels + {args.feature_weight:g} x Inception features)" if features is not None else " (pixels)")


def read_images(paths: list[Path], shape: tuple[int, ...]) -> tuple[list[str], torch.Tensor]:
    """The image files (or the images in folders), by name, and as a batch of ``shape`` in [-1, 1]."""
    channels, side = shape[0], shape[-1]
    if channels not in (1, 3) or shape[-2] != side:
        raise ConfigError(f"images are read as gray or RGB squares; this run works on images of shape {shape}")
    files = [file for path in paths for file in _image_files(path)]
    if not files:
        raise GanzooError(f"no images among {', '.join(str(p) for p in paths)} "
                          f"(looked for {', '.join(IMAGE_SUFFIXES)})")
    pixels = [decode_image(file, "L" if channels == 1 else "RGB", str(file)) for file in files]
    return [str(file) for file in files], torch.stack([fit_resolution(image, side) for image in pixels])


def _image_files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(file for file in path.iterdir() if file.suffix.lower() in IMAGE_SUFFIXES and file.is_file())
    if not path.exists():
        raise GanzooError(f"{path}: no such file or folder")
    return [path]


def _labels(run: RestoredRun, label: int | None, count: int) -> torch.Tensor | None:
    classes = run.prior.num_classes
    if classes is None:
        if label is not None:
            raise ConfigError(f"--label is for class-conditional runs; {run.path} is unconditional")
        return None
    if label is None or not 0 <= label < classes:
        raise ConfigError("a class-conditional run inverts images of one class: set --label to one of "
                          f"0..{classes - 1}")
    return torch.full((count,), label, dtype=torch.long, device=run.prior.device)
