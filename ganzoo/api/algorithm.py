"""Training algorithms: one training step on named networks; the runner does everything else.

An algorithm names the networks it trains and the optimizers that update them,
and defines :meth:`Algorithm.step`. The runner keeps the rest: data, latent
noise, optimizers, learning-rate schedule, the moving average of the
generator, checkpoints of every network and of the algorithm's own state,
logging, pictures, metrics, resume and benchmarks. The alternating GAN step
(``alternating``: k discriminator steps, then one generator step) is an
algorithm like any other, registered by the core.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
from torch import nn

from ganzoo.api.state import Stateful

if TYPE_CHECKING:
    from ganzoo.api.objective import Objective
    from ganzoo.api.specs import DataInfo


@dataclass(frozen=True)
class Batch:
    """Samples with their class labels (None in an unconditional run) and, for generated samples, the latent
    codes they were generated from."""

    samples: torch.Tensor
    labels: torch.Tensor | None = None
    latents: torch.Tensor | None = None

    def __len__(self) -> int:
        return len(self.samples)


@dataclass(frozen=True)
class ScoreLayout:
    """How a discriminator's output lines up with its input batch.

    A discriminator scores ``pack`` samples at a time (PacGAN: one score per
    pack of m samples; 1 for an ordinary discriminator), with ``heads`` scores
    each (an auxiliary classifier's logits beside the adversarial score; 1 for
    an ordinary discriminator). A discriminator declares a layout other than
    the default as an attribute, ``score_layout = ScoreLayout(pack=2)``; the
    runner checks its output against it and hands scores of shape
    ``(batch / pack,)``, or ``(batch / pack, heads)`` when ``heads > 1``.
    """

    pack: int = 1
    heads: int = 1

    def __post_init__(self) -> None:
        if not (isinstance(self.pack, int) and isinstance(self.heads, int) and self.pack >= 1 and self.heads >= 1):
            raise ValueError(f"pack and heads must be whole numbers of at least 1, got {self.pack} and {self.heads}")

    @staticmethod
    def of(network: nn.Module) -> ScoreLayout:
        """The layout ``network`` declares, or the default one."""
        layout = getattr(network, "score_layout", ScoreLayout())
        if not isinstance(layout, ScoreLayout):
            raise TypeError(f"score_layout must be a ganzoo.ScoreLayout, got {type(layout).__name__}")
        return layout


class TrainingStep(ABC):
    """What the runner hands :meth:`Algorithm.step`: the networks, and the services every step needs.

    Attributes:
        index: generator steps completed before this one (0 for the first step).
        steps: the run's total number of steps (``progress`` is ``index / steps``).
        batch_size: the run's batch size, or this process's share of it when several processes train together
            (``torchrun``): what ``real()`` and ``generate()`` draw by default.
        world_size: the processes training together (1 without ``torchrun``); a step shows
            ``batch_size * world_size`` real images per discriminator step.
        d_steps: the run's discriminator steps per generator step (config ``d_steps``).
        num_classes: the number of classes of a class-conditional run, else None.
        networks: every network the algorithm built, by name.
        objective: the run's objective.
    """

    index: int
    steps: int
    batch_size: int
    world_size: int
    d_steps: int
    num_classes: int | None
    networks: Mapping[str, nn.Module]
    objective: Objective

    @property
    def progress(self) -> float:
        """How far training has come, from 0 at the first step towards 1 at the last."""
        return self.index / self.steps

    @abstractmethod
    def real(self, n: int | None = None) -> Batch:
        """A fresh batch of ``n`` (default ``batch_size``) training samples, with their labels in a
        class-conditional run, drawn on the training device from the run's seeded stream."""

    @abstractmethod
    def latents(self, n: int | None = None) -> Batch:
        """``n`` latent codes from the run's prior as ``Batch(latents, labels)`` (``samples`` holds the codes
        too); labels are drawn uniformly over the classes in a class-conditional run."""

    @abstractmethod
    def generate(self, n: int | None = None, *, network: str = "generator") -> Batch:
        """``n`` samples of ``network`` from fresh latent codes (with gradients; wrap the call in
        ``torch.no_grad()`` where none are needed), with their labels and latent codes."""

    @abstractmethod
    def discriminate(self, samples: torch.Tensor, labels: torch.Tensor | None = None, *,
                     network: str = "discriminator", observe: bool = False) -> torch.Tensor:
        """Scores of ``samples`` by ``network``: the one place the runner calls a discriminator.

        The run's augmentation (if any) is applied first, to real and generated
        samples alike; labels reach the network only in a class-conditional run.
        Scores have the network's :class:`ScoreLayout`. With ``observe``, the
        augmentation sees the scores (pass it for real samples in the
        discriminator's step: ADA's overfitting heuristic reads them).
        """

    @abstractmethod
    def optimize(self, optimizer: str, loss: torch.Tensor) -> None:
        """Minimize ``loss`` by one step of the named optimizer: clear its networks' gradients, backpropagate,
        step. ``loss`` must be a floating-point scalar that has a gradient."""

    @abstractmethod
    def report(self, name: str, value: torch.Tensor | float) -> None:
        """Log a statistic: its mean over each log interval goes to ``stats.jsonl`` (as ``ganzoo.report``)."""

    def optimizer(self, name: str) -> torch.optim.Optimizer:
        """The run's optimizer ``name``, to read: its kind, its settings at this step (the learning rate after
        any decay) and its state, for an algorithm that unrolls it (``unrolled``). Update weights only through
        :meth:`optimize`, which keeps the runner's checks, gradient scaling and averaging over processes."""
        raise NotImplementedError(f"{type(self).__name__} does not hand out its optimizers")


