"""ganzoo plugin ``unrolled``: Unrolled GANs (Metz, Poole, Pfau and Sohl-Dickstein 2017).

The algorithm ``unrolled`` (see :mod:`ganzoo_unrolled.algorithm`) trains any
GAN whose discriminator is ``discriminator``; the GAN ``unrolled-mlp`` is the
2D mixture-of-Gaussians pair, defaulting to it.

Settings and their sources (N = the released notebook, poolio/unrolled_gan
"Unrolled GAN demo.ipynb", cell "Hyperparameters" unless said; P = the paper,
arXiv:1611.02163v4):

- ``unroll_steps`` 10: P, Figure 1 (the headline toy result: "a GAN with 10
  unrolling steps" against a standard GAN); P's mixture experiments use 0, 1,
  5 and 10; N uses 5.
- batch 512, z of 256 dimensions from N(0, I), 25000 steps: N (``batch_size``,
  ``z_dim``, ``max_iter``; the noise is ``ds.Normal(0, 1)``).
- Adam for both players, beta1 0.5, epsilon 1e-8, discriminator lr 1e-4,
  generator lr 1e-3: N (``disc_learning_rate``, ``gen_learning_rate``,
  ``beta1``, ``epsilon``); beta2 0.999 is the Keras and TensorFlow default N
  leaves in place. The unrolled updates are those of the run's discriminator
  optimizer, from its current moments, step counts and learning rate (N
  unrolls Keras' Adam updates, moments and iteration count included, with
  ``graph_replace``).
- objective ``minimax`` (ganzoo-gan): N's generator minimizes the negative
  of the discriminator's cross-entropy loss, i.e. E log(1 - D(G(z))).
- networks (:mod:`ganzoo_unrolled.mlp`): N, two tanh hidden layers of 128 for
  each network, orthogonal weights with gain 1.4.
- data: N draws 8 Gaussians of std 0.01 on a circle of radius 1, as ganzoo's
  ``ring8`` (std 0.01, radius 1). P's Appendix A uses std 0.02 on radius 2
  (recalled from P, not re-checked here): the same shape scaled by 2.

Departures, and why:

- N updates D and G simultaneously from the same batch (one ``tf.group`` of
  both train ops), so its unroll starts at the pre-update D. Here D's real
  update comes first and the generator unrolls from the updated D and the
  updated optimizer state (ganzoo's ``alternating`` order), so that
  ``unroll_steps = 0`` is exactly ``alternating``; the look-ahead is one
  discriminator update longer than N's.
- N's ``sample_mog`` spaces its 8 centres with ``np.linspace(0, 2 pi, 8)``,
  so the first and last coincide (7 distinct modes); ``ring8`` has 8.
- N says its architecture and hyperparameters are "not identical to the one
  in the paper". We follow N, the code we can read; P's Appendix A networks
  (as recalled: ReLU, a one-hidden-layer discriminator, orthogonal gain 0.8)
  are one option change away (``activation``, ``d_layers``, ``init_gain``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ganzoo import AlgorithmSpec, DataInfo, GanSpec, Options, Reference, hookimpl
from ganzoo_unrolled.algorithm import Unrolled, UnrolledOptions
from ganzoo_unrolled.mlp import PointDiscriminator, PointGenerator

ganzoo_plugin_api = "2.2"  # references

CITATION = ("Metz, Poole, Pfau and Sohl-Dickstein 2017, Unrolled Generative Adversarial Networks, ICLR "
            "(arXiv:1611.02163)")
METZ_2017 = Reference(
    authors=("Metz, Luke", "Poole, Ben", "Pfau, David", "Sohl-Dickstein, Jascha"),
    title="Unrolled Generative Adversarial Networks", venue="International Conference on Learning Representations",
    year=2017, arxiv="1611.02163")


class PointMLPOptions(Options):
    hidden: int = Field(128, gt=0, le=4096, description="units per hidden layer, both networks (notebook: 128)")
    g_layers: int = Field(2, ge=1, le=8, description="generator hidden layers (notebook: 2)")
    d_layers: int = Field(2, ge=1, le=8, description="discriminator hidden layers (notebook: 2; paper: 1)")
    activation: Literal["tanh", "relu"] = Field("tanh", description="hidden nonlinearity (notebook: tanh; paper: "
                                                                    "relu)")
    init_gain: float = Field(1.4, gt=0, le=10, description="gain of the orthogonal initial weights (notebook: 1.4; "
                                                           "paper: 0.8)")


def build_point_pair(info: DataInfo, z_dim: int, options: PointMLPOptions) -> tuple[PointGenerator,
                                                                                    PointDiscriminator]:
    if len(info.shape) != 1:
        raise ValueError(f"unrolled-mlp takes points (one axis, as ring8 and grid25), not data of shape "
                         f"{tuple(info.shape)}; train images with algorithm = \"unrolled\" and an image GAN")
    if info.conditional:
        raise ValueError("unrolled-mlp has no class-conditional variant; set conditional = false")
    width = info.shape[0]
    generator = PointGenerator(z_dim, width, options.hidden, options.g_layers, options.activation,
                               options.init_gain)
    discriminator = PointDiscriminator(width, options.hidden, options.d_layers, options.activation,
                                       options.init_gain)
    return generator, discriminator


@hookimpl
def register_algorithms(register):
    register(AlgorithmSpec(
        name="unrolled",
        build=Unrolled,
        citation=CITATION,
        references=(METZ_2017,),
        description="alternating, with the generator's loss against D unrolled K optimizer steps ahead "
                    "(unroll_steps), through the unrolled updates",
        options=UnrolledOptions,
    ))


@hookimpl
def register_gans(register):
    register(GanSpec(
        name="unrolled-mlp",
        build=build_point_pair,
        default_objective="minimax",
        default_algorithm="unrolled",
        citation=CITATION + "; networks and settings of poolio/unrolled_gan, Unrolled GAN demo.ipynb",
        references=(METZ_2017,),
        description="the Unrolled GAN's 2D mixture MLPs (tanh, 2x128 each), trained with unrolled (K = 10)",
        options=PointMLPOptions,
        serves=(DataInfo(shape=(2,)),),
        defaults={
            "z_dim": 256,
            "prior": "normal",
            "batch_size": 512,
            "steps": 25000,
            "d_steps": 1,
            "optimizer_g": {"kind": "adam", "lr": 1e-3, "betas": [0.5, 0.999], "eps": 1e-8},
            "optimizer_d": {"kind": "adam", "lr": 1e-4, "betas": [0.5, 0.999], "eps": 1e-8},
        },
        test_options={"hidden": 16},
    ))
