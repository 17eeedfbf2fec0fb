"""ganzoo plugin ``progan``: progressive growing of GANs (Karras, Aila, Laine and Lehtinen 2018, arXiv:1710.10196).

Contributes the GANs ``progan-32`` and ``progan-128``, the algorithm
``progressive`` (growing, :mod:`ganzoo_progan.growing`) and the objective
``wgan-gp-drift`` (:mod:`ganzoo_progan.objective`). The networks are in
:mod:`ganzoo_progan.networks`, their layers in :mod:`ganzoo_progan.layers`.
"the release" is the authors' code, github.com/tkarras/progressive_growing_of_gans
(networks.py, train.py, config.py, loss.py).

Settings shared by both GANs:

- networks: equalised learning rate, pixel norm in G (the latent too:
  ``normalize_latents``), minibatch standard deviation in D with groups of 4,
  leaky ReLU 0.2 (section 3, 4.1, 4.2; Table 2; the release's ``G_paper`` and
  ``D_paper``);
- channels by the release's rule ``min(fmap_base / 2^(stage fmap_decay), fmap_max)``
  with fmap_decay 1, fmap_max 512 (``G_paper``);
- latent: 512 dimensions, N(0, I) (Appendix A.1; the release's ``latent_size =
  nf(0)``);
- objective ``wgan-gp-drift``: lambda 10, eps_drift 0.001, n_critic 1 (Appendix
  A.1; loss.py);
- Adam, lr 0.001, betas (0, 0.99), epsilon 1e-8 (Appendix A.1; config.py
  ``G_opt``/``D_opt``; PyTorch's default epsilon). These are GAN *overrides*:
  with equalised learning rate the step size belongs to the architecture, so
  they hold whatever objective is chosen (``wgan-gp`` would otherwise bring
  1e-4, betas (0, 0.9));
- growing from 4x4 (see :mod:`ganzoo_progan.growing` for the schedule's
  formula and for short runs);
- a moving average of G with decay 0.999 for pictures and evaluation (Appendix
  A.1; ``G_smoothing``): ``ema.enabled = true``.

``progan-32`` is the configuration behind the paper's CIFAR-10 inception
score (section 6.4, 8.80 unsupervised), which the README says only the Theano
version of the release (branch ``original-theano-version``) reproduces: its
config.py, block "Section 6.4.2: CIFAR10 inception scores", on top of the
baseline of Appendix A.1: 32x32, unconditional, no mirror augmentation;
fmap_base 4096 (512 maps up to 16x16, 256 at 32x32); 400 kimg per resolution
and 400 per fade; no learning-rate ramp-up (``rampup_kimg = 0``); batch 16
(``minibatch_default``); gradient-penalty target gamma 750
(``iwass_target``); 15,000 kimg in all (``total_kimg``), so 937,500 steps. Its
D's minibatch statistic is ``Tstdeps`` averaged over ``all``: one standard
deviation over the whole minibatch, here ``mbstd_group_size`` = the batch, 16.

``progan-128`` is the TensorFlow release's config.py ``celeba`` entry with the
"preset-v2-1gpu" it ships enabled: 128x128 (its dataset_tool crops CelebA to
the centre 128x128 around (89, 121)), fmap_base 8192 (512 maps up to 32x32,
then 256 and 128), groups of 4 for the minibatch statistic, 600 kimg per
resolution and per fade (train.py ``TrainingSchedule``), batch 16 (the
preset's 128x128 entry), 12,000 kimg in all, so 750,000 steps.

Departures, and why:

- one batch size and learning rate for the whole run: ganzoo has no per-step
  batch size; the TensorFlow release grows its batch to 128 at low
  resolutions. ``progan-128`` takes the final resolution's batch.
- optimizer state is not reset when a fade starts or ends (the release's
  ``reset_opt_for_new_lod``): a ganzoo algorithm cannot reach the optimizers.
- no mirror augmentation for ``progan-128`` (the release flips CelebA real
  images at random): ganzoo's augmentations transform real and generated
  batches alike, which is not the same thing. ganzoo's ``celeba`` data set
  also crops differently (the centre 178x178, resized to 128x128).
- the data sets' levels of detail are averaged in floating point; the release
  stores each level rounded to 8 bits.
- the lod moves every step, not every 4 minibatches (``minibatch_repeats``).
- D's blocks pool after the activation, as the Theano release does; the
  TensorFlow release's fused layers (progan-128's source) pool before it
  (networks.py).
- ``progan-32`` reuses the TensorFlow release's networks (their layers match
  the Theano ``G_paper``/``D_paper`` of Table 2) and the minibatch statistic
  of grouped standard deviations with one group of the whole batch.
- no class-conditional variant: the release's is an AC-GAN (label logits from
  D and a classification loss), which ganzoo's objectives here do not compute.
- G's output is clipped to [-1, 1] in eval mode only (see networks.py); the
  release leaves it linear and clips when it writes images.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pydantic import Field, create_model

from ganzoo import AlgorithmSpec, DataInfo, GanSpec, ObjectiveSpec, Options, Reference, SuiteSpec, hookimpl
from ganzoo.layers import square_side
from ganzoo_progan.growing import Progressive, ScheduleOptions
from ganzoo_progan.networks import Discriminator, Generator, level_widths
from ganzoo_progan.objective import ADAM, DriftOptions, build_objective
from ganzoo_progan.objective import DEFAULTS as OBJECTIVE_DEFAULTS

ganzoo_plugin_api = "2.2"  # references (register_suites: 2.1)

PROGAN = ("Karras, Aila, Laine and Lehtinen 2018, Progressive Growing of GANs for Improved Quality, Stability, and "
          "Variation, ICLR (arXiv:1710.10196)")
WGAN_GP = "Gulrajani et al. 2017, Improved Training of Wasserstein GANs, NeurIPS (arXiv:1704.00028)"
KARRAS_2018 = Reference(
    authors=("Karras, Tero", "Aila, Timo", "Laine, Samuli", "Lehtinen, Jaakko"),
    title="Progressive Growing of GANs for Improved Quality, Stability, and Variation",
    venue="International Conference on Learning Representations", year=2018, arxiv="1710.10196")
GULRAJANI_2017 = Reference(
    authors=("Gulrajani, Ishaan", "Ahmed, Faruk", "Arjovsky, Martin", "Dumoulin, Vincent", "Courville, Aaron"),
    title="Improved Training of Wasserstein GANs", venue="Advances in Neural Information Processing Systems 30",
    year=2017, arxiv="1704.00028")
COMMON_DEFAULTS = {"z_dim": 512, "prior": "normal", "d_steps": 1, "ema": {"enabled": True, "decay": 0.999}}
OVERRIDES = {"optimizer_g": ADAM, "optimizer_d": ADAM}
TEST_OPTIONS = {"fmap_base": 64, "fmap_max": 8}  # a few CPU seconds for the conformance checks


@dataclass(frozen=True)
class ReleaseConfig:
    """What differs between the two GANs' published configurations (see the module docstring)."""

    side: int
    source: str
    batch: int
    total_kimg: int
    fmap_base: int
    mbstd_group_size: int
    phase_kimg: float
    target: float


