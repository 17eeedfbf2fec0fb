"""What plugins contribute: specs for GANs, objectives, data sets, algorithms, augmentations, metrics and
benchmark suites, and the :class:`Reference` of the papers they rest on.

A plugin builds these objects and hands them to the ``register`` callback of
the matching hook (see :mod:`ganzoo.api.hookspecs`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from ganzoo.api.options import NoOptions, Options

if TYPE_CHECKING:
    import torch
    from torch import nn

    from ganzoo.api.algorithm import Algorithm
    from ganzoo.api.augmentation import Augmentation
    from ganzoo.api.metric import Metric
    from ganzoo.api.objective import Objective


# "Last, First": the form BibTeX reads unambiguously (particles, double-barrelled and multi-word names), e.g.
# "Jolicoeur-Martineau, Alexia", "Lau, Raymond Y. K."
_AUTHOR = re.compile(r"[^,\s][^,]*, [^,\s][^,]*")
_ARXIV = re.compile(r"(\d{4}\.\d{4,5}|[a-z-]+(\.[A-Z]{2})?/\d{7})(v\d+)?")
# Braces and backslashes would end or break the BibTeX field; whitespace cannot be in either
_DOI = re.compile(r"10\.\d{4,9}/[^\s{}\\]+")
_URL = re.compile(r"https?://[^\s{}\\]+")
_IDENTIFIERS = {"arxiv": (_ARXIV, "'1406.2661'"), "doi": (_DOI, "'10.1109/ICCV.2017.244'"),
                "url": (_URL, "'https://...'")}
# The field each kind of entry names its venue with; misc's is optional (howpublished)
VENUE_FIELDS = {"article": "journal", "inproceedings": "booktitle", "incollection": "booktitle", "book": "publisher",
                "techreport": "institution", "phdthesis": "school", "misc": "howpublished"}


class Reference(BaseModel):
    """A paper (or other work) a spec rests on, as bibliographic data; ``ganzoo cite`` writes it as BibTeX.

    ``authors`` are ``"Last, First"`` strings in the paper's order; ``venue`` is the journal of an article, the
    proceedings (booktitle) of an inproceedings, and so on (optional for ``misc``); ``arxiv`` is the bare arXiv
    identifier (``"1406.2661"``). Text is plain Unicode: ``ganzoo cite`` escapes it for LaTeX.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["article", "inproceedings", "incollection", "book", "techreport", "phdthesis", "misc"] = Field(
        "inproceedings", description="the BibTeX entry type")
    authors: tuple[str, ...] = Field(min_length=1, description='"Last, First" each, in the order of the paper')
    title: str = Field(min_length=1, max_length=500)
    venue: str | None = Field(None, min_length=1, max_length=300, description=(
        "journal (article), proceedings (inproceedings), publisher (book), institution (techreport)..."))
    year: int = Field(ge=1800, le=2200)
    arxiv: str | None = Field(None, description="arXiv identifier, e.g. '1406.2661'")
    doi: str | None = Field(None, description="e.g. '10.1109/ICCV.2017.244'; leave it out unless you know it")
    url: str | None = Field(None, description="http(s) address of the work")

    @field_validator("authors")
    @classmethod
    def _last_first(cls, authors: tuple[str, ...]) -> tuple[str, ...]:
        for name in authors:
            # " and " would split one author in two in BibTeX's author field
            if not _AUTHOR.fullmatch(name) or re.search(r"\sand\s", name) or name != " ".join(name.split()):
                raise ValueError(f"author {name!r} is not of the form \"Last, First\" (one comma, no \" and \")")
        return authors

    @field_validator("title", "venue")
    @classmethod
    def _one_line(cls, text: str | None) -> str | None:
        if text is not None and text != " ".join(text.split()):
            raise ValueError("must be one line, without leading, trailing or repeated spaces")
        return text

    @field_validator("arxiv", "doi", "url")
    @classmethod
    def _identifier(cls, value: str | None, info: ValidationInfo) -> str | None:
        form, example = _IDENTIFIERS[str(info.field_name)]
        if value is not None and not form.fullmatch(value):
            raise ValueError(f"{value!r} is not a bare {info.field_name} identifier like {example}")
        return value

    @model_validator(mode="after")
    def _venue_where_required(self) -> Reference:
        if self.venue is None and self.kind != "misc":
            raise ValueError(f"an entry of kind {self.kind!r} needs its venue (BibTeX's {VENUE_FIELDS[self.kind]})")
        return self


