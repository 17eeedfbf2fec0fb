"""ganzoo plugin ``ali``: ALI (Dumoulin et al. 2017) and BiGAN (Donahue et al. 2017).

A generator G(z), an encoder E(x) and a joint discriminator D(x, z) that tells (x, E(x)) from (G(z), z); G and E
are trained together against D (:mod:`ganzoo_ali.algorithm`, the ``ali`` algorithm). After training,
``trainer.networks["encoder"]`` (or :func:`encoder_of`) maps images to codes: in eval mode ``encoder(x)`` has
shape ``(n, z_dim)``.

ALI or BiGAN is the GAN option ``encoder``: ``"gaussian"`` (default) is ALI's stochastic encoder, a Gaussian
q(z | x) with a learned mean and log standard deviation sampled by reparameterisation (ALI section 2.2,
``ali/bricks.py``); ``"deterministic"`` is BiGAN's E(x) (BiGAN section 3). Both papers' generators are
deterministic given z, as here. The losses are the objective's (default ``nonsaturating``, ALI's released loss
and BiGAN's section 3.4; ``minimax`` is both papers' value function): see :mod:`ganzoo_ali.algorithm`.

Settings, from ALI's released experiments (github.com/IshmaelBelghazi/ALI):

- ``ali-mlp`` (2D points), ``experiments/ali_mixture.py``: G and E with two hidden layers of 1000 units
  (batch norm, ReLU), D with two maxout layers of 400 units and 2 pieces on ``[x, z]``, dropout 0.2 on D's
  input and 0.5 on its hidden layers, z in R^2 from N(0, I), batches of 100, Adam (lr 1e-3, beta1 0.5; beta2
  0.999, Blocks' default) for both sides, weights from N(0, 0.02).
- ``ali-cnn`` (32x32 images), ``experiments/ali_svhn.py`` (ALI Appendix A, the SVHN model): the networks of
  :mod:`ganzoo_ali.networks` at base width 32, z in R^256 from N(0, I), batches of 100, Adam (lr 1e-4, beta1
  0.5, beta2 0.999) for both sides, weights from N(0, 0.01). For MNIST-like 28x28 data set
  ``dataset_options.resolution = 32``.

Where ganzoo departs from the released code, and why:

- The code updates D and (G, E) simultaneously from one forward pass (``ali/algorithms.py``); ganzoo takes the
  D step, then the (G, E) step on fresh batches (``d_steps`` = 1), the alternating update of the GAN papers and
  of ganzoo's other GANs.
- ``ali-cnn`` ends G in tanh where ALI has a sigmoid, as ganzoo's images lie in [-1, 1]; ALI's initialisation of
  G's last bias to the data's log-odds is left out (it needs the data set at build time).
- The VEEGAN / PacGAN toy comparisons (VEEGAN Table 1; PacGAN Table 1 copies its ALI rows) train ALI on the 2D
  ring with the MLPs of VEEGAN's appendix; this plugin could not consult that appendix and follows ALI's own 2D
  mixture code instead. The widths are options (``hidden``, ``d_hidden``), so the VEEGAN setting is a config away.
- The run's ``augmentation`` is not applied: D(x, z) is called by the algorithm, not by the runner's
  ``TrainingStep.discriminate``, which passes samples without their codes.
"""

from __future__ import annotations

import dataclasses
from typing import Literal

from pydantic import Field

from ganzoo import DataInfo, GanSpec, Options, Reference, hookimpl
from ganzoo.layers import square_side
from ganzoo_ali.algorithm import ALI_ALGORITHM, ALI_CITATION, BIGAN_CITATION, encoder_of
from ganzoo_ali.networks import LatentEncoder, cnn_triple, mlp_triple

__all__ = ["LatentEncoder", "encoder_of"]

ganzoo_plugin_api = "2.2"  # references

CITATION = f"{ALI_CITATION}; {BIGAN_CITATION}"
DUMOULIN_2017 = Reference(
    authors=("Dumoulin, Vincent", "Belghazi, Ishmael", "Poole, Ben", "Mastropietro, Olivier", "Lamb, Alex",
             "Arjovsky, Martin", "Courville, Aaron"),
    title="Adversarially Learned Inference", venue="International Conference on Learning Representations", year=2017,
    arxiv="1606.00704")
