"""ganzoo plugin ``losses``: the hinge and least-squares objectives.

Hinge, as in SNGAN (Miyato et al. 2018, eq. 16-17): the discriminator minimizes
E_P[max(0, 1 - D(x))] + E_Q[max(0, 1 + D(x))]; the generator minimizes -E_Q[D(x)].

Least squares (Mao et al. 2017, eq. 2): with codings a (fake), b (real) and
c (what G wants D to believe), the discriminator minimizes
1/2 E_P[(D(x) - b)^2] + 1/2 E_Q[(D(x) - a)^2] and the generator 1/2 E_Q[(D(x) - c)^2].
With a = -1, b = 1, c = 0 (b - c = 1, b - a = 2) the generator minimizes the
Pearson chi-squared divergence between P + Q and 2Q (their Theorem 1); the
0-1-1 coding makes D a regressor onto 1 for data and 0 for samples.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ganzoo import Objective, ObjectiveSpec, Reference, hookimpl

ganzoo_plugin_api = "2.2"  # references

HINGE = "Lim and Ye 2017, Geometric GAN (arXiv:1705.02894); Miyato et al. 2018, Spectral Normalization for GANs, ICLR"
LSGAN = "Mao et al. 2017, Least Squares Generative Adversarial Networks, ICCV (arXiv:1611.04076)"
LIM_2017 = Reference(kind="misc", authors=("Lim, Jae Hyun", "Ye, Jong Chul"), title="Geometric GAN", year=2017,
                     arxiv="1705.02894")
MIYATO_2018 = Reference(
    authors=("Miyato, Takeru", "Kataoka, Toshiki", "Koyama, Masanori", "Yoshida, Yuichi"),
    title="Spectral Normalization for Generative Adversarial Networks",
    venue="International Conference on Learning Representations", year=2018, arxiv="1802.05957")
MAO_2017 = Reference(
    authors=("Mao, Xudong", "Li, Qing", "Xie, Haoran", "Lau, Raymond Y. K.", "Wang, Zhen", "Smolley, Stephen Paul"),
    title="Least Squares Generative Adversarial Networks",
    venue="Proceedings of the IEEE International Conference on Computer Vision (ICCV)", year=2017, arxiv="1611.04076")


class Hinge(Objective):
    def discriminator_loss(self, real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
        return F.relu(1 - real_scores).mean() + F.relu(1 + fake_scores).mean()

    def generator_loss(self, fake_scores: torch.Tensor) -> torch.Tensor:
        return -fake_scores.mean()


class LeastSquares(Objective):
    def __init__(self, a: float, b: float, c: float):
        self.a, self.b, self.c = a, b, c

    def discriminator_loss(self, real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
        return 0.5 * ((real_scores - self.b) ** 2).mean() + 0.5 * ((fake_scores - self.a) ** 2).mean()

    def generator_loss(self, fake_scores: torch.Tensor) -> torch.Tensor:
        return 0.5 * ((fake_scores - self.c) ** 2).mean()


@hookimpl
def register_objectives(register):
    register(ObjectiveSpec(name="hinge", build=lambda options: Hinge(), citation=HINGE,
                           description="hinge loss for D, -E[D(G(z))] for G (as in SNGAN)",
                           references=(LIM_2017, MIYATO_2018)))
    register(ObjectiveSpec(name="lsgan", build=lambda options: LeastSquares(0.0, 1.0, 1.0), citation=LSGAN,
                           description="least squares, codings a=0, b=1, c=1", references=(MAO_2017,)))
    register(ObjectiveSpec(name="lsgan-pearson", build=lambda options: LeastSquares(-1.0, 1.0, 0.0), citation=LSGAN,
                           description="least squares, codings a=-1, b=1, c=0 (Pearson chi-squared)",
                           references=(MAO_2017,)))
