"""The interface every training objective implements.

An objective works at one of two levels, and may mix them:

- **scores** (most objectives): ``discriminator_loss(real_scores, fake_scores)``
  and ``generator_loss(fake_scores)``, optionally ``penalty(D, real, fake)``;
- **the step**: ``d_loss(ctx)``, ``g_loss(ctx)``, ``d_penalty(ctx)`` and
  ``g_penalty(ctx)`` receive a :class:`StepContext` (the step number, the real
  and generated batches with their labels, both batches' scores, the networks,
  and the runner's services). Their defaults call the score-level methods, so
  an objective overrides only what it needs: a relativistic loss needs the real
  scores in the generator's step, a lazy R1 penalty the step number.

The default algorithm (``alternating``) calls, ``d_steps`` times::

    loss = objective.d_loss(ctx)  (+ objective.d_penalty(ctx) when it is due)
    ...optimizer step on D...; objective.after_discriminator_step(D)

then ``objective.g_loss(ctx)`` (+ ``g_penalty``) and an optimizer step on G.
A penalty with ``d_penalty_every = k > 1`` (or ``g_penalty_every``) is lazy, as
in StyleGAN2: it is computed every k-th step only, in an optimizer step of its
own, and multiplied by k so that its weight per step stays the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import torch
from torch import nn

from ganzoo.api.state import Stateful

if TYPE_CHECKING:
    from ganzoo.api.algorithm import Batch, TrainingStep


@dataclass
class StepContext:
    """What an objective sees of one discriminator or generator step.

    ``real_scores`` is None in the generator's step unless the objective sets
    ``generator_uses_real`` (then the step draws a real batch and scores it).
    Scores have the shape ``(batch / pack,)`` (see :class:`ganzoo.ScoreLayout`).
    """

    step: TrainingStep
    phase: Literal["discriminator", "generator"]
    fake: Batch
    fake_scores: torch.Tensor
    real: Batch | None = None
    real_scores: torch.Tensor | None = None

    @property
    def index(self) -> int:
        """Generator steps completed before this one."""
        return self.step.index

    def discriminate(self, samples: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Scores of ``samples``, through the run's augmentation, as the step's own scores were computed."""
        return self.step.discriminate(samples, labels)


class Scorer(nn.Module):
    """The discriminator as ``D(x)``, with labels bound and the run's augmentation applied: what
    :meth:`Objective.penalty` receives, so a penalty scores its samples the way the losses do."""

    def __init__(self, step: TrainingStep, labels: torch.Tensor | None):
        super().__init__()
        self.step = step
        self.labels = labels

    def forward(self, samples: torch.Tensor) -> torch.Tensor:
        return self.step.discriminate(samples, self.labels)


# The methods through which an objective scores samples itself, rather than being handed the scores.
STEP_LEVEL = ("d_loss", "g_loss", "penalty", "d_penalty", "g_penalty")


class Objective(Stateful):
    """Base class for objectives; subclasses override the two score-level losses at least, or the step-level
    ``d_loss`` and ``g_loss``.

    Attributes:
        heads: scores per sample the losses take (see :class:`ganzoo.ScoreLayout`).
        generator_uses_real: the generator's step also draws and scores a real batch (relativistic losses).
        d_penalty_every, g_penalty_every: apply the penalty every k-th step only (lazy regularisation).
        divergence_name: what :meth:`divergence_estimate` estimates, in a few words (``"2 JS(P, Q) - log 4"``,
            ``"W1(P, Q)"``), P the data and Q the generator; None if it estimates none or does not say. The runner
            records it in ``provenance.json``, where ``ganzoo plot`` reads it to label the estimate's panel.
    """

    heads: int = 1
    generator_uses_real: bool = False
    d_penalty_every: int = 1
    g_penalty_every: int = 1
    divergence_name: str | None = None

    def defines(self, method: str) -> bool:
        """Whether this objective's class defines ``method`` itself rather than inheriting the base class's (for
        a runner or an algorithm that must know whether a penalty or a step-level loss is in play)."""
        return getattr(type(self), method) is not getattr(Objective, method)

    def score_level_problem(self) -> str | None:
        """Why this objective cannot serve an algorithm that calls its discriminator itself and hands the scores
        to ``discriminator_loss`` and ``generator_loss`` (ALI's D(x, z), VEEGAN's D(z, x)), or None if it can:
        a step-level loss or a penalty would score samples through the runner, without what the algorithm pairs
        them with, the scores are one per sample, and the generator's loss takes its own samples' scores alone."""
        own = [method for method in STEP_LEVEL if self.defines(method)]
        if own:
            return (f"the objective defines {', '.join(own)}, which score samples through the runner's "
                    "discriminator call; use a score-level objective such as nonsaturating, minimax or hinge")
        if self.heads != 1:
            return f"the objective takes {self.heads} scores per sample; this discriminator gives one"
        if self.generator_uses_real:
            return ("the objective's generator loss needs real samples' scores too (generator_uses_real); use a "
                    "score-level objective such as nonsaturating, minimax or hinge")
        return None

    # -- score level ---------------------------------------------------------

    def discriminator_loss(self, real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
        """Scalar loss the discriminator minimizes."""
        raise NotImplementedError(f"{type(self).__name__} implements neither discriminator_loss nor d_loss")

    def generator_loss(self, fake_scores: torch.Tensor) -> torch.Tensor:
        """Scalar loss the generator minimizes."""
        raise NotImplementedError(f"{type(self).__name__} implements neither generator_loss nor g_loss")

    def penalty(self, discriminator: nn.Module, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor | None:
        """An extra discriminator term that needs the network and its inputs (a gradient penalty).
        ``discriminator(x)`` scores ``x`` as the losses' scores were computed (labels bound, augmentation
        applied)."""
        return None

    def after_discriminator_step(self, discriminator: nn.Module) -> None:
        """Called after every discriminator update (weight clipping goes here)."""

    def divergence_estimate(self, real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor | None:
        """The discriminator's estimate of the divergence being minimized, or None.

        The runner logs it as ``divergence`` so a user sees it fall during training; say what it estimates in
        ``divergence_name``.
        """
        return None

    # -- step level ----------------------------------------------------------

    def d_loss(self, ctx: StepContext) -> torch.Tensor:
        """The discriminator's loss in one of its steps."""
        assert ctx.real_scores is not None
        return self.discriminator_loss(ctx.real_scores, ctx.fake_scores)

    def g_loss(self, ctx: StepContext) -> torch.Tensor:
        """The generator's loss in its step."""
        return self.generator_loss(ctx.fake_scores)

    def d_penalty(self, ctx: StepContext) -> torch.Tensor | None:
        """An extra term of the discriminator's loss, added when due (see ``d_penalty_every``)."""
        assert ctx.real is not None
        return self.penalty(Scorer(ctx.step, ctx.real.labels), ctx.real.samples, ctx.fake.samples)

    def g_penalty(self, ctx: StepContext) -> torch.Tensor | None:
        """An extra term of the generator's loss, added when due (see ``g_penalty_every``)."""
        return None
