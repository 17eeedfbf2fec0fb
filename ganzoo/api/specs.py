"""What plugins contribute: specs for GANs, objectives and data sets.

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
    """A generator/discriminator pair.

    ``build(info, z_dim, options)`` returns ``(generator, discriminator)``:
    the generator maps a ``(batch, z_dim)`` tensor to a batch of samples of
    ``info.shape``; the discriminator maps such a batch to ``(batch,)`` or
    ``(batch, 1)`` real-valued scores (logits, not probabilities).
    ``defaults`` are run-config values (for example ``{"optimizer_g": {"lr": 2e-4}}``)
    applied under the user's own config.
    """

    name: str
    build: Callable[[DataInfo, int, Any], tuple[nn.Module, nn.Module]]
    default_objective: str
    citation: str
    description: str = ""
    options: type[Options] = NoOptions
    defaults: Mapping[str, Any] = field(default_factory=dict)


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
