"""Run configs: pydantic models, TOML loading, ``--set`` overrides, plugin defaults.

Precedence, lowest first: field defaults < the algorithm's defaults < the
GAN's defaults < the objective's defaults < the GAN's overrides < the config
file < ``--set`` overrides.
"""

from __future__ import annotations

import copy
import difflib
import json
import math
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from ganzoo.api.metric import MetricsConfig
from ganzoo.api.options import MAX_DEPTH, StrictModel, finite_table, table_problem
from ganzoo.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


# Upper bounds on sizes and counts. Each is far beyond any real run yet small enough that what it sizes (a batch,
# a noise vector, a step counter, an interval) fits in memory and in an int64: an absurd value is refused when the
# config is read, before a run directory is made, instead of failing deep inside torch mid-run.
MAX_BATCH_SIZE = 2**20
MAX_Z_DIM = 2**16
MAX_STEPS = 2**40  # also bounds every *_every interval and the EMA's start
MAX_D_STEPS = 10**4
MAX_DATA_WORKERS = 256


@dataclass(frozen=True)
class Role:
    """What a run-config field is besides its type and bounds, declared once on the field (``Annotated[type,
    Role(...)]``) and read by every part that treats fields differently. Fields without one are the method's."""

    resumable: bool = False  # may differ when the run resumes (--resume): it leaves the trained state as it is
    result: bool = True      # changes the run's results; False: where it runs and how often it writes (records
                             # of runs differing only in such fields share their config hash)
    comparable: bool = False  # a bench --set of it keeps the figures comparable with the suite's published ones
    apart: bool = False      # runs of one config may differ in it: the seeds of a leaderboard row, of a plot's mean


PLACE = Role(resumable=True, result=False)  # where, on what and how a run writes, not what it trains
INTERVAL = Role(resumable=True, result=False, comparable=True)  # how often a run writes what it has


def fields_where(**wanted: bool) -> frozenset[str]:
    """The run-config fields whose role has each of ``wanted``'s values, e.g. ``fields_where(resumable=True)``."""
    def role(name: str) -> Role:
        return next((m for m in RunConfig.model_fields[name].metadata if isinstance(m, Role)), Role())
    return frozenset(name for name in RunConfig.model_fields
                     if all(getattr(role(name), key) == value for key, value in wanted.items()))


Beta = Annotated[float, Field(ge=0, lt=1)]


class OptimizerConfig(StrictModel):
    kind: Literal["adam", "sgd", "rmsprop"] = "adam"
    lr: float = Field(2e-4, gt=0)
    betas: tuple[Beta, Beta] = Field((0.5, 0.999), description="Adam's averaging coefficients, each in [0, 1)")
    momentum: float = Field(0.0, ge=0)
    weight_decay: float = Field(0.0, ge=0)
    eps: float = Field(1e-8, gt=0, le=1, description="Adam's and RMSprop's epsilon, added to the root of the "
                                                     "squared-gradient average")


class EmaConfig(StrictModel):
    """An exponential moving average of the generator's weights, used for sampling and evaluation."""

    enabled: bool = False
    decay: float = Field(0.999, gt=0, lt=1, description="weight of the old average at each step")
    start: int = Field(0, ge=0, le=MAX_STEPS, description="generator steps before averaging starts (the copy "
                                                          "follows G until then)")
    rampup: float | None = Field(None, gt=0, le=1, description=(
        "StyleGAN2-ADA's ramp-up: the average's half-life is at most this fraction of the steps done, so early "
        "weights are forgotten fast (its CIFAR-10 config: 0.05); unset: the half-life that decay gives, throughout"))

    def decay_at(self, done: int) -> float:
        """The decay of the update after generator step ``done + 1``: 0 (a copy of G) before ``start``; with
        ``rampup``, ``0.5 ** (1 / min(h, rampup * done))`` for the half-life ``h = log 0.5 / log decay`` in steps,
        as stylegan2-ada-pytorch's training_loop.py computes it in images."""
        if done < self.start:
            return 0.0
        if self.rampup is None:
            return self.decay
        half_life = min(math.log(0.5) / math.log(self.decay), self.rampup * done)
        return 0.5 ** (1 / half_life) if half_life > 0 else 0.0


