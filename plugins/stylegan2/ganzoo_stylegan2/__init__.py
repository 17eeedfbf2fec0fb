"""ganzoo plugin ``stylegan2``: StyleGAN2 (Karras et al. 2020) with the configurations of StyleGAN2-ADA.

Networks: ``generator.py`` (mapping, modulated convolutions, noise, skip
generator), ``discriminator.py`` (residual or 'orig', minibatch stddev),
``layers.py`` (equalised learning rate), ``resample.py`` (the [1, 3, 3, 1]
filter); the objective ``stylegan2`` in ``objective.py``; train.py's configs in
``configs.py``. Each module states its sources. Where the papers are silent,
the authors' PyTorch release (github.com/NVlabs/stylegan2-ada-pytorch, files
train.py, training/networks.py, training/loss.py, training/training_loop.py) decides.

GANs (train.py's ``cfg_specs``; StyleGAN2-ADA, Karras et al. 2020, arXiv:2006.06676):

- ``stylegan2-32``, the ``cifar`` config (the ADA paper's CIFAR-10 runs):
  32x32; channel_base 32768 (fmaps 1), channel_max 512, so 512 channels at
  every resolution; 2 mapping layers; minibatch-stddev groups of 32; Adam lr
  0.0025, betas (0, 0.99); R1 gamma 0.01; batch 64; G average over 500 kimg
  with ramp-up 0.05; and the special cases of train.py for cfg 'cifar': path
  length weight 0, style mixing 0, D architecture 'orig'. Augmentation: ADA
  (``ganzoo-augment``'s ``ada``, train.py's default ``--aug=ada`` with
  ``augpipe`` 'bgc' and target 0.6), as in the ADA paper's CIFAR-10 runs.
- ``stylegan2``, the ``paper256`` config (the StyleGAN2 paper's setup as the
  ADA paper reproduces it at 256x256), for 64x64, 128x128 and 256x256:
  channel_base 16384 (fmaps 0.5), so min(16384 / res, 512) channels at
  resolution res (512 up to 32x32, 256 at 64, 128 at 128, 64 at 256); 8
  mapping layers (the paper's); minibatch-stddev groups of 8; Adam lr 0.0025,
  betas (0, 0.99); R1 gamma 1; batch 64; G average over 20 kimg, no ramp;
  style mixing 0.9, path length weight 2, residual D; no augmentation, as in
  the StyleGAN2 paper (set ``augmentation = "ada"`` for the ADA paper's
  runs). Chosen over train.py's
  'auto' config because its settings do not depend on the GPU count, and
  because 'auto' uses 2 mapping layers, not the paper's 8. 'auto' would set
  gamma = 0.0002 res^2 / batch (0.0128 at 64x64 with batch 64, 0.051 at 128,
  0.2 at 256): set ``objective_options.gamma`` to that for 'auto''s choice,
  as paper256's gamma = 1 was tuned at 256x256.

Both: z in R^512 from N(0, I), w in R^512; mapping learning-rate multiplier
0.01; w_avg decay 0.995; R1 every 16 D steps and path length every 4 G steps,
with Adam's lr and betas adjusted by mb_ratio = k / (k + 1) as the release
does (``configs.py``); conv_clamp 256 (train.py's default).

Departures, and why:

- fp32 throughout: the release runs the 4 highest resolutions in float16
  (num_fp16_res = 4); ganzoo's ``speed.precision`` decides precision for all
  networks alike.
- Order within a step: the release runs G's phases before D's for each
  minibatch; ganzoo's ``alternating`` runs D's step first. Each penalty still
  follows its own network's main step, on the same schedule (steps 0, k, 2k...).
- The moving average's decay (and ramp-up, ``ema.rampup``) are computed for
  batch 64, and so are not recomputed if ``batch_size`` changes. Likewise the
  mb_ratio adjustment assumes the default intervals.
- Images are clamped to [-1, 1] in eval mode (``generator.py``); eval batches
  of more than 16 run the modulated convolutions unfused (``layers.py``).
- Minibatch-stddev groups must divide the batch (the release asserts it too);
  a batch smaller than the group makes one group of the whole batch.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from ganzoo import DataInfo, GanSpec, ObjectiveSpec, Options, Reference, SuiteSpec, hookimpl
from ganzoo.layers import square_side
from ganzoo_stylegan2.configs import CIFAR, PAPER256, ReleaseConfig, run_defaults
from ganzoo_stylegan2.discriminator import Discriminator
from ganzoo_stylegan2.generator import Generator
from ganzoo_stylegan2.objective import CITATION as OBJECTIVE_CITATION
from ganzoo_stylegan2.objective import StyleGAN2Loss, StyleGAN2LossOptions

ganzoo_plugin_api = "2.2"  # references (register_suites: 2.1)

STYLEGAN2 = ("Karras, Laine, Aittala, Hellsten, Lehtinen and Aila 2020, Analyzing and Improving the Image Quality "
             "of StyleGAN, CVPR (arXiv:1912.04958)")
ADA = ("Karras, Aittala, Hellsten, Laine, Lehtinen and Aila 2020, Training Generative Adversarial Networks with "
       "Limited Data, NeurIPS (arXiv:2006.06676)")
KARRAS_2020_STYLEGAN2 = Reference(
    authors=("Karras, Tero", "Laine, Samuli", "Aittala, Miika", "Hellsten, Janne", "Lehtinen, Jaakko", "Aila, Timo"),
    title="Analyzing and Improving the Image Quality of StyleGAN",
    venue="Proceedings of the IEEE/CVF Conference on Computer Vision and Pattern Recognition (CVPR)", year=2020,
    arxiv="1912.04958")
KARRAS_2020_ADA = Reference(
    authors=("Karras, Tero", "Aittala, Miika", "Hellsten, Janne", "Laine, Samuli", "Lehtinen, Jaakko", "Aila, Timo"),
    title="Training Generative Adversarial Networks with Limited Data",
    venue="Advances in Neural Information Processing Systems 33", year=2020, arxiv="2006.06676")
MESCHEDER_2018 = Reference(
    authors=("Mescheder, Lars", "Geiger, Andreas", "Nowozin, Sebastian"),
    title="Which Training Methods for GANs do actually Converge?",
    venue="Proceedings of the 35th International Conference on Machine Learning", year=2018, arxiv="1801.04406")
SIDES = (64, 128, 256)
TEST_WIDTHS = {"w_dim": 16, "channel_base": 128, "channel_max": 16}  # a few CPU seconds for the conformance checks


class StyleGAN2Options(Options):
    """The networks' settings; defaults are the paper256 config's."""

    w_dim: int = Field(512, ge=1, le=4096, description="dimension of W (release: 512)")
    mapping_layers: int = Field(PAPER256.mapping_layers, ge=1, le=32, description="dense layers of the mapping "
                                                                                  "network (paper: 8)")
    channel_base: int = Field(PAPER256.channel_base, ge=1, le=2**20, description="channels at resolution r are "
                                                                                 "min(channel_base / r, channel_max)")
    channel_max: int = Field(512, ge=1, le=4096, description="most channels of any layer (release: 512)")
    style_mixing: float = Field(0.9, ge=0, le=1, description="probability of mixing two w's in a training batch")
    d_architecture: Literal["resnet", "orig"] = Field("resnet", description="residual D, or without shortcuts")
    mbstd_group: int = Field(PAPER256.mbstd_group, ge=1, le=2**20, description="minibatch-stddev group size")
    mbstd_channels: int = Field(1, ge=0, le=64, description="minibatch-stddev features (0: no such layer)")
    mapping_lr_multiplier: float = Field(0.01, gt=0, le=1, description="learning-rate multiplier of mapping layers")
    w_avg_beta: float = Field(0.995, ge=0, lt=1, description="decay of the tracked average w, used by truncation")
    conv_clamp: float | None = Field(256.0, gt=0, description="clamp activations to +-this (release: 256; "
                                                              "null: no clamp)")
    eval_noise: Literal["const", "random", "none"] = Field("random", description=(
        "noise inputs in eval mode: fresh draws (seeded by the sampling seed; the release's metrics), the "
        "network's fixed draw (the release's generate.py), or none (training: fresh draws)"))


class CifarOptions(StyleGAN2Options):
    """The cifar config's settings."""

    mapping_layers: int = Field(CIFAR.mapping_layers, ge=1, le=32, description="dense layers of the mapping "
                                                                               "network (cifar config: 2)")
    channel_base: int = Field(CIFAR.channel_base, ge=1, le=2**20, description="channels at resolution r are "
                                                                              "min(channel_base / r, channel_max)")
    style_mixing: float = Field(0.0, ge=0, le=1, description="probability of mixing two w's in a training batch "
                                                             "(cifar config: 0)")
    d_architecture: Literal["resnet", "orig"] = Field("orig", description="residual D, or without shortcuts "
                                                                          "(cifar config: orig)")
    mbstd_group: int = Field(CIFAR.mbstd_group, ge=1, le=2**20, description="minibatch-stddev group size")


