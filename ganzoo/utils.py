"""Small helpers the core's parts share: the cache folder, durable file replacement, networks in eval mode."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import torch
from torch import nn

CACHE_ENV = "GANZOO_CACHE_DIR"


def cache_dir() -> Path:
    """Where ganzoo keeps downloads and derived files: ``$GANZOO_CACHE_DIR`` if set, else ``~/.cache/ganzoo``."""
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "ganzoo").expanduser()


def write_text_whole(path: Path, text: str) -> None:
    """Write ``path`` whole or not at all: beside it under this process's own name first, then renamed over it,
    so that two processes writing the same file, or a crash, never leave a half-written one."""
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


def replace_durably(partial: Path, path: Path) -> None:
    """Move a fully written ``partial`` over ``path``: its bytes reach the disk before the rename, and the rename
    before this returns, so a power cut leaves the old file or the new one, never a torn one."""
    with partial.open("rb") as handle:
        os.fsync(handle.fileno())
    os.replace(partial, path)
    if hasattr(os, "O_DIRECTORY"):  # POSIX: make the rename itself durable
        # best effort: the new file is in place already, and some network file systems refuse to sync a folder
        with contextlib.suppress(OSError):
            folder = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
            try:
                os.fsync(folder)
            finally:
                os.close(folder)


@contextmanager
def eval_mode(*networks: nn.Module) -> Iterator[None]:
    """Put ``networks`` in eval mode inside the block, and back in the mode each had after it."""
    modes = [network.training for network in networks]
    for network in networks:
        network.eval()
    try:
        yield
    finally:
        for network, mode in zip(networks, modes):
            network.train(mode)


@contextmanager
def seeded_draws(seed: int, device: torch.device) -> Iterator[None]:
    """Inside the block torch's global generators (CPU, and ``device`` if a GPU) draw from a stream seeded by
    ``seed``; outside, their state is as before. Randomness a network draws itself in eval mode (StyleGAN2's noise
    inputs) then repeats for a seed, and sampling or measuring in the middle of training leaves its streams alone."""
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(seed)
        yield
