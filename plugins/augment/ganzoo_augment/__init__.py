"""ganzoo plugin ``augment``: augmentations for GANs trained on little data, usable with any image GAN.

``diffaugment`` (Zhao et al. 2020) applies cheap differentiable transforms to every batch the discriminator
scores, real and generated alike (see :mod:`ganzoo_augment.diffaugment`). A run picks it with
``augmentation = "diffaugment"`` and its transforms with ``augmentation_options.policy``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ganzoo import AugmentationSpec, Options, hookimpl
from ganzoo_augment.diffaugment import DiffAugment

ganzoo_plugin_api = "2.0"

DIFFAUGMENT = ("Zhao, Liu, Lin, Zhu and Han 2020, Differentiable Augmentation for Data-Efficient GAN Training, "
               "NeurIPS (arXiv:2006.10738)")


Transform = Literal["color", "translation", "cutout"]
ALL: list[Transform] = ["color", "translation", "cutout"]


class DiffAugmentOptions(Options):
    policy: list[Transform] = Field(
        default_factory=lambda: list(ALL), min_length=1,
        description="transforms, applied in this order (the paper's CIFAR-10 and ImageNet runs use all three; "
                    "its 100-shot runs too)")


@hookimpl
def register_augmentations(register):
    register(AugmentationSpec(
        name="diffaugment",
        build=lambda options: DiffAugment(tuple(options.policy)),
        citation=DIFFAUGMENT,
        description="differentiable color, translation and cutout on every image D scores",
        options=DiffAugmentOptions,
    ))
