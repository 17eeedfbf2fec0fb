"""The generator's input (latent noise and, for class-conditional runs, labels), and samples drawn through it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from ganzoo.utils import eval_mode, seeded_draws


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


def has_w_space(generator: nn.Module) -> bool:
    """Whether ``generator`` is style-based: it maps latents to W codes (``mapping(z, labels=None, psi=1.0)``,
    truncated toward the mean code by ``psi``) and draws from them (``synthesis(w)``), as StyleGAN's do."""
    return callable(getattr(generator, "mapping", None)) and callable(getattr(generator, "synthesis", None))


@torch.no_grad()
def w_codes(generator: nn.Module, z: torch.Tensor, labels: torch.Tensor | None, psi: float = 1.0) -> torch.Tensor:
    """The W codes of latents ``z`` (with their labels for a conditional generator), in eval mode."""
    style: Any = generator  # its mapping and synthesis are plain methods, which nn.Module's typing does not know
    with eval_mode(generator):
        return style.mapping(z, labels, psi=psi) if labels is not None else style.mapping(z, psi=psi)


@torch.no_grad()
def generate(generator: nn.Module, prior: Prior, n: int, seed: int, labels: torch.Tensor | None = None,
             latents: torch.Tensor | None = None, batch_size: int = 1000,
             truncation: float | None = None, psi: float | None = None, in_w: bool = False) -> torch.Tensor:
    """``n`` samples on the CPU, from a fixed seed, with the generator in eval mode, ``batch_size`` at a time.

    The latent vectors are drawn from the prior unless given (from the prior truncated to ``[-truncation,
    truncation]`` with ``truncation``: see :meth:`Prior.sample_truncated`). A conditional generator gets
    ``labels``, or labels drawn uniformly from the same seed; randomness the generator draws itself comes from a
    stream of the same seed (:func:`ganzoo.utils.seeded_draws`). For a generator with a W space
    (:func:`has_w_space`), ``psi`` truncates the W codes toward their mean (StyleGAN's truncation), and
    ``in_w`` says the given ``latents`` are W codes, handed to its synthesis network directly.
    """
    rng = torch.Generator(device=prior.device).manual_seed(seed)
    if labels is None:
        labels = prior.sample_labels(n, rng)
    elif prior.num_classes is None:
        raise ValueError("labels given to an unconditional generator")
    chunks = []
    style: Any = generator
    with eval_mode(generator), seeded_draws(seed, prior.device):
        for start in range(0, n, batch_size):
            size = min(batch_size, n - start)
            if latents is not None:
                noise = latents[start:start + size].to(prior.device)
            else:
                noise = prior.sample(size, rng) if truncation is None else prior.sample_truncated(size, rng, truncation)
            chunk_labels = None if labels is None else labels[start:start + size].to(prior.device)
            if in_w:
                chunk = style.synthesis(noise)
            elif psi is not None:
                chunk = style.synthesis(w_codes(generator, noise, chunk_labels, psi))
            else:
                chunk = forward(generator, noise, chunk_labels)
            chunks.append(chunk.cpu())
    return torch.cat(chunks) if chunks else torch.empty(0)
