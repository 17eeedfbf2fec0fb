"""The generator's input: latent noise and, for class-conditional runs, labels."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


@dataclass
class Prior:
    """The generator's input distribution: the latent noise, standard normal or uniform on [-1, 1],
    and for a class-conditional generator (``num_classes`` set) a label uniform over the classes."""

    kind: str
    z_dim: int
    device: torch.device
    num_classes: int | None = None

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        if self.kind == "uniform":
            return torch.rand(n, self.z_dim, generator=generator, device=self.device) * 2 - 1
        return torch.randn(n, self.z_dim, generator=generator, device=self.device)

    def sample_truncated(self, n: int, generator: torch.Generator, threshold: float) -> torch.Tensor:
        """The truncation trick (Brock, Donahue and Simonyan 2019, BigGAN, section 3.1): normal latents whose
        entries above ``threshold`` in magnitude are drawn again until none is, a normal truncated to
        [-threshold, threshold]. Trades variety for fidelity; for sampling, never training."""
        if self.kind != "normal":
            raise ValueError(f"truncation draws from a truncated normal, but this run's prior is {self.kind}")
        codes = self.sample(n, generator)
        outside = codes.abs() > threshold
        while outside.any():
            codes[outside] = torch.randn(int(outside.sum()), generator=generator, device=self.device)
            outside = codes.abs() > threshold
        return codes

    def sample_labels(self, n: int, generator: torch.Generator) -> torch.Tensor | None:
        if self.num_classes is None:
            return None
        return torch.randint(self.num_classes, (n,), generator=generator, device=self.device)


def forward(network: nn.Module, inputs: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
    """Call G or D, passing class labels only to a conditional network."""
    return network(inputs) if labels is None else network(inputs, labels)
