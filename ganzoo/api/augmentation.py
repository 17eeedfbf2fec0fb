"""Augmentations: applied to every batch a discriminator scores, real and generated alike (DiffAugment, ADA)."""

from __future__ import annotations

import torch

from ganzoo.api.state import Stateful


class Augmentation(Stateful):
    """Subclasses implement ``__call__``; adaptive ones also ``observe`` and keep their state in ``state_dict``.

    The runner applies the run's augmentation inside
    :meth:`ganzoo.TrainingStep.discriminate`, the one place a discriminator is
    called, so real and generated samples are transformed by the same
    distribution of operations. It must be differentiable with respect to its
    input: the generator learns through it. Random draws should come from
    torch's default generators, whose state checkpoints keep.
    """

    def __call__(self, samples: torch.Tensor) -> torch.Tensor:
        """The augmented batch, of the same shape."""
        raise NotImplementedError

    def observe(self, real_scores: torch.Tensor) -> None:
        """The discriminator's scores of augmented real samples, in each of its steps (for an adaptive
        strength such as ADA's overfitting heuristic); report what it adapts with ``ganzoo.report``."""
