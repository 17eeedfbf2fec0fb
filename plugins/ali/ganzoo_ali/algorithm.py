"""The ``ali`` algorithm: a joint discriminator D(x, z) against an encoder and a generator trained together.

D learns to tell the encoder's pairs (x, E(x)), x from the data, from the generator's pairs (G(z), z), z from the
prior. G and E share one optimizer ``g`` and are updated together, as in both papers (ALI Algorithm 1; BiGAN
section 3.4), so that at the game's optimum the two joint distributions match and E inverts G (ALI section 2.3;
BiGAN Theorems 1-2). There is no reconstruction loss: E learns only through D's scores.

The losses come from the run's objective, which must treat real and generated scores alike up to a label swap
(``discriminator_loss(a, b) == discriminator_loss(-b, -a)``: the logistic, hinge and Wasserstein losses do):

- D minimises ``discriminator_loss(real_scores, fake_scores)``, real meaning the encoder's pairs;
- G and E minimise ``generator_loss(fake_scores) + generator_loss(-real_scores)``: each wants its own pairs taken
  for the other side's. With ``nonsaturating`` (the default) this is ALI's released loss, softplus(-D(G(z), z)) +
  softplus(D(x, E(x))) (``ali/bricks.py``, ``compute_losses``), and BiGAN's "inverted" objective (section 3.4);
  with ``minimax`` it is the papers' value function V(D, E, G) itself (ALI eq. 1; BiGAN eq. 3).

Each step takes ``d_steps`` discriminator updates, then one update of G and E, on fresh batches; the real and
generated pairs are scored in one call of D, as ALI's code does (``get_predictions``), so batch norm in D sees both.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn

from ganzoo import Algorithm, AlgorithmSpec, Objective, TrainingStep

ALI_CITATION = ("Dumoulin, Belghazi, Poole, Mastropietro, Lamb, Arjovsky and Courville 2017, Adversarially Learned "
                "Inference, ICLR (arXiv:1606.00704)")
BIGAN_CITATION = ("Donahue, Kraehenbuehl and Darrell 2017, Adversarial Feature Learning, ICLR (arXiv:1605.09782)")

ENCODER, DISCRIMINATOR = "encoder", "joint_discriminator"


def encoder_of(networks: Mapping[str, nn.Module]) -> nn.Module:
    """The encoder of a run trained with ``ali`` (``trainer.networks``): ``encoder(images)`` in eval mode gives
    their latent codes, shape ``(n, z_dim)`` (a stochastic encoder gives the mean of q(z | x))."""
    if ENCODER not in networks:
        raise ValueError(f"this run has no encoder (networks: {', '.join(sorted(networks))}); train it with "
                         "algorithm = \"ali\" and an ali-* GAN")
    return networks[ENCODER]


class AdversariallyLearnedInference(Algorithm):
    """D(x, z) against E and G together; see the module docstring."""

    optimizers = {"g": ("generator", ENCODER), "d": (DISCRIMINATOR,)}
    generator = "generator"
    # The runner's TrainingStep.discriminate hands a discriminator samples only, and D needs their codes too, so
    # this algorithm calls D itself and declares none for the runner to probe; check() probes it instead.
    discriminators = ()

    def check(self, networks: Mapping[str, nn.Module], objective: Objective) -> None:
        problem = objective.score_level_problem()
        if problem:
            raise ValueError(problem)
        a = torch.tensor([-2.0, -0.5, 0.3, 1.7])
        b = torch.tensor([1.1, -0.9, 2.4, -0.2])
        with torch.no_grad():
            swapped = objective.discriminator_loss(-b, -a)
            if not torch.allclose(objective.discriminator_loss(a, b), swapped, atol=1e-5):
                raise ValueError("the objective does not treat real and generated scores alike up to a label swap, "
                                 "so the encoder's side of the game is undefined; use nonsaturating, minimax, hinge "
                                 "or lsgan-pearson")
        z_dim = getattr(networks[ENCODER], "z_dim", None)
        if not isinstance(z_dim, int):
            raise ValueError("the encoder must say its code size as an int attribute z_dim (see ganzoo_ali)")

    def pair_scores(self, step: TrainingStep, *, train_players: bool) -> tuple[torch.Tensor, torch.Tensor]:
        """D's scores of a fresh batch of encoder pairs (x, E(x)) and one of generator pairs (G(z), z), with
        gradients into E and G only when ``train_players``."""
        encoder, discriminator = step.networks[ENCODER], step.networks[DISCRIMINATOR]
        real = step.real()
        with torch.set_grad_enabled(train_players):
            fake = step.generate()
            codes = encoder(real.samples)
        assert fake.latents is not None
        scores = discriminator(torch.cat([real.samples, fake.samples]), torch.cat([codes, fake.latents]))
        if scores.shape != (2 * len(real),):
            raise ValueError(f"D(x, z) gave scores of shape {tuple(scores.shape)} for {2 * len(real)} pairs; it "
                             "must give one per pair")
        return scores.float().split(len(real))

    def step(self, step: TrainingStep) -> None:
        objective = step.objective
        for _ in range(step.d_steps):
            real_scores, fake_scores = self.pair_scores(step, train_players=False)
            loss_d = objective.discriminator_loss(real_scores, fake_scores)
            step.optimize("d", loss_d)
            objective.after_discriminator_step(step.networks[DISCRIMINATOR])
        step.report("loss_d", loss_d)
        divergence = objective.divergence_estimate(real_scores.detach(), fake_scores.detach())
        if divergence is not None:
            step.report("divergence", divergence)

        real_scores, fake_scores = self.pair_scores(step, train_players=True)
        # the encoder's pairs are "real" to D: negating their scores swaps the labels for E's term
        loss_g = objective.generator_loss(fake_scores) + objective.generator_loss(-real_scores)
        step.optimize("g", loss_g)
        step.report("loss_g", loss_g)


ALI_ALGORITHM = AlgorithmSpec(
    name="ali",
    build=lambda options: AdversariallyLearnedInference(),
    citation=f"{ALI_CITATION}; {BIGAN_CITATION}",
    description="joint discriminator D(x, z) against an encoder E(x) and a generator G(z), E and G updated together",
)
