"""Evaluation: the metrics that fit a data set, each record carrying its protocol."""

from __future__ import annotations

import time
from typing import Any

from torch import nn

from ganzoo.build import Prior
from ganzoo.errors import GanzooError
from ganzoo.generation import generate
from ganzoo.metrics.toy import HIGH_QUALITY_STDS, TOY_NUM_SAMPLES, toy_metrics
from ganzoo.specs import LoadedData

EVAL_SEED = 12345


def can_evaluate(data: LoadedData) -> bool:
    return data.mixture is not None


def evaluate(generator: nn.Module, prior: Prior, data: LoadedData, *, step: int, dataset: str,
             provenance: dict[str, Any], seed: int = EVAL_SEED, num_samples: int = TOY_NUM_SAMPLES,
             generator_weights: str = "raw") -> dict[str, Any]:
    """One metrics record: ``{"step", "metrics", "protocol", "provenance", "time"}``."""
    if data.mixture is None:
        raise GanzooError(f"no metric fits data set '{dataset}' yet: the toy metrics need a Gaussian mixture")
    samples = generate(generator, prior, num_samples, seed)
    return {
        "step": step,
        "metrics": toy_metrics(samples, data.mixture),
        "protocol": {
            "suite": "toy-modes",
            "dataset": dataset,
            "num_generated": num_samples,
            "high_quality_radius": f"{HIGH_QUALITY_STDS:g} std of the nearest mode",
            "mixture_std": data.mixture.std,
            "generator_weights": generator_weights,
            "checkpoint_step": step,
            "sampling_seed": seed,
            "prior": prior.kind,
        },
        "provenance": provenance,
        "time": time.time(),
    }
