"""Short training runs for a plugin's own tests."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path
from typing import Any

import torch

from ganzoo.registry.discovery import Zoo, get_zoo
from ganzoo.run.config import RunConfig, resolve_config
from ganzoo.training.trainer import Trainer


def quick_config(out_dir: Path, **overrides: Any) -> dict[str, Any]:
    """A raw run config for a few CPU seconds on ``ring8``: 20 steps of 32, logs every 5, a checkpoint every 10,
    no pictures or metrics until the end; ``overrides`` replace any key (``gan`` must be among them)."""
    return {"dataset": "ring8", "steps": 20, "batch_size": 32, "log_every": 5, "sample_every": 0, "eval_every": 0,
            "checkpoint_every": 10, "device": "cpu", "out_dir": str(out_dir), **overrides}


def resolved_config(**config: Any) -> RunConfig:
    """The config ganzoo resolves for ``config`` (``dataset`` defaults to ``ring8``): the algorithm's, GAN's and
    objective's defaults filled in, as a plugin's tests check that its published settings arrive."""
    return resolve_config({"dataset": "ring8", **config}, get_zoo(), "test config")


def trainer(out_dir: Path, *, zoo: Zoo | None = None, **overrides: Any) -> Trainer:
    """A :class:`~ganzoo.training.trainer.Trainer` for :func:`quick_config` with ``overrides``, not yet trained."""
    zoo = zoo or get_zoo()
    return Trainer(resolve_config(quick_config(out_dir, **overrides), zoo), zoo, progress=False)


def train(out_dir: Path, *, zoo: Zoo | None = None, resume: bool = False, **overrides: Any) -> Trainer:
    """Train :func:`quick_config` with ``overrides`` into ``out_dir`` (continuing it with ``resume``); returns the
    trainer, whose ``networks``, ``objective``, ``algorithm`` and ``last_eval`` the test can then inspect."""
    run = trainer(out_dir, zoo=zoo, **overrides)
    run.fit(resume=resume)
    return run


def labelled_images(folder: Path, count: int = 40, classes: int = 10, seed: int = 0) -> dict[str, Any]:
    """``count`` random 28x28 gray images of ``classes`` classes written as Fashion-MNIST's training files (gzipped
    IDX) into ``folder``; returns the ``dataset_options`` that train ``fashion-mnist`` on them, for an image GAN's
    tests to train a conditional run in seconds."""
    folder.mkdir(parents=True, exist_ok=True)
    pixels = torch.randint(0, 256, (count, 28, 28), generator=torch.Generator().manual_seed(seed))
    for name, array in (("train-images-idx3-ubyte.gz", pixels), ("train-labels-idx1-ubyte.gz",
                                                                 torch.arange(count) % classes)):
        header = bytes([0, 0, 0x08, array.dim()]) + struct.pack(f">{array.dim()}I", *array.shape)
        (folder / name).write_bytes(gzip.compress(header + array.to(torch.uint8).numpy().tobytes()))
    return {"root": str(folder)}
