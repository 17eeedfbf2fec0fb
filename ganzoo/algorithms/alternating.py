"""``alternating``: k discriminator steps, then one generator step (Goodfellow et al. 2014, Algorithm 1).

Written against the public plugin API only, as any third-party algorithm would be.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn

from ganzoo.api.algorithm import Algorithm, ScoreLayout, TrainingStep
from ganzoo.api.objective import Objective, StepContext
from ganzoo.api.specs import AlgorithmSpec

CITATION = "Goodfellow et al. 2014, Generative Adversarial Nets, NeurIPS (arXiv:1406.2661), Algorithm 1"


class Alternating(Algorithm):
    """Each step: ``d_steps`` discriminator updates on fresh real and generated batches, then one generator
    update. Lazy penalties (``d_penalty_every`` or ``g_penalty_every`` above 1) get optimizer steps of their
    own every k-th step, scaled by k, as in StyleGAN2."""

    def check(self, networks: Mapping[str, nn.Module], objective: Objective) -> None:
        heads = ScoreLayout.of(networks["discriminator"]).heads
        if heads != objective.heads:
            raise ValueError(f"the discriminator gives {heads} scores per sample and the objective takes "
                             f"{objective.heads}; pick an objective made for this discriminator")

    def step(self, step: TrainingStep) -> None:
        objective = step.objective
        # Discriminator: k updates on fresh real and generated batches
        for _ in range(step.d_steps):
            ctx = self.discriminator_context(step)
            loss = objective.d_loss(ctx)
            penalty = objective.d_penalty(ctx) if objective.d_penalty_every == 1 else None
            step.optimize("d", loss if penalty is None else loss + penalty)
            objective.after_discriminator_step(step.networks["discriminator"])
        step.report("loss_d", loss)
        if penalty is not None:
            step.report("penalty", penalty)
        assert ctx.real_scores is not None
        divergence = objective.divergence_estimate(ctx.real_scores.detach(), ctx.fake_scores.detach())
        if divergence is not None:
            step.report("divergence", divergence)
        if self.lazy_due(step, objective.d_penalty_every):
            self.lazy_discriminator_penalty(step, ctx)

        # Generator: one update through the discriminator
        ctx = self.generator_context(step)
        loss = objective.g_loss(ctx)
        penalty = objective.g_penalty(ctx) if objective.g_penalty_every == 1 else None
        step.optimize("g", loss if penalty is None else loss + penalty)
        step.report("loss_g", loss)
        if penalty is not None:
            step.report("penalty_g", penalty)
        if self.lazy_due(step, objective.g_penalty_every):
            self.lazy_generator_penalty(step, ctx)

    @staticmethod
    def discriminator_context(step: TrainingStep) -> StepContext:
        real = step.real()
        with torch.no_grad():
            fake = step.generate()
        real_scores = step.discriminate(real.samples, real.labels, observe=True)
        fake_scores = step.discriminate(fake.samples, fake.labels)
        return StepContext(step, "discriminator", fake, fake_scores, real, real_scores)

    @staticmethod
    def generator_context(step: TrainingStep) -> StepContext:
        real = step.real() if step.objective.generator_uses_real else None
        fake = step.generate()
        real_scores = None if real is None else step.discriminate(real.samples, real.labels)
        return StepContext(step, "generator", fake, step.discriminate(fake.samples, fake.labels), real, real_scores)

    @staticmethod
    def lazy_due(step: TrainingStep, every: int) -> bool:
        return every > 1 and step.index % every == 0

    @staticmethod
    def lazy_discriminator_penalty(step: TrainingStep, ctx: StepContext) -> None:
        """The penalty, in an optimizer step of its own, times k. It gets the last discriminator step's context
        after that step's update: a penalty recomputes what needs a graph (R1 scores the real batch again)."""
        penalty = step.objective.d_penalty(ctx)
        if penalty is not None:
            step.optimize("d", penalty * step.objective.d_penalty_every)
            step.objective.after_discriminator_step(step.networks["discriminator"])
            step.report("penalty", penalty)

    @staticmethod
    def lazy_generator_penalty(step: TrainingStep, ctx: StepContext) -> None:
        """As for the discriminator: the generator step's context, after its update (path-length
        regularisation generates a batch of its own)."""
        penalty = step.objective.g_penalty(ctx)
        if penalty is not None:
            step.optimize("g", penalty * step.objective.g_penalty_every)
            step.report("penalty_g", penalty)


ALTERNATING = AlgorithmSpec(
    name="alternating",
    build=lambda options: Alternating(),
    citation=CITATION,
    description="k discriminator steps (d_steps), then one generator step; lazy penalties every k-th step",
)
