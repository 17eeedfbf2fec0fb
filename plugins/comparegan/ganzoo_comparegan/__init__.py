"""ganzoo plugin ``comparegan``: the networks Lucic et al. 2018 ("Are GANs Created Equal? A Large-Scale Study")
trained every GAN with on MNIST and Fashion-MNIST, from their released code (google/compare_gan).

The GAN's defaults are compare_gan's settings for the original GAN (``params.GANHyperParams``, the authors'
default and sample 0 of the study's search): Adam with learning rate 5e-5 and beta1 0 (beta2 is TensorFlow's
0.999), one discriminator step per generator step, batch norm in the discriminator; batches of 64 and 64 latent
dimensions drawn uniformly from [-1, 1] for every GAN (``gan_lib.create_gan``, ``z_generator``). The other
models' settings are set per run; the fashion-mnist-lucic suite holds them.
"""

from __future__ import annotations

from pydantic import Field

from ganzoo import DataInfo, GanSpec, Options, Reference, hookimpl
from ganzoo.layers import square_side
from ganzoo_comparegan.models import Discriminator, Generator

ganzoo_plugin_api = "2.2"  # references

CITATION = ("Lucic, Kurach, Michalski, Gelly and Bousquet 2018, Are GANs Created Equal? A Large-Scale Study, "
            "NeurIPS (arXiv:1711.10337); networks after InfoGAN (Chen et al. 2016)")
LUCIC_2018 = Reference(
    authors=("Lucic, Mario", "Kurach, Karol", "Michalski, Marcin", "Gelly, Sylvain", "Bousquet, Olivier"),
    title="Are GANs Created Equal? A Large-Scale Study", venue="Advances in Neural Information Processing Systems 31",
    year=2018, arxiv="1711.10337")
CHEN_2016 = Reference(
    authors=("Chen, Xi", "Duan, Yan", "Houthooft, Rein", "Schulman, John", "Sutskever, Ilya", "Abbeel, Pieter"),
    title="InfoGAN: Interpretable Representation Learning by Information Maximizing Generative Adversarial Nets",
    venue="Advances in Neural Information Processing Systems 29", year=2016, arxiv="1606.03657")
ADAM = {"kind": "adam", "lr": 5e-5, "betas": [0.0, 0.999]}


class CompareGanOptions(Options):
    discriminator_batchnorm: bool = Field(True, description="batch norm after D's second convolution and its "
                                                            "hidden linear layer (compare_gan's parameter)")


def build_comparegan(info: DataInfo, z_dim: int, options: CompareGanOptions) -> tuple[Generator, Discriminator]:
    if info.conditional:
        raise ValueError("comparegan-infogan has no class-conditional variant; set conditional = false")
    side = square_side(info, "comparegan-infogan", (28,))
    return Generator(z_dim, info.shape[0], side), Discriminator(info.shape[0], side, options.discriminator_batchnorm)


@hookimpl
def register_gans(register):
    register(GanSpec(
        name="comparegan-infogan",
        build=build_comparegan,
        default_objective="nonsaturating",
        citation=CITATION,
        references=(LUCIC_2018, CHEN_2016),
        description="compare_gan's InfoGAN-style CNN pair (Lucic et al. 2018): 28x28 grey images, leaky ReLU, "
                    "batch norm in G and optionally in D",
        options=CompareGanOptions,
        serves=(DataInfo(shape=(1, 28, 28)),),
        defaults={"z_dim": 64, "prior": "uniform", "batch_size": 64, "d_steps": 1,
                  "optimizer_g": ADAM, "optimizer_d": ADAM},
    ))
