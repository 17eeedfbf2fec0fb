"""The interface every training objective implements.

The runner calls, per generator step, ``d_steps`` times::

    loss = objective.discriminator_loss(D(real), D(fake))
    loss += objective.penalty(D, real, fake)        # if not None
    ...optimizer step on D...
    objective.after_discriminator_step(D)

then once ``objective.generator_loss(D(G(z)))`` and an optimizer step on G.
Scores are the discriminator's raw outputs, flattened to shape ``(batch,)``.
"""

from __future__ import annotations

import torch
from torch import nn


class Objective:
    """Base class for objectives; subclasses override the two losses at least."""

    def discriminator_loss(self, real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
        """Scalar loss the discriminator minimizes."""
        raise NotImplementedError

    def generator_loss(self, fake_scores: torch.Tensor) -> torch.Tensor:
        """Scalar loss the generator minimizes."""
        raise NotImplementedError

    def penalty(self, discriminator: nn.Module, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor | None:
        """An extra discriminator term that needs the network and its inputs (a gradient penalty)."""
        return None

    def after_discriminator_step(self, discriminator: nn.Module) -> None:
        """Called after every discriminator update (weight clipping goes here)."""

    def divergence_estimate(self, real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor | None:
        """The discriminator's estimate of the divergence being minimized, or None.

        The runner logs it as ``divergence`` so a user sees it fall during training.
        """
        return None
