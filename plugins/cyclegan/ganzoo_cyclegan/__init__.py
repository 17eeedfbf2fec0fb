"""ganzoo plugin ``cyclegan``: CycleGAN (Zhu, Park, Isola and Efros 2017, Unpaired Image-to-Image Translation using
Cycle-Consistent Adversarial Networks, ICCV, arXiv:1703.10593).

Two translators, G_AB from domain A to domain B and G_BA back, learn from unpaired images of the two domains:
each is pushed by a patch discriminator of its target domain and both by the cycle loss (an image translated
there and back should come back unchanged) and the identity loss (an image already of the target domain should
pass unchanged). It contributes:

- the GAN ``cyclegan``: the networks ``generator_ab``, ``generator_ba`` (:class:`ResnetGenerator`),
  ``discriminator_a`` and ``discriminator_b`` (:class:`PatchDiscriminator`), for data of shape ``(2, C, H, W)``
  (``dataset = "unpaired"``, one image of each domain per sample) with H and W multiples of 4;
- the algorithm ``cyclegan`` (:mod:`ganzoo_cyclegan.algorithm`), its default, which declares
  ``translators = {"a2b": "generator_ab", "b2a": "generator_ba"}``: ``ganzoo translate RUN IMAGES --direction
  a2b`` runs a trained run's G_AB on images of shape ``(n, C, H, W)`` in [-1, 1] and gets the same shape back;
- the objective ``cyclegan-lsgan``, its default: the paper's least squares without factors (the algorithm halves
  the discriminators' loss).

Settings, from the paper (P) and the released code (C, github.com/junyanz/pytorch-CycleGAN-and-pix2pix):

- generator: C ``models/networks.py`` ``ResnetGenerator`` (P Appendix 7.2): reflection padding, instance norm
  without affine parameters or running statistics (C ``get_norm_layer('instance')``), no dropout (C
  ``cycle_gan_model.py`` sets ``no_dropout``), ``ngf`` 64 (C ``--ngf``), ``blocks`` 9, the residual blocks for
  256x256 images (C ``--netG resnet_9blocks``; P Appendix 7.2 uses 6 for 128x128 training images: set
  ``gan_options.blocks = 6`` there);
- discriminator: C ``NLayerDiscriminator`` (``--netD basic``), the 70x70 PatchGAN (P section 4, Appendix 7.2),
  ``ndf`` 64 (C ``--ndf``), ``d_layers`` 3 (C ``--n_layers_D``), leaky ReLU 0.2, instance norm except on the
  first and last convolutions;
- weights from N(0, 0.02), biases 0 (C ``init_weights``, ``--init_type normal --init_gain 0.02``; P Appendix 7.1);
- lambda_a = lambda_b = 10 (C ``--lambda_A``/``--lambda_B``; P section 4 "lambda = 10"), lambda_identity 0.5 (C
  ``--lambda_identity``; the loss is P section 5.2's, its weight 0.5 lambda P Appendix 7.1's for painting ->
  photo; C applies it to every data set by default, and so does ganzoo), pool of 50 images per discriminator
  (C ``--pool_size``, ``util/image_pool.py``; P section 4), least squares (C ``--gan_mode lsgan``; P section 4),
  D's loss halved (C ``backward_D_basic``; P Appendix 7.1);
- batch 1, Adam with lr 2e-4 and betas (0.5, 0.999) for one optimizer over both generators and one over both
  discriminators (C ``--batch_size``, ``--lr``, ``--beta1``, ``cycle_gan_model.py``; P section 4), the rate kept
  for 100 epochs and decayed linearly to 0 over 100 more (C ``--n_epochs 100 --n_epochs_decay 100``,
  ``--lr_policy linear``; P section 4): ``lr_decay = "linear"`` with ``lr_decay_start = 0.5``; set ``steps`` to
  200 epochs of the data (at batch 1, 200 times the larger domain's image count, as C's epochs run over
  ``max(len(A), len(B))`` images);
- each step updates both generators with the discriminators held fixed, then both discriminators, on one batch
  (C ``optimize_parameters``).

Where ganzoo departs from them, and why:

- The learning rate falls at every step rather than once per epoch (ganzoo's ``lr_decay`` schedules by step, and
  the runner knows no epochs), and reaches 0 at the last step where C's last epoch keeps 1/101 of it.
- C loads images at 286x286 and takes random 256x256 crops and horizontal flips (``--preprocess resize_and_crop``,
  ``--load_size``, ``--crop_size``); ganzoo's data sets give images at one resolution without augmentation. A run
  at 256x256 therefore sees fewer distinct views of each image than C's.
- ``generator = None``: there is no generator of latent codes, so runs draw no sample pictures, keep no moving
  average and measure no metrics while training; translations come from ``ganzoo translate``.
- The run's ``augmentation`` does not reach the discriminators: they give a map of patch scores per image, which
  the runner's ``TrainingStep.discriminate`` (where augmentation is applied) would refuse, so the algorithm calls
  them itself.
- Images smaller than C's (28x28, 32x32) work when their sides are multiples of 4 (the generator halves them twice
  and doubles them back) and large enough for the PatchGAN to leave scores (24 or more at ``d_layers`` 3); at
  such sizes one 70x70 patch covers the whole image, so the discriminator judges whole images there.
"""

