"""VEEGAN: the reconstruction term, the pairs D sees, where F's gradient comes from, and the objective's optimum."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

import ganzoo
from ganzoo import Batch, Objective, TrainingStep
from ganzoo.testing import resolved_config, trainer
from ganzoo.training.trainer import Trainer
from ganzoo_veegan import LogisticKL, Veegan, VeeganOptions, reconstruction_error
from ganzoo_veegan.networks import JointDiscriminator

SMALL = {"gan": "veegan-mlp", "gan_options": {"hidden": 16, "d_hidden": 16}, "batch_size": 32, "steps": 4}


def veegan_run(folder: Path, **config: Any) -> Trainer:
    torch.manual_seed(0)
    run = trainer(folder, **{**SMALL, **config})
    run.prepare()
    return run


def weights(network: nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in network.parameters()]


class StubStep(TrainingStep):
    """The runner's services for one call of ``Veegan.step`` on hand-made networks: records losses and reports."""

    def __init__(self, networks: dict[str, nn.Module], objective: Objective, z_dim: int, batch: int = 64):
        self.networks, self.objective = networks, objective
        self.index, self.steps, self.batch_size, self.world_size, self.d_steps = 0, 1, batch, 1, 1
        self.num_classes = None
        self.z_dim, self.rng = z_dim, torch.Generator().manual_seed(0)
        self.losses: dict[str, list[torch.Tensor]] = {}
        self.reports: dict[str, torch.Tensor | float] = {}
        self.generated: list[Batch] = []

    def real(self, n: int | None = None) -> Batch:
        return Batch(torch.randn(n or self.batch_size, 2, generator=self.rng))

    def latents(self, n: int | None = None) -> Batch:
        z = torch.randn(n or self.batch_size, self.z_dim, generator=self.rng)
        return Batch(z, None, z)

    def generate(self, n: int | None = None, *, network: str = "generator") -> Batch:
        z = self.latents(n).samples
        self.generated.append(Batch(self.networks[network](z), None, z))
        return self.generated[-1]

    def discriminate(self, samples, labels=None, *, network="discriminator", observe=False):
        raise AssertionError("veegan calls D(z, x) itself, with the codes")

    def optimize(self, optimizer: str, loss: torch.Tensor) -> None:
        self.losses.setdefault(optimizer, []).append(loss.detach())

    def report(self, name: str, value: torch.Tensor | float) -> None:
        self.reports[name] = value


def linear(weight: torch.Tensor, bias: torch.Tensor) -> nn.Linear:
    layer = nn.Linear(weight.shape[1], weight.shape[0])
    with torch.no_grad():
        layer.weight.copy_(weight), layer.bias.copy_(bias)
    return layer


def test_reconstruction_term_is_the_mean_squared_code_distance():
    codes, reconstructed = torch.randn(5, 3), torch.randn(5, 3)
    by_hand = sum(float(codes[i, k] - reconstructed[i, k]) ** 2 for i in range(5) for k in range(3)) / 5
    assert reconstruction_error(codes, reconstructed).item() == pytest.approx(by_hand, rel=1e-6)
    with pytest.raises(ValueError, match="map a sample back to a code"):
        reconstruction_error(codes, reconstructed[:, :2])


@pytest.mark.parametrize("shift", [0.0, 0.3])
def test_generator_loss_is_the_adversarial_term_plus_half_the_squared_reconstruction_error(shift):
    # G(z) = A z + b is inverted exactly by F(x) = A^-1 (x - b); shifting F's output by c makes every error c
    torch.manual_seed(0)
    a, b = torch.tensor([[2.0, 1.0], [0.5, 1.5]]), torch.tensor([0.2, -0.4])
    inverse = torch.linalg.inv(a)
    c = torch.tensor([shift, -2 * shift])
    networks = {"generator": linear(a, b), "encoder": linear(inverse, -inverse @ b + c),
                "joint_discriminator": JointDiscriminator(2, 2, 8, 1)}
    objective = LogisticKL()
    step = StubStep(networks, objective, z_dim=2)
    Veegan(VeeganOptions()).step(step)

    last = step.generated[-1]  # the generator's batch of G's and F's update
    with torch.no_grad():
        adversarial = objective.generator_loss(networks["joint_discriminator"](last.latents, last.samples))
    squared = float(c.square().sum())
    assert float(step.reports["loss_rec"]) == pytest.approx(squared, abs=1e-5)
    assert float(step.reports["loss_g"]) == pytest.approx(adversarial.item(), abs=1e-6)
    (loss_g,) = step.losses["g"]
    assert loss_g.item() == pytest.approx(adversarial.item() + 0.5 * squared, abs=1e-5)


