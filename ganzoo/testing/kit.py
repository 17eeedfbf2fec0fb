"""What the conformance checks train with: synthetic data of any shape and a small MLP pair for any shape.

Both are registered, through the ordinary hooks, only in the zoo the checks
build (:func:`kit_zoo`), never in the user's own.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from pydantic import Field
from torch import nn

from ganzoo.api.hookspecs import hookimpl
from ganzoo.api.objective import Objective
from ganzoo.api.options import Options
from ganzoo.api.specs import DataInfo, DatasetSpec, GanSpec, LoadedData, ObjectiveSpec
from ganzoo.api.version import PLUGIN_API
from ganzoo.registry.discovery import CORE_DISTRIBUTION, Zoo, core_version
from ganzoo.registry.registry import Source

DATA = "conformance-data"
MLP = "conformance-mlp"
OBJECTIVE = "conformance-ns"
SAMPLES = 64


class DataOptions(Options):
    shape: tuple[int, ...] = Field((2,), description="the shape of one sample")
    classes: int | None = Field(None, ge=2, description="labelled with this many classes")


def synthetic_data(options: DataOptions) -> LoadedData:
    """Fixed random samples in [-1, 1] (images) or N(0, 1) (anything else), with labels if asked for."""
    generator = torch.Generator().manual_seed(0)
    image = len(options.shape) == 3
    samples = torch.rand(SAMPLES, *options.shape, generator=generator) * 2 - 1 if image else \
        torch.randn(SAMPLES, *options.shape, generator=generator)
    info = DataInfo(shape=tuple(options.shape), num_classes=options.classes)
    if options.classes is None:
        return LoadedData(torch.utils.data.TensorDataset(samples), info)
    labels = torch.arange(SAMPLES) % options.classes
    return LoadedData(torch.utils.data.TensorDataset(samples, labels), info)


class Generator(nn.Module):
    def __init__(self, z_dim: int, shape: tuple[int, ...]):
        super().__init__()
        self.shape = shape
        self.net = nn.Sequential(nn.Linear(z_dim, 32), nn.ReLU(), nn.Linear(32, math.prod(shape)))
        self.squash = nn.Tanh() if len(shape) == 3 else nn.Identity()

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.squash(self.net(z)).view(len(z), *self.shape)


def mlp_pair(info: DataInfo, z_dim: int, options: Options) -> tuple[nn.Module, nn.Module]:
    if info.conditional:
        raise ValueError(f"{MLP} has no class-conditional variant")
    width = math.prod(info.shape)
    critic = nn.Sequential(nn.Flatten(), nn.Linear(width, 32), nn.LeakyReLU(0.2), nn.Linear(32, 1))
    return Generator(z_dim, info.shape), critic


class NonSaturating(Objective):
    """Goodfellow et al.'s non-saturating loss, so the kit trains without any other plugin."""

    def discriminator_loss(self, real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
        return F.softplus(-real_scores).mean() + F.softplus(fake_scores).mean()

    def generator_loss(self, fake_scores: torch.Tensor) -> torch.Tensor:
        return F.softplus(-fake_scores).mean()


class KitPlugin:
    """The kit's own contributions."""

    ganzoo_plugin_api = PLUGIN_API

    @hookimpl
    def register_datasets(self, register):
        register(DatasetSpec(name=DATA, build=synthetic_data, citation="-", options=DataOptions,
                             description="synthetic samples of any shape, for conformance checks"))

    @hookimpl
    def register_gans(self, register):
        register(GanSpec(name=MLP, build=mlp_pair, default_objective=OBJECTIVE, citation="-",
                         description="a small MLP pair for any shape, for conformance checks",
                         serves=(DataInfo(shape=(2,)), DataInfo(shape=(3, 16, 16)))))

    @hookimpl
    def register_objectives(self, register):
        register(ObjectiveSpec(name=OBJECTIVE, build=lambda options: NonSaturating(), citation="-",
                               description="the non-saturating loss, for conformance checks"))


def kit_zoo() -> Zoo:
    """Every installed plugin, plus the kit's data set and networks."""
    return Zoo(plugins=[(KitPlugin(), Source("ganzoo.testing", CORE_DISTRIBUTION, core_version()))])