CIFAR10 = ReleaseConfig(32, "the Theano release's CIFAR-10 config (section 6.4)", batch=16, total_kimg=15_000,
                        fmap_base=4096, mbstd_group_size=16, phase_kimg=400, target=750.0)
CELEBA = ReleaseConfig(128, "the release's celeba config", batch=16, total_kimg=12_000, fmap_base=8192,
                       mbstd_group_size=4, phase_kimg=600, target=1.0)


class ProganOptions(Options):
    fmap_base: int = Field(8192, ge=1, le=2**20, description="feature maps are fmap_base / 2^(stage fmap_decay), at "
                                                             "most fmap_max (release: 8192)")
    fmap_decay: float = Field(1.0, ge=0, le=16, description="log2 of the drop in feature maps per doubling of the "
                                                            "side (release: 1)")
    fmap_max: int = Field(512, ge=1, le=2**14, description="most feature maps of any layer (release: 512)")
    mbstd_group_size: int = Field(4, ge=0, le=2**10, description=(
        "samples per minibatch standard deviation group; the batch must be a multiple (release: 4; 0 or 1: none)"))
    normalize_latents: bool = Field(True, description="pixel-normalise the latent before G's first layer (release: "
                                                      "true)")


def options_for(config: ReleaseConfig) -> type[ProganOptions]:
    """ProganOptions with ``config``'s network settings as defaults."""
    return create_model(f"Progan{config.side}Options", __base__=ProganOptions,
                        fmap_base=(int, Field(config.fmap_base, ge=1, le=2**20, description=(
                            f"feature maps are fmap_base / 2^(stage fmap_decay), at most fmap_max ({config.source}: "
                            f"{config.fmap_base})"))),
                        mbstd_group_size=(int, Field(config.mbstd_group_size, ge=0, le=2**10, description=(
                            "samples per minibatch standard deviation group; the batch must be a multiple "
                            f"({config.source}: {config.mbstd_group_size}; 0 or 1: none)"))))


