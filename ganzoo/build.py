"""Build the pieces of a run from a resolved config: device, data, networks, objective, optimizers."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

import ganzoo
from ganzoo.config import OptimizerConfig, RunConfig, validate
from ganzoo.errors import ConfigError, GanzooError
from ganzoo.objective import Objective
from ganzoo.plugins import Zoo
from ganzoo.specs import DataInfo, LoadedData


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"device '{name}' was asked for but CUDA is not available here; use device = 'cpu' or 'auto'")
    if name == "mps" and not torch.backends.mps.is_available():
        raise ConfigError("device 'mps' was asked for but is not available here; use device = 'cpu' or 'auto'")
    return torch.device(name)


def call_plugin(registry: Any, name: str, build: Any, *args: Any, check: Callable[[Any], bool]) -> Any:
    """Call a plugin's ``build``; a crash inside it, or a result failing ``check``, is a one-line error."""
    where = f"{registry.kind} '{name}' from {registry.source(name)}"
    try:
        result = build(*args)
    except GanzooError:
        raise
    except Exception as exc:
        raise GanzooError(f"{where} failed to build: {type(exc).__name__}: {exc}") from exc
    if not check(result):
        raise GanzooError(f"{where} built {type(result).__name__}, not what the spec promises")
    return result


def _module_pair(result: Any) -> bool:
    return isinstance(result, tuple) and len(result) == 2 and all(isinstance(m, nn.Module) for m in result)


def load_data(config: RunConfig, zoo: Zoo) -> LoadedData:
    spec = zoo.datasets.get(config.dataset)
    options = validate(spec.options, config.dataset_options, f"dataset_options for '{spec.name}'")
    data = call_plugin(zoo.datasets, spec.name, spec.build, options,
                       check=lambda result: isinstance(result, LoadedData))
    if len(data.samples) == 0:  # type: ignore[arg-type]
        raise GanzooError(f"data set '{spec.name}' from {zoo.datasets.source(spec.name)} is empty")
    return data


def network_info(config: RunConfig, info: DataInfo) -> DataInfo:
    """The data's description as the GAN sees it, with the run's ``conditional`` switch."""
    if config.conditional and info.num_classes is None:
        raise ConfigError(f"conditional = true needs class labels, but data set '{config.dataset}' has none "
                          "(or this split is unlabelled); set conditional = false")
    return dataclasses.replace(info, conditional=config.conditional)


def build_networks(config: RunConfig, zoo: Zoo, info: DataInfo) -> tuple[nn.Module, nn.Module]:
    """The GAN's generator and discriminator, checked against the data shape (and labels, if conditional)."""
    spec = zoo.gans.get(config.gan)
    options = validate(spec.options, config.gan_options, f"gan_options for '{spec.name}'")
    what = f"{'a class-conditional ' if info.conditional else ''}data set '{config.dataset}' {info.shape}"
    try:
        generator, discriminator = call_plugin(zoo.gans, spec.name, spec.build, info, config.z_dim, options,
                                               check=_module_pair)
    except GanzooError as exc:
        if isinstance(exc.__cause__, ValueError):  # the plugin's way to refuse a data shape
            raise ConfigError(f"GAN '{spec.name}' cannot be built for {what}: {exc.__cause__}") from None
        raise
    try:
        samples, scores = call_plugin(zoo.gans, spec.name, _probe, generator, discriminator, config.z_dim,
                                      info.conditional,
                                      check=lambda result: all(isinstance(t, torch.Tensor) for t in result))
    except GanzooError as exc:
        if info.conditional and isinstance(exc.__cause__, TypeError):  # networks that take no labels
            raise ConfigError(f"GAN '{spec.name}' has no class-conditional variant ({exc.__cause__}); "
                              "set conditional = false") from None
        raise
    if tuple(samples.shape) != (2, *info.shape):
        raise GanzooError(f"GAN '{spec.name}' generator gives samples of shape {tuple(samples.shape[1:])}, "
                          f"but data set '{config.dataset}' has {info.shape}")
    if scores.numel() != 2:
        raise GanzooError(f"GAN '{spec.name}' discriminator gives {scores.numel() // 2} scores per sample; "
                          "it must give one")
    return generator, discriminator


@torch.no_grad()
def _probe(generator: nn.Module, discriminator: nn.Module, z_dim: int,
           conditional: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """Run both networks once on two samples, in eval mode, to check their shapes."""
    modes = generator.training, discriminator.training
    labels = torch.zeros(2, dtype=torch.long) if conditional else None
    generator.eval()
    discriminator.eval()
    try:
        samples = forward(generator, torch.zeros(2, z_dim), labels)
        return samples, forward(discriminator, samples, labels)
    finally:
        generator.train(modes[0])
        discriminator.train(modes[1])


def build_objective(config: RunConfig, zoo: Zoo) -> Objective:
    spec = zoo.objectives.get(str(config.objective))
    options = validate(spec.options, config.objective_options, f"objective_options for '{spec.name}'")
    return call_plugin(zoo.objectives, spec.name, spec.build, options, check=lambda result: isinstance(result, Objective))


def build_optimizer(settings: OptimizerConfig, params: Any) -> torch.optim.Optimizer:
    params = list(params)
    if not params:
        raise GanzooError("a network has no parameters to train")
    if settings.kind == "adam":
        return torch.optim.Adam(params, lr=settings.lr, betas=settings.betas, weight_decay=settings.weight_decay)
    if settings.kind == "rmsprop":
        return torch.optim.RMSprop(params, lr=settings.lr, momentum=settings.momentum, weight_decay=settings.weight_decay)
    return torch.optim.SGD(params, lr=settings.lr, momentum=settings.momentum, weight_decay=settings.weight_decay)


def provenance(config: RunConfig, zoo: Zoo, device: torch.device) -> dict[str, Any]:
    """Which installed distributions (and versions) supplied each named part of the run."""
    parts = {"gan": (zoo.gans, config.gan), "objective": (zoo.objectives, str(config.objective)),
             "dataset": (zoo.datasets, config.dataset)}
    result: dict[str, Any] = {"ganzoo": ganzoo.__version__, "torch": torch.__version__, "device": str(device)}
    for key, (registry, name) in parts.items():
        source = registry.source(name)
        result[key] = {"name": name, "distribution": source.distribution, "version": source.version}
    return result


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

    def sample_labels(self, n: int, generator: torch.Generator) -> torch.Tensor | None:
        if self.num_classes is None:
            return None
        return torch.randint(self.num_classes, (n,), generator=generator, device=self.device)


def forward(network: nn.Module, inputs: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
    """Call G or D, passing class labels only to a conditional network."""
    return network(inputs) if labels is None else network(inputs, labels)


class WithLabels(nn.Module):
    """A conditional discriminator with its labels bound, for objectives that call ``D(x)`` themselves."""

    def __init__(self, discriminator: nn.Module, labels: torch.Tensor):
        super().__init__()
        self.discriminator = discriminator
        self.labels = labels

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.discriminator(inputs, self.labels)
