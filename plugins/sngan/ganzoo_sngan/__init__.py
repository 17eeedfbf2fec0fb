"""ganzoo plugin ``sngan``: spectrally normalised GANs, the standard CNN and the ResNet, for 32x32 images.

Optimizer settings, from Table 1 of Miyato et al. 2018 (Adam's alpha, beta1,
beta2 and n_dis, the discriminator steps per generator step):

- ``sngan-cnn``: setting C, (2e-4, 0.5, 0.999, n_dis 1). For the standard-CNN
  score (7.42, Table 2) the first author points to pfnet-research/chainer-gan-lib
  (pfnet-research/sngan_projection issue #40), whose example.sh trains the
  SN-DCGAN with exactly these values.
- ``sngan-resnet``: (2e-4, 0.0, 0.9, n_dis 5), the setting of the ResNet runs
  and of the conditional CIFAR-10 runs of Miyato & Koyama 2018 (authors'
  configs sn_cifar10.yml and sn_cifar10_unconditional.yml; the same values as
  the CIFAR-10 ResNet of Gulrajani et al. 2017). Those configs also decay the
  learning rate linearly to 0 over their 50k iterations: ``lr_decay = "linear"``
  here, to 0 at the run's ``steps``.

Both: hinge loss (eq. 16-17), batch 64, z in R^128 from N(0, I). Neither paper
averages the generator's weights; set ``ema.enabled = true`` to do so.
"""

from __future__ import annotations

from pydantic import Field

from ganzoo import DataInfo, GanSpec, Options, Reference, hookimpl
from ganzoo.layers import square_side
from ganzoo_sngan.cnn import CNNDiscriminator, CNNGenerator
from ganzoo_sngan.resnet import ResNetDiscriminator, ResNetGenerator

ganzoo_plugin_api = "2.2"  # references

SNGAN = ("Miyato, Kataoka, Koyama and Yoshida 2018, Spectral Normalization for Generative Adversarial Networks, "
         "ICLR (arXiv:1802.05957)")
PROJECTION = "Miyato and Koyama 2018, cGANs with Projection Discriminator, ICLR (arXiv:1802.05637)"
MIYATO_2018 = Reference(
    authors=("Miyato, Takeru", "Kataoka, Toshiki", "Koyama, Masanori", "Yoshida, Yuichi"),
    title="Spectral Normalization for Generative Adversarial Networks",
    venue="International Conference on Learning Representations", year=2018, arxiv="1802.05957")
MIYATO_KOYAMA_2018 = Reference(
    authors=("Miyato, Takeru", "Koyama, Masanori"), title="cGANs with Projection Discriminator",
    venue="International Conference on Learning Representations", year=2018, arxiv="1802.05637")
SIDE = 32
SERVES = (DataInfo(shape=(3, SIDE, SIDE)), DataInfo(shape=(3, SIDE, SIDE), num_classes=10, conditional=True))

COMMON_DEFAULTS = {"z_dim": 128, "prior": "normal", "batch_size": 64}
CNN_DEFAULTS = {
    **COMMON_DEFAULTS,
    "d_steps": 1,
    "optimizer_g": {"kind": "adam", "lr": 2e-4, "betas": [0.5, 0.999]},
    "optimizer_d": {"kind": "adam", "lr": 2e-4, "betas": [0.5, 0.999]},
}
# The authors' CIFAR-10 ResNet configs (sn_cifar10*.yml) also decay both learning rates linearly to 0.
RESNET_DEFAULTS = {
    **COMMON_DEFAULTS,
    "d_steps": 5,
    "lr_decay": "linear",
    "optimizer_g": {"kind": "adam", "lr": 2e-4, "betas": [0.0, 0.9]},
    "optimizer_d": {"kind": "adam", "lr": 2e-4, "betas": [0.0, 0.9]},
}


class CNNOptions(Options):
    g_channels: int = Field(64, gt=0, description="G width: its layers have 8, 4, 2 and 1 times this (paper: 64)")
    d_channels: int = Field(64, gt=0, description="D width: its layers have 1, 1, 2, 2, 4, 4, 8 times this (paper: 64)")


class ResNetOptions(Options):
    g_channels: int = Field(256, gt=0, description="channels of G's residual blocks (paper: 256)")
    d_channels: int = Field(128, gt=0, description="channels of D's residual blocks (paper: 128)")


def check_image(info: DataInfo, name: str) -> int:
    """The images' channel count; ValueError unless they are 32x32."""
    square_side(info, name, (SIDE,))
    return info.shape[0]


def build_cnn(info: DataInfo, z_dim: int, options: CNNOptions):
    channels = check_image(info, "sngan-cnn")
    num_classes = info.condition_classes
    return (CNNGenerator(z_dim, channels, options.g_channels, num_classes),
            CNNDiscriminator(channels, options.d_channels, num_classes))


def build_resnet(info: DataInfo, z_dim: int, options: ResNetOptions):
    channels = check_image(info, "sngan-resnet")
    num_classes = info.condition_classes
    return (ResNetGenerator(z_dim, channels, options.g_channels, num_classes),
            ResNetDiscriminator(channels, options.d_channels, num_classes))


@hookimpl
def register_gans(register):
    register(GanSpec(
        name="sngan-cnn",
        build=build_cnn,
        default_objective="hinge",
        citation=f"{SNGAN}; conditional: {PROJECTION}",
        references=(MIYATO_2018, MIYATO_KOYAMA_2018),
        description="standard CNN (Table 3) with spectral norm in D; 32x32; "
                    "conditional: conditional batch norm in G, projection D",
        options=CNNOptions,
        serves=SERVES,
        defaults=CNN_DEFAULTS,
    ))
    register(GanSpec(
        name="sngan-resnet",
        build=build_resnet,
        default_objective="hinge",
        citation=f"{SNGAN}; conditional: {PROJECTION}",
        references=(MIYATO_2018, MIYATO_KOYAMA_2018),
        description="ResNet (Table 4) with spectral norm in D, global sum pooling; 32x32; "
                    "conditional: conditional batch norm in G's blocks, projection D",
        options=ResNetOptions,
        serves=SERVES,
        defaults=RESNET_DEFAULTS,
    ))
