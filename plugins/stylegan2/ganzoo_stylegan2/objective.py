"""The ``stylegan2`` objective: non-saturating loss, lazy R1, and lazy path-length regularisation.

The losses and R1 are ``ganzoo-r1``'s (imported: ``NonSaturatingR1``), with
R1 every ``r1_interval`` = 16 discriminator steps. Path-length regularisation
(Karras et al. 2020, section 3.2, eq. 4; Appendix B) is computed as the
release's ``Gpl`` phase does it (training/loss.py of NVlabs/stylegan2-ada-pytorch):

- a fresh batch of ``batch_size // pl_batch_shrink`` latent codes (and labels)
  is mapped to per-layer codes ws (with style mixing, as in training) and
  synthesised into images x of side H x W;
- y ~ N(0, I) / sqrt(H W), and g = grad_ws sum(x * y), the Jacobian-vector
  product J_w^T y of eq. 4, taken with a graph so its own gradient trains G;
- the length is a = sqrt(mean over layers of ||g_layer||^2);
- the running mean moves first, mu <- mu + pl_decay (mean(a) - mu), and the
  penalty is pl_weight * mean((a - mu)^2), mu taken with its dependence on
  this batch (the release uses the updated mean undetached; the stored value is
  detached).

The runner (``alternating``) adds it after every ``pl_interval``-th generator
step (steps 0, 4, 8, ...) in an optimizer step of its own, multiplied by the
interval, as the release's ``Greg`` phase with ``gain = G_reg_interval``.
mu is this objective's state: saved in checkpoints, restored on resume.

Defaults are the release's ``StyleGAN2Loss`` arguments and training_loop.py's
``G_reg_interval = 4``, ``D_reg_interval = 16``; the GANs of this plugin set
gamma (and, for the CIFAR-10 config, pl_weight = 0) as train.py does.

A generator must expose StyleGAN's split, ``mapping(z, labels)`` and
``synthesis(ws)``, for the penalty to differentiate with respect to w; other
generators are refused when the penalty is first due (set ``pl_weight = 0``,
or use the ``r1`` objective, for them).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import cast

import torch
from pydantic import Field
from torch import nn

from ganzoo import Options, StepContext, report
from ganzoo_r1 import NonSaturatingR1

CITATION = ("Karras, Laine, Aittala, Hellsten, Lehtinen and Aila 2020, Analyzing and Improving the Image Quality of "
            "StyleGAN, CVPR (arXiv:1912.04958), section 3.2 and Appendix B; R1: Mescheder, Geiger and Nowozin 2018 "
            "(arXiv:1801.04406)")


class StyleGAN2LossOptions(Options):
    gamma: float = Field(10.0, ge=0, description="R1 weight, gamma/2 E||grad D(x)||^2 (release default 10; "
                                                 "the GANs set their config's)")
    r1_interval: int = Field(16, ge=1, le=2**20, description="R1 every k-th step, times k (release: 16)")
    pl_weight: float = Field(2.0, ge=0, description="path-length penalty weight (release: 2; 0 turns it off)")
    pl_interval: int = Field(4, ge=1, le=2**20, description="path-length penalty every k-th generator step, "
                                                            "times k (release: 4)")
    pl_batch_shrink: int = Field(2, ge=1, le=2**20, description="the penalty's batch is batch_size divided by this "
                                                                "(release: 2)")
    pl_decay: float = Field(0.01, gt=0, le=1, description="rate of the running mean of path lengths (release: 0.01)")


def path_lengths(images: torch.Tensor, ws: torch.Tensor) -> torch.Tensor:
    """sqrt(mean over layers ||J^T y||^2) per sample, y ~ N(0, I) / sqrt(H W), with a graph for G's weights."""
    noise = torch.randn_like(images) / math.sqrt(images.shape[2] * images.shape[3])
    (grad,) = torch.autograd.grad((images * noise).sum(), ws, create_graph=True)
    squared = grad.square().sum(dim=-1)
    return (squared.mean(dim=1) if squared.dim() == 2 else squared).sqrt()


def has_style_split(generator: nn.Module) -> bool:
    return callable(getattr(generator, "mapping", None)) and callable(getattr(generator, "synthesis", None))


class StyleGAN2Loss(NonSaturatingR1):
    """Non-saturating losses, lazy R1 on D, lazy path-length regularisation on G."""

    def __init__(self, options: StyleGAN2LossOptions):
        super().__init__(options.gamma, options.r1_interval)
        self.pl_weight, self.pl_batch_shrink, self.pl_decay = options.pl_weight, options.pl_batch_shrink, \
            options.pl_decay
        self.g_penalty_every = options.pl_interval
        self.pl_mean = torch.zeros(())

    def g_penalty(self, ctx: StepContext) -> torch.Tensor | None:
        if self.pl_weight == 0:
            return None  # as the release: no penalty, no optimizer step of its own
        generator = ctx.step.networks["generator"]
        if not has_style_split(generator):
            raise ValueError("path-length regularisation needs a generator with mapping(z, labels) and "
                             "synthesis(w), as StyleGAN's; set objective_options.pl_weight = 0 or use objective 'r1'")
        batch = ctx.step.latents(max(1, ctx.step.batch_size // self.pl_batch_shrink))
        ws = self.per_layer_codes(generator, batch.samples, batch.labels)
        synthesis = cast(Callable[[torch.Tensor], torch.Tensor], generator.synthesis)
        lengths = path_lengths(synthesis(ws), ws)
        pl_mean = self.pl_mean.to(lengths).lerp(lengths.mean(), self.pl_decay)
        self.pl_mean = pl_mean.detach()
        report("pl_mean", self.pl_mean)
        return self.pl_weight * (lengths - pl_mean).square().mean()

    @staticmethod
    def per_layer_codes(generator: nn.Module, z: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        """The codes the penalty differentiates by: the generator's training codes (style mixing included) when
        it offers them, else its mapping's codes as they are."""
        if callable(getattr(generator, "training_ws", None)):
            return generator.training_ws(z, labels)  # type: ignore[operator]
        return generator.mapping(z) if labels is None else generator.mapping(z, labels)  # type: ignore[operator]

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {"pl_mean": self.pl_mean}

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        if set(state) != {"pl_mean"} or state["pl_mean"].dim() != 0:
            raise ValueError(f"the stylegan2 objective keeps one scalar, pl_mean; got {', '.join(sorted(state))}")
        self.pl_mean = state["pl_mean"].clone()
