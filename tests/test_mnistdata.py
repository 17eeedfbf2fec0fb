"""Fashion-MNIST from standard IDX files: files the tests write, and Debian's copy when installed."""

from __future__ import annotations

import gzip
import struct

import pytest
import torch

import ganzoo
from conftest import toy_run
from ganzoo.datasets.idx import read_idx
from ganzoo.datasets.mnist import DEBIAN_FASHION
from ganzoo.errors import GanzooError
from ganzoo.registry.discovery import get_zoo
from ganzoo.run.config import resolve_config
from ganzoo.training.trainer import Trainer


def write_idx(path, array: torch.Tensor, gz: bool) -> None:
    data = bytes([0, 0, 0x08, array.dim()]) + struct.pack(f">{array.dim()}I", *array.shape)
    data += array.to(torch.uint8).numpy().tobytes()
    path.write_bytes(gzip.compress(data) if gz else data)


def make_fashion(folder, n: int = 12, split: str = "train", gz: bool = True):
    folder.mkdir(parents=True, exist_ok=True)
    prefix = "train" if split == "train" else "t10k"
    images = torch.arange(n * 28 * 28).reshape(n, 28, 28) % 256
    labels = torch.arange(n) % 10
    suffix = ".gz" if gz else ""
    write_idx(folder / f"{prefix}-images-idx3-ubyte{suffix}", images, gz)
    write_idx(folder / f"{prefix}-labels-idx1-ubyte{suffix}", labels, gz)
    return images, labels


@pytest.mark.parametrize("gz", [True, False])
def test_reads_idx_files_gzipped_or_not(tmp_path, gz):
    images, labels = make_fashion(tmp_path, split="test", gz=gz)
    data = ganzoo.load_dataset("fashion-mnist", root=tmp_path, split="test")
    pixels, classes = data.samples.tensors
    assert data.info.shape == (1, 28, 28) and data.info.num_classes == 10
    assert torch.equal(classes, labels)
    assert torch.allclose(pixels[:, 0], images.float() / 127.5 - 1)  # 0 -> -1, 255 -> 1
    assert pixels.min() == -1 and pixels.max() == 1


def test_damaged_or_missing_files_give_one_line_errors(tmp_path, monkeypatch):
    bad = tmp_path / "bad-idx"
    bad.write_bytes(b"\x01\x02\x08\x01")
    with pytest.raises(GanzooError, match="not an IDX file"):
        read_idx(bad)
    short = tmp_path / "short-idx"
    write_idx(short, torch.zeros(4, 3), gz=False)
    short.write_bytes(short.read_bytes()[:-2])
    with pytest.raises(GanzooError, match="IDX data has 10 bytes, its header says 12"):
        read_idx(short)
    monkeypatch.setattr("ganzoo.datasets.mnist.DEBIAN_FASHION", tmp_path / "no-debian-copy")
    with pytest.raises(GanzooError, match=r"t10k-images-idx3-ubyte\(.gz\) and t10k-labels-idx1-ubyte\(.gz\) not found"):
        ganzoo.load_dataset("fashion-mnist", root=tmp_path / "nowhere", split="test")


def test_the_runner_trains_an_mlp_gan_on_idx_images(tmp_path):
    make_fashion(tmp_path / "data")
    zoo = get_zoo()
    raw = toy_run(tmp_path, dataset="fashion-mnist", dataset_options={"root": str(tmp_path / "data")}, steps=3,
                  batch_size=4, gan_options={"g_hidden": 16, "d_hidden": 8})
    trainer = Trainer(resolve_config(raw, zoo), zoo, progress=False)
    assert trainer.fit() == []  # images are measured with ganzoo eval by default
    assert (tmp_path / "run" / "samples" / "step-0000003.png").stat().st_size > 1000


@pytest.mark.skipif(not DEBIAN_FASHION.is_dir(), reason="Debian's dataset-fashion-mnist is not installed")
def test_debians_fashion_mnist_is_the_real_data_set():
    data = ganzoo.load_dataset("fashion-mnist", split="test")
    pixels, labels = data.samples.tensors
    assert pixels.shape == (10_000, 1, 28, 28)
    assert torch.equal(torch.bincount(labels), torch.full((10,), 1000))  # 1,000 test images per class
