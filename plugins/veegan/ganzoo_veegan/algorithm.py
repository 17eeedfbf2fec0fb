"""The ``veegan`` algorithm: a joint discriminator D(z, x), and a generator trained with a reconstructor of its codes.

Three networks (Srivastava et al. 2017): the generator G maps a code z ~ N(0, I) to a sample, the reconstructor F
maps a sample back to a code, and D tells the generator's pairs (z, G(z)), z from the prior, from the
reconstructor's pairs (F(x) + noise, x), x from the data. Each step:

1. ``d_steps`` updates of D on fresh batches of both kinds of pairs, with the run's objective:
   ``discriminator_loss(real_scores, fake_scores)``, "real" being the reconstructor's pairs (the data side) and
   "fake" the generator's (the prior side). F is not trained by this loss: it only makes D's data-side codes.
2. One update of G and F together (optimizer ``g``, as the released code trains them with one optimizer) on a
   fresh prior batch: ``generator_loss(D(z, G(z))) + reconstruction_weight * mean ||z - F(G(z))||^2``. The
   adversarial term reaches G only; F learns from the reconstruction term alone, on generated samples.

This is the paper's objective Ô: the mean of D over the generator's pairs (an estimate of the KL divergence
between the two joint distributions) plus an l2 autoencoder of the noise, E d(z, F(G(z))) (project page,
akashgit/VEEGAN ``index.md``; the released notebook's ``gen_loss``). With the default objective ``logistic-kl``
both losses are VEEGAN's own; any score-level objective may replace them (``nonsaturating``, ``minimax``,
``hinge``, ``lsgan``, ``wgan``), since G's term needs only the scores of its own pairs. Objectives that score
samples without their codes (step-level losses, gradient penalties) are refused.

Settings (sources in :mod:`ganzoo_veegan`): the reconstructor's p(z | x) is N(F(x), I) in the released notebook,
so D's data-side codes are F(x) plus unit Gaussian noise (``reconstructor_noise``), and the reconstruction term is
that Gaussian's negative log-likelihood of z, 0.5 ||z - F(G(z))||^2 up to a constant (``reconstruction_weight``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import torch
from pydantic import Field
from torch import nn

from ganzoo import Algorithm, DataInfo, Objective, Options, TrainingStep
from ganzoo_veegan.networks import DISCRIMINATOR, GENERATOR, RECONSTRUCTOR


class VeeganOptions(Options):
    reconstruction_weight: float = Field(0.5, ge=0, le=1e4, description=(
        "weight of mean ||z - F(G(z))||^2 in the loss of G and F (0.5: the released notebook's -log N(z; F(G(z)), "
        "I) without its constant); 0 leaves F untrained, the ablation without the noise autoencoder"))
    reconstructor_noise: float = Field(1.0, ge=0, le=100, description=(
        "standard deviation of the Gaussian noise added to F(x) in D's data-side pairs, the reconstructor's "
        "p(z | x) = N(F(x), noise^2 I) (notebook: 1); 0 pairs the data with F(x) itself"))


def reconstruction_error(codes: torch.Tensor, reconstructed: torch.Tensor) -> torch.Tensor:
    """mean_i ||z_i - F(G(z_i))||^2: the squared Euclidean distance in code space, averaged over the batch."""
    if codes.shape != reconstructed.shape:
        raise ValueError(f"the reconstructor gave codes of shape {tuple(reconstructed.shape)} for codes of shape "
                         f"{tuple(codes.shape)}; it must map a sample back to a code of z_dim numbers")
    return (codes - reconstructed).square().flatten(1).sum(dim=1).mean()


class Veegan(Algorithm):
    """D(z, x) against G; G and F trained on D's score of (z, G(z)) and the code reconstruction; see the module."""

    optimizers = {"g": (GENERATOR, RECONSTRUCTOR), "d": (DISCRIMINATOR,)}
    generator = GENERATOR
    # The runner's TrainingStep.discriminate hands a discriminator samples only, and D needs their codes too, so
    # this algorithm calls D itself and declares none for the runner to probe (as ``ali`` does).
    discriminators = ()

    def __init__(self, options: VeeganOptions):
        self.options = options

    def build_networks(self, gan: Callable[[], dict[str, nn.Module]], info: DataInfo,
                       z_dim: int) -> dict[str, nn.Module]:
        networks = gan()
        missing = [name for name in (GENERATOR, RECONSTRUCTOR, DISCRIMINATOR) if name not in networks]
        if missing:
            raise ValueError(f"veegan trains networks named {GENERATOR}, {RECONSTRUCTOR} (F) and {DISCRIMINATOR} "
                             f"D(z, x); this GAN builds {', '.join(sorted(networks))}: use gan = \"veegan-mlp\"")
        return networks

    def check(self, networks: Mapping[str, nn.Module], objective: Objective) -> None:
        problem = objective.score_level_problem()
        if problem:
            raise ValueError(problem)

    def data_codes(self, reconstructor: nn.Module, samples: torch.Tensor) -> torch.Tensor:
        """Codes drawn from the reconstructor's p(z | x) = N(F(x), noise^2 I), without gradients."""
        with torch.no_grad():
            codes = reconstructor(samples)
            if self.options.reconstructor_noise:
                codes = codes + self.options.reconstructor_noise * torch.randn_like(codes)
        return codes

    @staticmethod
    def scores(discriminator: nn.Module, codes: torch.Tensor, samples: torch.Tensor) -> torch.Tensor:
        """D(z, x) for each pair, checked to be one score per pair."""
        scores = discriminator(codes, samples)
        if scores.shape != (len(samples),):
            raise ValueError(f"D(z, x) gave scores of shape {tuple(scores.shape)} for {len(samples)} pairs; it "
                             "must give one per pair")
        return scores.float()

    def step(self, step: TrainingStep) -> None:
        objective, networks = step.objective, step.networks
        reconstructor, discriminator = networks[RECONSTRUCTOR], networks[DISCRIMINATOR]
        for _ in range(step.d_steps):
            real = step.real()
            with torch.no_grad():
                fake = step.generate()
            assert fake.latents is not None
            codes = self.data_codes(reconstructor, real.samples)
            # both kinds of pairs in one call of D, data side first
            scores = self.scores(discriminator, torch.cat([codes, fake.latents]),
                                 torch.cat([real.samples, fake.samples]))
            real_scores, fake_scores = scores.split([len(real), len(fake)])
            loss_d = objective.discriminator_loss(real_scores, fake_scores)
            step.optimize("d", loss_d)
            objective.after_discriminator_step(discriminator)
        step.report("loss_d", loss_d.detach())
        divergence = objective.divergence_estimate(real_scores.detach(), fake_scores.detach())
        if divergence is not None:
            step.report("divergence", divergence)

        fake = step.generate()
        assert fake.latents is not None
        adversarial = objective.generator_loss(self.scores(discriminator, fake.latents, fake.samples))
        error = reconstruction_error(fake.latents, reconstructor(fake.samples))
        step.optimize("g", adversarial + self.options.reconstruction_weight * error)
        step.report("loss_g", adversarial.detach())
        step.report("loss_rec", error.detach())
