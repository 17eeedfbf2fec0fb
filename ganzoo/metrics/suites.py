"""The core's metric suites, registered like a plugin's: ``toy-modes`` and ``torch-fidelity``."""

from __future__ import annotations

from typing import Any

from ganzoo.api.metric import EvaluationInput, Metric
from ganzoo.api.specs import LoadedData, MetricSpec
from ganzoo.metrics.toy import HIGH_QUALITY_STDS, TOY_NUM_SAMPLES, toy_metrics

IMAGES_DEFAULT_SAMPLES = 10_000
VEEGAN = "Srivastava et al. 2017, VEEGAN (arXiv:1705.07761); Lin et al. 2018, PacGAN (arXiv:1712.04086)"
FIDELITY = ("Heusel et al. 2017 (FID); Binkowski et al. 2018 (KID); Kynkaanniemi et al. 2019 (precision/recall); "
            "Salimans et al. 2016 (IS); computed by torch-fidelity (Obukhov et al. 2020)")


class ToyModes(Metric):
    """Mode coverage of a 2D Gaussian mixture (see :mod:`ganzoo.metrics.toy`)."""

    def evaluate(self, run: EvaluationInput) -> tuple[dict[str, Any], dict[str, Any]]:
        mixture = run.data.mixture
        assert mixture is not None
        count = run.settings.num_generated or TOY_NUM_SAMPLES
        protocol = {"dataset": run.dataset, "num_generated": count,
                    "high_quality_radius": f"{HIGH_QUALITY_STDS:g} std of the nearest mode",
                    "mixture_std": mixture.std, "sampling_seed": run.seed}
        return toy_metrics(run.sample(count), mixture), protocol


class FidelityMetrics(Metric):
    """FID, KID, precision/recall (and IS) through torch-fidelity (see :mod:`ganzoo.metrics.fidelity`)."""

    def evaluate(self, run: EvaluationInput) -> tuple[dict[str, Any], dict[str, Any]]:
        from ganzoo.metrics.fidelity import fidelity_metrics, to_uint8
        from ganzoo.metrics.inception import resolve_weights
        from ganzoo.sampling.generation import first_samples

        settings = run.settings
        if "pixels" not in run.cache:  # once per run: decoding a large reference split takes a while
            run.cache["pixels"] = first_samples(run.reference, settings.num_reference, to_uint8)
            run.cache["weights"] = resolve_weights(settings.inception_weights)
        metrics, protocol = fidelity_metrics(run.generator, run.prior, run.cache["pixels"],
                                             num_generated=settings.num_generated or IMAGES_DEFAULT_SAMPLES,
                                             seed=run.seed, weights=run.cache["weights"],
                                             reference_name=f"{run.dataset}-{run.reference_split}")
        return metrics, {"dataset": run.dataset, "reference_split": run.reference_split, **protocol}


def _mixture(data: LoadedData) -> bool:
    return data.mixture is not None


def _images(data: LoadedData) -> bool:
    return data.info.is_image


METRICS = [
    MetricSpec(name="toy-modes", build=lambda options: ToyModes(), applies=_mixture, citation=VEEGAN,
               description="2D mixtures: modes captured, high-quality samples (within 3 std), reverse KL"),
    MetricSpec(name="torch-fidelity", build=lambda options: FidelityMetrics(), applies=_images, citation=FIDELITY,
               description="images: FID, KID, precision/recall, IS where the Inception weights have logits"),
]
