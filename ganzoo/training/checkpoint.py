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

import contextlib
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

from ganzoo.api.specs import DataInfo, data_info_problem, shown_value
from ganzoo.api.state import Stateful
from ganzoo.api.version import CORE_VERSION
from ganzoo.errors import CheckpointError, one_line
from ganzoo.run import streams as streams_module
from ganzoo.utils import replace_durably

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
    for name, value in streams_module.saved_states(device, streams).items():
        tensors[f"rng/{name}"] = value
    tensors = {k: v.detach().to("cpu").contiguous().clone() for k, v in tensors.items()}

    metadata = {
        "format": FORMAT,
        "ganzoo_version": CORE_VERSION,
        "step": str(step),
        "config": config_json,
        "provenance": json.dumps(provenance, sort_keys=True),
        "data_info": json.dumps({"shape": data_info.shape, "num_classes": data_info.num_classes,
                                 "class_names": data_info.class_names}),
        "optimizers": json.dumps(optimizer_meta),
    }
    partial = path.with_name(path.name + ".partial")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        save_file(tensors, str(partial), metadata=metadata)
        replace_durably(partial, path)
    except (OSError, SafetensorError) as exc:  # a full disk, a quota, a folder made read-only
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else one_line(exc)
        advice = ("the previous checkpoint is kept: make room and continue the run with --resume" if path.exists()
                  else "no checkpoint was written: make room and train again")
        raise CheckpointError(f"could not write {path} ({reason}); {advice}") from None


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
    streams_module.restore_states(checkpoint.state_dict("rng"), path, device, streams, step=checkpoint.step,
                                  seed=seed, same_device=saved_on == device.type)


def load_checkpoint(path: Path) -> Checkpoint:
    """Read a checkpoint written by :func:`save_checkpoint`; any damage is a one-line error naming the field."""
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
    text = metadata.get("step")
    # int() would also take "-5", " 7", "1_000" and other digits than 0-9
    if not (isinstance(text, str) and re.fullmatch(r"[0-9]{1,19}", text)):
        shown = "missing" if text is None else f"{shown_value(text)} is not a step count"
        raise CheckpointError(f"{path}: damaged metadata field 'step' ({shown})")
    config, provenance, optimizers = (_json_object(metadata, key, path) for key in ("config", "provenance",
                                                                                    "optimizers"))
    data_info = _read_data_info(metadata.get("data_info"), path)
    tensors: dict[str, dict[str, torch.Tensor]] = {}
    for key, value in raw.items():
        part, _, name = key.partition("/")
        tensors.setdefault(part, {})[name] = value
    return Checkpoint(int(text), config, provenance, tensors, optimizers, data_info)


def _json_object(metadata: Mapping[str, str], key: str, path: Path) -> dict[str, Any]:
    """The metadata field ``key`` as a JSON object; a deeply nested one is as damaged as a malformed one."""
    if key not in metadata:
        raise CheckpointError(f"{path}: damaged metadata (field '{key}' is missing)")
    try:
        value = json.loads(metadata[key])
    except (ValueError, RecursionError) as exc:
        raise CheckpointError(f"{path}: damaged metadata field '{key}' ({one_line(exc)})") from None
    if not isinstance(value, dict):
        raise CheckpointError(f"{path}: damaged metadata field '{key}' (not a JSON object)")
    return value


def _read_data_info(text: str | None, path: Path) -> DataInfo | None:
    """The stored data description; None for checkpoints written before it was stored."""
    if text is None:
        return None
    where = f"{path}: damaged metadata field 'data_info'"
    try:
        fields = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise CheckpointError(f"{where} ({one_line(exc)})") from None
    if not (isinstance(fields, dict) and set(fields) == {"shape", "num_classes", "class_names"}):
        raise CheckpointError(f"{where} (not an object of shape, num_classes and class_names)")
    shape, classes, names = fields["shape"], fields["num_classes"], fields["class_names"]
    problem = data_info_problem(shape, classes, names)
    if problem is not None:
        raise CheckpointError(f"{where} ({problem})")
    return DataInfo(shape=tuple(shape), num_classes=classes, class_names=None if names is None else tuple(names))


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# Optimizer settings that are numbers (or, for betas, numbers in a list); torch would take "0.1" or true for a
# learning rate and fail, or train on nonsense, at the first step.
NUMERIC_SETTINGS = {"lr", "initial_lr", "betas", "eps", "weight_decay", "momentum", "dampening", "alpha", "rho",
                    "lr_decay", "initial_accumulator_value"}


