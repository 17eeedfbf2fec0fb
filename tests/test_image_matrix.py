"""Every image GAN on every data set it should serve: build, train a few steps, save and load strictly.

The data are small files in each set's real format, written by the tests (see test_datasets.py).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from test_datasets import encode, make_celeba, make_cifar10, make_stl, save_png, write_lmdb
from test_mnistdata import make_fashion

from ganzoo.cli import main
from ganzoo.errors import ConfigError
from ganzoo.registry.discovery import get_zoo
from ganzoo.run import rundir
from ganzoo.run.config import resolve_config
from ganzoo.training.trainer import Trainer

IMAGE_GANS = ["dcgan", "sngan-cnn", "sngan-resnet", "wgan-gp-resnet", "gan", "wgan-gp"]
CONDITIONAL_GANS = ["dcgan", "sngan-cnn", "sngan-resnet"]
# The side each GAN is tried at: dcgan also at 28 and 64 (below), the MLPs at any.
SIDE = {"dcgan": 32, "sngan-cnn": 32, "sngan-resnet": 32, "wgan-gp-resnet": 32, "gan": 16, "wgan-gp": 16}
# Narrow networks keep the matrix fast; the architectures are the papers' (their own tests check the sizes).
NARROW = {"dcgan": {"g_channels": 8, "d_channels": 8}, "sngan-cnn": {"g_channels": 8, "d_channels": 8},
          "sngan-resnet": {"g_channels": 16, "d_channels": 16}, "wgan-gp-resnet": {"g_channels": 16, "d_channels": 16},
          "gan": {"g_hidden": 32, "d_hidden": 16}, "wgan-gp": {"hidden": 32}}
LABELLED = ["mnist", "fashion-mnist", "cifar10", "stl10", "image-folder"]
UNLABELLED = ["celeba", "lsun"]


@pytest.fixture(scope="module")
def roots(tmp_path_factory):
    """Each data set written once, in its real format; name -> dataset_options."""
    base = tmp_path_factory.mktemp("data")
    make_fashion(base / "fashion", n=12)
    make_fashion(base / "mnist" / "MNIST" / "raw", n=12)
    make_cifar10(base / "cifar")
    make_stl(base / "stl")
    make_celeba(base / "celeba")
    rng = np.random.default_rng(0)
    (base / "lsun").mkdir()
    write_lmdb(base / "lsun" / "bedroom_train_lmdb", {
        f"{i:04x}".encode(): encode(Image.fromarray(rng.integers(0, 256, (40, 48, 3), dtype=np.uint8)), "JPEG")
        for i in range(4)})
    for number in range(6):
        save_png(base / "folder" / f"class{number % 3}" / f"{number}.png",
                 rng.integers(0, 256, (20, 20, 3), dtype=np.uint8))
    return {"mnist": {"root": str(base / "mnist")}, "fashion-mnist": {"root": str(base / "fashion")},
            "cifar10": {"root": str(base / "cifar")}, "stl10": {"root": str(base / "stl")},
            "celeba": {"root": str(base / "celeba")}, "lsun": {"root": str(base / "lsun")},
            "image-folder": {"root": str(base / "folder")}}


def image_run(tmp_path, roots, gan: str, dataset: str, side: int, **overrides) -> dict:
    return {"gan": gan, "dataset": dataset, "dataset_options": {**roots[dataset], "resolution": side},
            "gan_options": NARROW[gan], "steps": 2, "batch_size": 4, "log_every": 1, "sample_every": 0,
            "eval_every": 0, "checkpoint_every": 2, "device": "cpu", "out_dir": str(tmp_path / "run"), **overrides}


def train_save_load(tmp_path, raw: dict, expected_shape: tuple[int, ...]) -> None:
    zoo = get_zoo()
    trainer = Trainer(resolve_config(raw, zoo), zoo, progress=False)
    assert trainer.data.info.shape == expected_shape
    trainer.fit()
    stats = rundir.read_jsonl(tmp_path / "run" / rundir.STATS)
    assert [s["step"] for s in stats] == [1, 2] and all(np.isfinite(s["loss_d"]) for s in stats)
    # strict loading: a fresh build of the same run takes every tensor back, bit for bit
    restored = Trainer(resolve_config(raw, zoo), zoo, progress=False)
    restored.restore(tmp_path / "run" / rundir.LAST_CHECKPOINT)
    for part in ("generator", "discriminator"):
        saved, loaded = getattr(trainer, part).state_dict(), getattr(restored, part).state_dict()
        assert saved.keys() == loaded.keys() and all(torch.equal(saved[k], loaded[k]) for k in saved)
    assert main(["sample", str(tmp_path / "run"), "-n", "4", "-o", str(tmp_path / "s.png")]) == 0
    side = expected_shape[-1]
    with Image.open(tmp_path / "s.png") as picture:
        if trainer.prior.num_classes is None:  # 2 x 2 images, 2 pixels of padding around each
            assert picture.size == (2 * side + 6, 2 * side + 6)
        else:  # a row of 4 per class, enlarged, with margins for the class names and the title
            scale = -(-64 // side)
            grid = (scale * (4 * (side + 2) + 2), scale * (trainer.prior.num_classes * (side + 2) + 2))
            assert grid[0] < picture.size[0] < grid[0] + 200 and grid[1] < picture.size[1] < grid[1] + 60


@pytest.mark.parametrize("dataset", LABELLED + UNLABELLED)
@pytest.mark.parametrize("gan", IMAGE_GANS)
def test_every_image_gan_trains_saves_and_loads_on_every_data_set(tmp_path, roots, gan, dataset):
    channels = 1 if dataset in ("mnist", "fashion-mnist") else 3
    side = SIDE[gan]
    train_save_load(tmp_path, image_run(tmp_path, roots, gan, dataset, side), (channels, side, side))


@pytest.mark.parametrize("dataset", LABELLED)
@pytest.mark.parametrize("gan", CONDITIONAL_GANS)
def test_conditional_variants_train_saves_and_load_on_labelled_data(tmp_path, roots, gan, dataset):
    channels = 1 if dataset in ("mnist", "fashion-mnist") else 3
    raw = image_run(tmp_path, roots, gan, dataset, SIDE[gan], conditional=True, ema={"enabled": True})
    train_save_load(tmp_path, raw, (channels, SIDE[gan], SIDE[gan]))


@pytest.mark.parametrize(("dataset", "side"), [("fashion-mnist", 28), ("celeba", 64)])
def test_dcgan_serves_28_and_64_pixels(tmp_path, roots, dataset, side):
    channels = 1 if dataset == "fashion-mnist" else 3
    train_save_load(tmp_path, image_run(tmp_path, roots, "dcgan", dataset, side), (channels, side, side))


@pytest.mark.parametrize(("gan", "dataset", "side", "message"), [
    ("sngan-resnet", "celeba", 64, r"GAN 'sngan-resnet' cannot be built for data set 'celeba' \(3, 64, 64\): "
                                   r"sngan-resnet serves 32x32 images only .*resolution = 32"),
    ("wgan-gp-resnet", "mnist", 28, r"GAN 'wgan-gp-resnet' cannot be built for data set 'mnist' \(1, 28, 28\)"),
    ("dcgan", "cifar10", 48, r"dcgan serves square images of 28x28, 32x32, 64x64 .*resolution"),
    ("dcgan", "celeba", 32, r"conditional = true needs class labels, but data set 'celeba' has none"),
    ("wgan-gp-resnet", "cifar10", 32, r"has no class-conditional variant"),
])
def test_unsupported_pairs_are_refused_before_training(tmp_path, roots, gan, dataset, side, message):
    zoo = get_zoo()
    conditional = "conditional" in message
    raw = image_run(tmp_path, roots, gan, dataset, side, conditional=conditional)
    with pytest.raises(ConfigError, match=message):
        Trainer(resolve_config(raw, zoo), zoo, progress=False)
    assert not (tmp_path / "run").exists()
