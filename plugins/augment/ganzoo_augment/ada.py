"""ADA, adaptive discriminator augmentation (Karras, Aittala, Hellsten, Laine, Lehtinen and Aila 2020).

Every image the discriminator scores, real or generated, goes through the pipeline of
:mod:`ganzoo_augment.pipeline` at probability ``p``. The probability adapts to how much D overfits, read from
the overfitting heuristic ``r_t = E[sign(D(x_real))]`` (Section 3, eq. 1), the mean sign of D's scores of the
(augmented) real images: every ``interval`` discriminator steps,

    p <- max(p + sign(r_t - target) * N / (kimg * 1000), 0)

with N the real images scored since the last adjustment, so that p can move from 0 to 1 in ``kimg``
thousand images. Defaults as in the paper and the authors' release (github.com/NVlabs/stylegan2-ada-pytorch,
train.py and training/training_loop.py): target 0.6, interval 4, kimg 500, p starting at 0, pipeline ``bgc``.

Departures from the release, both for ganzoo's step structure: its interval counts training iterations and
p moves after the iteration's generator step; here it counts discriminator steps that observe real scores
(the same with one D step per G step) and p moves right after the fourth one, before that iteration's
generator step. Its r_t also counts the real scores of the lazy R1 step (every 16th iteration); here the
R1 objective scores real images without reporting them, so r_t is the mean over the main D steps only.

Training statistics: ``ada_p`` (p in each D step) and ``ada_rt`` (r_t at each adjustment). With several
processes, r_t is taken over all of them, so every process keeps the same p.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.distributed as dist

from ganzoo import Augmentation, report
from ganzoo_augment.pipeline import augment

STATE = ("p", "signs", "scores", "images", "observed")


class ADA(Augmentation):
    """The pipeline's ``groups`` at an adaptive (or, with ``adaptive=False``, fixed) probability ``p``."""

    def __init__(self, groups: Sequence[str], *, p: float = 0.0, adaptive: bool = True, target: float = 0.6,
                 interval: int = 4, kimg: float = 500.0):
        self.groups = tuple(groups)
        self.adaptive, self.target, self.interval, self.kimg = adaptive, target, interval, kimg
        self.p = torch.tensor(p, dtype=torch.float32)  # float32 as in the release, so its updates round alike
        self.signs = torch.zeros((), dtype=torch.float64)
        self.scores = self.images = self.observed = 0
        self.batch = 0  # images in the batch last augmented: the real batch whose scores `observe` sees next

    def __call__(self, samples: torch.Tensor) -> torch.Tensor:
        if samples.dim() != 4:
            raise ValueError(f"ADA transforms images (batch, channels, height, width), got shape "
                             f"{tuple(samples.shape)}; use it with an image data set")
        self.batch = len(samples)
        return augment(samples, float(self.p), self.groups)

    def observe(self, real_scores: torch.Tensor) -> None:
        report("ada_p", float(self.p))
        if not self.adaptive:
            return
        self.signs = self.signs.to(real_scores.device) + real_scores.detach().sign().sum(dtype=torch.float64)
        self.scores += real_scores.numel()
        self.images += self.batch
        self.observed += 1
        if self.observed % self.interval == 0:
            self.adjust()

    def adjust(self) -> None:
        """Move p by one step towards the target of the heuristic, and start a new interval."""
        totals = torch.stack([self.signs, torch.tensor(float(self.scores), dtype=torch.float64,
                                                       device=self.signs.device),
                              torch.tensor(float(self.images), dtype=torch.float64, device=self.signs.device)])
        if dist.is_available() and dist.is_initialized():
            dist.all_reduce(totals)
        signs, scores, images = totals.tolist()
        overfitting = signs / scores
        direction = (overfitting > self.target) - (overfitting < self.target)
        self.p = (self.p + direction * images / (self.kimg * 1000)).clamp_min(0)
        report("ada_rt", overfitting)
        self.signs = torch.zeros((), dtype=torch.float64, device=self.signs.device)
        self.scores = self.images = 0

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {"p": self.p.clone(), "signs": self.signs.detach().cpu(), "scores": torch.tensor(self.scores),
                "images": torch.tensor(self.images), "observed": torch.tensor(self.observed)}

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        if sorted(state) != sorted(STATE):
            raise ValueError(f"ADA's state has {', '.join(STATE)}; got {', '.join(sorted(state)) or 'nothing'}")
        self.p = state["p"].to(torch.float32).reshape(())
        self.signs = state["signs"].to(torch.float64).reshape(())
        self.scores, self.images, self.observed = (int(state[key]) for key in ("scores", "images", "observed"))
