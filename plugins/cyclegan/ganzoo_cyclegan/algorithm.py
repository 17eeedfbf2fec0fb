"""The ``cyclegan`` algorithm and the ``cyclegan-lsgan`` objective.

Each real sample is a pair ``(a, b)`` of independently drawn images of domains A and B (the core's ``unpaired``
data set). G_AB maps A to B and G_BA maps B to A (the code's G_A and G_B, the paper's G and F); ``discriminator_a``
tells real A images from G_BA's and ``discriminator_b`` real B images from G_AB's (the code's D_B and D_A, the
paper's D_X and D_Y). One step, as ``CycleGANModel.optimize_parameters`` of the released code
(``models/cycle_gan_model.py``) does it, on one real batch:

1. translate both ways: ``fake_b = G_AB(a)``, ``fake_a = G_BA(b)``, and back: ``G_BA(fake_b)``, ``G_AB(fake_a)``;
2. the generators' update (optimizer ``g``, both generators; the discriminators' weights get no gradient):
   ``generator_loss(D_B(fake_b)) + generator_loss(D_A(fake_a))`` plus the cycle loss
   ``lambda_a * |G_BA(G_AB(a)) - a| + lambda_b * |G_AB(G_BA(b)) - b|`` (paper eq. 2) plus the identity loss
   ``lambda_identity * (lambda_b * |G_AB(b) - b| + lambda_a * |G_BA(a) - a|)`` (paper section 5.2, after Taigman
   et al. 2017), each ``|.|`` the mean absolute difference over pixels and batch (``nn.L1Loss``);
3. the discriminators' update (optimizer ``d``, both discriminators) on the same real batch and the translations
   of step 1, detached, each passed through its discriminator's :class:`~ganzoo_cyclegan.pool.ImagePool` (G_AB's
   images to ``discriminator_b``'s pool, G_BA's to ``discriminator_a``'s): for each discriminator
   ``0.5 * discriminator_loss(D(real), D(pooled fake))``. The halving is the paper's (Appendix 7.1: D's objective
   is divided by 2, so that D learns more slowly than G) and ``backward_D_basic``'s ``* 0.5``.

Each discriminator gives a map of patch scores; the objective sees them flattened, every patch of every image one
score, and takes means over all of them, as ``GANLoss`` applies ``nn.MSELoss`` to the whole map.

``cyclegan-lsgan`` is the paper's least-squares loss (section 4, eq. 1 with Mao et al. 2017's squares): D
minimises ``E[(D(y) - 1)^2] + E[D(G(x))^2]``, G minimises ``E[(D(G(x)) - 1)^2]``: ``GANLoss('lsgan')``, MSE to
target 1 for real and 0 for fake, without factors (the algorithm halves D's). The ``lsgan`` objective of
ganzoo-losses is not used: it carries Mao et al.'s 1/2 on every term, so with it G's adversarial loss would weigh
half as much against the cycle loss (lambda 10) as in the paper, and D's a quarter. Any score-level objective
works with the algorithm: ``nonsaturating`` (ganzoo-gan) gives the released ``--gan_mode vanilla``
(``BCEWithLogitsLoss``) exactly, the halving included.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from pydantic import Field
from torch import nn

from ganzoo import Algorithm, AlgorithmSpec, DataInfo, Objective, ObjectiveSpec, Options, TrainingStep
from ganzoo_cyclegan.pool import ImagePool

CITATION = ("Zhu, Park, Isola and Efros 2017, Unpaired Image-to-Image Translation using Cycle-Consistent "
            "Adversarial Networks, ICCV (arXiv:1703.10593)")
LSGAN_CITATION = f"{CITATION}, section 4; Mao et al. 2017, Least Squares Generative Adversarial Networks, ICCV"

G_AB, G_BA, D_A, D_B = "generator_ab", "generator_ba", "discriminator_a", "discriminator_b"
NETWORKS = (G_AB, G_BA, D_A, D_B)
D_HALF = 0.5  # backward_D_basic: loss_D = (loss_D_real + loss_D_fake) * 0.5


class CycleOptions(Options):
    lambda_a: float = Field(10.0, ge=0, le=1e4, description="weight of the cycle loss A -> B -> A (code: lambda_A)")
    lambda_b: float = Field(10.0, ge=0, le=1e4, description="weight of the cycle loss B -> A -> B (code: lambda_B)")
    lambda_identity: float = Field(0.5, ge=0, le=1e3, description=(
        "identity loss weight, relative to lambda_a and lambda_b (code: lambda_identity; 0 turns it off)"))
    pool_size: int = Field(50, ge=0, le=10_000, description=(
        "generated images each discriminator's history keeps (code: pool_size; 0: no history)"))


class LeastSquares(Objective):
    """``GANLoss('lsgan')``: mean squared distance of the scores to 1 for real, to 0 for generated samples."""

    def discriminator_loss(self, real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
        return (real_scores - 1).square().mean() + fake_scores.square().mean()

    def generator_loss(self, fake_scores: torch.Tensor) -> torch.Tensor:
        return (fake_scores - 1).square().mean()


@dataclass(frozen=True)
class GeneratorTerms:
    """The translations of one real batch and the generators' reconstruction terms, weighted."""

    fake_a: torch.Tensor  # G_BA(b)
    fake_b: torch.Tensor  # G_AB(a)
    cycle: torch.Tensor
    identity: torch.Tensor


