"""ganzoo plugin ``r1``: the non-saturating loss with the R1 gradient penalty, applied lazily as in StyleGAN2.

Losses (Goodfellow et al. 2014, non-saturating; C is the discriminator's logit)::

    L_D = E_data[softplus(-C(x))] + E_G[softplus(C(x))]     (= -E log sigmoid(C(x_r)) - E log(1 - sigmoid(C(x_f))))
    L_G = E_G[softplus(-C(x))]                              (= -E log sigmoid(C(x_f)))

and, logged as ``divergence``, (log 4 - L_D) / 2, the Jensen-Shannon estimate of their Theorem 1.

R1 (Mescheder, Geiger and Nowozin 2018, eq. 9), a zero-centred gradient
penalty on real data only::

    R1 = gamma / 2 * E_{x ~ P_data}[ ||grad_x C(x)||^2 ]

computed on the step's real batch, detached from whatever made it and scored
again with ``ctx.discriminate`` (through the run's augmentation, as
StyleGAN2-ADA's ``run_D`` does), with ``create_graph=True`` so that the
penalty's own gradient reaches D's weights. For a discriminator that scores
packs of m samples (PacGAN), x is the pack and E is over packs: the squared
gradient summed over the whole batch, divided by the number of scores.

Lazy regularisation (Karras et al. 2020, StyleGAN2, Appendix B): the penalty is
computed every k = ``interval`` minibatches only, in an optimizer step of its
own, multiplied by k so its weight per minibatch is unchanged. This plugin sets
``d_penalty_every = interval``; the runner (``alternating``) runs the penalty
after the discriminator's update at steps 0, k, 2k, ... and multiplies it by k
itself. ``interval = 1`` is plain R1, added to every discriminator step's loss.
This is what the released code does (github.com/NVlabs/stylegan2-ada-pytorch):
training/loss.py, lines 111-131 (the ``Dreg`` phase: ``real_img.detach().requires_grad_(True)``,
``torch.autograd.grad(..., create_graph=True)``, ``r1_grads.square().sum([1,2,3])``,
``* (self.r1_gamma / 2)``, ``.mean().mul(gain)``), with ``gain = phase.interval`` and
phases run when ``batch_idx % phase.interval == 0`` in training/training_loop.py.

Optimizer settings (not applied by this plugin). StyleGAN2 also adjusts the
optimizer that takes the lazy steps, because it now steps k + 1 times per k
minibatches (training_loop.py, "Setup training phases")::

    mb_ratio = k / (k + 1);   lr' = lr * mb_ratio;   betas' = [beta ** mb_ratio for beta in betas]

To match StyleGAN2, set the discriminator's optimizer to those values; for
k = 16 and StyleGAN2's Adam (lr 0.002, betas (0, 0.99))::

    --set optimizer_d.lr=0.00188235 --set optimizer_d.betas=[0.0,0.99058546]

This is left to the user because it is an optimizer setting, not part of the
loss: an objective's ``defaults`` can only set absolute values, which would
override the GAN's own learning rate and betas instead of rescaling them, the
rescaling is specific to Adam's betas, and with k = 16 it changes the learning
rate by 6 %. ganzoo's objectives never rewrite the optimizer a run asks for.

Default gamma = 10: StyleGAN2-ADA's default (``r1_gamma=10`` in loss.py, and
``gamma=10`` in train.py's ``stylegan2`` config), in eq. 9's convention
(gamma / 2 in front). Mescheder et al.'s released configs (github.com/LMescheder/GAN_stability,
configs/*.yaml) set ``reg_param: 10`` too, but their trainer (gan_training/train.py) adds
``reg_param * E||grad||^2`` without the 1/2: gamma = 20 in eq. 9's terms; set ``gamma = 20`` to match it.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from pydantic import Field

from ganzoo import Objective, ObjectiveSpec, Options, Reference, StepContext, hookimpl

ganzoo_plugin_api = "2.2"  # references

CITATION = ("Mescheder, Geiger and Nowozin 2018, Which Training Methods for GANs do actually Converge?, ICML "
            "(arXiv:1801.04406), eq. 9; lazy: Karras et al. 2020, Analyzing and Improving the Image Quality of "
            "StyleGAN, CVPR (arXiv:1912.04958), Appendix B")
MESCHEDER_2018 = Reference(
    authors=("Mescheder, Lars", "Geiger, Andreas", "Nowozin, Sebastian"),
    title="Which Training Methods for GANs do actually Converge?",
    venue="Proceedings of the 35th International Conference on Machine Learning", year=2018, arxiv="1801.04406")
KARRAS_2020_STYLEGAN2 = Reference(
    authors=("Karras, Tero", "Laine, Samuli", "Aittala, Miika", "Hellsten, Janne", "Lehtinen, Jaakko", "Aila, Timo"),
    title="Analyzing and Improving the Image Quality of StyleGAN",
    venue="Proceedings of the IEEE/CVF Conference on Computer Vision and Pattern Recognition (CVPR)", year=2020,
    arxiv="1912.04958")


class R1Options(Options):
    gamma: float = Field(10.0, ge=0, description="gamma of R1 = gamma/2 E||grad D(x)||^2 (StyleGAN2's default: 10)")
    interval: int = Field(16, ge=1, description="compute the penalty every k-th step, times k (StyleGAN2: 16; "
                                                "1 = every discriminator step)")


Scorer = Callable[[torch.Tensor, torch.Tensor | None], torch.Tensor]


def r1_penalty(discriminate: Scorer, samples: torch.Tensor, labels: torch.Tensor | None, gamma: float) -> torch.Tensor:
    """gamma / 2 * E ||grad_x D(x)||^2 at ``samples`` (E over the scores), with a graph for D's weights."""
    real = samples.detach().requires_grad_(True)
    scores = discriminate(real, labels)
    (grad,) = torch.autograd.grad(scores.sum(), real, create_graph=True)
    return gamma / 2 * grad.square().sum() / scores.shape[0]