def test_discriminator_sees_generator_pairs_and_reconstructor_pairs(tmp_path):
    run = veegan_run(tmp_path / "run", algorithm_options={"reconstructor_noise": 0.0})
    seen: dict[str, list] = {"encoder": [], "generator": [], "joint_discriminator": []}
    for name, record in seen.items():
        run.networks[name].register_forward_hook(lambda module, args, out, record=record: record.append((args, out)))
    run.train_step()
    (x_in,), codes = seen["encoder"][0]  # D's step: F(x) for the data side
    (z_in,), samples = seen["generator"][0]
    (pair_z, pair_x), _ = seen["joint_discriminator"][0]
    n = len(x_in)
    assert torch.equal(pair_z[:n], codes) and torch.equal(pair_x[:n], x_in)  # (F(x), x), x from the data
    assert torch.equal(pair_z[n:], z_in) and torch.equal(pair_x[n:], samples)  # (z, G(z)), z from the prior
    # G's and F's step: D scores (z, G(z)) only, and F reconstructs z from G(z)
    (z_g,), samples_g = seen["generator"][1]
    (pair_z, pair_x), _ = seen["joint_discriminator"][1]
    assert torch.equal(pair_z, z_g) and torch.equal(pair_x, samples_g)
    (reconstructed_from,), _ = seen["encoder"][1]
    assert torch.equal(reconstructed_from, samples_g)
    assert len(seen["joint_discriminator"]) == 2 and len(seen["encoder"]) == 2


def test_reconstructor_pairs_carry_gaussian_noise_of_the_set_deviation(tmp_path):
    run = veegan_run(tmp_path / "run", batch_size=64, algorithm_options={"reconstructor_noise": 0.5})
    seen: list = []
    run.networks["encoder"].register_forward_hook(lambda module, args, out: seen.append(out.detach()))
    run.networks["joint_discriminator"].register_forward_hook(lambda module, args, out: seen.append(args[0]))
    run.train_step()
    codes, pair_z = seen[0], seen[1]
    noise = pair_z[:len(codes)] - codes  # 64 x 254 draws
    assert noise.mean().item() == pytest.approx(0.0, abs=0.02)
    assert noise.std().item() == pytest.approx(0.5, rel=0.03)


def test_joint_discriminator_learns_to_tell_the_pairs_apart(tmp_path):
    run = veegan_run(tmp_path / "run")
    step, objective, algorithm = run.services, run.objective, run.algorithm
    assert isinstance(algorithm, Veegan)
    real = step.real()
    with torch.no_grad():
        fake = step.generate()
    codes = algorithm.data_codes(run.networks["encoder"], real.samples)
    discriminator = run.networks["joint_discriminator"]

    def loss() -> torch.Tensor:
        return objective.discriminator_loss(discriminator(codes, real.samples), discriminator(fake.latents,
                                                                                              fake.samples))

    before = loss().item()
    for _ in range(5):
        step.optimize("d", loss())
    assert loss().item() < before


def test_the_reconstructor_learns_from_the_reconstruction_term_only(tmp_path):
    # F makes D's data-side codes but is not in G's adversarial term: without the reconstruction term F stays put
    for weight, moves in ((0.0, False), (0.5, True)):
        run = veegan_run(tmp_path / f"w{weight}", algorithm_options={"reconstruction_weight": weight})
        before = {name: weights(run.networks[name]) for name in ("encoder", "generator", "joint_discriminator")}
        for _ in range(3):
            run.train_step()
        for name, old in before.items():
            changed = any(not torch.equal(a, b) for a, b in zip(old, weights(run.networks[name])))
            assert changed == (moves or name != "encoder"), (weight, name)


