"""Checkpoints as safetensors: tensors plus string metadata, nothing pickled.

Tensor keys are ``<part>/<name>``: one part per network (``generator/...``,
``discriminator/...``, or whatever an algorithm names them), ``<name>_ema/...``
for the moving average of the generator, ``optimizer_<name>/<param index>/<state
key>`` per optimizer, ``algorithm/...``, ``objective/...`` and
``augmentation/...`` for the plugins' own state (when they keep any), and
``rng/<stream>``. Metadata holds the format tag, the ganzoo version, the step,
the resolved config, the provenance of every plugin involved, the data's
description (shape, classes and their names: what sampling needs, without the
data) and the optimizers' non-tensor state, each a JSON string.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

from ganzoo.api.specs import DataInfo
from ganzoo.api.state import Stateful
from ganzoo.errors import CheckpointError, one_line

FORMAT = "ganzoo-checkpoint/2"
READABLE_FORMATS = ("ganzoo-checkpoint/1", FORMAT)  # /1 (ganzoo 0.1): the same layout, without plugin state


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
                    device: torch.device, streams: Mapping[str, torch.Generator],
                    modules: Mapping[str, torch.nn.Module], optimizers: Mapping[str, torch.optim.Optimizer],
                    states: Mapping[str, Mapping[str, torch.Tensor]]) -> None:
    """Write atomically: a crash mid-write leaves the previous checkpoint intact."""
    tensors: dict[str, torch.Tensor] = {}
    for part, module in modules.items():
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
    for part, kept in states.items():
        for name, value in kept.items():
            tensors[f"{part}/{name}"] = value
    for name, value in rng_state(device, streams).items():
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


def rng_state(device: torch.device, streams: Mapping[str, torch.Generator]) -> dict[str, torch.Tensor]:
    """torch's global generators (CPU, and the device's for CUDA) and the run's own streams."""
    state = {"torch_cpu": torch.get_rng_state(), **{name: stream.get_state() for name, stream in streams.items()}}
    if device.type == "cuda":
        state["torch_cuda"] = torch.cuda.get_rng_state(device)
    return state


def restore_parts(checkpoint: Checkpoint, path: Path, *, device: torch.device, streams: Mapping[str, torch.Generator],
                  seed: int, modules: Mapping[str, torch.nn.Module], optimizers: Mapping[str, torch.optim.Optimizer],
                  states: Mapping[str, Stateful]) -> None:
    """Strictly load every part into the run's objects; a part the run does not have is an error too."""
    unknown = sorted(set(checkpoint.tensors) - {*modules, *optimizers, *states, "rng"})
    if unknown:
        raise CheckpointError(f"{path} holds parts this run does not have ({', '.join(unknown)}); "
                              "it was written by another algorithm or GAN")
    for part, module in modules.items():
        load_module_state(module, checkpoint, part, path)
    for part, optimizer in optimizers.items():
        load_optimizer_state(optimizer, checkpoint, part, path)
    for part, owner in states.items():
        try:
            owner.load_state_dict(checkpoint.state_dict(part))
        except Exception as exc:  # plugin code: any failure means the state does not fit
            raise CheckpointError(f"{path}: {part} state does not fit ({one_line(exc)})") from None
    saved_on = str(checkpoint.provenance.get("device", "cpu")).split(":")[0]
    restore_rng(checkpoint.state_dict("rng"), path, device, streams, checkpoint.step, seed,
                same_device=saved_on == device.type)


def restore_rng(rng: dict[str, torch.Tensor], path: Path, device: torch.device,
                streams: Mapping[str, torch.Generator], step: int, seed: int, same_device: bool) -> None:
    """Continue the saved random streams; on another device type, reseed them from the step."""
    if not same_device:  # generator states are device-specific: the run goes on, not bit for bit
        for offset, stream in enumerate(streams.values(), start=1):
            stream.manual_seed(seed + offset + 1000 * step)
        return
    try:
        torch.set_rng_state(rng["torch_cpu"])
        for name, stream in streams.items():
            stream.set_state(rng[name])
        if device.type == "cuda":
            torch.cuda.set_rng_state(rng["torch_cuda"], device)
    except (KeyError, RuntimeError, TypeError) as exc:
        raise CheckpointError(f"{path}: damaged random-number state ({type(exc).__name__}: {exc})") from None


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
    if metadata.get("format") not in READABLE_FORMATS:
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
            number, _, key = name.partition("/")
            state.setdefault(int(number), {})[key] = value
        for position, scalars in meta["scalars"].items():
            state.setdefault(int(position), {}).update(scalars)
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
