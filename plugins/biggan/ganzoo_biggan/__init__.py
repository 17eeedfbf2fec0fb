"""ganzoo plugin ``biggan``: BigGAN (Brock, Donahue and Simonyan 2019, arXiv:1809.11096), its CIFAR-10 (32x32) and
ImageNet 128x128 configurations, and the ``biggan-hinge`` objective (hinge loss plus the orthogonal penalty).

What the paper fixes (section 3, Table 1 row 8, Appendix B): a class-conditional
G with one shared class embedding linearly projected to every conditional
batch norm's gain and bias; hierarchical latents (z split into one chunk per
block plus one, each block conditioned on [embedding, its chunk]); residual
up-blocks and, in D, residual down-blocks with a projection output; SAGAN's
self-attention; spectral norm in G and D; hinge loss; the off-diagonal
orthogonal regularisation of G (``biggan-hinge``, see ortho.py); a moving
average of G's weights (decay 0.9999) for sampling and evaluation; orthogonal
initialisation. networks.py and layers.py give the layers and their sources.

Where the text leaves a setting open, or the release departs from it, ganzoo
takes the authors' PyTorch release (ajbrock/BigGAN-PyTorch) and its launch
scripts, flag by flag:

``biggan-32``: scripts/launch_cifar_ema.sh. Batch 50, 4 D steps per G step,
Adam lr 2e-4 for both, betas (0, 0.999) and eps 1e-8 (utils.py's defaults for
--G_B1/--D_B1, --G_B2/--D_B2, --adam_eps), z in R^128 from N(0, I) (--dim_z
default), ch 64 for G and D (--G_ch/--D_ch defaults: 256-channel blocks), no
self-attention (--G_attn 0 --D_attn 0), N(0, 0.02) initialisation (--G_init
N02 --D_init N02), spectral-norm eps 1e-8 (--SN_eps default), moving average
from G step 1,000 with decay 0.9999 (--ema_start 1000, --ema_decay default).
The script trains 500 epochs: 125,000 G steps of 4 x 50 images.

``biggan-128``: scripts/launch_BigGAN_bs256x8.sh. Batch 2,048 (256 x 8
gradient accumulations), 1 D step, Adam lr 1e-4 for G and 4e-4 for D, betas
(0, 0.999), eps 1e-6, z in R^120 in 6 chunks of 20, shared embedding of 128,
ch 96, self-attention at 64x64 in G and D, orthogonal initialisation,
spectral-norm eps 1e-6, moving average from G step 20,000 with decay 0.9999.
Its README reports 150,000 G steps in about 15 days on 8 V100s.

Departures, and why:

- The release's scripts train without shared embeddings or hierarchical
  latents on CIFAR (launch_cifar_ema.sh passes neither --G_shared nor
  --hier), and with ``--G_ortho 0.0`` in both scripts. The paper's models
  have all three (Table 1, row 8; the appendix's CIFAR-10 run uses that row's
  settings), so both GANs here do: ``biggan-32`` with a 128-dimensional shared
  embedding (--shared_dim's default, dim_z) and z in 4 chunks of 32, and
  ``biggan-hinge`` with beta 1e-4 (``--set objective=hinge`` trains without).
- Learning rates, D steps and initialisation are the release scripts', not
  the paper's (5e-5 for G, 2e-4 for D, 2 D steps, the release parser's
  defaults; orthogonal initialisation, section 3, where launch_cifar_ema.sh
  draws N(0, 0.02)): its README calls the SA-GAN rates "the first corner we
  cut to bring training times down". ``--set optimizer_g.lr=5e-5 --set
  optimizer_d.lr=2e-4 --set d_steps=2 --set gan_options.init=ortho``
  trains as the paper.
- One batch of 2,048 instead of 8 accumulated batches of 256: the same
  gradient, but batch-norm statistics over the whole batch (the paper's
  cross-replica batch norm) rather than over each 256 (in fact over each
  GPU's 32 of them).
- The moving average copies G's batch-norm statistics and power-iteration
  vectors rather than averaging them (the release averages the whole state
  dict), and samples are always drawn in eval mode with those running
  statistics (the release does so with --G_eval_mode, set in the 128x128
  script only; its CIFAR samples use batch statistics). The paper's
  "standing statistics" are not computed.
- Biases start at 0, not at PyTorch's default (layers.py says why).
- Unconditional data: every image is class 0, as the release trains
  unconditional models (networks.py).
- Images of any channel count (Fashion-MNIST is grey): the last conv has the
  data's channels, D's first block takes them.
- The conformance checks (``test_options``) build both GANs at ch 8 and put
  biggan-128's self-attention at 32x32, to take seconds on a CPU.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field

from ganzoo import DataInfo, GanSpec, ObjectiveSpec, Options, Reference, SuiteSpec, hookimpl
from ganzoo.layers import square_side
from ganzoo_biggan.layers import Init
from ganzoo_biggan.networks import ARCHITECTURES, BigGANDiscriminator, BigGANGenerator
from ganzoo_biggan.ortho import CITATION as ORTHO_CITATION
from ganzoo_biggan.ortho import OrthogonalHinge, OrthogonalHingeOptions

ganzoo_plugin_api = "2.2"  # references (register_suites: 2.1)

BIGGAN = ("Brock, Donahue and Simonyan 2019, Large Scale GAN Training for High Fidelity Natural Image Synthesis, "
          "ICLR (arXiv:1809.11096); settings of the authors' release, github.com/ajbrock/BigGAN-PyTorch")
BROCK_2019 = Reference(
    authors=("Brock, Andrew", "Donahue, Jeff", "Simonyan, Karen"),
    title="Large Scale GAN Training for High Fidelity Natural Image Synthesis",
    venue="International Conference on Learning Representations", year=2019, arxiv="1809.11096")
LIM_2017 = Reference(kind="misc", authors=("Lim, Jae Hyun", "Ye, Jong Chul"), title="Geometric GAN", year=2017,
                     arxiv="1705.02894")
MAX_WIDTH = 4096
# What the conformance checks build (8.6M and 157M parameters make minutes of CPU checks): ch 8, and biggan-128's
# self-attention at 32x32 rather than 64x64, whose 4096 x 1024 attention maps would take most of the checks' time
NARROW = {"g_channels": 8, "d_channels": 8}
NARROW_128 = {**NARROW, "g_attention": [32], "d_attention": [32]}


def adam(lr: float, eps: float = 1e-8) -> dict[str, Any]:
    return {"kind": "adam", "lr": lr, "betas": [0.0, 0.999], "eps": eps}  # --G_B1/--D_B1 0, --G_B2/--D_B2 0.999


BIGGAN32_DEFAULTS = {"z_dim": 128, "prior": "normal", "batch_size": 50, "d_steps": 4,
                     "optimizer_g": adam(2e-4), "optimizer_d": adam(2e-4),
                     "ema": {"enabled": True, "decay": 0.9999, "start": 1000}}
BIGGAN128_DEFAULTS = {"z_dim": 120, "prior": "normal", "batch_size": 2048, "d_steps": 1,
                      "optimizer_g": adam(1e-4, eps=1e-6), "optimizer_d": adam(4e-4, eps=1e-6),
                      "ema": {"enabled": True, "decay": 0.9999, "start": 20000}}


class BigGAN32Options(Options):
    """launch_cifar_ema.sh's network (and the paper's shared embedding, see the module docstring)."""

    g_channels: int = Field(64, ge=1, le=MAX_WIDTH, description=(
        "G's width ch (--G_ch): its blocks have 4 ch channels at 32x32 (release: 64)"))
    d_channels: int = Field(64, ge=1, le=MAX_WIDTH, description=(
        "D's width ch (--D_ch): its blocks have 4 ch channels at 32x32 (release: 64)"))
    shared_dim: int = Field(128, ge=1, le=MAX_WIDTH, description=(
        "size of G's shared class embedding (--shared_dim; its default is dim_z, 128 on CIFAR)"))
    g_attention: tuple[int, ...] = Field((), description=(
        "sides (8, 16, 32) of G blocks followed by self-attention (--G_attn; launch_cifar_ema.sh: none)"))
    d_attention: tuple[int, ...] = Field((), description=(
        "sides (16, 8) of D blocks followed by self-attention (--D_attn; launch_cifar_ema.sh: none)"))
    init: Init = Field("N02", description="weight initialisation of G and D: ortho, N02 (N(0, 0.02)) or xavier "
                                          "(--G_init/--D_init; launch_cifar_ema.sh: N02)")
    sn_eps: float = Field(1e-8, gt=0, le=1e-2, description="epsilon of spectral norm (--SN_eps; default 1e-8)")


class BigGAN128Options(BigGAN32Options):
    """launch_BigGAN_bs256x8.sh's network."""

    g_channels: int = Field(96, ge=1, le=MAX_WIDTH, description=(
        "G's width ch (--G_ch): blocks of 16, 8, 4, 2 and 1 ch channels (launch_BigGAN_bs256x8.sh: 96)"))
    d_channels: int = Field(96, ge=1, le=MAX_WIDTH, description=(
        "D's width ch (--D_ch): blocks of 1, 2, 4, 8, 16 and 16 ch channels (launch_BigGAN_bs256x8.sh: 96)"))
    shared_dim: int = Field(128, ge=1, le=MAX_WIDTH, description=(
        "size of G's shared class embedding (--shared_dim; launch_BigGAN_bs256x8.sh: 128)"))
    g_attention: tuple[int, ...] = Field((64,), description=(
        "sides (8 to 128) of G blocks followed by self-attention (--G_attn; launch_BigGAN_bs256x8.sh: 64)"))
    d_attention: tuple[int, ...] = Field((64,), description=(
        "sides (64 to 4) of D blocks followed by self-attention (--D_attn; launch_BigGAN_bs256x8.sh: 64)"))
    init: Init = Field("ortho", description="weight initialisation of G and D: ortho, N02 (N(0, 0.02)) or xavier "
                                            "(--G_init/--D_init; launch_BigGAN_bs256x8.sh: ortho)")
    sn_eps: float = Field(1e-6, gt=0, le=1e-2, description="epsilon of spectral norm (--SN_eps; "
                                                           "launch_BigGAN_bs256x8.sh: 1e-6)")