def _checked_references(spec: Any) -> None:
    """A spec's ``references`` as a tuple of :class:`Reference` (a list is accepted), or a TypeError naming it:
    dataclasses do not check types, and a malformed reference would otherwise surface only in ``ganzoo cite``."""
    references = spec.references
    if isinstance(references, list):
        references = tuple(references)
    if not (isinstance(references, tuple) and all(isinstance(r, Reference) for r in references)):
        raise TypeError(f"{type(spec).__name__} {getattr(spec, 'name', '?')!r}: references must be a tuple of "
                        f"ganzoo.Reference, not {shown_value(references)}")
    object.__setattr__(spec, "references", references)  # frozen: the one normalisation, at construction


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
    user's config overrides both. A GAN's ``objective_options`` and
    ``algorithm_options`` there apply only when the run uses its default
    objective or algorithm. ``test_options`` are the ``gan_options`` the
    conformance checks build it with (narrow widths, so that checks training a
    few steps take seconds on a CPU); users get the published options.
    ``references`` are the papers to cite (API 2.2); ``citation`` says the same
    in words, and is all ``ganzoo cite`` has when ``references`` is empty.
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
    test_options: Mapping[str, Any] = field(default_factory=dict)
    references: tuple[Reference, ...] = ()

    def __post_init__(self) -> None:
        _checked_references(self)


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
    references: tuple[Reference, ...] = ()  # the papers to cite (API 2.2), as GanSpec's

    def __post_init__(self) -> None:
        _checked_references(self)


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
    references: tuple[Reference, ...] = ()  # the papers to cite (API 2.2), as GanSpec's

    def __post_init__(self) -> None:
        _checked_references(self)


@dataclass(frozen=True)
class AugmentationSpec:
    """An augmentation applied before every discriminator call: ``build(options)`` returns an
    :class:`~ganzoo.api.augmentation.Augmentation`. A run picks one with ``augmentation = "<name>"``.
    ``serves`` lists the data it takes (API 2.3; by default images), as a GAN's does: the conformance checks
    apply it to each."""

    name: str
    build: Callable[[Any], Augmentation]
    citation: str
    description: str = ""
    options: type[Options] = NoOptions
    references: tuple[Reference, ...] = ()  # the papers to cite (API 2.2), as GanSpec's
    serves: tuple[DataInfo, ...] = (DataInfo(shape=(3, 16, 16)),)

    def __post_init__(self) -> None:
        _checked_references(self)


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


# Bounds on a data description: one sample has 1 to 4 axes (points, sequences, images, volumes), none of them
# longer than this; far beyond any data set ganzoo loads, small enough to allocate a batch of.
MAX_SAMPLE_AXIS = 2**16
MAX_CLASSES = 2**20


def data_info_problem(shape: Any, num_classes: Any, class_names: Any) -> str | None:
    """What is wrong with the fields of a data description (from a plugin, or read from a checkpoint), or None."""
    def count(value: Any, most: int) -> bool:
        return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= most

    if not (isinstance(shape, (tuple, list)) and 1 <= len(shape) <= 4 and all(count(n, MAX_SAMPLE_AXIS)
                                                                               for n in shape)):
        return f"shape {shown_value(shape)} is not 1 to 4 sizes from 1 to {MAX_SAMPLE_AXIS}"
    if not (num_classes is None or count(num_classes, MAX_CLASSES)):
        return f"num_classes {shown_value(num_classes)} is not a class count"
    if class_names is not None and not (isinstance(class_names, (tuple, list)) and len(class_names) == num_classes
                                        and all(isinstance(name, str) for name in class_names)):
        return f"class_names is not a list of {num_classes} names, one per class"
    return None


def mixture_problem(mixture: Any, shape: tuple[int, ...]) -> str | None:
    """What is wrong with a data set's Gaussian mixture, or None."""
    if not isinstance(mixture, GaussianMixture):
        return f"mixture is a {type(mixture).__name__}, not a ganzoo.GaussianMixture"
    import torch

    centers, std = mixture.centers, mixture.std
    if not (isinstance(centers, torch.Tensor) and centers.is_floating_point() and centers.dim() == 1 + len(shape)
            and len(centers) > 0 and tuple(centers.shape[1:]) == tuple(shape) and bool(centers.isfinite().all())):
        return f"mixture centres must be a finite float tensor of shape (modes, {', '.join(map(str, shape))})"
    if isinstance(std, bool) or not isinstance(std, (int, float)) or not 0 < std < math.inf:
        return f"mixture std {shown_value(std)} is not a positive finite number"
    return None


def shown_value(value: Any) -> str:
    """``repr(value)``, cut short: a damaged field can be megabytes long, and a message is one line."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


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


@dataclass(frozen=True)
class SuiteSpec:
    """A benchmark suite: ``path`` is its TOML file (see docs/benchmarks.md), read and validated when the suite is
    listed or run; ``name`` must be the file's ``name``. Ship the file as package data, e.g.
    ``SuiteSpec("my-suite", Path(__file__).parent / "suites" / "my-suite.toml")``."""

    name: str
    path: Path
