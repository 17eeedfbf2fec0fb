"""ganzoo plugin ``fgan``: variational divergence minimization (Nowozin, Cseke and Tomioka 2016).

Data is P, the generator is Q. The discriminator maximizes
F = E_P[g_f(V(x))] - E_Q[f*(g_f(V(x)))], a lower bound on D_f(P || Q);
its loss is -F, and F is logged as the divergence estimate. The generator
step is either the saddle-point one (G minimizes F) or the paper's practical
alternative, G maximizes E_Q[g_f(V(x))].
"""

from __future__ import annotations

from typing import Literal

import torch
from pydantic import Field

from ganzoo import Objective, ObjectiveSpec, Options, Reference, hookimpl
from ganzoo_fgan.divergences import DIVERGENCES, FDivergence

ganzoo_plugin_api = "2.2"  # references

CITATION = ("Nowozin, Cseke and Tomioka 2016, f-GAN: Training Generative Neural Samplers using "
            "Variational Divergence Minimization, NeurIPS (arXiv:1606.00709)")
NOWOZIN_2016 = Reference(
    authors=("Nowozin, Sebastian", "Cseke, Botond", "Tomioka, Ryota"),
    title="f-GAN: Training Generative Neural Samplers using Variational Divergence Minimization",
    venue="Advances in Neural Information Processing Systems 29", year=2016, arxiv="1606.00709")


class FGanOptions(Options):
    generator_step: Literal["practical", "saddle"] = Field(
        "practical", description="practical: G maximizes E_Q[g_f(V)]; saddle: G minimizes the bound F")


class FGanObjective(Objective):
    def __init__(self, divergence: FDivergence, generator_step: str = "practical"):
        self.divergence = divergence
        self.generator_step = generator_step
        self.divergence_name = divergence.estimates  # F bounds D_f(P || Q) from below

    def bound(self, real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
        """F = E_P[g_f(V)] - E_Q[f*(g_f(V))] on one batch of each."""
        d = self.divergence
        return d.activation(real_scores).mean() - d.conjugate_of_activation(fake_scores).mean()

    def discriminator_loss(self, real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
        return -self.bound(real_scores, fake_scores)

    def generator_loss(self, fake_scores: torch.Tensor) -> torch.Tensor:
        if self.generator_step == "saddle":
            return -self.divergence.conjugate_of_activation(fake_scores).mean()
        return -self.divergence.activation(fake_scores).mean()

    def divergence_estimate(self, real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
        return self.bound(real_scores, fake_scores)


def _spec(divergence: FDivergence) -> ObjectiveSpec:
    return ObjectiveSpec(
        name=f"fgan-{divergence.name}",
        build=lambda options: FGanObjective(divergence, options.generator_step),
        citation=CITATION,
        references=(NOWOZIN_2016,),
        description=f"f-GAN, {divergence.title} divergence",
        options=FGanOptions,
    )


@hookimpl
def register_objectives(register):
    for divergence in DIVERGENCES.values():
        register(_spec(divergence))
