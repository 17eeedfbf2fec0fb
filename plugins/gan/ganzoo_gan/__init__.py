"""ganzoo plugin ``gan``: the original GAN of Goodfellow et al. 2014."""

from __future__ import annotations

from pydantic import Field

from ganzoo import DataInfo, GanSpec, ObjectiveSpec, Options, Reference, hookimpl
from ganzoo_gan.models import MaxoutDiscriminator, MLPGenerator
from ganzoo_gan.objectives import Minimax, NonSaturating

ganzoo_plugin_api = "2.2"  # references

CITATION = "Goodfellow et al. 2014, Generative Adversarial Nets, NeurIPS (arXiv:1406.2661)"
GOODFELLOW_2014 = Reference(
    authors=("Goodfellow, Ian", "Pouget-Abadie, Jean", "Mirza, Mehdi", "Xu, Bing", "Warde-Farley, David",
             "Ozair, Sherjil", "Courville, Aaron", "Bengio, Yoshua"),
    title="Generative Adversarial Nets", venue="Advances in Neural Information Processing Systems 27", year=2014,
    arxiv="1406.2661")


class MLPOptions(Options):
    """Layer sizes default to the paper's for images and to a smaller net for 2D points."""

    g_hidden: int | None = Field(None, gt=0, description="generator units per layer (paper: 1200)")
    d_hidden: int | None = Field(None, gt=0, description="discriminator maxout units per layer (paper: 240)")
    pieces: int = Field(5, gt=0, description="maxout pieces")
    input_dropout: float | None = Field(None, ge=0, lt=1, description="dropout on D's input (paper: 0.2)")
    dropout: float | None = Field(None, ge=0, lt=1, description="dropout on D's hidden layers (paper: 0.5)")


def build_mlp_pair(info: DataInfo, z_dim: int, options: MLPOptions):
    image = info.is_image
    if not image and len(info.shape) != 1:
        raise ValueError("the MLP GAN takes points (one axis) or images (channels, height, width)")
    if info.conditional:
        raise ValueError("the MLP GAN has no class-conditional variant; set conditional = false "
                         "(dcgan, sngan-cnn and sngan-resnet have one)")

    def pick(value, paper, small):
        return value if value is not None else (paper if image else small)

    generator = MLPGenerator(z_dim, info.shape, pick(options.g_hidden, 1200, 128), image)
    discriminator = MaxoutDiscriminator(info.shape, pick(options.d_hidden, 240, 128), options.pieces,
                                        pick(options.input_dropout, 0.2, 0.0), pick(options.dropout, 0.5, 0.0))
    return generator, discriminator


@hookimpl
def register_gans(register):
    register(GanSpec(
        name="gan",
        build=build_mlp_pair,
        default_objective="nonsaturating",
        citation=CITATION,
        references=(GOODFELLOW_2014,),
        description="MLP generator (ReLU) and maxout discriminator with dropout",
        options=MLPOptions,
        serves=(DataInfo(shape=(2,)), DataInfo(shape=(1, 28, 28))),
        defaults={
            "z_dim": 100,
            "batch_size": 100,
            "optimizer_g": {"kind": "adam", "lr": 1e-3, "betas": [0.5, 0.999]},
            "optimizer_d": {"kind": "adam", "lr": 1e-3, "betas": [0.5, 0.999]},
        },
    ))


@hookimpl
def register_objectives(register):
    register(ObjectiveSpec(
        name="minimax",
        build=lambda options: Minimax(),
        citation=CITATION,
        references=(GOODFELLOW_2014,),
        description="the saddle-point game: G minimizes E log(1 - D(G(z)))",
    ))
    register(ObjectiveSpec(
        name="nonsaturating",
        build=lambda options: NonSaturating(),
        citation=CITATION,
        references=(GOODFELLOW_2014,),
        description="G maximizes E log D(G(z)) instead (the paper's practical variant)",
    ))
