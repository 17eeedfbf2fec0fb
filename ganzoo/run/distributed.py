"""Training on several processes (GPUs, nodes) launched by ``torchrun``: one rank per process.

Every rank draws the run's *global* batch from the run's seeded streams and trains on its own share of it, and
the gradients are averaged over the ranks before each update. A run on W ranks with ``batch_size = B`` therefore
sees the same samples and noise as a one-process run with batch B, whatever W (only batch norm, which normalises
each rank's share unless ``sync_batch_norm`` is set, and the order of floating-point sums differ), and a run may
resume on another number of ranks. Rank 0 alone writes the run directory.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta

import torch
import torch.distributed as dist
from torch import nn

from ganzoo.errors import ConfigError, SpeedWarning
from ganzoo.run.device import resolve_device
from ganzoo.run.streams import seed_global

# The other ranks wait in their next gradient average while rank 0 evaluates or writes a checkpoint:
# the default timeout (10 minutes with NCCL) is too short for an FID on 50,000 samples.
TIMEOUT = timedelta(hours=2)


@dataclass(frozen=True)
class World:
    """The processes that train one run together; a single process is a world of one."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def writer(self) -> bool:
        """Whether this process writes the run directory: checkpoints, logs, pictures, metrics."""
        return self.rank == 0

    def share(self, count: int) -> slice:
        """This rank's part of a global batch of ``count * size``: ``count`` items."""
        return slice(self.rank * count, (self.rank + 1) * count)

    def per_rank(self, batch_size: int) -> int:
        if batch_size % self.size:
            raise ConfigError(f"batch_size {batch_size} cannot be split over {self.size} processes; set a multiple "
                              f"of {self.size} (the batch size is the global one, over every process)")
        return batch_size // self.size

    def average(self, tensors: Iterable[torch.Tensor]) -> None:
        """Replace each tensor by its mean over the ranks, in one collective call."""
        if self.size == 1:
            return
        tensors = list(tensors)
        if not tensors:
            return
        flat = torch.cat([t.reshape(-1) for t in tensors])
        dist.all_reduce(flat)
        flat /= self.size
        offset = 0
        for tensor in tensors:
            tensor.copy_(flat[offset:offset + tensor.numel()].view_as(tensor))
            offset += tensor.numel()

    def align(self, networks: Mapping[str, nn.Module]) -> None:
        """Every rank starts from rank 0's weights and buffers."""
        if self.size == 1:
            return
        for network in networks.values():
            for tensor in [*network.parameters(), *network.buffers()]:
                dist.broadcast(tensor.data, src=0)

    def agree(self, flag: bool) -> bool:
        """Rank 0's ``flag``, on every rank."""
        if self.size == 1:
            return flag
        value = torch.tensor([int(flag)], device=self.device_for_collectives())
        dist.broadcast(value, src=0)
        return bool(value.item())

    def barrier(self) -> None:
        if self.size > 1:
            dist.barrier()

    def seed_own_stream(self, seed: int, step: int) -> None:
        """Give ranks other than 0 global random streams of their own (dropout masks), also after a resume,
        which restores rank 0's."""
        if self.rank > 0:
            seed_global(seed, rank=self.rank, step=step)

    def device_for_collectives(self) -> torch.device:
        return torch.device("cuda", torch.cuda.current_device()) if dist.get_backend() == "nccl" else torch.device(
            "cpu")


def join(device: str) -> tuple[World, torch.device]:
    """The world torchrun started this process in (RANK, WORLD_SIZE, LOCAL_RANK), its process group joined,
    and this rank's device: GPU ``LOCAL_RANK`` where the run trains on CUDA."""
    size = int(os.environ.get("WORLD_SIZE", "1"))
    if size == 1:
        return World(), resolve_device(device)
    world = World(rank=int(os.environ["RANK"]), size=size, local_rank=int(os.environ.get("LOCAL_RANK", "0")))
    chosen = resolve_device(device)
    if chosen.type == "cuda":
        if device not in ("auto", "cuda"):
            raise ConfigError(f"device '{device}' names one GPU, but torchrun started {size} processes; set device "
                              "= 'cuda' (each process takes the GPU of its LOCAL_RANK)")
        chosen = torch.device("cuda", world.local_rank)
        torch.cuda.set_device(chosen)
    elif chosen.type != "cpu":
        raise ConfigError(f"device '{device}' cannot train in several processes; use 'cuda' or 'cpu'")
    if not dist.is_initialized():
        dist.init_process_group("nccl" if chosen.type == "cuda" else "gloo", timeout=TIMEOUT)
    return world, chosen


def synchronise_batch_norm(networks: dict[str, nn.Module], world: World, device: torch.device) -> None:
    """Batch norm layers normalise with statistics over the global batch, not each rank's share."""
    if world.size == 1:
        return
    if device.type != "cuda":
        warnings.warn("speed.sync_batch_norm: torch synchronises batch norm on GPUs only; on the CPU each process "
                      "normalises its own share of the batch", SpeedWarning, stacklevel=2)
        return
    for name, network in networks.items():
        networks[name] = nn.SyncBatchNorm.convert_sync_batchnorm(network)