def _param_groups_problem(groups: Any) -> str | None:
    """What is wrong with stored optimizer param groups, or None."""
    if not (isinstance(groups, list) and all(isinstance(group, dict) for group in groups)):
        return "param_groups is not a list of objects"
    for number, group in enumerate(groups):
        params = group.get("params")
        if not (isinstance(params, list) and all(_is_int(p) and p >= 0 for p in params)):
            return f"param_groups[{number}].params is not a list of parameter indices"
        for key, value in group.items():
            numbers = value if isinstance(value, list) and key != "params" else [value]
            if (key in NUMERIC_SETTINGS and not (numbers and all(_is_number(v) for v in numbers))
                    or any(isinstance(v, float) and not math.isfinite(v) for v in numbers)):
                return f"param_groups[{number}].{key[:40]} is {shown_value(value)}, not a finite number"
            if key in NUMERIC_SETTINGS and any(v < 0 for v in numbers):  # a negative rate climbs the loss
                return f"param_groups[{number}].{key[:40]} is {shown_value(value)}, below 0"
    return None


def _is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or isinstance(value, float) and math.isfinite(value)


def _scalars_problem(scalars: Any) -> str | None:
    """What is wrong with stored per-parameter non-tensor state (e.g. SGD's empty momentum buffer), or None."""
    if not (isinstance(scalars, dict) and all(isinstance(kept, dict) for kept in scalars.values())):
        return "scalars is not an object of objects"
    for position, kept in scalars.items():
        for key, value in kept.items():
            if not (value is None or isinstance(value, bool) or _is_number(value)):
                return f"scalars[{position[:40]}].{key[:40]} is {shown_value(value)}, not a finite number"
    return None


def _param_index(text: str) -> int:
    """A parameter's position as stored, in decimal digits (int() would also take "-1" or " 1")."""
    if not re.fullmatch(r"[0-9]{1,9}", text):
        raise ValueError(f"invalid parameter index {shown_value(text)}")
    return int(text)


def load_module_state(module: torch.nn.Module, checkpoint: Checkpoint, part: str, path: Path) -> None:
    """Strict load: every key present, none extra, every shape equal."""
    try:
        module.load_state_dict(checkpoint.state_dict(part), strict=True)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()
        detail = " ".join(line.strip() for line in first[1:3]) or first[0]
        raise CheckpointError(f"{path}: {part} weights do not fit the model: {detail}") from None


def load_optimizer_state(optimizer: torch.optim.Optimizer, checkpoint: Checkpoint, part: str, path: Path) -> None:
    """Strict load: settings must be finite numbers, per-parameter state must name real parameters and match their
    shapes."""
    params = [p for group in optimizer.param_groups for p in group["params"]]
    where = f"{path}: damaged {part} state"
    meta = checkpoint.optimizers.get(part)
    if not (isinstance(meta, dict) and {"param_groups", "scalars"} <= set(meta)):
        raise CheckpointError(f"{where} (metadata field 'optimizers' holds no param_groups and scalars for it)")
    problem = _param_groups_problem(meta["param_groups"]) or _scalars_problem(meta["scalars"])
    if problem:
        raise CheckpointError(f"{where} (metadata field 'optimizers': {part}.{problem})")
    groups = [dict(group) for group in meta["param_groups"]]  # converted below; the checkpoint stays as read
    state: dict[int, dict[str, Any]] = {}
    try:
        for name, value in checkpoint.state_dict(part).items():
            number, _, key = name.partition("/")
            state.setdefault(_param_index(number), {})[key] = value
        for position, scalars in meta["scalars"].items():
            state.setdefault(_param_index(position), {}).update(scalars)
    except ValueError as exc:
        raise CheckpointError(f"{where} ({type(exc).__name__}: {exc})") from None
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


def check_data(checkpoint: Checkpoint, path: Path, data: DataInfo, dataset: str) -> None:
    """The checkpoint was trained on data of the shape and classes data set ``dataset`` gives now."""
    stored = checkpoint.data_info
    if stored is not None and (stored.shape, stored.num_classes, stored.class_names) != (
            data.shape, data.num_classes, data.class_names):
        raise CheckpointError(f"{path} was trained on data of shape {stored.shape} with {stored.num_classes} "
                              f"classes, but data set '{dataset}' now gives shape {data.shape} with "
                              f"{data.num_classes}; it belongs to another data set or another version of it")


def state_problem(state: object) -> str | None:
    """Why a plugin object's ``state_dict()`` cannot go into a checkpoint, which holds named tensors only."""
    if isinstance(state, dict) and all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()):
        return None
    kinds = type(state).__name__ if not isinstance(state, dict) else (
        "{" + ", ".join(f"{key!r}: {type(value).__name__}" for key, value in state.items()) + "}")
    return ("state_dict() must return a dict of names to tensors (a number as a 0-d tensor, torch.tensor(n)), "
            f"got {kinds}")