def generator_terms(g_ab: Callable[[torch.Tensor], torch.Tensor], g_ba: Callable[[torch.Tensor], torch.Tensor],
                    real_a: torch.Tensor, real_b: torch.Tensor, options: CycleOptions) -> GeneratorTerms:
    """Translate both ways, then back, and weigh the cycle and identity losses (``backward_G``)."""
    fake_b, fake_a = g_ab(real_a), g_ba(real_b)
    cycle = options.lambda_a * F.l1_loss(g_ba(fake_b), real_a) + options.lambda_b * F.l1_loss(g_ab(fake_a), real_b)
    identity = real_a.new_zeros(())
    if options.lambda_identity > 0:  # skipped at 0, as the code skips it: two fewer passes per step
        identity = options.lambda_identity * (options.lambda_b * F.l1_loss(g_ab(real_b), real_b)
                                              + options.lambda_a * F.l1_loss(g_ba(real_a), real_a))
    return GeneratorTerms(fake_a, fake_b, cycle, identity)


def discriminator_loss(objective: Objective, discriminator: Callable[[torch.Tensor], torch.Tensor],
                       real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """One discriminator's halved loss on real and (already pooled, detached) generated images."""
    return D_HALF * objective.discriminator_loss(discriminator(real).flatten().float(),
                                                 discriminator(fake).flatten().float())


def split_domains(samples: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """A batch of unpaired samples, shape ``(n, 2, C, H, W)``, as its A images and its B images."""
    if samples.dim() != 5 or samples.shape[1] != 2:
        raise ValueError(f"cyclegan takes batches of unpaired samples of shape (n, 2, C, H, W), got "
                         f"{tuple(samples.shape)}; train on dataset = \"unpaired\"")
    return samples[:, 0], samples[:, 1]


class CycleGAN(Algorithm):
    """Two generators against two patch discriminators; see the module docstring."""

    optimizers = {"g": (G_AB, G_BA), "d": (D_A, D_B)}  # one Adam for both Gs, one for both Ds, as the code
    generator = None  # nothing maps latent codes to samples: no pictures, moving average or metrics in training
    # PatchGAN gives a map of scores per image, which TrainingStep.discriminate would refuse; D is called here
    discriminators = ()
    translators = {"a2b": G_AB, "b2a": G_BA}

    def __init__(self, options: CycleOptions):
        self.options = options
        self.pools = {D_A: ImagePool(options.pool_size), D_B: ImagePool(options.pool_size)}
        # one generator for both pools' draws, as the code's pools share Python's `random`; seeded at the first
        # step from the run's seeded stream (empty until then)
        self.rng = torch.Generator()
        self.seeded = False

    def build_networks(self, gan: Callable[[], dict[str, nn.Module]], info: DataInfo,
                       z_dim: int) -> dict[str, nn.Module]:
        networks = gan()
        missing = [name for name in NETWORKS if name not in networks]
        if missing:
            raise ValueError(f"the GAN gives networks {', '.join(sorted(networks))}; cyclegan needs "
                             f"{', '.join(NETWORKS)}: use gan = \"cyclegan\"")
        return networks

    def check(self, networks: Mapping[str, nn.Module], objective: Objective) -> None:
        problem = objective.score_level_problem()
        if problem:
            raise ValueError(problem)

    def step(self, step: TrainingStep) -> None:
        if step.d_steps != 1:
            raise ValueError(f"cyclegan takes one discriminator update per generator update, as the released "
                             f"code; set d_steps = 1 (got {step.d_steps})")
        if not self.seeded:
            self.seed(step)
        networks, objective = step.networks, step.objective
        real_a, real_b = split_domains(step.real().samples)

        terms = generator_terms(networks[G_AB], networks[G_BA], real_a, real_b, self.options)
        adversarial = (objective.generator_loss(networks[D_B](terms.fake_b).flatten().float())
                       + objective.generator_loss(networks[D_A](terms.fake_a).flatten().float()))
        step.optimize("g", adversarial + terms.cycle + terms.identity)

        loss_d = (discriminator_loss(objective, networks[D_A], real_a, self.pools[D_A].query(terms.fake_a, self.rng))
                  + discriminator_loss(objective, networks[D_B], real_b,
                                       self.pools[D_B].query(terms.fake_b, self.rng)))
        step.optimize("d", loss_d)
        for name in (D_A, D_B):
            objective.after_discriminator_step(networks[name])

        step.report("loss_g", adversarial)
        step.report("cycle", terms.cycle)
        step.report("identity", terms.identity)
        step.report("loss_d", loss_d)

    def seed(self, step: TrainingStep) -> None:
        """Seed the pools' generator from one code of the run's seeded stream: the same run seed repeats the
        pools' draws, another changes them."""
        code = step.latents(1).latents
        assert code is not None
        digest = hashlib.sha256(code.detach().float().cpu().contiguous().view(torch.uint8).numpy().tobytes())
        self.rng.manual_seed(int.from_bytes(digest.digest()[:8], "little"))
        self.seeded = True

    def state_dict(self) -> dict[str, torch.Tensor]:
        state = {f"{name}.{key}": value for name, pool in self.pools.items()
                 for key, value in pool.state_dict().items()}
        state["rng"] = self.rng.get_state() if self.seeded else torch.empty(0, dtype=torch.uint8)
        return state

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        expected = set(self.state_dict())
        if set(state) != expected:
            raise ValueError(f"cyclegan's state has {', '.join(sorted(expected))}, not {', '.join(sorted(state))}")
        for name, pool in self.pools.items():
            pool.load_state_dict({key: state[f"{name}.{key}"] for key in ("images", "count")})
        rng = state["rng"]
        self.seeded = rng.numel() > 0
        if self.seeded:
            self.rng.set_state(rng.to(device="cpu", dtype=torch.uint8))


CYCLEGAN_ALGORITHM = AlgorithmSpec(
    name="cyclegan",
    build=lambda options: CycleGAN(options),
    citation=CITATION,
    description="two translators A->B and B->A with cycle and identity losses against two patch "
                "discriminators fed from image pools; G update, then D update (released code's order)",
    options=CycleOptions,
    defaults={"d_steps": 1},
)

LSGAN_OBJECTIVE = ObjectiveSpec(
    name="cyclegan-lsgan",
    build=lambda options: LeastSquares(),
    citation=LSGAN_CITATION,
    description="least squares as CycleGAN's code: D (D(y) - 1)^2 + D(G(x))^2, G (D(G(x)) - 1)^2, no 1/2 factors",
)
