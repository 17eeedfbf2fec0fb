"""ganzoo plugin ``augment``: augmentations for GANs trained on little data, usable with any image GAN.

- ``diffaugment`` (Zhao et al. 2020) applies cheap differentiable transforms to every batch the
  discriminator scores, real and generated alike (see :mod:`ganzoo_augment.diffaugment`). A run picks it
  with ``augmentation = "diffaugment"`` and its transforms with ``augmentation_options.policy``.
- ``ada`` (Karras et al. 2020) applies a pipeline of geometric and colour transforms with a probability p
  that adapts to the discriminator's overfitting (see :mod:`ganzoo_augment.ada` and
  :mod:`ganzoo_augment.pipeline`); ``augmentation = "ada"``, p logged as ``ada_p``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from ganzoo import AugmentationSpec, Options, Reference, hookimpl
from ganzoo_augment.ada import ADA
from ganzoo_augment.diffaugment import DiffAugment
from ganzoo_augment.pipeline import GROUPS

ganzoo_plugin_api = "2.2"  # references

DIFFAUGMENT = ("Zhao, Liu, Lin, Zhu and Han 2020, Differentiable Augmentation for Data-Efficient GAN Training, "
               "NeurIPS (arXiv:2006.10738)")
ADA_PAPER = ("Karras, Aittala, Hellsten, Laine, Lehtinen and Aila 2020, Training Generative Adversarial Networks "
             "with Limited Data, NeurIPS (arXiv:2006.06676)")
ZHAO_2020 = Reference(
    authors=("Zhao, Shengyu", "Liu, Zhijian", "Lin, Ji", "Zhu, Jun-Yan", "Han, Song"),
    title="Differentiable Augmentation for Data-Efficient GAN Training",
    venue="Advances in Neural Information Processing Systems 33", year=2020, arxiv="2006.10738")
KARRAS_2020_ADA = Reference(
    authors=("Karras, Tero", "Aittala, Miika", "Hellsten, Janne", "Laine, Samuli", "Lehtinen, Jaakko", "Aila, Timo"),
    title="Training Generative Adversarial Networks with Limited Data",
    venue="Advances in Neural Information Processing Systems 33", year=2020, arxiv="2006.06676")


Transform = Literal["color", "translation", "cutout"]
ALL: list[Transform] = ["color", "translation", "cutout"]
Group = Literal["blit", "geom", "color", "noise", "cutout"]
BGC: list[Group] = ["blit", "geom", "color"]


class DiffAugmentOptions(Options):
    policy: list[Transform] = Field(
        default_factory=lambda: list(ALL), min_length=1,
        description="transforms, applied in this order (the paper's CIFAR-10 and ImageNet runs use all three; "
                    "its 100-shot runs too)")


class ADAOptions(Options):
    pipeline: list[Group] = Field(
        default_factory=lambda: list(BGC), min_length=1,
        description="groups of transforms, run in the order blit, geom, color, noise, cutout whatever the order "
                    "given (the paper's default 'bgc' is blit, geom, color)")
    p: float = Field(0.0, ge=0.0, le=1.0, description="the probability at the start (the paper starts at 0); "
                                                      "with adaptive = false, the fixed probability")
    adaptive: bool = Field(True, description="adapt p to the overfitting heuristic r_t (false: p stays fixed)")
    target: float = Field(0.6, gt=0.0, lt=1.0, description="the r_t that p is steered to (paper: 0.6)")
    interval: int = Field(4, ge=1, description="discriminator steps between adjustments of p (release: 4)")
    kimg: float = Field(500.0, gt=0.0, description="thousands of real images over which p can rise from 0 to 1 "
                                                   "(paper: 500)")

    @field_validator("pipeline")
    @classmethod
    def _once_each(cls, groups: list[str]) -> list[str]:
        repeated = sorted({group for group in groups if groups.count(group) > 1})
        if repeated:
            raise ValueError(f"list each group once; {', '.join(repeated)} repeated")
        return groups


def build_ada(options: ADAOptions) -> ADA:
    groups = [group for group in GROUPS if group in options.pipeline]
    return ADA(groups, p=options.p, adaptive=options.adaptive, target=options.target, interval=options.interval,
               kimg=options.kimg)


@hookimpl
def register_augmentations(register):
    register(AugmentationSpec(
        name="diffaugment",
        build=lambda options: DiffAugment(tuple(options.policy)),
        citation=DIFFAUGMENT,
        references=(ZHAO_2020,),
        description="differentiable color, translation and cutout on every image D scores",
        options=DiffAugmentOptions,
    ))
    register(AugmentationSpec(
        name="ada",
        build=build_ada,
        citation=ADA_PAPER,
        references=(KARRAS_2020_ADA,),
        description="adaptive discriminator augmentation: geometric and colour transforms at a probability "
                    "steered by D's overfitting",
        options=ADAOptions,
    ))
