"""ganzoo plugin ``veegan``: VEEGAN (Srivastava, Valkov, Russell, Gutmann and Sutton 2017).

A generator G(z), a reconstructor F(x) that maps samples back to codes, and a joint discriminator D(z, x) that
tells the generator's pairs (z, G(z)) from the reconstructor's pairs (F(x) + noise, x). G and F minimise D's
estimate of the divergence between the two joint distributions plus an l2 autoencoder of the noise,
||z - F(G(z))||^2 (:mod:`ganzoo_veegan.algorithm`, the ``veegan`` algorithm; the default objective
``logistic-kl``, :mod:`ganzoo_veegan.objective`, is VEEGAN's own pair of losses). The GAN ``veegan-mlp`` is the
2D mixture triple (:mod:`ganzoo_veegan.networks`), defaulting to both.

F is the network named ``encoder``: it is trained to invert G (F(G(z)) = z) and the paper's inference
experiment runs real images through it and back through G (project page, "Inference"), which is what
``ganzoo invert`` does with a run's encoder. It is fitted on generated samples only, so on real samples far from
G's range its codes are an extrapolation.

Sources. P = the paper's project page, github.com/akashgit/VEEGAN ``index.md`` (akashgit.github.io/VEEGAN):
the paper's text, its Table 1 and appendix were not readable here (the table is an image on that page). N = the
released notebook ``VEEGAN_2D_RING.ipynb`` of that repository, which is not in the stored copy either; its
settings are read from Stephen Sinclair's TF2/Keras adaptation of it (first version, which keeps the notebook's
``params`` dict and network names), cross-checked against a TF1 re-implementation (a ``class VEEGAN`` with
``NOISE_DIM = 254 # refer to author's implementation``):

- the objective: D a logistic classifier of generator pairs against reconstructor pairs, D = log q / p (P, O_LR);
  G and F minimise mean D(z, G(z)) + mean d(z, F(G(z))) (P, Ô); F enters the second term only (N and the TF1
  re-implementation: one optimizer over G's and F's weights, the reconstructor's pairs in D's loss only);
- the reconstructor's p(z | x) = N(F(x), I): D's data-side codes are F(x) plus unit noise, and the
  reconstruction term is -log N(z; F(G(z)), I) summed over the code, 0.5 ||z - F(G(z))||^2 + const (N);
- ``veegan-mlp``: codes of 254 dimensions from N(0, I) (N's ``input_dim`` and ``tf.random.normal``; the noise is
  "standard normal by assumption", paper abstract); G, F with two ReLU layers of 128, D with two of 128 on
  [z, x]; batches of 500; Adam with lr 1e-3, beta1 0.5 (beta2 0.999, Keras' default) for both sides (N's
  ``params``); 100,000 steps (the adaptation's loop, 100 x 1,000 updates; N's own length was not readable).
  Adam's epsilon is ganzoo's 1e-8 (Keras' default is 1e-7).
- data: ``ring8`` is 8 Gaussians on the unit circle with std 0.01, the ring of the authors' ``GAN_RING.py`` gist
  (``scale=1, std=.01``; that code passes ``std**2`` as the scale, so its points lie 1e-4 from the centres),
  ``grid25`` the 5 x 5 grid of spacing 2 and std 0.05 of the adaptation's ``create_distribution``.
- the toy metrics (ganzoo's ``toy-modes``): a sample is high quality within 3 standard deviations of its nearest
  mode, a mode is captured when it is the nearest mode of a high-quality sample, on 2,500 samples (P,
  "Synthetic Dataset"; P averages over five runs).

Where ganzoo departs from the released code, and why:

- N's generator also takes one coordinate of input noise that is not reconstructed (``eps_dim = 1``, G's input
  is [z, eps]); here G is a deterministic function of the run's code, so sampling is seeded, and ``ganzoo invert``
  and interpolation get codes G accepts. 254 of N's 255 input coordinates are kept.
- G and F are updated after D, on fresh batches (ganzoo's alternating order, ``d_steps`` = 1); the TF1
  re-implementation updates all three at once from one batch, the Keras adaptation alternates as here.
- D's two batches are scored in one call; the run's ``augmentation`` is not applied, since D(z, x) is called by
  the algorithm, not by ``TrainingStep.discriminate`` (which passes samples without their codes).
"""

