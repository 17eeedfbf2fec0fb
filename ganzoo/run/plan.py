"""A run's plan: every named plugin contribution it uses, with its options validated once, and their origin."""

from __future__ import annotations

import platform
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from ganzoo.api.options import Options
from ganzoo.api.version import CORE_VERSION
from ganzoo.errors import ConfigError, GanzooError, PluginError, one_line
from ganzoo.registry.blame import origin, plugin_failure
from ganzoo.registry.discovery import Zoo
from ganzoo.registry.registry import Registry, Source
from ganzoo.run.config import RunConfig, validate


@dataclass(frozen=True)
class Part:
    """One registered contribution a run uses: its spec, its validated options and the distribution it came
    from. Calls into its plugin code go through :meth:`call`."""

    kind: str
    spec: Any
    options: Options
    source: Source

    @property
    def name(self) -> str:
        return str(self.spec.name)

    def __str__(self) -> str:
        return f"{self.kind} '{self.name}' from {self.source}"

    def call(self, function: Callable[..., Any], *args: Any, check: Callable[[Any], bool] = lambda _: True,
             what: str = "build") -> Any:
        """``function(*args)``: a crash inside it, or a result failing ``check``, is a one-line error naming
        this part, its distribution and ``what`` was called."""
        try:
            result = function(*args)
        except GanzooError:
            raise
        except Exception as exc:
            found = origin(exc)
            if found is None:
                raise PluginError(f"{self} failed to {what}: {one_line(exc)}") from exc
            source, raiser = found
            culprit = raiser if source == self.source else f"{raiser} in {source}"
            raise PluginError(f"{self} failed to {what}: {culprit} raised {one_line(exc)}") from exc
        if not check(result):
            raise PluginError(f"{self} returned {type(result).__name__} from {what}, not what the spec promises")
        return result

    def build(self, *args: Any, check: Callable[[Any], bool]) -> Any:
        """The spec's ``build`` with ``args`` before the options."""
        return self.call(self.spec.build, *args, self.options, check=check)


def part(zoo: Zoo, kind: str, name: str, options: dict[str, Any], where: str = "") -> Part:
    """The registered ``name`` of ``kind`` (a registry name such as ``gans``) with ``options`` validated."""
    registry: Registry[Any] = zoo.registry(kind)
    spec = registry.get(name)
    table = where or f"{registry.kind.lower()}_options"
    return Part(registry.kind, spec, validate(spec.options, options, f"{table} for '{name}'"), registry.source(name))


@dataclass(frozen=True)
class RunPlan:
    """What a resolved config is made of. ``metrics`` holds every suite the run may use: those
    ``metrics.suites`` names, or all registered ones (the evaluator keeps those that apply to the data).
    ``objective`` is None in the plan of a trained run restored only to sample or measure its generator, which
    needs neither the objective nor the augmentation installed."""

    config: RunConfig
    gan: Part
    objective: Part | None
    algorithm: Part
    dataset: Part
    augmentation: Part | None
    metrics: tuple[Part, ...]

    @classmethod
    def create(cls, config: RunConfig, zoo: Zoo, *, training: bool = True) -> RunPlan:
        """Look up every name of ``config`` and validate each options table, once; without ``training``, the
        objective and the augmentation are left out (sampling and measuring a trained generator)."""
        if config.augmentation is None and config.augmentation_options:
            raise ConfigError("augmentation_options is set but no augmentation; set augmentation = \"<name>\" "
                              "(see 'ganzoo list augmentations') or remove augmentation_options")
        gan = part(zoo, "gans", config.gan, config.gan_options)
        algorithm_name = config.algorithm or gan.spec.default_algorithm  # None in configs from before 0.2
        objective = part(zoo, "objectives", str(config.objective), config.objective_options) if training else None
        augmentation = (None if config.augmentation is None or not training else
                        part(zoo, "augmentations", config.augmentation, config.augmentation_options))
        return cls(config, gan, objective, part(zoo, "algorithms", algorithm_name, config.algorithm_options),
                   part(zoo, "datasets", config.dataset, config.dataset_options), augmentation,
                   metric_parts(config, zoo))

    def parts(self) -> dict[str, Part]:
        """The run's parts by role, as provenance names them."""
        named = {"gan": self.gan, "objective": self.objective, "algorithm": self.algorithm, "dataset": self.dataset,
                 "augmentation": self.augmentation}
        return {role: used for role, used in named.items() if used is not None}

    def suspects(self) -> str:
        """The run's parts, for a failure no traceback frame pins on one plugin."""
        return ", ".join(str(used) for used in self.parts().values())

    def failure(self, exc: BaseException, during: str) -> PluginError:
        """``exc``, raised by plugin code ``during`` a phase of the run, as one line naming the plugin."""
        return plugin_failure(exc, during, self.suspects())

    def provenance(self, device: torch.device) -> dict[str, Any]:
        """Which installed distributions (and versions) supplied each named part of the run."""
        result: dict[str, Any] = {"ganzoo": CORE_VERSION, "torch": torch.__version__, "cuda": torch.version.cuda,
                                  "device": str(device), "device_name": device_name(device),
                                  "torch_threads": torch.get_num_threads()}
        for role, used in self.parts().items():
            result[role] = describe(used)
        return result


def device_name(device: torch.device) -> str:
    """The accelerator's model, or the machine's processor, as far as it can be told."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return platform.processor() or platform.machine()


def describe(used: Part) -> dict[str, str]:
    return {"name": used.name, "distribution": used.source.distribution, "version": used.source.version}


def metric_parts(config: RunConfig, zoo: Zoo) -> tuple[Part, ...]:
    settings = config.metrics
    names = settings.suites if settings.suites is not None else zoo.metrics.names()
    stray = sorted(set(settings.options) - set(names))
    if stray:
        raise ConfigError(f"metrics.options names {', '.join(stray)}, which this run does not measure "
                          f"(its suites: {', '.join(names) or 'none'})")
    return tuple(part(zoo, "metrics", name, settings.options.get(name, {}), "metrics.options") for name in names)
