"""Latent codes found by ``ganzoo invert``, kept as safetensors for ``ganzoo interpolate --codes``."""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from ganzoo.errors import GanzooError, one_line


def save_codes(path: Path, codes: torch.Tensor, errors: torch.Tensor, labels: torch.Tensor | None,
               metadata: dict[str, str]) -> None:
    tensors = {"codes": codes.contiguous().cpu(), "errors": errors.cpu()}
    if labels is not None:
        tensors["labels"] = labels.cpu()
    save_file(tensors, str(path), metadata=metadata)


def load_codes(path: Path, z_dim: int, conditional: bool) -> tuple[torch.Tensor, torch.Tensor | None]:
    """At least two codes of ``z_dim`` dimensions, with their labels for a conditional run; one-line errors."""
    try:
        saved = load_file(str(path))
    except Exception as exc:  # a missing, truncated or foreign file: safetensors raises several kinds
        raise GanzooError(f"{path}: cannot read codes ({one_line(exc)}); give a file 'ganzoo invert' wrote") from None
    codes = saved.get("codes")
    if codes is None or codes.dim() != 2 or codes.shape[1] != z_dim or len(codes) < 2:
        raise GanzooError(f"{path}: holds no pair of codes of {z_dim} dimensions (this run's z_dim); invert at "
                          "least two images with this run")
    labels = saved.get("labels")
    if (labels is not None) != conditional:
        raise GanzooError(f"{path}: its codes were found for a run {'with' if labels is not None else 'without'} "
                          "classes, unlike this one")
    return codes.float(), labels