def build_pair(info: DataInfo, z_dim: int, options: StyleGAN2Options, side: int) -> tuple[Generator, Discriminator]:
    image_shape = (info.shape[0], side, side)
    num_classes = info.condition_classes
    generator = Generator(z_dim, image_shape, w_dim=options.w_dim, mapping_layers=options.mapping_layers,
                          channel_base=options.channel_base, channel_max=options.channel_max,
                          num_classes=num_classes, style_mixing=options.style_mixing,
                          mapping_lr_multiplier=options.mapping_lr_multiplier, w_avg_beta=options.w_avg_beta,
                          clamp=options.conv_clamp, eval_noise=options.eval_noise)
    discriminator = Discriminator(image_shape, channel_base=options.channel_base, channel_max=options.channel_max,
                                  architecture=options.d_architecture, mbstd_group=options.mbstd_group,
                                  mbstd_channels=options.mbstd_channels, num_classes=num_classes,
                                  mapping_lr_multiplier=options.mapping_lr_multiplier, clamp=options.conv_clamp)
    return generator, discriminator


def build_32(info: DataInfo, z_dim: int, options: CifarOptions) -> tuple[Generator, Discriminator]:
    return build_pair(info, z_dim, options, square_side(info, "stylegan2-32", (32,)))


def build_large(info: DataInfo, z_dim: int, options: StyleGAN2Options) -> tuple[Generator, Discriminator]:
    return build_pair(info, z_dim, options, square_side(info, "stylegan2", SIDES))