class StepWrapper(TrainingStep):
    """A :class:`TrainingStep` that hands every call and attribute to ``inner``. An algorithm that extends
    another subclasses it to change one service, and hands the wrapped step to the other's ``step``: ProGAN's
    ``progressive`` brings real batches to the level of detail, ``unrolled`` follows D's optimizer steps."""

    def __init__(self, inner: TrainingStep):
        self.inner = inner

    def __getattr__(self, name: str):  # index, steps, batch_size, world_size, d_steps, num_classes, networks...
        if name == "inner":  # not yet set: no inner step to ask
            raise AttributeError(name)
        return getattr(self.inner, name)

    def real(self, n: int | None = None) -> Batch:
        return self.inner.real(n)

    def latents(self, n: int | None = None) -> Batch:
        return self.inner.latents(n)

    def generate(self, n: int | None = None, *, network: str = "generator") -> Batch:
        return self.inner.generate(n, network=network)

    def discriminate(self, samples: torch.Tensor, labels: torch.Tensor | None = None, *,
                     network: str = "discriminator", observe: bool = False) -> torch.Tensor:
        return self.inner.discriminate(samples, labels, network=network, observe=observe)

    def optimize(self, optimizer: str, loss: torch.Tensor) -> None:
        self.inner.optimize(optimizer, loss)

    def report(self, name: str, value: torch.Tensor | float) -> None:
        self.inner.report(name, value)

    def optimizer(self, name: str) -> torch.optim.Optimizer:
        return self.inner.optimizer(name)


class Algorithm(Stateful, ABC):
    """A training algorithm. Subclasses set the class attributes they change and implement :meth:`step`.

    Attributes:
        optimizers: optimizer name -> the networks it updates. Each optimizer's
            settings come from the run config: ``optimizer_g`` for ``g``,
            ``optimizer_d`` for ``d``, ``[optimizers.<name>]`` for any other name.
        generator: the network mapping latent codes (and labels) to samples, the
            one pictures, metrics, ``ganzoo sample`` and the moving average use;
            None for an algorithm without one.
        discriminators: networks that score samples through
            :meth:`TrainingStep.discriminate`; the runner checks their output
            against their :class:`ScoreLayout` before training.
        translators: for an algorithm that learns to translate samples of
            one domain into another (CycleGAN): direction name -> the network
            that maps a batch of samples to a batch of the same shape.
            ``ganzoo translate RUN IMAGES --direction NAME`` runs it.
    """

    optimizers: Mapping[str, tuple[str, ...]] = {"g": ("generator",), "d": ("discriminator",)}
    generator: str | None = "generator"
    discriminators: tuple[str, ...] = ("discriminator",)
    translators: Mapping[str, str] = {}

    def build_networks(self, gan: Callable[[], dict[str, nn.Module]], info: DataInfo,
                       z_dim: int) -> dict[str, nn.Module]:
        """Every network of the run, by name. ``gan()`` builds the run's GAN (a generator/discriminator pair
        arrives as ``{"generator": G, "discriminator": D}``); an algorithm may add networks of its own, for data
        described by ``info`` and latent codes of ``z_dim`` dimensions."""
        return gan()

    def check(self, networks: Mapping[str, nn.Module], objective: Objective) -> None:
        """Refuse, with a ``ValueError`` that says what to change, a pairing this algorithm cannot train.
        Called once, after the networks are built and checked, before any training."""

    @abstractmethod
    def step(self, step: TrainingStep) -> None:
        """One training step: draw batches, compute losses, and call ``step.optimize`` for each update."""
