"""ganzoo plugin ``dcgan``: the deep convolutional GAN of Radford, Metz and Chintala 2015."""

from __future__ import annotations

from pydantic import Field

from ganzoo import DataInfo, GanSpec, Options, Reference, hookimpl
from ganzoo.layers import square_side
from ganzoo_dcgan.models import START_SIDE, DCGANDiscriminator, DCGANGenerator, init_weights

ganzoo_plugin_api = "2.2"  # references

CITATION = ("Radford, Metz and Chintala 2015, Unsupervised Representation Learning with Deep Convolutional "
            "Generative Adversarial Networks, ICLR 2016 (arXiv:1511.06434)")
RADFORD_2016 = Reference(
    authors=("Radford, Alec", "Metz, Luke", "Chintala, Soumith"),
    title="Unsupervised Representation Learning with Deep Convolutional Generative Adversarial Networks",
    venue="International Conference on Learning Representations", year=2016, arxiv="1511.06434")
SIDES = tuple(sorted(START_SIDE))


class DCGANOptions(Options):
    g_channels: int = Field(64, gt=0,
                            description="generator width: channels of its last hidden layer, doubling inwards")
    d_channels: int = Field(64, gt=0, description="discriminator width: channels of its first layer, doubling inwards")


def build_dcgan(info: DataInfo, z_dim: int, options: DCGANOptions):
    side = square_side(info, "dcgan", SIDES)
    num_classes, shape = info.condition_classes, (info.shape[0], side, side)
    generator = DCGANGenerator(z_dim, shape, options.g_channels, num_classes)
    discriminator = DCGANDiscriminator(shape, options.d_channels, num_classes)
    init_weights(generator)
    init_weights(discriminator)
    return generator, discriminator


@hookimpl
def register_gans(register):
    register(GanSpec(
        name="dcgan",
        build=build_dcgan,
        default_objective="nonsaturating",
        citation=CITATION,
        references=(RADFORD_2016,),
        description="transposed-conv G with batch norm and ReLU, strided-conv D with LeakyReLU; 28, 32 or 64 px; "
                    "conditional: conditional batch norm in G, projection D",
        options=DCGANOptions,
        serves=(DataInfo(shape=(1, 28, 28)), DataInfo(shape=(3, 32, 32)), DataInfo(shape=(3, 64, 64)),
                DataInfo(shape=(1, 28, 28), num_classes=10, conditional=True)),
        # Section 4 of the paper: minibatch 128, Adam with lr 0.0002 and beta1 0.5 (beta2 left at Adam's 0.999);
        # Figure 1: z is drawn from a 100-dimensional uniform distribution.
        defaults={
            "z_dim": 100,
            "prior": "uniform",
            "batch_size": 128,
            "optimizer_g": {"kind": "adam", "lr": 2e-4, "betas": [0.5, 0.999]},
            "optimizer_d": {"kind": "adam", "lr": 2e-4, "betas": [0.5, 0.999]},
        },
    ))
