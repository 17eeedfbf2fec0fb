"""The runner's side of a training step: what :class:`ganzoo.TrainingStep` promises an algorithm."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import torch
from torch import nn

from ganzoo.api import stats
from ganzoo.api.algorithm import Batch, ScoreLayout, TrainingStep
from ganzoo.api.augmentation import Augmentation
from ganzoo.api.objective import Objective
from ganzoo.api.prior import Prior, forward
from ganzoo.errors import PluginError
from ganzoo.run.data import BatchSampler
from ganzoo.run.distributed import World
from ganzoo.training.precision import Precision
from ganzoo.training.speed import Speed


class RunnerStep(TrainingStep):
    """Services over the trainer's parts; the trainer sets ``index`` before each step."""

    def __init__(self, *, networks: Mapping[str, nn.Module], optimizers: Mapping[str, torch.optim.Optimizer],
                 objective: Objective, augmentation: Augmentation | None, batches: BatchSampler, prior: Prior,
                 noise: torch.Generator, steps: int, batch_size: int, d_steps: int, sample_shape: tuple[int, ...],
                 speed: Speed, precision: Precision, world: World):
        self.networks = MappingProxyType(dict(networks))
        self.optimizers = optimizers
        self.weights = {name: [p for group in step.param_groups for p in group["params"]]
                        for name, step in optimizers.items()}  # what each optimizer updates
        self.objective = objective
        self.augmentation = augmentation
        self.batches = batches
        self.prior = prior
        self.noise = noise
        self.steps, self.batch_size, self.d_steps = steps, batch_size, d_steps
        self.world_size = world.size
        self.num_classes = prior.num_classes
        self.sample_shape = sample_shape
        self.index = 0
        self.touched = False  # set once the step has drawn a batch or noise, or scored or updated (reset per step)
        self.layouts: dict[str, ScoreLayout] = {}
        self.speed = speed
        self.precision = precision
        self.world = world

    def network(self, name: str) -> nn.Module:
        if name not in self.networks:
            raise PluginError(f"the algorithm asked for network '{name}'; the run has {', '.join(self.networks)}")
        return self.networks[name]

    def real(self, n: int | None = None) -> Batch:
        samples, labels = self.batches.next(n or self.batch_size)  # leaves its stream as it was if it fails
        self.touched = True
        return Batch(self.speed.images(samples), labels)

    def latents(self, n: int | None = None) -> Batch:
        size = n or self.batch_size
        self.touched = True
        # every rank draws the global batch's codes (then labels), as a single process would, and keeps its share
        total, share = size * self.world.size, self.world.share(size)
        codes = self.prior.sample(total, self.noise)[share]
        labels = self.prior.sample_labels(total, self.noise)
        return Batch(codes, None if labels is None else labels[share], codes)

    def generate(self, n: int | None = None, *, network: str = "generator") -> Batch:
        latents = self.latents(n)
        assert latents.latents is not None
        generator = self.network(network)
        samples = forward(generator, latents.latents, latents.labels)
        if isinstance(samples, torch.Tensor):  # under autocast: the objectives see float32 whatever the precision
            samples = samples.float()
        # The set-up probe ran in eval mode without gradients; training mode can differ (dropout, batch norm)
        expected = (len(latents.latents), *self.sample_shape)
        if not isinstance(samples, torch.Tensor) or tuple(samples.shape) != expected:
            raise PluginError(f"generator '{network}' gave {_shape(samples)} for {expected[0]} latent codes in "
                              f"training mode; the data's samples have shape {self.sample_shape}")
        if torch.is_grad_enabled() and not samples.requires_grad and any(
                p.requires_grad for p in generator.parameters()):
            raise PluginError(f"generator '{network}' gives samples detached from its weights in training mode, so "
                              "no gradient reaches it; do not detach them or compute them under torch.no_grad()")
        return Batch(samples, latents.labels, latents.latents)

    def discriminate(self, samples: torch.Tensor, labels: torch.Tensor | None = None, *,
                     network: str = "discriminator", observe: bool = False) -> torch.Tensor:
        discriminator = self.network(network)
        self.touched = True
        layout = self.layouts.get(network) or self.layouts.setdefault(network, ScoreLayout.of(discriminator))
        inputs = samples if self.augmentation is None else self.augmentation(samples)
        if inputs.shape != samples.shape:
            raise PluginError(f"the augmentation turned samples of shape {tuple(samples.shape)} into "
                              f"{tuple(inputs.shape)}; an augmentation must keep the shape")
        scores = forward(discriminator, inputs, labels if self.num_classes is not None else None)
        if not isinstance(scores, torch.Tensor):
            raise PluginError(f"discriminator '{network}' gave {_shape(scores)} in training mode, not a tensor")
        scores = scores.float()
        count = len(samples) // layout.pack
        if len(samples) % layout.pack or scores.numel() != count * layout.heads:
            raise PluginError(f"discriminator '{network}' gave {scores.numel()} scores for {len(samples)} samples; "
                              f"its {layout} promises {count * layout.heads} for a multiple of {layout.pack} samples")
        scores = scores.reshape(count) if layout.heads == 1 else scores.reshape(count, layout.heads)
        if observe and self.augmentation is not None:
            self.augmentation.observe(scores.detach())
        return scores

    def optimizer(self, name: str) -> torch.optim.Optimizer:
        if name not in self.optimizers:
            raise PluginError(f"the algorithm asked for optimizer '{name}'; it declares {', '.join(self.optimizers)}")
        return self.optimizers[name]

    def optimize(self, optimizer: str, loss: torch.Tensor) -> None:
        if optimizer not in self.optimizers:
            raise PluginError(f"the algorithm stepped optimizer '{optimizer}'; it declares "
                              f"{', '.join(self.optimizers)}")
        if not (isinstance(loss, torch.Tensor) and loss.dim() == 0 and loss.is_floating_point()):
            got = (f"a {loss.dtype} tensor of shape {tuple(loss.shape)}" if isinstance(loss, torch.Tensor)
                   else repr(type(loss).__name__))
            raise PluginError(f"the loss for optimizer '{optimizer}' must be a floating-point scalar tensor, got "
                              f"{got}")
        if not loss.requires_grad:
            raise PluginError(f"the loss for optimizer '{optimizer}' has no gradient: it does not depend on the "
                              "networks' weights (was it computed under torch.no_grad() or detached?)")
        step = self.optimizers[optimizer]
        self.touched = True
        step.zero_grad(set_to_none=True)
        # gradients only for the weights this optimizer updates: the generator's step leaves the discriminator's
        # weight gradients, which would be thrown away, uncomputed (the gradients it needs are the same)
        self.precision.backward(optimizer, loss, [p for p in self.weights[optimizer] if p.requires_grad])
        if all(p.grad is None for group in step.param_groups for p in group["params"]):
            raise PluginError(f"the loss for optimizer '{optimizer}' does not depend on the weights it updates "
                              "(no gradient reached them): the step would train nothing")
        self.world.average(p.grad for p in self.weights[optimizer] if p.grad is not None)
        self.precision.step(optimizer, step)

    def report(self, name: str, value: torch.Tensor | float) -> None:
        stats.report(name, value)


def _shape(value: object) -> str:
    return f"shape {tuple(value.shape)}" if isinstance(value, torch.Tensor) else f"a {type(value).__name__}"
