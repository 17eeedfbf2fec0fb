"""The device a run trains on."""

from __future__ import annotations

import torch

from ganzoo.errors import ConfigError


def resolve_device(name: str) -> torch.device:
    """``auto`` picks CUDA when present; asking for a device that is not here is a one-line config error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"device '{name}' was asked for but CUDA is not available here; use device = 'cpu' or 'auto'")
    if name == "mps" and not torch.backends.mps.is_available():
        raise ConfigError("device 'mps' was asked for but is not available here; use device = 'cpu' or 'auto'")
    return torch.device(name)