class SpeedConfig(StrictModel):
    """How the runner computes, not what: mixed precision, compilation and the GPU's own settings."""

    precision: Literal["auto", "fp32", "bf16", "fp16"] = Field("auto", description=(
        "autocast of the networks' forward passes: bf16, or fp16 with a gradient scaler; auto is bf16 on a CUDA "
        "GPU that has it and fp32 elsewhere (the CPU stays fp32, so seeded runs repeat bit for bit)"))
    compile: bool = Field(False, description=(
        "torch.compile each network; a network whose gradients of gradients a penalty takes stays uncompiled"))
    channels_last: bool = Field(True, description="CUDA only: convolutional networks and image batches in "
                                                   "channels-last memory layout")
    tf32: bool = Field(True, description="CUDA only: TF32 tensor cores for float32 matrix products and convolutions")
    cudnn_benchmark: bool = Field(True, description="CUDA only: let cuDNN time its algorithms for each shape")
    sync_batch_norm: bool = Field(False, description=(
        "in a run over several GPUs (torchrun), batch norm over the global batch rather than each GPU's share"))
    data_workers: Annotated[int, Field(ge=0, le=MAX_DATA_WORKERS)] | Literal["auto"] = Field("auto", description=(
        "DataLoader worker processes reading a data set that is not held in memory ahead of training (0: read in "
        "the training process); auto: none on the CPU, up to 8 for a GPU"))


class LoggingConfig(StrictModel):
    """Where a run's statistics go besides stats.jsonl and metrics.jsonl (and curves.png, drawn from them)."""

    tensorboard: bool = Field(False, description=(
        "also write TensorBoard event files into <run>/tensorboard: the statistics at every log, the sample "
        "picture at every sample save, the metrics at every evaluation and the config; needs the tensorboard "
        "package (pip install 'ganzoo-core[tensorboard]')"))


