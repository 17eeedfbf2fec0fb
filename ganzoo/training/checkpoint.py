"""Checkpoints as safetensors: tensors plus string metadata, nothing pickled.

Tensor keys are ``<part>/<name>``: ``generator/...``, ``discriminator/...``,
``generator_ema/...`` (when the run averages G's weights),
``optimizer_g/<param index>/<state key>``, ``optimizer_d/...`` and ``rng/<name>``.
Metadata holds the format tag, the ganzoo version, the step, the resolved
config, the provenance of every plugin involved, the data's description
(shape, classes and their names: what sampling needs, without the data) and
the optimizers' non-tensor state, each a JSON string.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

from ganzoo.api.specs import DataInfo
from ganzoo.errors import CheckpointError

FORMAT = "ganzoo-checkpoint/1"


@dataclass
class Checkpoint:
    step: int
    config: dict[str, Any]
    provenance: dict[str, Any]
    tensors: dict[str, dict[str, torch.Tensor]]
    optimizers: dict[str, dict[str, Any]]
    data_info: DataInfo | None = None

    def state_dict(self, part: str) -> dict[str, torch.Tensor]:
        return self.tensors.get(part, {})


def save_checkpoint(path: Path, *, step: int, config_json: str, provenance: dict[str, Any], data_info: DataInfo,
                    models: dict[str, torch.nn.Module], optimizers: dict[str, torch.optim.Optimizer],
                    rng: dict[str, torch.Tensor]) -> None:
    """Write atomically: a crash mid-write leaves the previous checkpoint intact."""
    tensors: dict[str, torch.Tensor] = {}
    for part, module in models.items():
        for name, value in module.state_dict().items():
            tensors[f"{part}/{name}"] = value
    optimizer_meta: dict[str, Any] = {}
    for part, optimizer in optimizers.items():
        state = optimizer.state_dict()
        scalars: dict[str, dict[str, Any]] = {}
        for index, param_state in state["state"].items():
            for key, value in param_state.items():
                if isinstance(value, torch.Tensor):
                    tensors[f"{part}/{index}/{key}"] = value
                else:
                    scalars.setdefault(str(index), {})[key] = value
        optimizer_meta[part] = {"param_groups": state["param_groups"], "scalars": scalars}
    for name, value in rng.items():
        tensors[f"rng/{name}"] = value
    tensors = {k: v.detach().to("cpu").contiguous().clone() for k, v in tensors.items()}
    from ganzoo import __version__

    metadata = {
        "format": FORMAT,
        "ganzoo_version": __version__,
        "step": str(step),
        "config": config_json,
        "provenance": json.dumps(provenance, sort_keys=True),
        "data_info": json.dumps({"shape": data_info.shape, "num_classes": data_info.num_classes,
                                 "class_names": data_info.class_names}),
        "optimizers": json.dumps(optimizer_meta),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    save_file(tensors, str(partial), metadata=metadata)
    os.replace(partial, path)


def load_checkpoint(path: Path) -> Checkpoint:
    """Read a checkpoint written by :func:`save_checkpoint`; any damage is a one-line error."""
    if not path.exists():
        raise CheckpointError(f"checkpoint not found: {path}")
    if not path.is_file():
        raise CheckpointError(f"{path} is not a regular file, so not a checkpoint")
    try:
        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
            raw = {key: handle.get_tensor(key) for key in handle.keys()}
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(f"{path} is not a readable safetensors file ({exc})") from None
    if metadata.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a ganzoo checkpoint (format {metadata.get('format')!r}, "
                              f"expected {FORMAT!r})")
    try:
        step = int(metadata["step"])
        config = json.loads(metadata["config"])
        provenance = json.loads(metadata["provenance"])
        optimizers = json.loads(metadata["optimizers"])
    except (KeyError, ValueError) as exc:
        raise CheckpointError(f"{path}: damaged metadata ({type(exc).__name__}: {exc})") from None
    if not all(isinstance(v, dict) for v in (config, provenance, optimizers)):
        raise CheckpointError(f"{path}: damaged metadata (config, provenance and optimizers must be JSON objects)")
    data_info = _read_data_info(metadata.get("data_info"), path)
    tensors: dict[str, dict[str, torch.Tensor]] = {}
    for key, value in raw.items():
        part, _, name = key.partition("/")
        tensors.setdefault(part, {})[name] = value
    return Checkpoint(step, config, provenance, tensors, optimizers, data_info)


def _read_data_info(text: str | None, path: Path) -> DataInfo | None:
    """The stored data description; None for checkpoints written before it was stored."""
    if text is None:
        return None
    try:
        fields = json.loads(text)
        names = fields["class_names"]
        return DataInfo(shape=tuple(int(n) for n in fields["shape"]), num_classes=fields["num_classes"],
                        class_names=None if names is None else tuple(str(n) for n in names))
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"{path}: damaged data description ({type(exc).__name__}: {exc})") from None


def load_module_state(module: torch.nn.Module, checkpoint: Checkpoint, part: str, path: Path) -> None:
    """Strict load: every key present, none extra, every shape equal."""
    try:
        module.load_state_dict(checkpoint.state_dict(part), strict=True)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()
        detail = " ".join(line.strip() for line in first[1:3]) or first[0]
        raise CheckpointError(f"{path}: {part} weights do not fit the model: {detail}") from None


def load_optimizer_state(optimizer: torch.optim.Optimizer, checkpoint: Checkpoint, part: str, path: Path) -> None:
    """Strict load: per-parameter state must name real parameters and match their shapes."""
    params = [p for group in optimizer.param_groups for p in group["params"]]
    try:
        meta = checkpoint.optimizers[part]
        groups = meta["param_groups"]
        state: dict[int, dict[str, Any]] = {}
        for name, value in checkpoint.state_dict(part).items():
            index, _, key = name.partition("/")
            state.setdefault(int(index), {})[key] = value
        for index, scalars in meta["scalars"].items():
            state.setdefault(int(index), {}).update(scalars)
    except (KeyError, ValueError, TypeError, AttributeError) as exc:
        raise CheckpointError(f"{path}: damaged {part} state ({type(exc).__name__}: {exc})") from None
    for index, param_state in state.items():
        if not 0 <= index < len(params):
            raise CheckpointError(f"{path}: {part} has state for parameter {index}, but the model has {len(params)}")
        for key, value in param_state.items():
            if isinstance(value, torch.Tensor) and value.dim() > 0 and value.shape != params[index].shape:
                raise CheckpointError(f"{path}: {part} state '{key}' of parameter {index} has shape "
                                      f"{tuple(value.shape)}, the parameter {tuple(params[index].shape)}")
    for group, current in zip(groups, optimizer.param_groups):
        for key, value in group.items():  # JSON turned tuples (Adam's betas) into lists
            if isinstance(current.get(key), tuple) and isinstance(value, list):
                group[key] = tuple(value)
    try:
        optimizer.load_state_dict({"state": state, "param_groups": groups})
    except (ValueError, KeyError, RuntimeError, TypeError) as exc:
        raise CheckpointError(f"{path}: {part} state does not fit the optimizer: {exc}") from None
