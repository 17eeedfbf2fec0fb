"""What plugins contribute: specs for GANs, objectives, data sets, algorithms, augmentations and metrics.

A plugin builds these objects and hands them to the ``register`` callback of
the matching hook (see :mod:`ganzoo.api.hookspecs`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ganzoo.api.options import NoOptions, Options

if TYPE_CHECKING:
    import torch
    from torch import nn

    from ganzoo.api.algorithm import Algorithm
    from ganzoo.api.augmentation import Augmentation
    from ganzoo.api.metric import Metric
    from ganzoo.api.objective import Objective


@dataclass(frozen=True)
class DataInfo:
    """What a GAN needs to know about the data to build itself.

    ``shape`` is the shape of one sample: ``(2,)`` for points in the plane,
    ``(channels, height, width)`` for images scaled to [-1, 1].
    ``num_classes`` is set for labelled data (labels are ``0 .. num_classes - 1``),
    with optional ``class_names`` for pictures.

    ``conditional`` is set when the run asks for a class-conditional pair
    (run config ``conditional = true``). The GAN must then build a generator
    called as ``G(z, labels)`` and a discriminator called as ``D(x, labels)``,
    ``labels`` being an int64 tensor of shape ``(batch,)``; a GAN without a
    conditional variant raises ``ValueError``.
    """

    shape: tuple[int, ...]
    num_classes: int | None = None
    class_names: tuple[str, ...] | None = None
    conditional: bool = False

    def __post_init__(self) -> None:
        if self.conditional and not self.num_classes:
            raise ValueError("a class-conditional pair needs labelled data (num_classes is not set)")

    @property
    def condition_classes(self) -> int | None:
        """The number of classes a conditional pair is built for; None for an unconditional one."""
        return self.num_classes if self.conditional else None

    @property
    def is_image(self) -> bool:
        return len(self.shape) == 3


@dataclass(frozen=True)
class GanSpec:
    """A generator/discriminator pair, or any set of named networks.

    ``build(info, z_dim, options)`` returns ``(generator, discriminator)``, or
    a dict of named networks for an algorithm that trains more than two. The
    generator maps a ``(batch, z_dim)`` tensor to a batch of samples of
    ``info.shape``; the discriminator maps such a batch to real-valued scores
    (logits, not probabilities) of shape ``(batch,)`` or ``(batch, 1)``, or as
    its :class:`~ganzoo.api.algorithm.ScoreLayout` declares. ``build`` raises
    ``ValueError`` for data it cannot serve.

    ``serves`` lists data descriptions the GAN claims to serve (the conformance
    checks build it for each). ``defaults`` are run-config values (for example
    ``{"optimizer_g": {"lr": 2e-4}}``) under the objective's defaults;
    ``overrides`` are values that take precedence over the objective's (a
    published setting that belongs to the architecture, not to the loss). The
    user's config overrides both.
    """

    name: str
    build: Callable[[DataInfo, int, Any], tuple[nn.Module, nn.Module] | dict[str, nn.Module]]
    default_objective: str
    citation: str
    description: str = ""
    options: type[Options] = NoOptions
    defaults: Mapping[str, Any] = field(default_factory=dict)
    overrides: Mapping[str, Any] = field(default_factory=dict)
    default_algorithm: str = "alternating"
    serves: tuple[DataInfo, ...] = (DataInfo(shape=(2,)),)


@dataclass(frozen=True)
class ObjectiveSpec:
    """A training objective: ``build(options)`` returns an :class:`~ganzoo.api.objective.Objective`.

    ``defaults`` are run-config values this objective needs to work as
    published (step ratio, optimizer settings); they override the GAN's defaults.
    """

    name: str
    build: Callable[[Any], Objective]
    citation: str
    description: str = ""
    options: type[Options] = NoOptions
    defaults: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AlgorithmSpec:
    """A training algorithm: ``build(options)`` returns an :class:`~ganzoo.api.algorithm.Algorithm`.

    ``defaults`` are run-config values under everything else (the GAN's and the
    objective's defaults override them).
    """

    name: str
    build: Callable[[Any], Algorithm]
    citation: str
    description: str = ""
    options: type[Options] = NoOptions
    defaults: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AugmentationSpec:
    """An augmentation applied before every discriminator call: ``build(options)`` returns an
    :class:`~ganzoo.api.augmentation.Augmentation`. A run picks one with ``augmentation = "<name>"``."""

    name: str
    build: Callable[[Any], Augmentation]
    citation: str
    description: str = ""
    options: type[Options] = NoOptions


@dataclass(frozen=True)
class MetricSpec:
    """A metric suite: ``build(options)`` returns a :class:`~ganzoo.api.metric.Metric`.

    ``applies(data)`` says whether it can measure generators of a data set (a
    :class:`LoadedData`); a run measures every registered metric that applies,
    or those its ``metrics.suites`` names.
    """

    name: str
    build: Callable[[Any], Metric]
    applies: Callable[[LoadedData], bool]
    citation: str
    description: str = ""
    options: type[Options] = NoOptions


@dataclass(frozen=True)
class GaussianMixture:
    """Modes of a data set made of equal-weight isotropic Gaussians, for the toy metrics."""

    centers: torch.Tensor
    std: float


@dataclass(frozen=True)
class LoadedData:
    """A data set ready for training.

    ``samples`` is a map-style torch dataset whose items are tensors of
    ``info.shape`` (or ``(tensor, label)`` pairs). Data sets held in one tensor
    should be a ``TensorDataset``: the runner then samples batches on the device.
    ``mixture`` is set for Gaussian-mixture data, enabling the toy metrics.
    """

    samples: torch.utils.data.Dataset
    info: DataInfo
    mixture: GaussianMixture | None = None


@dataclass(frozen=True)
class DatasetSpec:
    """A data set: ``build(options)`` returns :class:`LoadedData`."""

    name: str
    build: Callable[[Any], LoadedData]
    citation: str
    description: str = ""
    options: type[Options] = NoOptions
