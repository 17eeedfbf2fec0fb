"""A run's networks: built by the GAN's plugin (and the algorithm), then checked against the data before training."""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import torch
from torch import nn

from ganzoo.api.algorithm import Algorithm, ScoreLayout
from ganzoo.api.objective import Objective
from ganzoo.api.prior import forward
from ganzoo.api.specs import DataInfo
from ganzoo.errors import ConfigError, GanzooError
from ganzoo.run.config import RunConfig
from ganzoo.run.plan import Part, RunPlan
from ganzoo.utils import eval_mode

NAME = re.compile(r"[a-z][a-z0-9_]*")
# Checkpoint parts that are not networks; a network's moving average is stored as "<name>_ema".
RESERVED = ("rng", "algorithm", "objective", "augmentation", "statistics", "scaler")


def network_info(config: RunConfig, info: DataInfo) -> DataInfo:
    """The data's description as the GAN sees it, with the run's ``conditional`` switch."""
    if config.conditional and info.num_classes is None:
        raise ConfigError(f"conditional = true needs class labels, but data set '{config.dataset}' has none "
                          "(or this split is unlabelled); set conditional = false")
    return dataclasses.replace(info, conditional=config.conditional)


def build_networks(plan: RunPlan, algorithm: Algorithm, info: DataInfo) -> dict[str, nn.Module]:
    """Every network of the run, by name: the GAN's, through the algorithm, checked against its declarations
    and against the data (shapes, labels, score layouts and the batch size)."""
    gan = plan.gan
    what = f"{'a class-conditional ' if info.conditional else ''}data set '{plan.config.dataset}' {info.shape}"

    def build_gan() -> dict[str, nn.Module]:
        with refusals_as_config_errors(f"GAN '{gan.name}' cannot be built for {what}"):  # a data shape it refuses
            built = gan.build(info, plan.config.z_dim, check=_networks)
        return dict(built) if isinstance(built, Mapping) else {"generator": built[0], "discriminator": built[1]}

    with refusals_as_config_errors(f"algorithm '{plan.algorithm.name}' cannot train GAN '{gan.name}'"):
        networks = plan.algorithm.call(algorithm.build_networks, build_gan, info, plan.config.z_dim,
                                       check=_named_networks, what="build its networks")
    _check_names(plan.algorithm, algorithm, networks)
    _probe(plan, algorithm, networks, info)
    return networks


def check_pairing(plan: RunPlan, algorithm: Algorithm, networks: Mapping[str, nn.Module],
                  objective: Objective) -> None:
    """The algorithm's own check of the networks and the objective; its ``ValueError`` is a config error."""
    with refusals_as_config_errors(f"algorithm '{plan.algorithm.name}' cannot train GAN '{plan.gan.name}' with "
                                   f"objective '{plan.config.objective}'"):
        plan.algorithm.call(algorithm.check, networks, objective, what="check the networks")


@contextmanager
def refusals_as_config_errors(cannot: str) -> Iterator[None]:
    """A plugin's ``ValueError`` inside (which a part's call wraps as a plugin error) is its way to refuse what it
    was asked to do: a config error, ``cannot`` followed by the plugin's reason."""
    try:
        yield
    except GanzooError as exc:
        if isinstance(exc.__cause__, ValueError):
            raise ConfigError(f"{cannot}: {exc.__cause__}") from None
        raise


def _networks(result: object) -> bool:
    pair = isinstance(result, tuple) and len(result) == 2 and all(isinstance(m, nn.Module) for m in result)
    return pair or _named_networks(result)


def _named_networks(result: object) -> bool:
    return (isinstance(result, Mapping) and bool(result)
            and all(isinstance(k, str) and isinstance(v, nn.Module) for k, v in result.items()))


