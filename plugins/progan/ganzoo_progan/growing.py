"""``progressive``: the alternating GAN step, at a level of detail set from the images shown so far.

The schedule is the release's ``TrainingSchedule`` (train.py). With ``T`` =
``lod_training_kimg`` and ``F`` = ``lod_transition_kimg`` (thousands of real
images), a run at side ``2^R`` starting at side ``2^S`` shows D the images in
phases of ``T + F``: phase p trains at a fixed resolution for T, then fades the
next one in for F::

    p   = floor(kimg / (T + F))
    lod = R - S - p - max(kimg - p (T + F) - T, 0) / F,   then at least 0

so lod falls linearly by 1 over each fade (alpha = 1 - frac(lod) rises from 0 to 1)
and stays whole in between. Images shown are counted as the release counts them,
one batch per discriminator step: ``step.index * batch_size * world_size * d_steps``
(the global batch: every process counts the same images).
The lod is a function of the step alone, so a checkpoint taken in the middle of a
fade resumes exactly (and the networks keep it in a buffer besides).

Values: the release's defaults (``TrainingSchedule``) are T = F = 600 kimg from
4x4; the paper (Appendix A.1) trained its 1024x1024 CelebA-HQ networks with
800 kimg each (the release's "preset-v1" config), and 600 for Table 1 and
Figure 4 (Appendix A.2). A short run that should reach its full resolution and
stay there for a while splits its images evenly into the ``2 (R - S) + 1``
phases: T = F = steps * batch_size / 1000 / (2 (R - S) + 1) (7 phases from 4x4
to 32x32).

Real images are shown at the same level of detail as generated ones (the
release's ``process_reals``; :func:`ganzoo_progan.layers.images_at_lod`):
every real batch the step draws, for the discriminator's losses, penalties and
any objective that scores real images in G's step.

Not done here, for want of a way in ganzoo's algorithm interface: the release
resets both optimizers' state (Adam's moments) whenever a fade starts or ends
(``reset_opt_for_new_lod``), and it changes the batch size and learning rate per
resolution (``minibatch_dict``, ``G_lrate_dict``). It also evaluates the schedule
every 4 minibatches (``minibatch_repeats``) rather than every step, so its lod
moves in stairs 4 batches wide; here it moves every step.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from fractions import Fraction

from pydantic import Field, field_validator
from torch import nn

from ganzoo import Alternating, Batch, Objective, Options, StepWrapper, TrainingStep
from ganzoo_progan.layers import images_at_lod
from ganzoo_progan.networks import Growing

KIMG_MAX = 1e6


class ScheduleOptions(Options):
    lod_initial_resolution: int = Field(4, ge=4, le=2**16, description=(
        "side of the images training starts at, a power of two (release: 4); the data's side or more trains at "
        "full resolution throughout, without growing"))
    lod_training_kimg: float = Field(600.0, ge=0, le=KIMG_MAX, description=(
        "thousands of real images shown at each resolution before the next fades in (release: 600, paper: 800)"))
    lod_transition_kimg: float = Field(600.0, ge=0, le=KIMG_MAX, description=(
        "thousands of real images over which each new resolution fades in (release: 600, paper: 800)"))

    @field_validator("lod_initial_resolution")
    @classmethod
    def _power_of_two(cls, side: int) -> int:
        if side & (side - 1):
            raise ValueError(f"must be a power of two such as 4, 8 or 16, got {side}")
        return side


def level_of_detail(images: int, levels: int, initial_resolution: int = 4, training_kimg: float = 600.0,
                    transition_kimg: float = 600.0) -> float:
    """The release's lod after ``images`` real images, for images of side ``2^levels``.

    Computed in exact fractions of the options as written (0.1 kimg is 100
    images, not 100.00000000000001), so phase boundaries fall on the image
    they name.
    """
    training = Fraction(str(training_kimg)) * 1000
    transition = Fraction(str(transition_kimg)) * 1000
    phase = training + transition
    index = math.floor(images / phase) if phase > 0 else 0
    lod = Fraction(levels - int(math.log2(initial_resolution)) - index)
    if transition > 0:
        lod -= max(images - index * phase - training, Fraction(0)) / transition
    return float(max(lod, Fraction(0)))


class RealsAtLod(StepWrapper):
    """The runner's step, with every real batch brought to the networks' level of detail."""

    def __init__(self, step: TrainingStep, lod: float):
        super().__init__(step)
        self.lod = lod

    def real(self, n: int | None = None) -> Batch:
        batch = self.inner.real(n)
        return Batch(images_at_lod(batch.samples, self.lod), batch.labels, batch.latents)


class Progressive(Alternating):
    """Sets both networks' lod from the images shown, then takes the alternating step with reals at that lod."""

    def __init__(self, options: ScheduleOptions):
        self.options = options

    def lod(self, images: int, levels: int) -> float:
        options = self.options
        return level_of_detail(images, levels, options.lod_initial_resolution, options.lod_training_kimg,
                               options.lod_transition_kimg)

    def check(self, networks: Mapping[str, nn.Module], objective: Objective) -> None:
        super().check(networks, objective)
        pair = [networks[name] for name in ("generator", "discriminator")]
        if not all(isinstance(network, Growing) for network in pair):
            raise ValueError("progressive grows networks that keep a level of detail (the progan-* GANs); "
                             "set algorithm = \"alternating\" for this GAN")
        if len({network.levels for network in pair if isinstance(network, Growing)}) != 1:
            raise ValueError("the generator and the discriminator are built for different image sides")

    def step(self, step: TrainingStep) -> None:
        generator, discriminator = step.networks["generator"], step.networks["discriminator"]
        assert isinstance(generator, Growing) and isinstance(discriminator, Growing)
        lod = self.lod(step.index * step.batch_size * step.world_size * step.d_steps, generator.levels)
        generator.set_lod(lod)
        discriminator.set_lod(lod)
        step.report("lod", lod)
        super().step(RealsAtLod(step, lod))