from __future__ import annotations

from pydantic import Field

from ganzoo import AlgorithmSpec, DataInfo, GanSpec, ObjectiveSpec, Options, Reference, hookimpl
from ganzoo_veegan.algorithm import Veegan, VeeganOptions, reconstruction_error
from ganzoo_veegan.networks import mlp_triple
from ganzoo_veegan.objective import LogisticKL

__all__ = ["LogisticKL", "Veegan", "VeeganOptions", "reconstruction_error"]

ganzoo_plugin_api = "2.2"  # references

CITATION = ("Srivastava, Valkov, Russell, Gutmann and Sutton 2017, VEEGAN: Reducing Mode Collapse in GANs using "
            "Implicit Variational Learning, NeurIPS (arXiv:1705.07761)")
SRIVASTAVA_2017 = Reference(
    authors=("Srivastava, Akash", "Valkov, Lazar", "Russell, Chris", "Gutmann, Michael U.", "Sutton, Charles"),
    title="VEEGAN: Reducing Mode Collapse in GANs using Implicit Variational Learning",
    venue="Advances in Neural Information Processing Systems 30", year=2017, arxiv="1705.07761")
ADAM = {"kind": "adam", "lr": 1e-3, "betas": [0.5, 0.999]}
MLP_DEFAULTS = {"z_dim": 254, "prior": "normal", "batch_size": 500, "steps": 100_000, "d_steps": 1,
                "optimizer_g": ADAM, "optimizer_d": ADAM}


class MLPOptions(Options):
    hidden: int = Field(128, gt=0, le=8192, description="units per hidden layer of G and of F (notebook: 128)")
    layers: int = Field(2, ge=1, le=16, description="ReLU hidden layers of G and of F (notebook: 2)")
    d_hidden: int = Field(128, gt=0, le=8192, description="units per hidden layer of D(z, x) (notebook: 128)")
    d_layers: int = Field(2, ge=1, le=16, description="ReLU hidden layers of D(z, x) (notebook: 2)")


def build_mlp(info: DataInfo, z_dim: int, options: MLPOptions):
    if info.conditional:
        raise ValueError("veegan-mlp has no class-conditional variant; set conditional = false")
    if len(info.shape) != 1:
        raise ValueError(f"veegan-mlp takes points (one axis, as ring8 and grid25), not data of shape "
                         f"{tuple(info.shape)}")
    return mlp_triple(info.shape[0], z_dim, options.hidden, options.layers, options.d_hidden, options.d_layers)


@hookimpl
def register_gans(register):
    register(GanSpec(
        name="veegan-mlp",
        build=build_mlp,
        default_objective="logistic-kl",
        default_algorithm="veegan",
        citation=f"{CITATION}; networks and settings of the released 2D notebook (akashgit/VEEGAN)",
        references=(SRIVASTAVA_2017,),
        description="VEEGAN for points: ReLU MLP generator and reconstructor (2x128), joint discriminator D(z, x)",
        options=MLPOptions,
        serves=(DataInfo(shape=(2,)),),
        defaults=MLP_DEFAULTS,
        test_options={"hidden": 16, "d_hidden": 16},
    ))


@hookimpl
def register_algorithms(register):
    register(AlgorithmSpec(
        name="veegan",
        build=Veegan,
        citation=CITATION,
        references=(SRIVASTAVA_2017,),
        description="joint discriminator D(z, x) against G; G and its reconstructor F (the encoder) minimise D's "
                    "score of (z, G(z)) plus ||z - F(G(z))||^2",
        options=VeeganOptions,
    ))


@hookimpl
def register_objectives(register):
    register(ObjectiveSpec(
        name="logistic-kl",
        build=lambda options: LogisticKL(),
        citation=f"{CITATION}, the losses of Ô and O_LR",
        references=(SRIVASTAVA_2017,),
        description="logistic D; G minimises -E[D(G(z))], the log density ratio: KL(q || p) at D's optimum",
    ))
