"""A run's random streams: the one place that derives them from the run's seed, saves, restores and reseeds them.

The scheme, for a run of seed ``s`` (unchanged since ganzoo 0.1, so every checkpoint resumes bit for bit):

=========  ==========================================  ===========================================================
stream     what draws from it                          seeded with
=========  ==========================================  ===========================================================
global     torch's global generators: the networks'    ``s``; on rank ``r > 0`` of a torchrun job
           initial weights, dropout, anything a        ``s + 7919 r``, and after a resume at step ``t``
           plugin draws without a generator            ``s + 7919 r + 1,000,003 t`` (rank 0's is restored instead)
noise      the latent noise and labels of training     ``s + 1``
batches    which real samples each batch holds         ``s + 2``
=========  ==========================================  ===========================================================

Samples drawn for metrics and pictures use a seed of their own, inside :func:`ganzoo.utils.seeded_draws`, which
leaves every stream above as it was.

A checkpoint keeps each stream's state (``rng/torch_cpu``, ``rng/torch_cuda`` on a GPU, ``rng/noise``,
``rng/batches``). Resumed on the device type that saved it, every stream continues where it stopped. Generator
states are device-specific, so on another device type the noise and batch streams restart at ``s + k + 1000 t``
(``k`` = 1 for noise, 2 for batches; at ``t`` = 0 that is their first seed) and the global stream goes on from
where the rebuilt run left it: the run continues, not bit for bit.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import torch

from ganzoo.errors import CheckpointError

# The run's own streams, each with its number k in the scheme above; a checkpoint names them so.
NUMBERS = {"noise": 1, "batches": 2}
RANK_SPACING = 7919        # distance between ranks' global streams
STEP_SPACING = 1_000_003   # ... and between a rank's global streams resumed at consecutive steps
RESEED_SPACING = 1000      # ... and between the run's streams reseeded at consecutive steps on another device


def stream_seed(seed: int, name: str, step: int = 0) -> int:
    """The seed of the run's stream ``name`` at its start (``step`` 0) or when reseeded at ``step``."""
    return seed + NUMBERS[name] + RESEED_SPACING * step


def seed_global(seed: int, *, rank: int = 0, step: int = 0) -> None:
    """Seed torch's global generators: for a run's start (every rank), or for rank ``rank > 0`` resuming at
    ``step``; rank 0's global stream resumes from its checkpoint instead."""
    if rank == 0 and step == 0:
        torch.manual_seed(seed)
    elif rank > 0:
        torch.manual_seed((seed + rank * RANK_SPACING + STEP_SPACING * step) % 2**63)


def global_states(device: torch.device) -> dict[str, torch.Tensor]:
    """torch's global generators' states: the CPU's, and the device's for CUDA."""
    states = {"torch_cpu": torch.get_rng_state()}
    if device.type == "cuda":
        states["torch_cuda"] = torch.cuda.get_rng_state(device)
    return states


def set_global_states(states: Mapping[str, torch.Tensor], device: torch.device) -> None:
    """Put torch's global generators back as :func:`global_states` found them. A new run does so before its first
    step, so that it trains from the streams its construction left, whatever ran in the process since (another
    seed's run, in a benchmark), as it would alone."""
    torch.set_rng_state(states["torch_cpu"])
    if device.type == "cuda":
        torch.cuda.set_rng_state(states["torch_cuda"], device)


def saved_states(device: torch.device, streams: Mapping[str, torch.Generator]) -> dict[str, torch.Tensor]:
    """The states a checkpoint keeps: torch's global generators and the run's own streams."""
    return {**global_states(device), **{name: stream.get_state() for name, stream in streams.items()}}


def restore_states(saved: Mapping[str, torch.Tensor], path: Path, device: torch.device,
                   streams: Mapping[str, torch.Generator], *, step: int, seed: int, same_device: bool) -> None:
    """Continue the saved streams; on another device type, reseed the run's own from the step."""
    if not same_device:
        for name, stream in streams.items():
            stream.manual_seed(stream_seed(seed, name, step))
        return
    try:
        set_global_states(saved, device)
        for name, stream in streams.items():
            stream.set_state(saved[name])
    except (KeyError, RuntimeError, TypeError) as exc:
        raise CheckpointError(f"{path}: damaged random-number state ({type(exc).__name__}: {exc})") from None
