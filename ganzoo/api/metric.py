"""Metrics: what a registered metric suite is handed, and what it returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from pydantic import Field, field_validator
from torch import nn

from ganzoo.api.options import StrictModel, finite_table
from ganzoo.api.prior import Prior, generate

if TYPE_CHECKING:
    from ganzoo.api.specs import LoadedData


MAX_SAMPLES = 10**7  # generated or reference samples per evaluation; published FIDs use 5 * 10**4
# precision/recall take each sample's k-th nearest neighbour (k = 3) among the others
MIN_SAMPLES = 4


class MetricsConfig(StrictModel):
    """How runs are measured: which registered metric suites, with how many samples, against what."""

    suites: list[str] | None = Field(None, description="registered metric suites to measure with (default: every "
                                                        "one that applies to the data; see 'ganzoo list metrics')")
    options: dict[str, dict[str, Any]] = Field(default_factory=dict, description="each suite's own options, by name")
    num_generated: int | None = Field(None, ge=MIN_SAMPLES, le=MAX_SAMPLES, description=(
        "generated samples per evaluation (default: each suite's own, 2,500 for the toy suite and 10,000 for "
        "images; published FIDs use 50,000)"))
    num_reference: int | None = Field(None, ge=MIN_SAMPLES, le=MAX_SAMPLES, description=(
        "reference images, the first of the split (default all)"))
    reference_split: str | None = Field(None, description="the data set's split to compare with (default the "
                                                           "training split, e.g. 'test')")
    inception_weights: Path | None = Field(None, description="a local torch-fidelity Inception weights file "
                                                             "(.pth or .safetensors); see docs/metrics.md")

    _finite_options = field_validator("options")(finite_table)


@dataclass
class EvaluationInput:
    """A generator to measure, and what to measure it against.

    ``data`` is the run's training data; ``reference`` the data to compare with
    (``metrics.reference_split``, by default the training data itself) and
    ``reference_split`` its name. ``settings`` is the run's ``[metrics]`` table
    (``num_generated`` None: the metric's own default). ``seed`` fixes the
    samples drawn. ``cache`` lives as long as the run, for work a metric does
    once per run (decoding its reference images, say).
    """

    generator: nn.Module
    prior: Prior
    data: LoadedData
    reference: LoadedData
    reference_split: str
    settings: MetricsConfig
    seed: int
    dataset: str
    cache: dict[str, Any] = field(default_factory=dict)

    def sample(self, n: int) -> torch.Tensor:
        """``n`` samples on the CPU from the metric's seed, the generator in eval mode."""
        return generate(self.generator, self.prior, n, self.seed)


class Metric:
    """A metric suite: ``evaluate`` returns ``(metrics, protocol)``, two JSON-ready dicts. The protocol says
    everything a reader needs to compare the figures: sample counts, reference, feature extractor, seeds."""

    def evaluate(self, run: EvaluationInput) -> tuple[dict[str, Any], dict[str, Any]]:
        raise NotImplementedError