class RunConfig(StrictModel):
    """One training run. Names refer to registered plugins (see ``ganzoo list``)."""

    gan: str = Field(description="registered GAN name")
    objective: str | None = Field(None, description="registered objective; defaults to the GAN's own")
    algorithm: str | None = Field(None, description="registered training algorithm; defaults to the GAN's own "
                                                    "(alternating)")
    augmentation: str | None = Field(None, description="registered augmentation applied before the discriminator")
    dataset: str = Field(description="registered data set name")
    gan_options: dict[str, Any] = Field(default_factory=dict)
    objective_options: dict[str, Any] = Field(default_factory=dict)
    dataset_options: dict[str, Any] = Field(default_factory=dict)
    algorithm_options: dict[str, Any] = Field(default_factory=dict)
    augmentation_options: dict[str, Any] = Field(default_factory=dict)
    conditional: bool = Field(False, description="class-conditional G and D (needs a labelled data set)")
    ema: EmaConfig = Field(default_factory=EmaConfig)
    metrics: Annotated[MetricsConfig, Role(resumable=True)] = Field(default_factory=MetricsConfig)
    z_dim: int = Field(100, gt=0, le=MAX_Z_DIM)
    prior: Literal["normal", "uniform"] = "normal"
    optimizer_g: OptimizerConfig = Field(default_factory=OptimizerConfig)
    optimizer_d: OptimizerConfig = Field(default_factory=OptimizerConfig)
    optimizers: dict[str, OptimizerConfig] = Field(default_factory=dict, description=(
        "settings of an algorithm's optimizers other than g and d (those are optimizer_g and optimizer_d)"))
    d_steps: int = Field(1, gt=0, le=MAX_D_STEPS, description="discriminator steps per generator step (k)")
    lr_decay: Literal["none", "linear"] = Field("none", description="linear: the learning rates fall linearly "
                                                                    "from their set value to 0 at the last step")
    lr_decay_start: float = Field(0.0, ge=0, lt=1, description=(
        "with lr_decay = 'linear': the fraction of the steps trained at the set rates before they start to fall "
        "(CycleGAN: 0.5, 100 of 200 epochs)"))
    batch_size: int = Field(64, gt=0, le=MAX_BATCH_SIZE)
    steps: Annotated[int, Role(resumable=True)] = Field(2000, gt=0, le=MAX_STEPS, description="generator steps")
    seed: Annotated[int, Role(apart=True)] = Field(0, ge=0, lt=2**62)
    device: Annotated[str, PLACE] = "auto"
    out_dir: Annotated[Path | None, Role(resumable=True, result=False, apart=True)] = Field(None, description=(
        "run directory; default runs/<gan>-<objective>-<dataset>-seed<seed>"))
    log_every: Annotated[int, INTERVAL] = Field(50, gt=0, le=MAX_STEPS)
    sample_every: Annotated[int, INTERVAL] = Field(1000, ge=0, le=MAX_STEPS, description="0 disables periodic samples")
    eval_every: Annotated[int | None, PLACE] = Field(None, ge=0, le=MAX_STEPS, description=(
        "generator steps between evaluations; 0: only at the end for 2D toy data, none for images. Default 1000 "
        "for toy data and 0 for images, whose metrics take long on a CPU (measure them with 'ganzoo eval')"))
    checkpoint_every: Annotated[int, INTERVAL] = Field(1000, gt=0, le=MAX_STEPS)
    speed: Annotated[SpeedConfig, Role(comparable=True)] = Field(default_factory=SpeedConfig)
    logging: Annotated[LoggingConfig, PLACE] = Field(default_factory=LoggingConfig)

    @field_validator("gan", "objective", "algorithm", "augmentation", "dataset")
    @classmethod
    def _names_something(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("must be a registered name (see 'ganzoo list'), not empty")
        if value is not None and value != "".join(value.split()):  # registered names have no spaces or line breaks
            raise ValueError("must be a registered name (see 'ganzoo list'), without spaces or line breaks")
        return value

    _finite_options = field_validator("gan_options", "objective_options", "dataset_options", "algorithm_options",
                                      "augmentation_options")(finite_table)

    @field_validator("device")
    @classmethod
    def _known_device(cls, value: str) -> str:
        if not re.fullmatch(r"auto|cpu|cuda(:\d+)?|mps", value):
            raise ValueError("must be 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'")
        return value

    @field_validator("optimizers")
    @classmethod
    def _other_optimizers(cls, value: dict[str, OptimizerConfig]) -> dict[str, OptimizerConfig]:
        for name in ("g", "d"):
            if name in value:
                raise ValueError(f"set optimizer_{name} for the '{name}' optimizer, not optimizers.{name}")
        return value

    @field_validator("out_dir")
    @classmethod
    def _named_dir(cls, value: Path | None) -> Path | None:
        if value is not None and str(value).strip() in {"", "."}:
            raise ValueError("must name a directory for the run, e.g. 'runs/my-run'")
        return value

    @model_validator(mode="after")
    def _decay_start_needs_decay(self) -> RunConfig:
        if self.lr_decay_start and self.lr_decay == "none":
            raise ValueError("lr_decay_start is set but lr_decay is 'none'; set lr_decay = \"linear\" or remove "
                             "lr_decay_start")
        return self

    def lr_factor(self, done: int) -> float:
        """The learning rates' share of their set values in the step after ``done`` steps: 1 without decay; under
        linear decay, 1 until ``lr_decay_start`` of the steps, then falling linearly to 0 at the end."""
        if self.lr_decay == "none":
            return 1.0
        return min(1.0, (self.steps - done) / (self.steps * (1 - self.lr_decay_start)))

    def run_dir(self) -> Path:
        return self.out_dir or default_run_dir(self.gan, str(self.objective), self.dataset, self.seed)

    def to_json(self) -> str:
        return json.dumps(self.model_dump(mode="json"), indent=2, sort_keys=True)


def beyond_the_pair(config: Mapping[str, Any]) -> str:
    """What sets a run apart besides its GAN, objective and data, for banners and legends: its algorithm (unless
    the core's alternating one) and its augmentation, e.g. ``" (algorithm unrolled, augmentation ada)"``."""
    words = [f"{key} {config[key]}" for key in ("algorithm", "augmentation")
             if config.get(key) not in (None, "alternating")]
    return f" ({', '.join(words)})" if words else ""


def default_run_dir(gan: str, objective: str, dataset: str, seed: int) -> Path:
    return Path("runs") / f"{gan}-{objective}-{dataset}-seed{seed}"


# -- loading -------------------------------------------------------------


def read_toml(path: Path) -> dict[str, Any]:
    if "\x00" in str(path):
        raise ConfigError(f"config path {str(path)!r} contains a NUL character; name a TOML file")
    shown = _printable(str(path))  # a message is one line, whatever the file is called
    if not path.is_file():
        raise ConfigError(f"config file not found: {shown}")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{shown}: malformed TOML: {exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{shown}: not a text file") from None
    except RecursionError:
        raise ConfigError(f"{shown}: tables or arrays nested too deeply (at most {MAX_DEPTH} levels)") from None


def parse_overrides(pairs: Iterable[str]) -> dict[str, Any]:
    """``["a.b=1", "gan=x"]`` -> ``{"a": {"b": 1}, "gan": "x"}``; values are TOML, else strings."""
    result: dict[str, Any] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set expects key=value, got '{_printable(pair)}'")
        shown = _printable(key.strip())  # the user's text: a message is one line
        try:
            value = tomllib.loads(f"v = {text}")["v"]
        except tomllib.TOMLDecodeError:
            value = text
        except RecursionError:
            raise ConfigError(f"--set {shown}: value nested too deeply (at most {MAX_DEPTH} levels)") from None
        parts = key.strip().split(".")
        if len(parts) > MAX_DEPTH:
            raise ConfigError(f"--set {shown[:60]}...: {len(parts)} dotted parts; at most {MAX_DEPTH}")
        if not all(part.strip() for part in parts):
            raise ConfigError(f"--set {shown}: empty part in the key; write e.g. optimizer_g.lr=1e-4")
        *parents, leaf = parts
        node = result
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"--set {_printable(pair)}: '{_printable(part)}' is set to a value and a table")
        node[leaf] = value
    return result


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    for table in (base, override):
        _check_depth(table, "config")
    return _merge(base, override)


def _merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _check_depth(data: Any, where: str) -> None:
    problem = table_problem(data)
    if problem is not None:
        raise ConfigError(f"{where}: {problem}")


def validate(model: type[BaseModel], data: Mapping[str, Any], where: str) -> Any:
    """``model.model_validate(data)`` with errors turned into one readable line."""
    _check_depth(data, where)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{where}: {describe_validation_error(exc, model)}") from None


def describe_validation_error(exc: ValidationError, model: type[BaseModel]) -> str:
    problems = []
    for err in exc.errors():
        loc = _printable(".".join(str(part) for part in err["loc"])) or "(top level)"
        if err["type"] == "extra_forbidden":
            close = difflib.get_close_matches(str(err["loc"][-1]), _field_names(model, err["loc"][:-1]), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            problems.append(f"unknown key '{loc}'{hint}")
        elif err["type"] == "missing" and isinstance(err["loc"][-1], int):  # a tuple given too few items
            problems.append(f"{_printable('.'.join(str(p) for p in err['loc'][:-1]))}: too few values "
                            f"(got {err['input']!r})")
        elif err["type"] == "missing":
            problems.append(f"'{loc}' is required")
        else:
            problems.append(f"{loc}: {err['msg']} (got {err['input']!r})")
    return "; ".join(problems)


def _printable(text: str) -> str:
    """``text`` with newlines and other unprintable characters escaped (keys are the user's: a message is one line)."""
    return text if text.isprintable() else repr(text)[1:-1]


def _field_names(model: type[BaseModel], path: tuple[Any, ...]) -> list[str]:
    for part in path:
        field = model.model_fields.get(str(part))
        annotation = field.annotation if field else None
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return list(model.model_fields)


def resolve_config(raw: Mapping[str, Any], zoo: Any, where: str = "config") -> RunConfig:
    """Validate ``raw``, fill the objective, the algorithm and the plugins' defaults, and check every name.

    Plugins' options tables are validated once, by the run's plan (:mod:`ganzoo.run.plan`).
    """
    user = validate(RunConfig, raw, where)
    gan = zoo.gans.get(user.gan)
    objective = zoo.objectives.get(_named_or_default(user.objective, gan, "objective", zoo.objectives))
    algorithm = zoo.algorithms.get(_named_or_default(user.algorithm, gan, "algorithm", zoo.algorithms))
    dataset = zoo.datasets.get(user.dataset)
    if user.augmentation is not None:
        zoo.augmentations.get(user.augmentation)
    merged: dict[str, Any] = {}
    gan_layers = [_own_options_only(layer, gan, objective.name, algorithm.name) for layer in (gan.defaults,
                                                                                            gan.overrides)]
    for layer in (algorithm.defaults, gan_layers[0], objective.defaults, gan_layers[1], raw):
        merged = deep_merge(merged, layer)
    merged.update(objective=objective.name, algorithm=algorithm.name)
    merged.setdefault("out_dir", str(default_run_dir(gan.name, objective.name, dataset.name, user.seed)))
    return validate(RunConfig, merged, f"{where} (with the defaults of GAN '{gan.name}', objective "
                                       f"'{objective.name}' and algorithm '{algorithm.name}')")


def _own_options_only(layer: Mapping[str, Any], gan: Any, objective: str, algorithm: str) -> Mapping[str, Any]:
    """A GAN's defaults or overrides without the options it sets for its default objective or algorithm when the
    run uses another one (whose options those are not)."""
    foreign = {key for key, part, default in (("objective_options", objective, gan.default_objective),
                                              ("algorithm_options", algorithm, gan.default_algorithm))
               if part != default}
    return {key: value for key, value in layer.items() if key not in foreign}


def _named_or_default(name: str | None, gan: Any, key: str, registry: Any) -> str:
    """The name the user set, else the GAN's default, which must be installed."""
    if name is not None:
        return name
    default = getattr(gan, f"default_{key}")
    if default not in registry:
        raise ConfigError(f"GAN '{gan.name}' names default {key} '{default}', which no installed plugin registers; "
                          f"set {key} (see 'ganzoo list {key}s')")
    return str(default)


def load_config(path: Path, overrides: Iterable[str], zoo: Any, *, raw: Mapping[str, Any] | None = None) -> RunConfig:
    """The run config of ``ganzoo train PATH --set ...``: the TOML file at ``path`` (or ``raw``, a run directory's
    stored config), the ``--set`` overrides on top, resolved against the zoo."""
    overrides = list(overrides)
    where = f"{path} with --set" if overrides else str(path)
    table = read_toml(path) if raw is None else raw
    return resolve_config(deep_merge(table, parse_overrides(overrides)), zoo, _printable(where))