class NonSaturatingR1(Objective):
    """The non-saturating losses, with R1 on the discriminator every ``interval`` steps."""

    divergence_name = "JS(P, Q)"

    def __init__(self, gamma: float, interval: int):
        if gamma < 0 or interval < 1:
            raise ValueError(f"R1 needs gamma >= 0 and interval >= 1, got {gamma} and {interval}")
        self.gamma = gamma
        self.d_penalty_every = interval

    def discriminator_loss(self, real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
        return F.softplus(-real_scores).mean() + F.softplus(fake_scores).mean()

    def generator_loss(self, fake_scores: torch.Tensor) -> torch.Tensor:
        return F.softplus(-fake_scores).mean()

    def divergence_estimate(self, real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
        """(V + log 4) / 2, V = -L_D: the Jensen-Shannon estimate of Goodfellow et al.'s Theorem 1, as
        ``nonsaturating`` logs it (R1 keeps D from the unregularized optimum, so it is a rougher estimate)."""
        return (math.log(4) - self.discriminator_loss(real_scores, fake_scores)) / 2

    def d_penalty(self, ctx: StepContext) -> torch.Tensor | None:
        if self.gamma == 0:
            return None  # no penalty, and no optimizer step of its own (StyleGAN2 skips R1 when r1_gamma == 0)
        if ctx.real is None:
            raise ValueError("R1 penalises the gradient at real samples; the discriminator's step gave none")
        return r1_penalty(ctx.discriminate, ctx.real.samples, ctx.real.labels, self.gamma)


@hookimpl
def register_objectives(register):
    register(ObjectiveSpec(
        name="r1",
        build=lambda options: NonSaturatingR1(options.gamma, options.interval),
        citation=CITATION,
        references=(MESCHEDER_2018, KARRAS_2020_STYLEGAN2),
        description="non-saturating loss with the R1 penalty on real data (gamma 10), lazy every 16 steps",
        options=R1Options,
    ))
