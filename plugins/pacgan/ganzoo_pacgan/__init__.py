"""ganzoo plugin ``pacgan``: PacGAN, a discriminator that judges packs of m samples (Lin et al. 2018).

Packing changes only the discriminator's input: it sees m samples at once,
all real or all generated, concatenated along the feature axis, and returns
one score per pack. The paper proves that this penalises generators with
strong mode collapse more than an ordinary discriminator can, at the cost
of a first layer m times wider.

Settings of the 2D experiments (Table 1; authors' ``synthetic_data_experiments``
config.py for the ring and the grid): the networks of :mod:`ganzoo_pacgan.models`,
the non-saturating GAN loss (the code's generator loss is softplus(-D(G(z)))),
Adam with learning rate 1e-4, beta1 0.8 and beta2 0.999 (the code passes
only beta1; 0.999 is Blocks' default) for both networks, batches of 100,
and 400 epochs of 100,000 points (400,000 steps).

Where ganzoo differs from the released code, and why:

- The code's batch of 100 is 100 *packs* (100 m points on each side);
  ganzoo's ``batch_size`` counts samples, and defaults cannot depend on
  ``pack``, so the default 100 is 100 / m packs. Set ``batch_size = 100 * pack``
  to see as many packs per step as the authors did.
- The code updates D and G simultaneously, from one forward pass (ALI's
  ``ali_algorithm``); ganzoo's default algorithm alternates one D step and
  one G step on fresh samples, the update of the original GAN paper.
- The code calls G once per pack position, so batch norm's statistics come
  from 100 points; here G generates the whole batch in one call.
"""

from __future__ import annotations

from pydantic import Field

from ganzoo import DataInfo, GanSpec, Options, Reference, hookimpl
from ganzoo_pacgan.models import Generator, PackedDiscriminator

ganzoo_plugin_api = "2.2"  # references

CITATION = ("Lin, Khetan, Fanti and Oh 2018, PacGAN: The power of two samples in generative adversarial networks, "
            "NeurIPS (arXiv:1712.04086)")
LIN_2018 = Reference(
    authors=("Lin, Zinan", "Khetan, Ashish", "Fanti, Giulia", "Oh, Sewoong"),
    title="PacGAN: The Power of Two Samples in Generative Adversarial Networks",
    venue="Advances in Neural Information Processing Systems 31", year=2018, arxiv="1712.04086")

# Table 1's setting, in run-config terms (see the module docstring for the batch size)
ADAM = {"kind": "adam", "lr": 1e-4, "betas": [0.8, 0.999]}
DEFAULTS = {"z_dim": 2, "prior": "normal", "batch_size": 100, "d_steps": 1, "optimizer_g": ADAM, "optimizer_d": ADAM}


class PacOptions(Options):
    """Packing degree and layer sizes; the defaults are the paper's 2D networks and PacGAN2."""

    pack: int = Field(2, ge=1, description="m, samples D judges together (PacGANm; 1 is the plain GAN baseline); "
                                           "batch_size must be a multiple of it")
    g_hidden: int = Field(400, gt=0, description="generator units per hidden layer (paper: 400)")
    g_layers: int = Field(4, gt=0, description="generator hidden layers, each with batch norm and ReLU (paper: 4)")
    d_hidden: int = Field(200, gt=0, description="discriminator maxout units per layer (paper: 200)")
    d_layers: int = Field(3, gt=0, description="discriminator maxout layers (paper: 3)")
    pieces: int = Field(5, gt=0, description="pieces per maxout unit (paper: 5)")


def build_pacgan(info: DataInfo, z_dim: int, options: PacOptions) -> tuple[Generator, PackedDiscriminator]:
    """The generator and the packed discriminator for points of ``info.shape = (d,)``."""
    if len(info.shape) != 1:
        raise ValueError(f"pacgan serves points with one axis, like the 2D toy data (ring8, grid25), not data of "
                         f"shape {info.shape}; for images use dcgan or sngan-cnn")
    if info.conditional:
        raise ValueError("pacgan has no class-conditional variant; set conditional = false "
                         "(dcgan, sngan-cnn and sngan-resnet have one)")
    features = info.shape[0]
    generator = Generator(z_dim, features, options.g_hidden, options.g_layers)
    discriminator = PackedDiscriminator(features, options.pack, options.d_hidden, options.d_layers, options.pieces)
    return generator, discriminator


@hookimpl
def register_gans(register):
    register(GanSpec(
        name="pacgan",
        build=build_pacgan,
        default_objective="nonsaturating",
        citation=CITATION,
        references=(LIN_2018,),
        description="MLP generator with batch norm; maxout discriminator scoring packs of m samples (gan_options.pack)",
        options=PacOptions,
        serves=(DataInfo(shape=(2,)),),
        defaults=DEFAULTS,
    ))