DONAHUE_2017 = Reference(
    authors=("Donahue, Jeff", "Krähenbühl, Philipp", "Darrell, Trevor"), title="Adversarial Feature Learning",
    venue="International Conference on Learning Representations", year=2017, arxiv="1605.09782")
SIDE = 32

MLP_DEFAULTS = {
    "z_dim": 2, "prior": "normal", "batch_size": 100, "d_steps": 1,
    "optimizer_g": {"kind": "adam", "lr": 1e-3, "betas": [0.5, 0.999]},
    "optimizer_d": {"kind": "adam", "lr": 1e-3, "betas": [0.5, 0.999]},
}
CNN_DEFAULTS = {
    "z_dim": 256, "prior": "normal", "batch_size": 100, "d_steps": 1,
    "optimizer_g": {"kind": "adam", "lr": 1e-4, "betas": [0.5, 0.999]},
    "optimizer_d": {"kind": "adam", "lr": 1e-4, "betas": [0.5, 0.999]},
}

EncoderKind = Literal["gaussian", "deterministic"]
ENCODER_HELP = "'gaussian': ALI's reparameterised q(z | x); 'deterministic': BiGAN's E(x)"


class MLPOptions(Options):
    hidden: int = Field(1000, gt=0, description="units per hidden layer of G and of E (ALI mixture code: 1000)")
    d_hidden: int = Field(400, gt=0, description="maxout units per hidden layer of D (ALI mixture code: 400)")
    pieces: int = Field(2, ge=1, description="pieces per maxout unit of D (ALI mixture code: 2)")
    input_dropout: float = Field(0.2, ge=0, lt=1, description="dropout on D's input [x, z] (ALI mixture code: 0.2)")
    dropout: float = Field(0.5, ge=0, lt=1, description="dropout on D's hidden layers (ALI mixture code: 0.5)")
    encoder: EncoderKind = Field("gaussian", description=ENCODER_HELP)


class CNNOptions(Options):
    channels: int = Field(32, gt=0, description="base width: E, G and D(x) have 1, 2, 4, 8, 16 times it (ALI: 32)")
    dropout: float = Field(0.2, ge=0, lt=1, description="dropout before every layer of D (ALI SVHN code: 0.2)")
    encoder: EncoderKind = Field("gaussian", description=ENCODER_HELP)


def _unconditional(info: DataInfo, name: str) -> None:
    if info.conditional:
        raise ValueError(f"{name} has no class-conditional variant; set conditional = false")


def build_mlp(info: DataInfo, z_dim: int, options: MLPOptions):
    _unconditional(info, "ali-mlp")
    if len(info.shape) != 1:
        raise ValueError(f"ali-mlp takes points (one axis), not data of shape {info.shape}; use ali-cnn for images")
    return mlp_triple(info.shape[0], z_dim, options.hidden, options.d_hidden, options.pieces,
                      options.encoder == "gaussian", options.input_dropout, options.dropout)


def build_cnn(info: DataInfo, z_dim: int, options: CNNOptions):
    _unconditional(info, "ali-cnn")
    square_side(info, "ali-cnn", (SIDE,))
    return cnn_triple(info.shape[0], z_dim, options.channels, options.encoder == "gaussian", options.dropout)


@hookimpl
def register_gans(register):
    register(GanSpec(
        name="ali-mlp",
        build=build_mlp,
        default_objective="nonsaturating",
        default_algorithm="ali",
        citation=CITATION,
        references=(DUMOULIN_2017, DONAHUE_2017),
        description="ALI/BiGAN for points: MLP generator and encoder, maxout joint discriminator D(x, z)",
        options=MLPOptions,
        serves=(DataInfo(shape=(2,)),),
        defaults=MLP_DEFAULTS,
        test_options={"hidden": 32, "d_hidden": 32},
    ))
    register(GanSpec(
        name="ali-cnn",
        build=build_cnn,
        default_objective="nonsaturating",
        default_algorithm="ali",
        citation=CITATION,
        references=(DUMOULIN_2017, DONAHUE_2017),
        description="ALI/BiGAN for 32x32 images: ALI's SVHN encoder, generator and joint discriminator D(x, z)",
        options=CNNOptions,
        serves=(DataInfo(shape=(3, SIDE, SIDE)),),
        defaults=CNN_DEFAULTS,
        test_options={"channels": 2},
    ))


@hookimpl
def register_algorithms(register):
    register(dataclasses.replace(ALI_ALGORITHM, references=(DUMOULIN_2017, DONAHUE_2017)))