def serving(side: int) -> tuple[DataInfo, ...]:
    return (DataInfo(shape=(3, side, side)), DataInfo(shape=(3, side, side), num_classes=10, conditional=True))


def description(config: ReleaseConfig, extra: str) -> str:
    return (f"StyleGAN2, train.py's '{config.name}' config: mapping network, modulated convolutions, noise, "
            f"skip G, {extra}; lazy R1 and path length; conditional: label embedding in G's mapping, projection D")


@hookimpl
def register_gans(register):
    register(GanSpec(
        name="stylegan2-32",
        build=build_32,
        default_objective="stylegan2",
        citation=f"{STYLEGAN2}; configuration: {ADA} (CIFAR-10)",
        references=(KARRAS_2020_STYLEGAN2, KARRAS_2020_ADA),
        description=description(CIFAR, "'orig' D; 32x32, no path length or style mixing"),
        options=CifarOptions,
        serves=serving(32),
        defaults={**run_defaults(CIFAR), "objective_options": {"gamma": CIFAR.gamma, "pl_weight": 0.0},
                  "augmentation": "ada"},
        test_options=TEST_WIDTHS,
    ))
    register(GanSpec(
        name="stylegan2",
        build=build_large,
        default_objective="stylegan2",
        citation=f"{STYLEGAN2}; configuration: {ADA} (paper256)",
        references=(KARRAS_2020_STYLEGAN2, KARRAS_2020_ADA),
        description=description(PAPER256, "residual D; 64x64, 128x128, 256x256"),
        options=StyleGAN2Options,
        serves=serving(64),
        defaults=run_defaults(PAPER256),
        test_options=TEST_WIDTHS,
    ))


@hookimpl
def register_objectives(register):
    register(ObjectiveSpec(
        name="stylegan2",
        build=StyleGAN2Loss,
        citation=OBJECTIVE_CITATION,
        references=(KARRAS_2020_STYLEGAN2, MESCHEDER_2018),
        description="non-saturating loss, lazy R1 (every 16 D steps) and lazy path-length penalty (every 4 G steps)",
        options=StyleGAN2LossOptions,
    ))


@hookimpl
def register_suites(register):
    register(SuiteSpec("cifar10-stylegan2-ada", Path(__file__).parent / "suites" / "cifar10-stylegan2-ada.toml"))
