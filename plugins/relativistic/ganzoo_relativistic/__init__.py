"""ganzoo plugin ``relativistic``: the relativistic standard GAN (RSGAN) and its relativistic average variant (RaSGAN).

Jolicoeur-Martineau 2019 (arXiv:1807.00734). With C the critic's raw score
(the logit before any sigmoid), x_r ~ P real data and x_f ~ Q generated data:

RSGAN (the paper's L_D^RSGAN and L_G^RSGAN), on pairs (x_r, x_f)::

    L_D = -E[log sigmoid(C(x_r) - C(x_f))]
    L_G = -E[log sigmoid(C(x_f) - C(x_r))]

RaSGAN (L_D^RaSGAN and L_G^RaSGAN), each score against the other batch's mean score::

    L_D = -E_r[log sigmoid(C(x_r) - E_f C(x_f))] - E_f[log(1 - sigmoid(C(x_f) - E_r C(x_r)))]
    L_G = -E_f[log sigmoid(C(x_f) - E_r C(x_r))] - E_r[log(1 - sigmoid(C(x_r) - E_f C(x_f)))]

In both, the generator's loss is the discriminator's with real and fake swapped,
so G also pushes the real samples' relative realism down: its step needs real
scores (``generator_uses_real``), on a real batch of its own. Computed with
log sigmoid(a) = -softplus(-a) and log(1 - sigmoid(a)) = -softplus(a), finite
for any scores.

Checked against the released code (github.com/AlexiaJM/RelativisticGAN,
code/GAN_losses_iter.py, branches ``loss_D == 5`` and ``loss_D == 6``):

- RSGAN: ``BCE_stable(y_pred - y_pred_fake, 1)`` for D and
  ``BCE_stable(y_pred_fake - y_pred, 1)`` for G, BCE_stable being
  ``BCEWithLogitsLoss`` (mean): the i-th real sample is paired with the i-th
  fake one of the batch, as here.
- RaSGAN: the means are ``torch.mean`` over the batch and are not detached
  (D's gradient flows through them, as here). The code halves the sum,
  ``(BCE(...) + BCE(...)) / 2``; ganzoo follows the paper's equations
  (no 1/2), so L_D = 2 log 2 where all scores agree. A constant factor does not
  change Adam's steps (up to its epsilon); it halves SGD's step size.
- In the generator's step the code draws a fresh real batch and scores it
  with D's parameters frozen (``requires_grad = False``): the real scores are
  constants there. They are not detached here: real samples do not depend on
  G, so G's gradient is the same, and the gradient that reaches D in G's step
  is discarded (D's optimizer clears it before its own update).

``divergence`` (logged by the runner) is the relativistic divergence the
discriminator estimates (Jolicoeur-Martineau 2019b, "On Relativistic
f-Divergences", arXiv:1901.02474): with f(z) = log sigmoid(z) + log 2 (concave,
f(0) = 0), sup_C E[f(C(x_r) - C(x_f))] = log 2 - min L_D for RSGAN, and
2 log 2 - min L_D for RaSGAN (one f per term); 0 when C cannot tell P from Q.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ganzoo import Objective, ObjectiveSpec, Reference, StepContext, hookimpl

ganzoo_plugin_api = "2.2"  # references

CITATION = ("Jolicoeur-Martineau 2019, The relativistic discriminator: a key element missing from standard GAN, "
            "ICLR (arXiv:1807.00734)")
JOLICOEUR_MARTINEAU_2019 = Reference(
    authors=("Jolicoeur-Martineau, Alexia",),
    title="The Relativistic Discriminator: A Key Element Missing from Standard GAN",
    venue="International Conference on Learning Representations", year=2019, arxiv="1807.00734")
LOG_2 = math.log(2.0)


class Relativistic(Objective):
    """Shared by both: the generator's loss is ``relative_loss`` with the roles of real and fake swapped."""

    generator_uses_real = True  # the generator's step draws and scores a real batch too
    terms = 1  # log-sigmoid terms in the loss: the divergence estimate adds log 2 for each

    def relative_loss(self, real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
        """The discriminator's loss; called with (fake, real) it is the generator's."""
        raise NotImplementedError

    def discriminator_loss(self, real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
        return self.relative_loss(real_scores, fake_scores)

    def generator_loss(self, fake_scores: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError(f"{type(self).__name__} compares generated with real scores: the generator's loss "
                                  "needs both, through g_loss(ctx) (the alternating algorithm calls it)")

    def g_loss(self, ctx: StepContext) -> torch.Tensor:
        if ctx.real_scores is None:
            raise ValueError(f"{type(self).__name__} needs the real batch's scores in the generator's step "
                             "(generator_uses_real); the algorithm gave none")
        return self.relative_loss(ctx.fake_scores, ctx.real_scores)

    def divergence_estimate(self, real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
        return self.terms * LOG_2 - self.relative_loss(real_scores, fake_scores)


class RelativisticStandard(Relativistic):
    """RSGAN: -E log sigmoid(C(x_r) - C(x_f)) over the batch's pairs, = E softplus(C(x_f) - C(x_r))."""

    divergence_name = "RSGAN's relativistic divergence"

    def relative_loss(self, real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
        if real_scores.shape != fake_scores.shape:
            raise ValueError(f"RSGAN pairs real and generated samples one to one: got {tuple(real_scores.shape)} "
                             f"and {tuple(fake_scores.shape)} scores; use batches of the same size")
        return F.softplus(fake_scores - real_scores).mean()


class RelativisticAverageStandard(Relativistic):
    """RaSGAN: -E_r log sigmoid(C(x_r) - E_f C) - E_f log(1 - sigmoid(C(x_f) - E_r C)), means over the batch."""

    terms = 2
    divergence_name = "RaSGAN's relativistic average divergence"

    def relative_loss(self, real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
        real_term = F.softplus(fake_scores.mean() - real_scores).mean()  # -log sigmoid(C_r - mean C_f)
        fake_term = F.softplus(fake_scores - real_scores.mean()).mean()  # -log(1 - sigmoid(C_f - mean C_r))
        return real_term + fake_term


@hookimpl
def register_objectives(register):
    register(ObjectiveSpec(
        name="rsgan",
        build=lambda options: RelativisticStandard(),
        citation=CITATION,
        references=(JOLICOEUR_MARTINEAU_2019,),
        description="relativistic standard GAN: D and G compare each real score with a generated one's",
    ))
    register(ObjectiveSpec(
        name="ragan",
        build=lambda options: RelativisticAverageStandard(),
        citation=CITATION,
        references=(JOLICOEUR_MARTINEAU_2019,),
        description="relativistic average standard GAN (RaSGAN): each score against the other batch's mean",
    ))