def test_training_shrinks_the_code_reconstruction_error(tmp_path):
    run = veegan_run(tmp_path / "run", z_dim=4, batch_size=64, optimizer_g={"lr": 3e-3})
    generator, encoder = run.networks["generator"], run.networks["encoder"]

    def error() -> float:
        z = torch.randn(512, 4, generator=torch.Generator().manual_seed(1))
        with torch.no_grad():
            return reconstruction_error(z, encoder(generator(z))).item()

    before = error()
    for _ in range(150):
        run.train_step()
    assert error() < 0.5 * before


def test_logistic_kl_at_the_optimal_discriminator_is_the_kl_divergence():
    # real N(0, 1), generated N(mu, 1): the optimal logit is log p / q = -mu x + mu^2 / 2, KL(q || p) = mu^2 / 2
    mu, objective = 1.5, LogisticKL()
    generator = torch.Generator().manual_seed(0)
    real, fake = torch.randn(200_000, generator=generator), mu + torch.randn(200_000, generator=generator)

    def logit(x: torch.Tensor) -> torch.Tensor:
        return -mu * x + mu**2 / 2

    assert objective.generator_loss(logit(fake)).item() == pytest.approx(mu**2 / 2, abs=0.02)
    assert objective.divergence_estimate(logit(real), logit(fake)).item() == pytest.approx(mu**2 / 2, abs=0.02)
    best = objective.discriminator_loss(logit(real), logit(fake)).item()
    for change in (lambda x: 0.3 + 0 * x, lambda x: -0.3 + 0 * x, lambda x: 0.2 * x, lambda x: -0.2 * x):
        assert objective.discriminator_loss(logit(real) + change(real), logit(fake) + change(fake)).item() > best


def test_published_settings_arrive():
    config = resolved_config(gan="veegan-mlp")
    assert (config.algorithm, config.objective, config.prior) == ("veegan", "logistic-kl", "normal")
    assert (config.z_dim, config.batch_size, config.steps, config.d_steps) == (254, 500, 100_000, 1)
    for optimizer in (config.optimizer_g, config.optimizer_d):
        assert (optimizer.kind, optimizer.lr, optimizer.betas) == ("adam", 1e-3, (0.5, 0.999))
    nets = ganzoo.build_gan("veegan-mlp", ganzoo.DataInfo((2,)), z_dim=254)
    linears = [m for m in nets["joint_discriminator"].modules() if isinstance(m, nn.Linear)]
    assert [m.weight.shape for m in linears] == [(128, 256), (128, 128), (1, 128)]  # two ReLU layers on [z, x]


def test_refusals():
    class Penalised(Objective):
        def penalty(self, discriminator, real, fake):
            return discriminator(real).mean()

    networks = ganzoo.build_gan("veegan-mlp", ganzoo.DataInfo((2,)), z_dim=4, hidden=4, d_hidden=4)
    with pytest.raises(ValueError, match="defines penalty, .*use a score-level objective"):
        Veegan(VeeganOptions()).check(networks, Penalised())

    class UsesReal(Objective):
        generator_uses_real = True

    with pytest.raises(ValueError, match="needs real samples. scores too"):
        Veegan(VeeganOptions()).check(networks, UsesReal())
    with pytest.raises(ValueError, match="veegan-mlp takes points"):
        ganzoo.build_gan("veegan-mlp", ganzoo.DataInfo((1, 28, 28)))
    pair: dict[str, nn.Module] = {"generator": nn.Linear(4, 2), "discriminator": nn.Linear(2, 1)}
    with pytest.raises(ValueError, match="use gan = \"veegan-mlp\""):
        Veegan(VeeganOptions()).build_networks(lambda: pair, ganzoo.DataInfo((2,)), 4)
    encoder = networks["encoder"].eval()
    points = torch.randn(6, 2)
    assert encoder(points).shape == (6, 4) and torch.equal(encoder(points), encoder(points))  # what invert reads
