"""The one owner of a run's numeric precision, as Lightning Fabric's precision plugins are: autocast around the
forward passes, fp16's gradient scaling, the optimizer step under it, and the scalers' state in checkpoints.

Autocast keeps float32 weights, optimizer states and losses, and rounds the networks' forward passes; the method
is unchanged. fp32, the default on a CPU, does nothing at all, so seeded runs there repeat bit for bit (at the same
thread count).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import torch

from ganzoo.api.state import Stateful
from ganzoo.errors import CheckpointError, ConfigError

AUTOCAST = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}


def resolve_precision(name: str, device: torch.device) -> str:
    """``auto`` is bf16 on a CUDA GPU that has it (Ampere and later), fp32 anywhere else."""
    bf16_gpu = device.type == "cuda" and torch.cuda.is_bf16_supported()
    if name == "auto":
        return "bf16" if bf16_gpu else "fp32"
    if name == "bf16" and device.type == "cuda" and not bf16_gpu:
        raise ConfigError(f"speed.precision = 'bf16', but {torch.cuda.get_device_name(device)} has no bfloat16; "
                          "set speed.precision = 'fp16' or 'fp32'")
    return name


class Precision(Stateful):
    """A run's precision, resolved for its device (``speed.precision``), with one fp16 scaler per optimizer: each
    optimizer steps on its own schedule, so each overflows on its own."""

    def __init__(self, setting: str, device: torch.device, optimizers: Iterable[str]):
        self.setting = setting
        self.name = resolve_precision(setting, device)
        self.device = device
        self.dtype = AUTOCAST[self.name]
        self.scalers = {name: torch.amp.GradScaler(device.type) for name in optimizers} if self.name == "fp16" else {}

    def autocast(self, enabled: bool = True) -> contextlib.AbstractContextManager[Any]:
        """Around a training step: the forward passes in the run's precision (nothing for fp32); ``enabled=False``
        leaves it for a backward pass inside the step."""
        if self.dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.dtype, enabled=enabled)

    def backward(self, optimizer: str, loss: torch.Tensor, weights: list[torch.Tensor]) -> None:
        """Gradients of ``loss`` for ``weights`` (scaled under fp16). Backward runs in each forward op's precision
        anyway, so autocast is left for it."""
        scaler = self.scalers.get(optimizer)
        with self.autocast(enabled=False):
            (loss if scaler is None else scaler.scale(loss)).backward(inputs=weights)

    def step(self, optimizer: str, step: torch.optim.Optimizer) -> None:
        """The optimizer's step; under fp16 a step whose gradients overflowed is skipped and the scale adapts."""
        scaler = self.scalers.get(optimizer)
        if scaler is None:
            step.step()
        else:
            scaler.step(step)
            scaler.update()

    def check_resume(self, saved: object, path: Path) -> None:
        """Refuse to resume a run trained in another precision than this device resolves its setting to: an
        ``auto`` run started on a GPU in bf16 would go on in fp32 on a CPU, silently changing the method."""
        if saved is not None and saved != self.name:
            where = "a GPU with bfloat16" if saved == "bf16" else f"a device where it resolves to {saved}"
            raise CheckpointError(
                f"{path} was trained in {saved}, but speed.precision = '{self.setting}' means {self.name} on "
                f"{self.device.type}: resume it on {where}, or start a new run (a run keeps one precision)")

    # fp16 scalers' state as tensors, for checkpoints: each scale and its growth counter
    def state_dict(self) -> dict[str, torch.Tensor]:
        state = {}
        for name, scaler in self.scalers.items():
            kept = scaler.state_dict()
            state[f"{name}/scale"] = torch.tensor(float(kept["scale"]), dtype=torch.float64)
            state[f"{name}/growth_tracker"] = torch.tensor(int(kept["_growth_tracker"]))
        return state

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        names = {key.partition("/")[0] for key in state}
        if not names <= set(self.scalers):
            raise ValueError(f"scalers for optimizers {', '.join(sorted(names - set(self.scalers)))}, which this run "
                             "does not have")
        for name in names:
            scaler = self.scalers[name]
            scaler.load_state_dict({**scaler.state_dict(), "scale": float(state[f"{name}/scale"]),
                                    "_growth_tracker": int(state[f"{name}/growth_tracker"])})
