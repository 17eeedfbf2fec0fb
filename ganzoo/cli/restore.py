"""A trained run rebuilt from its checkpoint through the installed plugins, for the commands that use it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from ganzoo.api.algorithm import Algorithm
from ganzoo.api.prior import Prior
from ganzoo.api.specs import DataInfo, LoadedData
from ganzoo.errors import GanzooError
from ganzoo.registry.discovery import Zoo
from ganzoo.run import rundir
from ganzoo.run.config import RunConfig, validate
from ganzoo.run.data import load_data
from ganzoo.run.device import resolve_device
from ganzoo.run.plan import RunPlan
from ganzoo.sampling.generation import first_samples, run_title
from ganzoo.training.checkpoint import Checkpoint, load_checkpoint, load_module_state
from ganzoo.training.components import build_algorithm
from ganzoo.training.ema import weights_name
from ganzoo.training.networks import build_networks, network_info


@dataclass(kw_only=True)
class RestoredNetworks:
    """A run's networks rebuilt from a checkpoint through the installed plugins, each loaded with its trained
    weights when first asked for (:meth:`network`).

    The data set itself is loaded only when needed (metrics, or real points to draw samples over):
    the checkpoint describes its shape and classes.
    """

    path: Path
    checkpoint: Checkpoint
    config: RunConfig
    info: DataInfo
    plan: RunPlan
    algorithm: Algorithm
    networks: dict[str, nn.Module]  # not yet loaded
    device: torch.device
    loaded: LoadedData | None = None

    def network(self, name: str) -> nn.Module | None:
        """The run's network ``name`` (an encoder, say) with its trained weights, or None if it has none."""
        if name not in self.networks:
            return None
        load_module_state(self.networks[name], self.checkpoint, name, self.path)
        return self.networks[name].to(self.device)

    @property
    def data(self) -> LoadedData:
        if self.loaded is None:
            self.loaded = load_data(self.plan.dataset)
        return self.loaded

    def default_output(self, what: str, suffix: str = ".png") -> Path:
        folder = rundir.run_dir_of(self.path) or self.path.parent
        return folder / "samples" / f"{what}-{self.checkpoint.step:07d}{suffix}"


@dataclass(kw_only=True)
class RestoredRun(RestoredNetworks):
    """A run restored to use its generator: the sampling weights (the moving average unless ``raw``) and the
    prior its codes come from."""

    generator: nn.Module
    prior: Prior
    weights: str

    def real_points(self) -> torch.Tensor | None:
        return None if self.info.is_image else first_samples(self.data)

    def title(self) -> str:
        return run_title(self.config, self.checkpoint.step, self.weights)

    def default_output(self, what: str, suffix: str = ".png") -> Path:
        raw = "-raw" if self.weights == "raw" and self.config.ema.enabled else ""
        return super().default_output(what + raw, suffix)


def restore_networks(run: Path, zoo: Zoo) -> RestoredNetworks:
    """The checkpoint's config, plan and networks (weights not yet loaded), through the installed plugins."""
    path = rundir.find_checkpoint(run)
    checkpoint = load_checkpoint(path)
    config: RunConfig = validate(RunConfig, checkpoint.config, f"{path}: stored config")
    for key in ("gan", "dataset", "algorithm"):
        name, registry = getattr(config, key), zoo.registry(f"{key}s")
        if name is not None and name not in registry:
            origin = checkpoint.provenance.get(key, {})
            raise GanzooError(f"{path} needs {registry.kind} '{name}' from {origin.get('distribution', '?')} "
                              f"{origin.get('version', '?')}, which is not installed")
    plan = RunPlan.create(config, zoo, training=False)
    data = load_data(plan.dataset) if checkpoint.data_info is None else None  # older checkpoints: ask the data
    info = network_info(config, checkpoint.data_info or data.info)  # type: ignore[union-attr]
    algorithm = build_algorithm(plan)
    return RestoredNetworks(path=path, checkpoint=checkpoint, config=config, info=info, plan=plan,
                            algorithm=algorithm, networks=build_networks(plan, algorithm, info),
                            device=resolve_device("auto"), loaded=data)


def restore_run(run: Path, zoo: Zoo, raw: bool = False) -> RestoredRun:
    """The checkpoint's config and generator: its moving average unless ``raw`` or the run kept none."""
    restored = restore_networks(run, zoo)
    config, name = restored.config, restored.algorithm.generator
    if name is None:
        hint = (f"; translate images with 'ganzoo translate {run} IMAGES'" if restored.algorithm.translators
                else "")
        raise GanzooError(f"{restored.path}: algorithm '{restored.plan.algorithm.name}' trains no generator of "
                          f"latent codes, so there is nothing to sample or invert{hint}")
    use_ema = config.ema.enabled and not raw
    generator = restored.networks.pop(name)
    load_module_state(generator, restored.checkpoint, name + ("_ema" if use_ema else ""), restored.path)
    fields = {key: getattr(restored, key) for key in restored.__dataclass_fields__}
    return RestoredRun(**fields, generator=generator.to(restored.device),
                       prior=Prior(config.prior, config.z_dim, restored.device, restored.info.condition_classes),
                       weights=weights_name(config.ema.decay if use_ema else None, config.ema.rampup))
