"""S copies of one network (one per seed) as one network that computes them all at once.

The stacked network takes the S seeds' batches concatenated seed after seed (seed s's n samples at rows
s*n..(s+1)*n) and returns their outputs in the same order. Its linear and batch-norm layers hold the S copies'
weights stacked along a first dimension, and each copy's own parameters and buffers become views of the stacked
tensors: what trains the stacked network trains the copies, which checkpoints, pictures and metrics use as ever.
Every other layer must be free of weights and work sample by sample; :func:`stack_networks` checks the stacked
network against the copies on a probe batch, so a layer that mixes samples (a minibatch statistic, dropout) is
found before any training.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

STACKED = (nn.Linear, nn.BatchNorm1d)
# a probe's stacked outputs match the copies' to rounding: batched matrix products sum in another order
PROBE_RTOL, PROBE_ATOL = 1e-4, 1e-5


class StackedLinear(nn.Module):
    """S linear layers; input ``(S * n, ..., in)``, output ``(S * n, ..., out)``."""

    def __init__(self, layers: Sequence[nn.Linear]):
        super().__init__()
        self.weight = nn.Parameter(_stack([layer.weight for layer in layers]))
        self.bias = None if layers[0].bias is None else nn.Parameter(_stack([layer.bias for layer in layers]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        seeds = self.weight.shape[0]
        grouped = x.reshape(seeds, -1, x.shape[-1])
        # one product per seed, the very call a lone run makes: a batched product's kernel may sum a seed's terms
        # in another order depending on how many seeds share it (measured for narrow outputs), and a seed's
        # result must not depend on its group
        outs = [F.linear(grouped[s], self.weight[s], None if self.bias is None else self.bias[s]) for s in range(seeds)]
        return torch.stack(outs).reshape(*x.shape[:-1], self.weight.shape[1])


class StackedBatchNorm1d(nn.Module):
    """S batch-norm layers over ``(S * n, C)`` inputs, each normalising its own seed's n samples."""

    def __init__(self, layers: Sequence[nn.BatchNorm1d]):
        super().__init__()
        first = layers[0]
        self.seeds, self.features = len(layers), first.num_features
        self.eps, self.momentum = first.eps, first.momentum
        self.weight = None if first.weight is None else nn.Parameter(_stack([layer.weight for layer in layers]))
        self.bias = None if first.bias is None else nn.Parameter(_stack([layer.bias for layer in layers]))
        self.running_mean: torch.Tensor | None
        self.running_var: torch.Tensor | None
        self.num_batches_tracked: torch.Tensor | None
        for name in ("running_mean", "running_var", "num_batches_tracked"):
            buffers = [getattr(layer, name) for layer in layers]
            self.register_buffer(name, None if buffers[0] is None else _stack(buffers))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 2:
            raise ValueError(f"stacked batch norm takes (batch, features) inputs, got {tuple(x.shape)}")
        seeds, features = self.seeds, self.features
        # the seeds' features side by side: batch norm's per-feature statistics are then per seed
        wide = x.reshape(seeds, -1, features).transpose(0, 1).reshape(-1, seeds * features)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.num_batches_tracked is not None:
            self.num_batches_tracked.add_(1)
            if self.momentum is None:  # a cumulative average, as nn.BatchNorm1d keeps it
                factor = 1.0 / float(self.num_batches_tracked[0])
        normalise_batch = self.training or self.running_mean is None
        out = F.batch_norm(wide, _flat(self.running_mean), _flat(self.running_var), _flat(self.weight),
                           _flat(self.bias), normalise_batch, factor, self.eps)
        return out.reshape(-1, seeds, features).transpose(0, 1).reshape(x.shape)


def _flat(tensor: torch.Tensor | None) -> torch.Tensor | None:
    return None if tensor is None else tensor.reshape(-1)


def _stack(tensors: Sequence[torch.Tensor]) -> torch.Tensor:
    """The tensors stacked along a new first dimension; each becomes a view of its slice (``.data`` keeps the
    tensor object, so optimizers and moving averages that hold it see the stacked values)."""
    stacked = torch.stack([tensor.detach() for tensor in tensors])
    for index, tensor in enumerate(tensors):
        tensor.data = stacked[index]
    return stacked


def stacking_problem(network: nn.Module) -> str | None:
    """Why ``network``'s copies cannot be stacked, as far as its layers tell; None if they may be."""
    for name, layer in network.named_modules():
        where = f"layer '{name}' ({type(layer).__name__})" if name else type(layer).__name__
        if layer._forward_hooks or layer._forward_pre_hooks or hasattr(layer, "parametrizations"):
            return f"{where} has hooks or parametrizations (spectral norm, say)"
        if isinstance(layer, STACKED):
            continue
        if any(True for _ in layer.parameters(recurse=False)) or any(True for _ in layer.buffers(recurse=False)):
            return f"{where} has weights of a kind that is not stacked (only Linear and BatchNorm1d are)"
        if isinstance(layer, nn.Dropout) and layer.p > 0:
            return f"{where} draws random masks"
    return None


def stack_networks(copies: Sequence[nn.Module]) -> nn.Module:
    """One network computing ``copies`` (identical in structure, one per seed) at once; see the module's text."""
    stacked = copy.deepcopy(copies[0])
    for name, layer in list(copies[0].named_modules()):
        if isinstance(layer, STACKED):
            layers: list[Any] = [network.get_submodule(name) for network in copies]
            replacement = StackedLinear(layers) if isinstance(layer, nn.Linear) else StackedBatchNorm1d(layers)
            parent, _, attribute = name.rpartition(".")
            setattr(stacked.get_submodule(parent), attribute, replacement)
    return stacked


def probe_problem(stacked: nn.Module, copies: Sequence[nn.Module], inputs: torch.Tensor) -> str | None:
    """Whether the stacked network gives each copy's output for its seed's rows of ``inputs`` (in training
    mode, as it will run; batch-norm statistics the probe moves are put back)."""
    buffers = [buffer for network in copies for buffer in network.buffers()]
    kept = [buffer.clone() for buffer in buffers]
    seeds = len(copies)
    try:
        with torch.no_grad():
            together = stacked(inputs)
            for buffer, value in zip(buffers, kept):  # the stacked pass moved them once; each copy moves them again
                buffer.copy_(value)
            apart = [network(part) for network, part in zip(copies, inputs.chunk(seeds))]
    except Exception as exc:  # noqa: BLE001 - any failure means the network cannot be stacked
        return f"the stacked network fails on a probe batch ({type(exc).__name__}: {exc})"
    finally:
        with torch.no_grad():
            for buffer, value in zip(buffers, kept):
                buffer.copy_(value)
    if not all(torch.allclose(a, b, rtol=PROBE_RTOL, atol=PROBE_ATOL) for a, b in zip(together.chunk(seeds), apart)):
        return "the stacked network's outputs differ from the copies' (a layer mixes the samples of a batch)"
    return None
