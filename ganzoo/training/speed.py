"""How the runner computes, set by a run config's ``[speed]`` table: compilation, memory layout, GPU settings and
data workers (its ``precision`` is owned by :mod:`ganzoo.training.precision`).

None of it changes the method: the GPU settings choose faster kernels. On the CPU the defaults change nothing, so
seeded runs still repeat bit for bit (at the same thread count).
"""

from __future__ import annotations

import os
import shutil
import warnings
from collections.abc import Iterable, Mapping
from typing import Any

import torch
from torch import nn

from ganzoo.api.objective import Objective
from ganzoo.errors import SpeedWarning
from ganzoo.run.config import SpeedConfig


def resolve_workers(workers: int | str, device: torch.device) -> int:
    """``auto``: none on the CPU, whose cores the training process uses itself; else one per spare core, up to 8."""
    if workers != "auto":
        return int(workers)
    if device.type == "cpu":
        return 0
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, min(8, cores - 1))


class Speed:
    """A run's speed settings, resolved for its device."""

    def __init__(self, config: SpeedConfig, device: torch.device):
        self.device = device
        on_gpu = device.type == "cuda"
        self.channels_last = config.channels_last and on_gpu
        self.compile = config.compile
        self.compiled: list[str] = []
        if on_gpu:  # process-wide switches: set both ways, so one run's settings do not leak into the next
            torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = config.tf32
            torch.backends.cudnn.benchmark = config.cudnn_benchmark
        self.data_workers = resolve_workers(config.data_workers, device)
        self.tf32 = config.tf32 and on_gpu
        self.cudnn_benchmark = config.cudnn_benchmark and on_gpu

    def images(self, samples: torch.Tensor) -> torch.Tensor:
        """A batch in the layout the networks were put in."""
        if self.channels_last and samples.dim() == 4:
            return samples.contiguous(memory_format=torch.channels_last)
        return samples

    def prepare(self, networks: Mapping[str, nn.Module], objective: Objective, *, generator: str | None,
                discriminators: Iterable[str]) -> None:
        """Lay out and compile the networks in place (their weights and state_dict keys stay as they were)."""
        if self.channels_last:
            for network in networks.values():
                if any(isinstance(layer, nn.Conv2d | nn.ConvTranspose2d) for layer in network.modules()):
                    network.to(memory_format=torch.channels_last)
        if not self.compile:
            return
        problem = compile_problem(self.device)
        if problem is not None:
            warnings.warn(f"speed.compile: every network stays uncompiled: {problem}", SpeedWarning, stacklevel=2)
            return
        # torch.compile cannot take gradients of gradients, which gradient penalties take through D (and
        # path-length regularisation through G): such networks run as they are
        twice: set[str] = set()
        if any(objective.defines(method) for method in ("penalty", "d_penalty", "g_penalty")):
            twice.update(discriminators)
        if objective.defines("g_penalty") and generator is not None:
            twice.add(generator)
        if twice:
            warnings.warn(f"speed.compile: {', '.join(sorted(twice))} stay uncompiled: the objective's penalty "
                          "takes gradients of gradients, which torch.compile cannot", SpeedWarning, stacklevel=2)
        # a graph torch.compile fails on at its first call runs eagerly instead of stopping the run
        torch._dynamo.config.suppress_errors = True
        for name, network in networks.items():
            if name not in twice:
                network.compile()
                self.compiled.append(name)

    def provenance(self) -> dict[str, Any]:
        return {"compiled": self.compiled, "channels_last": self.channels_last,
                "tf32": self.tf32, "cudnn_benchmark": self.cudnn_benchmark}


def compile_problem(device: torch.device) -> str | None:
    """Why torch.compile cannot work here, if it can be told in advance."""
    if not torch._dynamo.is_dynamo_supported():
        return "torch.compile does not support this Python or platform"
    if device.type == "cpu" and not any(shutil.which(name) for name in (os.environ.get("CXX", "g++"), "clang++")):
        return "compiling for the CPU needs a C++ compiler (g++ or clang++), and none was found"
    return None
