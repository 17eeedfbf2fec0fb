"""Metrics: what a registered metric suite is handed, and what it returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

if TYPE_CHECKING:
    from ganzoo.api.specs import LoadedData
    from ganzoo.training.config import MetricsConfig
    from ganzoo.training.prior import Prior


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
        from ganzoo.sampling.generation import generate

        return generate(self.generator, self.prior, n, self.seed)


class Metric:
    """A metric suite: ``evaluate`` returns ``(metrics, protocol)``, two JSON-ready dicts. The protocol says
    everything a reader needs to compare the figures: sample counts, reference, feature extractor, seeds."""

    def evaluate(self, run: EvaluationInput) -> tuple[dict[str, Any], dict[str, Any]]:
        raise NotImplementedError
