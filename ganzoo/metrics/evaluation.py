"""Evaluation: every registered metric suite that fits a run's data, each record carrying its protocol.

The core registers two suites, like a plugin would: ``toy-modes`` for 2D
Gaussian mixtures (modes, high-quality samples, reverse KL) and
``torch-fidelity`` for images (FID, KID, precision/recall and, where the
Inception weights allow, IS). ``metrics.suites`` narrows a run to some of them.
"""

from __future__ import annotations

import json
import math
import time
from typing import Any

from torch import nn

from ganzoo.api.metric import EvaluationInput, Metric
from ganzoo.api.prior import Prior
from ganzoo.api.specs import LoadedData
from ganzoo.errors import ConfigError, GanzooError, one_line
from ganzoo.registry.discovery import Zoo
from ganzoo.run.data import load_data, with_options
from ganzoo.run.plan import Part, RunPlan, describe

EVAL_SEED = 12345


class Evaluator:
    """The suites a run is measured with, built once per run, and the data they compare with."""

    def __init__(self, plan: RunPlan, zoo: Zoo, data: LoadedData):
        self.plan = plan
        self.data = data
        self.suites: list[tuple[Part, Metric]] = []
        for suite in plan.metrics:
            if suite.call(suite.spec.applies, data, what=f"say whether it applies to '{plan.config.dataset}'"):
                self.suites.append((suite, suite.build(check=lambda result: isinstance(result, Metric))))
            elif plan.config.metrics.suites is not None:
                raise ConfigError(f"metrics.suites names '{suite.name}', which does not apply to data set "
                                  f"'{plan.config.dataset}'")
        self.reference, self.split = self._reference() if self.suites else (data, "all")
        self.caches: dict[str, dict[str, Any]] = {part.name: {} for part, _ in self.suites}

    def __bool__(self) -> bool:
        return bool(self.suites)

    def _reference(self) -> tuple[LoadedData, str]:
        """What the suites compare with: the split ``metrics.reference_split`` names, or the training data."""
        dataset, settings = self.plan.dataset, self.plan.config.metrics
        if settings.reference_split is not None:
            options = {**self.plan.config.dataset_options, "split": settings.reference_split}
            dataset = with_options(dataset, options, f"dataset_options for '{dataset.name}' "
                                                     f"(with metrics.reference_split)")
            return load_data(dataset), settings.reference_split
        return self.data, str(getattr(dataset.options, "split", "all"))

    def evaluate(self, generator: nn.Module, prior: Prior, *, step: int, provenance: dict[str, Any],
                 seed: int = EVAL_SEED, generator_weights: str = "raw") -> list[dict[str, Any]]:
        """One record per suite: ``{"step", "metrics", "protocol", "provenance", "time"}``."""
        records = []
        for part, metric in self.suites:
            run = EvaluationInput(generator, prior, self.data, self.reference, self.split, self.plan.config.metrics,
                                  seed, self.plan.config.dataset, self.caches[part.name])
            metrics, protocol = part.call(metric.evaluate, run, what="evaluate",
                                          check=lambda result: isinstance(result, tuple) and len(result) == 2
                                          and all(isinstance(item, dict) for item in result))
            metrics, protocol = _json_ready(part, metrics), _json_ready(part, protocol)
            protocol = {**protocol, "suite": part.name, "generator_weights": generator_weights,
                        "checkpoint_step": step, "prior": prior.kind}
            records.append({"step": step, "metrics": metrics, "protocol": protocol,
                            "provenance": {**provenance, "metric": describe(part)}, "time": time.time()})
        return records


def _json_ready(part: Part, values: dict[str, Any]) -> dict[str, Any]:
    """``values`` with non-finite numbers as None (JSON has no NaN), checked to be JSON: a one-line error naming
    the suite otherwise."""
    def finite(value: Any) -> Any:
        if isinstance(value, float) and not math.isfinite(value):
            return None
        if isinstance(value, dict):
            return {key: finite(item) for key, item in value.items()}
        return [finite(item) for item in value] if isinstance(value, (list, tuple)) else value

    cleaned: dict[str, Any] = finite(values)
    try:
        json.dumps(cleaned, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise GanzooError(f"{part} returned a record that is not JSON ({one_line(exc)}); return numbers, strings, "
                          "lists and dicts (float(tensor) for a tensor)") from None
    return cleaned
