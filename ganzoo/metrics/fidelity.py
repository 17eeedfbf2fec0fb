"""Image metrics through torch-fidelity: FID, KID, precision/recall and, where the weights allow, IS.

torch-fidelity does the computing; ganzoo hands it two inputs:

- the generator, wrapped to turn torch-fidelity's noise into the run's prior,
  draw class labels itself, and give uint8 images in batches on the generator's
  device. (torch-fidelity 0.4.0 draws labels with ``np.int``, which NumPy 1.24
  removed, so a conditional generator is reported to it as unconditional);
- the reference images as uint8, cached by torch-fidelity under a name made of
  the data set and split, a SHA-256 of their pixels and of the Inception
  weights (torch-fidelity adds the extractor and layer): a second evaluation
  against the same data reuses the statistics, and a changed image changes the
  name, so stale statistics are never read.

Pixels go from [-1, 1] to bytes as ``round((x + 1) * 127.5)``, the exact
inverse of how the data sets scale bytes, so real images reach the Inception
network unchanged. Grayscale images are repeated over three channels.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from pathlib import Path
from typing import Any

import torch
import torch_fidelity
from torch import nn
from torch_fidelity import GenerativeModelBase

from ganzoo.api.metric import MIN_SAMPLES
from ganzoo.api.prior import Prior, forward
from ganzoo.errors import GanzooError, one_line
from ganzoo.metrics.inception import InceptionWeights
from ganzoo.utils import cache_dir, eval_mode, seeded_draws

KID_SUBSET_SIZE = 1000
PRC_NEIGHBORHOOD = 3


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """Images in [-1, 1] as uint8 with three channels, as torch-fidelity's Inception takes them."""
    pixels = ((images.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return pixels.expand(-1, 3, -1, -1) if pixels.shape[1] == 1 else pixels


class UInt8Generator(GenerativeModelBase):
    """The generator as torch-fidelity's generative-model input: noise in, uint8 images out."""

    def __init__(self, generator: nn.Module, prior: Prior, seed: int):
        super().__init__()
        self.generator = generator
        self.prior = prior
        self.labels = torch.Generator(device=prior.device).manual_seed(seed)

    # torch-fidelity reads these three attributes
    @property
    def z_size(self) -> int:
        return self.prior.z_dim

    @property
    def z_type(self) -> str:
        return "uniform_0_1" if self.prior.kind == "uniform" else "normal"

    @property
    def num_classes(self) -> int:
        return 0  # labels are drawn here, see the module docstring

    @torch.no_grad()
    def forward(self, noise: torch.Tensor) -> torch.Tensor:
        noise = noise.to(self.prior.device)
        if self.prior.kind == "uniform":  # torch-fidelity's uniform noise is on [0, 1), the prior's on [-1, 1]
            noise = noise * 2 - 1
        labels = self.prior.sample_labels(len(noise), self.labels)
        return to_uint8(forward(self.generator, noise, labels))


class ReferenceImages(torch.utils.data.Dataset):
    """uint8 images for torch-fidelity's second input."""

    def __init__(self, pixels: torch.Tensor):
        self.pixels = pixels

    def __len__(self) -> int:
        return len(self.pixels)

    def __getitem__(self, index: int) -> torch.Tensor:
        return self.pixels[index]


def content_hash(pixels: torch.Tensor) -> str:
    """SHA-256 of the reference pixels and their shape: any changed image changes it."""
    digest = hashlib.sha256(json.dumps(list(pixels.shape)).encode())
    digest.update(pixels.contiguous().numpy().tobytes())
    return digest.hexdigest()


def fidelity_metrics(generator: nn.Module, prior: Prior, reference: torch.Tensor, *, num_generated: int,
                     seed: int, weights: InceptionWeights, reference_name: str,
                     cache_root: Path | None = None) -> tuple[dict[str, float | None], dict[str, Any]]:
    """``(metrics, protocol)`` of ``generator`` against uint8 ``reference`` images, computed by torch-fidelity."""
    if min(num_generated, len(reference)) < MIN_SAMPLES:
        raise GanzooError(f"image metrics need at least {MIN_SAMPLES} generated and reference images (precision and "
                          f"recall use each one's {PRC_NEIGHBORHOOD}rd nearest neighbour); got {num_generated} "
                          f"and {len(reference)}")
    protocol = {
        "torch_fidelity": torch_fidelity.__version__,
        "num_generated": num_generated, "num_reference": len(reference),
        "reference_sha256": content_hash(reference), **weights.describe(),
        "resize": "torch-fidelity's TF1.x-compatible bilinear to 299x299", "uint8": "round((x + 1) * 127.5)",
        "kid_subset_size": min(KID_SUBSET_SIZE, num_generated, len(reference)),
        "prc_neighborhood": PRC_NEIGHBORHOOD, "sampling_seed": seed,
    }
    # torch-fidelity adds the extractor's name to its cache files; the weights' hash tells apart two sets of
    # weights under one extractor name (the offline copy and a local file both use ganzoo's extractor)
    cache_name = f"{reference_name}-{protocol['reference_sha256'][:16]}-{weights.sha256[:8]}"
    cuda = prior.device.type == "cuda"
    # torch-fidelity moves the model and features to the current CUDA device: make that the generator's
    on_device = torch.cuda.device(prior.device) if cuda else contextlib.nullcontext()
    try:
        with on_device, eval_mode(generator), seeded_draws(seed, prior.device):
            result = torch_fidelity.calculate_metrics(
                input1=UInt8Generator(generator, prior, seed), input1_model_num_samples=num_generated,
                input2=ReferenceImages(reference), input2_cache_name=cache_name,
                cuda=cuda, isc=weights.has_logits, fid=True, kid=True, prc=True,
                feature_extractor=weights.extractor,
                feature_extractor_weights_path=str(weights.path),
                kid_subset_size=protocol["kid_subset_size"], prc_neighborhood=PRC_NEIGHBORHOOD, rng_seed=seed,
                cache=True, cache_root=str(cache_root or cache_dir() / "fidelity"), save_cpu_ram=True,
                verbose=False)
    except GanzooError:
        raise
    except Exception as exc:  # torch-fidelity's own checks raise bare exceptions
        raise GanzooError(f"torch-fidelity failed: {one_line(exc)}") from exc
    metrics: dict[str, float | None] = {
        "fid": float(result["frechet_inception_distance"]),
        "kid": float(result["kernel_inception_distance_mean"]),
        "kid_std": float(result["kernel_inception_distance_std"]),
        "precision": float(result["precision"]),
        "recall": float(result["recall"]),
        "inception_score": float(result["inception_score_mean"]) if weights.has_logits else None,
    }
    if not weights.has_logits:
        protocol["inception_score"] = "unavailable: these Inception weights have no classifier (logits) layer"
    return metrics, protocol