def _check_declarations(part: Part, algorithm: Algorithm) -> None:
    """The algorithm's class attributes have the types the API gives them."""
    optimizers, generator, discriminators = algorithm.optimizers, algorithm.generator, algorithm.discriminators
    well_formed = isinstance(optimizers, Mapping) and optimizers and all(
        isinstance(name, str) and NAME.fullmatch(name) and _names(members) and members
        for name, members in optimizers.items())
    if not well_formed:
        raise GanzooError(f"{part} declares optimizers = {optimizers!r}; it must map lowercase names to non-empty "
                          "tuples of network names, e.g. {'g': ('generator',), 'd': ('discriminator',)}")
    if not (generator is None or isinstance(generator, str)) or not _names(discriminators):
        raise GanzooError(f"{part} declares generator = {generator!r} and discriminators = {discriminators!r}; the "
                          "generator is a network name or None, the discriminators a tuple of network names")
    translators = algorithm.translators
    if not (isinstance(translators, Mapping) and all(
            isinstance(direction, str) and NAME.fullmatch(direction) and isinstance(network, str)
            for direction, network in translators.items())):
        raise GanzooError(f"{part} declares translators = {translators!r}; it must map lowercase direction names "
                          "to network names, e.g. {'a2b': 'generator_ab'}")


def _names(value: object) -> bool:
    return isinstance(value, (tuple, list)) and all(isinstance(item, str) for item in value)


def _check_names(part: Part, algorithm: Algorithm, networks: Mapping[str, nn.Module]) -> None:
    """Network names fit checkpoints, and every network the algorithm declares exists, each in one optimizer."""
    _check_declarations(part, algorithm)
    for name in networks:
        if not NAME.fullmatch(name) or name in RESERVED or name.startswith("optimizer_") or name.endswith("_ema"):
            raise GanzooError(f"{part} names a network '{name}'; names are lowercase identifiers, not "
                              f"{', '.join(RESERVED)} and not starting with optimizer_ or ending with _ema")
    declared = [name for members in algorithm.optimizers.values() for name in members]
    declared += [algorithm.generator] if algorithm.generator else []
    declared += list(algorithm.translators.values())
    missing = sorted({name for name in [*declared, *algorithm.discriminators] if name not in networks})
    if missing:
        raise GanzooError(f"{part} uses networks {', '.join(missing)}, but the run has only "
                          f"{', '.join(sorted(networks))}")
    owned = [name for members in algorithm.optimizers.values() for name in members]
    twice = sorted({name for name in owned if owned.count(name) > 1})
    if twice:
        raise GanzooError(f"{part} puts networks {', '.join(twice)} in more than one optimizer")


def _probe(plan: RunPlan, algorithm: Algorithm, networks: Mapping[str, nn.Module], info: DataInfo) -> None:
    """Run the generator and each discriminator once, in eval mode, and check what they return."""
    gan, config = plan.gan, plan.config
    layouts = {name: plan.gan.call(ScoreLayout.of, networks[name], what="declare a score layout")
               for name in algorithm.discriminators}
    for name, layout in layouts.items():
        if config.batch_size % layout.pack:
            raise ConfigError(f"batch_size {config.batch_size} is not a multiple of {layout.pack}, the samples "
                              f"{name} scores together (its pack); set batch_size to a multiple of {layout.pack}")
    count = 2 * math.lcm(*(layout.pack for layout in layouts.values()), 1)
    labels = torch.zeros(count, dtype=torch.long) if info.conditional else None
    try:
        with torch.no_grad(), eval_mode(*networks.values()):
            if algorithm.generator is not None:
                samples = gan.call(forward, networks[algorithm.generator], torch.zeros(count, config.z_dim), labels,
                                   what="generate", check=lambda out: isinstance(out, torch.Tensor))
                if tuple(samples.shape) != (count, *info.shape):
                    raise GanzooError(f"GAN '{gan.name}' generator gives samples of shape {tuple(samples.shape[1:])}, "
                                      f"but data set '{config.dataset}' has {info.shape}")
            else:
                samples = torch.zeros(count, *info.shape)
            for name, layout in layouts.items():
                scores = gan.call(forward, networks[name], samples, labels, what=f"score samples with {name}",
                                  check=lambda out: isinstance(out, torch.Tensor))
                expected = count // layout.pack * layout.heads
                if scores.numel() != expected:
                    raise GanzooError(
                        f"GAN '{gan.name}' {name} gives {scores.numel()} scores for {count} samples; its "
                        f"{layout} promises {expected} (declare score_layout = ScoreLayout(pack=..., heads=...) "
                        "for anything but one score per sample)")
    except GanzooError as exc:
        if info.conditional and isinstance(exc.__cause__, TypeError):  # networks that take no labels
            raise ConfigError(f"GAN '{gan.name}' has no class-conditional variant ({exc.__cause__}); "
                              "set conditional = false") from None
        raise