def progan_builder(name: str, side: int) -> Callable[[DataInfo, int, ProganOptions], tuple[Generator, Discriminator]]:
    def build(info: DataInfo, z_dim: int, options: ProganOptions) -> tuple[Generator, Discriminator]:
        square_side(info, name, (side,))
        if info.conditional:
            raise ValueError(f"{name} has no class-conditional variant (the release's is an AC-GAN); "
                             "set conditional = false")
        channels, levels = info.shape[0], int(math.log2(side))
        widths = level_widths(levels, options.fmap_base, options.fmap_decay, options.fmap_max)
        return (Generator(z_dim, channels, levels, widths, options.normalize_latents),
                Discriminator(channels, levels, widths, options.mbstd_group_size))
    return build


@hookimpl
def register_gans(register):
    for config in (CIFAR10, CELEBA):
        name = f"progan-{config.side}"
        register(GanSpec(
            name=name,
            build=progan_builder(name, config.side),
            default_objective="wgan-gp-drift",
            default_algorithm="progressive",
            citation=PROGAN,
            references=(KARRAS_2018,),
            description=f"progressive growing from 4x4 to {config.side}x{config.side}, {config.source}; "
                        "equalised lr, pixel norm, minibatch stddev",
            options=options_for(config),
            serves=(DataInfo(shape=(3, config.side, config.side)),),
            defaults={**COMMON_DEFAULTS, "batch_size": config.batch,
                      "steps": config.total_kimg * 1000 // config.batch,
                      "algorithm_options": {"lod_training_kimg": config.phase_kimg,
                                            "lod_transition_kimg": config.phase_kimg},
                      "objective_options": {"target": config.target}},
            overrides=OVERRIDES,
            test_options=TEST_OPTIONS,
        ))


@hookimpl
def register_algorithms(register):
    register(AlgorithmSpec(
        name="progressive",
        build=Progressive,
        citation=f"{PROGAN}, section 2 and Appendix A.1",
        references=(KARRAS_2018,),
        description="the alternating step with both networks at a level of detail that grows with the images "
                    "shown (release schedule: 600 kimg per resolution, 600 per fade)",
        options=ScheduleOptions,
    ))


@hookimpl
def register_objectives(register):
    register(ObjectiveSpec(
        name="wgan-gp-drift",
        build=build_objective,
        citation=f"{WGAN_GP}; drift term: {PROGAN}, Appendix A.1",
        references=(GULRAJANI_2017, KARRAS_2018),
        description="WGAN-GP (lambda 10) plus 0.001 E[D(x_real)^2]; n_critic 1, Adam 1e-3 (0, 0.99)",
        options=DriftOptions,
        defaults=OBJECTIVE_DEFAULTS,
    ))


@hookimpl
def register_suites(register):
    register(SuiteSpec("cifar10-progan", Path(__file__).parent / "suites" / "cifar10-progan.toml"))