def builder(name: str, side: int):
    arch = ARCHITECTURES[side]

    def build(info: DataInfo, z_dim: int, options: BigGAN32Options) -> tuple[BigGANGenerator, BigGANDiscriminator]:
        square_side(info, name, (side,))
        channels, num_classes = info.shape[0], info.condition_classes
        generator = BigGANGenerator(arch, z_dim, channels, options.g_channels, options.shared_dim, num_classes,
                                    options.g_attention, options.init, options.sn_eps)
        discriminator = BigGANDiscriminator(arch, channels, options.d_channels, num_classes, options.d_attention,
                                            options.init, options.sn_eps)
        return generator, discriminator

    return build


def serves(side: int) -> tuple[DataInfo, ...]:
    return (DataInfo(shape=(3, side, side)), DataInfo(shape=(3, side, side), num_classes=10, conditional=True))


@hookimpl
def register_gans(register):
    register(GanSpec(
        name="biggan-32",
        build=builder("biggan-32", 32),
        default_objective="biggan-hinge",
        citation=BIGGAN,
        references=(BROCK_2019,),
        description="BigGAN, CIFAR-10 configuration (launch_cifar_ema.sh): 32x32, any channels; shared class "
                    "embedding, hierarchical z, spectral norm in G and D, projection D; unconditional as class 0",
        options=BigGAN32Options,
        serves=serves(32),
        defaults=BIGGAN32_DEFAULTS,
        test_options=NARROW,
    ))
    register(GanSpec(
        name="biggan-128",
        build=builder("biggan-128", 128),
        default_objective="biggan-hinge",
        citation=BIGGAN,
        references=(BROCK_2019,),
        description="BigGAN, ImageNet 128x128 configuration (launch_BigGAN_bs256x8.sh): ch 96, attention at 64, "
                    "any channels; shared class embedding, hierarchical z, projection D",
        options=BigGAN128Options,
        serves=serves(128),
        defaults=BIGGAN128_DEFAULTS,
        test_options=NARROW_128,
    ))


@hookimpl
def register_objectives(register):
    register(ObjectiveSpec(
        name="biggan-hinge",
        build=lambda options: OrthogonalHinge(options.beta),
        citation=ORTHO_CITATION,
        references=(BROCK_2019, LIM_2017),
        description="hinge loss, plus BigGAN's off-diagonal orthogonal penalty on G's weights (beta 1e-4)",
        options=OrthogonalHingeOptions,
    ))


@hookimpl
def register_suites(register):
    register(SuiteSpec("cifar10-biggan", Path(__file__).parent / "suites" / "cifar10-biggan.toml"))