from __future__ import annotations

import dataclasses

from pydantic import Field
from torch import nn

from ganzoo import DataInfo, GanSpec, Options, Reference, hookimpl
from ganzoo_cyclegan.algorithm import CITATION, CYCLEGAN_ALGORITHM, LSGAN_OBJECTIVE, CycleGAN, CycleOptions
from ganzoo_cyclegan.networks import DOWNSAMPLINGS, PatchDiscriminator, ResnetGenerator, patch_map_side
from ganzoo_cyclegan.pool import ImagePool

__all__ = ["CycleGAN", "CycleOptions", "ImagePool", "PatchDiscriminator", "ResnetGenerator",
           "build_cyclegan"]

ganzoo_plugin_api = "2.2"  # references

ADAM = {"kind": "adam", "lr": 2e-4, "betas": [0.5, 0.999]}
DEFAULTS = {"batch_size": 1, "d_steps": 1, "optimizer_g": ADAM, "optimizer_d": ADAM, "lr_decay": "linear",
            "lr_decay_start": 0.5}
ZHU_2017 = Reference(
    authors=("Zhu, Jun-Yan", "Park, Taesung", "Isola, Phillip", "Efros, Alexei A."),
    title="Unpaired Image-to-Image Translation using Cycle-Consistent Adversarial Networks",
    venue="Proceedings of the IEEE International Conference on Computer Vision (ICCV)", year=2017, arxiv="1703.10593")
MAO_2017 = Reference(
    authors=("Mao, Xudong", "Li, Qing", "Xie, Haoran", "Lau, Raymond Y. K.", "Wang, Zhen", "Smolley, Stephen Paul"),
    title="Least Squares Generative Adversarial Networks",
    venue="Proceedings of the IEEE International Conference on Computer Vision (ICCV)", year=2017, arxiv="1611.04076")


class CycleGANOptions(Options):
    ngf: int = Field(64, gt=0, le=1024, description="generator width: channels of its first layer (code: ngf)")
    ndf: int = Field(64, gt=0, le=1024, description="discriminator width: channels of its first layer (code: ndf)")
    blocks: int = Field(9, ge=0, le=64, description=(
        "residual blocks of each generator (code: 9 for 256x256, resnet_9blocks; paper: 6 for 128x128)"))
    d_layers: int = Field(3, ge=1, le=8, description=(
        "stride-2 convolutions of each PatchGAN (code: n_layers_D; 3 gives 70x70 patches)"))


def build_cyclegan(info: DataInfo, z_dim: int, options: CycleGANOptions) -> dict[str, nn.Module]:
    """The four networks for unpaired samples of shape ``(2, C, H, W)``; ``z_dim`` is not used."""
    if len(info.shape) != 4 or info.shape[0] != 2:
        raise ValueError(f"cyclegan translates between two image domains and takes samples of shape (2, C, H, W), "
                         f"got {info.shape}; use dataset = \"unpaired\" with dataset_options.a and .b")
    if info.conditional:
        raise ValueError("cyclegan has no class-conditional variant; set conditional = false")
    _, channels, height, width = info.shape
    multiple = 2**DOWNSAMPLINGS
    if height % multiple or width % multiple or min(height, width) < 2 * multiple:
        raise ValueError(f"cyclegan's generators halve the image sides twice and double them back, so the sides "
                         f"must be multiples of {multiple}, at least {2 * multiple}; got {height}x{width}: set "
                         "both domains' resolution to, say, 32")
    normalised, scores = (min(sides) for sides in zip(patch_map_side(height, options.d_layers),
                                                       patch_map_side(width, options.d_layers)))
    if scores < 1 or normalised < 2:
        raise ValueError(f"a PatchGAN of d_layers = {options.d_layers} leaves no patch to score on {height}x{width} "
                         f"images; lower gan_options.d_layers or raise the resolution")
    return {"generator_ab": ResnetGenerator(channels, options.ngf, options.blocks),
            "generator_ba": ResnetGenerator(channels, options.ngf, options.blocks),
            "discriminator_a": PatchDiscriminator(channels, options.ndf, options.d_layers),
            "discriminator_b": PatchDiscriminator(channels, options.ndf, options.d_layers)}


@hookimpl
def register_gans(register):
    register(GanSpec(
        name="cyclegan",
        build=build_cyclegan,
        default_objective=LSGAN_OBJECTIVE.name,
        default_algorithm=CYCLEGAN_ALGORITHM.name,
        citation=CITATION,
        references=(ZHU_2017,),
        description="CycleGAN: ResNet translators A->B and B->A, 70x70 PatchGAN per domain, instance norm; "
                    "unpaired (2, C, H, W) data, sides multiples of 4",
        options=CycleGANOptions,
        serves=(DataInfo(shape=(2, 1, 28, 28)), DataInfo(shape=(2, 3, 32, 32))),
        defaults=DEFAULTS,
        test_options={"ngf": 4, "ndf": 4, "blocks": 1},
    ))


@hookimpl
def register_algorithms(register):
    register(dataclasses.replace(CYCLEGAN_ALGORITHM, references=(ZHU_2017,)))


@hookimpl
def register_objectives(register):
    register(dataclasses.replace(LSGAN_OBJECTIVE, references=(ZHU_2017, MAO_2017)))
