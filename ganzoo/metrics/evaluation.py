"""Evaluation: the metrics that fit a data set, each record carrying its protocol.

2D Gaussian mixtures get the toy suite (modes, high-quality samples, reverse
KL); images get FID, KID, precision/recall and, where the Inception weights
have their classifier layer, IS, all computed by torch-fidelity.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from ganzoo.errors import GanzooError
from ganzoo.metrics.toy import HIGH_QUALITY_STDS, TOY_NUM_SAMPLES, toy_metrics
from ganzoo.registry.discovery import Zoo
from ganzoo.sampling.generation import first_samples, generate
from ganzoo.training.config import MetricsConfig, RunConfig, validate
from ganzoo.training.data import load_data
from ganzoo.training.prior import Prior

if TYPE_CHECKING:
    from ganzoo.metrics.inception import InceptionWeights
from ganzoo.api.specs import LoadedData

EVAL_SEED = 12345


def can_evaluate(data: LoadedData) -> bool:
    return data.mixture is not None or data.info.is_image


@dataclass
class Reference:
    """The real images metrics compare with: a data set, its split's name, and how many of its images."""

    data: LoadedData
    split: str
    settings: MetricsConfig
    decoded: torch.Tensor | None = None
    weights: InceptionWeights | None = None

    def pixels(self) -> torch.Tensor:
        """The reference images as uint8, decoded once per run (image by image for a lazy set, to keep memory
        at one byte a pixel)."""
        if self.decoded is None:
            from ganzoo.metrics.fidelity import to_uint8

            self.decoded = first_samples(self.data, self.settings.num_reference, to_uint8)
        return self.decoded

    def inception_weights(self) -> InceptionWeights:
        """The Inception weights of the metrics settings, found (and hashed) once per run."""
        if self.weights is None:
            from ganzoo.metrics.inception import resolve_weights

            self.weights = resolve_weights(self.settings.inception_weights)
        return self.weights


def reference_for(config: RunConfig, zoo: Zoo, data: LoadedData) -> Reference | None:
    """What image metrics compare with: the run's data, or the split ``metrics.reference_split`` names."""
    if not data.info.is_image:
        return None
    spec = zoo.datasets.get(config.dataset)
    options = dict(config.dataset_options)
    if config.metrics.reference_split is not None:
        options["split"] = config.metrics.reference_split
        data = load_data(config.model_copy(update={"dataset_options": options}), zoo)
    split = getattr(validate(spec.options, options, f"dataset_options for '{spec.name}'"), "split", "all")
    return Reference(data, str(split), config.metrics)


def evaluate(generator: nn.Module, prior: Prior, data: LoadedData, *, step: int, dataset: str,
             provenance: dict[str, Any], seed: int = EVAL_SEED, generator_weights: str = "raw",
             reference: Reference | None = None) -> dict[str, Any]:
    """One metrics record: ``{"step", "metrics", "protocol", "provenance", "time"}``."""
    if data.mixture is not None:
        metrics, protocol = _toy_record(generator, prior, data, dataset, seed)
    elif data.info.is_image:
        if reference is None:
            raise GanzooError(f"image metrics for '{dataset}' need reference images")
        metrics, protocol = _image_record(generator, prior, reference, dataset, seed)
    else:
        raise GanzooError(f"no metric fits data set '{dataset}': metrics need a Gaussian mixture or images")
    protocol.update({"generator_weights": generator_weights, "checkpoint_step": step, "prior": prior.kind})
    return {"step": step, "metrics": metrics, "protocol": protocol, "provenance": provenance, "time": time.time()}


def _toy_record(generator: nn.Module, prior: Prior, data: LoadedData, dataset: str,
                seed: int) -> tuple[dict[str, Any], dict[str, Any]]:
    assert data.mixture is not None
    samples = generate(generator, prior, TOY_NUM_SAMPLES, seed)
    protocol = {"suite": "toy-modes", "dataset": dataset, "num_generated": TOY_NUM_SAMPLES,
                "high_quality_radius": f"{HIGH_QUALITY_STDS:g} std of the nearest mode",
                "mixture_std": data.mixture.std, "sampling_seed": seed}
    return toy_metrics(samples, data.mixture), protocol


def _image_record(generator: nn.Module, prior: Prior, reference: Reference, dataset: str,
                  seed: int) -> tuple[dict[str, Any], dict[str, Any]]:
    from ganzoo.metrics.fidelity import fidelity_metrics

    metrics, protocol = fidelity_metrics(generator, prior, reference.pixels(),
                                         num_generated=reference.settings.num_generated, seed=seed,
                                         weights=reference.inception_weights(),
                                         reference_name=f"{dataset}-{reference.split}")
    return metrics, {"dataset": dataset, "reference_split": reference.split, **protocol}

