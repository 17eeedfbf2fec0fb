"""ganzoo plugin ``wgan``: WGAN with weight clipping and WGAN-GP, each with its MLP pair,
and the CIFAR-10 ResNet of WGAN-GP."""

from __future__ import annotations

from pydantic import Field

from ganzoo import DataInfo, GanSpec, ObjectiveSpec, Options, Reference, hookimpl
from ganzoo.layers import square_side
from ganzoo_wgan.models import MLPCritic, MLPGenerator
from ganzoo_wgan.objectives import GradientPenalty, WeightClipping
from ganzoo_wgan.resnet import ResNetCritic, ResNetGenerator

ganzoo_plugin_api = "2.2"  # references

WGAN = "Arjovsky, Chintala and Bottou 2017, Wasserstein Generative Adversarial Networks, ICML (arXiv:1701.07875)"
WGAN_GP = "Gulrajani et al. 2017, Improved Training of Wasserstein GANs, NeurIPS (arXiv:1704.00028)"
ARJOVSKY_2017 = Reference(
    authors=("Arjovsky, Martin", "Chintala, Soumith", "Bottou, Léon"),
    title="Wasserstein Generative Adversarial Networks",
    venue="Proceedings of the 34th International Conference on Machine Learning", year=2017, arxiv="1701.07875")
GULRAJANI_2017 = Reference(
    authors=("Gulrajani, Ishaan", "Ahmed, Faruk", "Arjovsky, Martin", "Dumoulin, Vincent", "Courville, Aaron"),
    title="Improved Training of Wasserstein GANs", venue="Advances in Neural Information Processing Systems 30",
    year=2017, arxiv="1704.00028")

# The papers' settings (Algorithm 1 of each).
CLIPPING_DEFAULTS = {
    "d_steps": 5,
    "optimizer_g": {"kind": "rmsprop", "lr": 5e-5},
    "optimizer_d": {"kind": "rmsprop", "lr": 5e-5},
}
PENALTY_DEFAULTS = {
    "d_steps": 5,
    "optimizer_g": {"kind": "adam", "lr": 1e-4, "betas": [0.0, 0.9]},
    "optimizer_d": {"kind": "adam", "lr": 1e-4, "betas": [0.0, 0.9]},
}


class MLPOptions(Options):
    hidden: int | None = Field(None, gt=0,
                               description="units per hidden layer (default 512 for images, 128 for points)")
    layers: int | None = Field(None, gt=0, description="hidden layers (default 4 for images, 3 for points)")


class ResNetOptions(Options):
    g_channels: int = Field(128, gt=0, description="channels of G's residual blocks (paper: 128)")
    d_channels: int = Field(128, gt=0, description="channels of the critic's residual blocks (paper: 128)")


class ClippingOptions(Options):
    clip: float = Field(0.01, gt=0, description="critic parameters are clamped to [-clip, clip]")


class PenaltyOptions(Options):
    weight: float = Field(10.0, ge=0, description="lambda, the gradient penalty's weight")


def build_mlp_pair(info: DataInfo, z_dim: int, options: MLPOptions):
    if not info.is_image and len(info.shape) != 1:
        raise ValueError("the WGAN MLPs take points (one axis) or images (channels, height, width)")
    if info.conditional:
        raise ValueError("the WGAN MLPs have no class-conditional variant; set conditional = false "
                         "(dcgan, sngan-cnn and sngan-resnet have one)")
    layers = options.layers or (4 if info.is_image else 3)
    hidden = options.hidden or (512 if info.is_image else 128)
    return (MLPGenerator(z_dim, info.shape, hidden, layers, info.is_image), MLPCritic(info.shape, hidden, layers))


def build_resnet_pair(info: DataInfo, z_dim: int, options: ResNetOptions):
    square_side(info, "wgan-gp-resnet", (32,))
    if info.conditional:
        raise ValueError("wgan-gp-resnet has no class-conditional variant (the paper's conditional model is an "
                         "AC-GAN); use sngan-resnet for conditional runs, or set conditional = false")
    channels = info.shape[0]
    return ResNetGenerator(z_dim, channels, options.g_channels), ResNetCritic(channels, options.d_channels)


@hookimpl
def register_gans(register):
    for name, objective, citation, reference in (("wgan", "wgan", WGAN, ARJOVSKY_2017),
                                                 ("wgan-gp", "wgan-gp", WGAN_GP, GULRAJANI_2017)):
        register(GanSpec(
            name=name,
            build=build_mlp_pair,
            default_objective=objective,
            citation=citation,
            references=(reference,),
            description="ReLU MLP generator and critic, no batch norm",
            options=MLPOptions,
            serves=(DataInfo(shape=(2,)), DataInfo(shape=(1, 28, 28))),
            defaults={"batch_size": 64},
        ))
    register(GanSpec(
        name="wgan-gp-resnet",
        build=build_resnet_pair,
        default_objective="wgan-gp",
        citation=WGAN_GP,
        references=(GULRAJANI_2017,),
        description="the paper's CIFAR-10 ResNet: G with batch norm, critic without; 32x32",
        options=ResNetOptions,
        serves=(DataInfo(shape=(3, 32, 32)),),
        defaults={"z_dim": 128, "prior": "normal", "batch_size": 64, "lr_decay": "linear"},
        # The paper's CIFAR-10 run (gan_cifar_resnet.py): lr 2e-4 decayed linearly to 0, over the wgan-gp
        # objective's 1e-4 (its MLP setting)
        overrides={"optimizer_g": {"lr": 2e-4}, "optimizer_d": {"lr": 2e-4}},
    ))


@hookimpl
def register_objectives(register):
    register(ObjectiveSpec(
        name="wgan",
        build=lambda options: WeightClipping(options.clip),
        citation=WGAN,
        references=(ARJOVSKY_2017,),
        description="Wasserstein critic with weight clipping (RMSProp 5e-5, clip 0.01, 5 critic steps)",
        options=ClippingOptions,
        defaults=CLIPPING_DEFAULTS,
    ))
    register(ObjectiveSpec(
        name="wgan-gp",
        build=lambda options: GradientPenalty(options.weight),
        citation=WGAN_GP,
        references=(GULRAJANI_2017,),
        description="Wasserstein critic with gradient penalty (lambda 10, Adam 1e-4 (0, 0.9), 5 critic steps)",
        options=PenaltyOptions,
        defaults=PENALTY_DEFAULTS,
    ))
