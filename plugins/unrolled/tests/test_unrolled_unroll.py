"""The unrolled generator gradient against closed forms and finite differences, on tiny networks."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from ganzoo import Batch, Objective, TrainingStep
from ganzoo_unrolled.algorithm import Unrolled, UnrolledOptions, at_weights
from ganzoo_unrolled.unroll import AdamRule, AdamState, unroll


class Linear(Objective):
    """L_D = mean D(fake) - mean D(real), L_G = -mean D(fake): with D(x) = w.x the D gradient is free of w."""

    def discriminator_loss(self, real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
        return fake_scores.mean() - real_scores.mean()

    def generator_loss(self, fake_scores: torch.Tensor) -> torch.Tensor:
        return -fake_scores.mean()


class Constant(nn.Module):
    """G(z) = theta for every z."""

    def __init__(self, theta: torch.Tensor):
        super().__init__()
        self.theta = nn.Parameter(theta.clone())

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.theta.expand(len(z), -1)


class FixedStep(TrainingStep):
    """A training step whose real batch is always ``real``; D is called directly, its optimizer is SGD at ``lr``."""

    def __init__(self, generator: nn.Module, discriminator: nn.Module, objective: Objective, real: torch.Tensor,
                 lr: float):
        self.index, self.steps, self.batch_size, self.world_size, self.d_steps = 0, 1, len(real), 1, 1
        self.num_classes, self.objective = None, objective
        self.networks = {"generator": generator, "discriminator": discriminator}
        self.fixed_real = real
        self.sgd = torch.optim.SGD(discriminator.parameters(), lr=lr)

    def optimizer(self, name: str) -> torch.optim.Optimizer:
        assert name == "d"
        return self.sgd

    def real(self, n: int | None = None) -> Batch:
        return Batch(self.fixed_real)

    def latents(self, n: int | None = None) -> Batch:
        codes = torch.zeros(n or self.batch_size, 1, dtype=self.fixed_real.dtype)
        return Batch(codes, None, codes)

    def generate(self, n: int | None = None, *, network: str = "generator") -> Batch:
        codes = self.latents(n).samples
        return Batch(self.networks[network](codes), None, codes)

    def discriminate(self, samples: torch.Tensor, labels: torch.Tensor | None = None, *,
                     network: str = "discriminator", observe: bool = False) -> torch.Tensor:
        return self.networks[network](samples).view(-1)

    def optimize(self, optimizer: str, loss: torch.Tensor) -> None:
        raise AssertionError("generator_context must not update anything")

    def report(self, name: str, value: torch.Tensor | float) -> None:
        pass


def linear_setup(lr: float, seed: int = 0) -> tuple[FixedStep, torch.Tensor, torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    theta, w, real = (torch.randn(2, generator=generator, dtype=torch.float64) for _ in range(3))
    discriminator = nn.Linear(2, 1, bias=False).double()
    with torch.no_grad():
        discriminator.weight.copy_(w)
    return FixedStep(Constant(theta), discriminator, Linear(), real.expand(4, -1), lr), theta, w, real


def generator_gradient(algorithm: Unrolled, step: TrainingStep) -> torch.Tensor:
    ctx = algorithm.generator_context(step)
    loss = step.objective.g_loss(ctx)
    (grad,) = torch.autograd.grad(loss, [step.networks["generator"].theta])
    return grad


@pytest.mark.parametrize("k", [1, 3])
def test_sgd_unrolled_gradient_is_the_closed_form(k: int) -> None:
    # w_k = w - k lr (theta - real) and L_G = -w_k . theta, so dL_G/dtheta = -w_k + k lr theta (eq. 12 in full)
    lr = 0.3
    step, theta, w, real = linear_setup(lr)
    algorithm = Unrolled(UnrolledOptions(unroll_steps=k, unroll_optimizer="sgd"))
    w_k = w - k * lr * (theta - real)
    torch.testing.assert_close(generator_gradient(algorithm, step), -w_k + k * lr * theta)


def test_first_order_variant_drops_the_second_term() -> None:
    lr, k = 0.3, 2
    step, theta, w, real = linear_setup(lr, seed=1)
    algorithm = Unrolled(UnrolledOptions(unroll_steps=k, unroll_optimizer="sgd", second_order=False))
    torch.testing.assert_close(generator_gradient(algorithm, step), -(w - k * lr * (theta - real)))


def test_adam_unrolled_gradient_matches_finite_differences() -> None:
    torch.manual_seed(0)
    discriminator = nn.Sequential(nn.Linear(2, 5), nn.Tanh(), nn.Linear(5, 1)).double()
    real = torch.randn(6, 2, dtype=torch.float64)
    rule = AdamRule(lr=0.05, betas=(0.5, 0.9), eps=1e-8)
    start = {name: p.detach().requires_grad_() for name, p in discriminator.named_parameters()}
    # a state as after a few real updates, so the bias corrections and moments all matter
    state = AdamState({n: 0.1 * torch.randn_like(p) for n, p in start.items()},
                      {n: 0.01 * torch.rand_like(p) + 1e-3 for n, p in start.items()},
                      {n: torch.tensor(3.0, dtype=torch.float64) for n in start})

    def surrogate(theta: torch.Tensor) -> torch.Tensor:
        fake = theta.view(3, 2)

        def d_loss(index: int, weights: dict[str, torch.Tensor]) -> torch.Tensor:
            return at_weights(discriminator, weights, lambda: nn.functional.softplus(-discriminator(real)).mean()
                              + nn.functional.softplus(discriminator(fake)).mean())

        weights = unroll(d_loss, dict(start), 3, rule, state)
        return at_weights(discriminator, weights, lambda: nn.functional.softplus(-discriminator(fake)).mean())

    theta = torch.randn(6, dtype=torch.float64, requires_grad=True)
    (analytic,) = torch.autograd.grad(surrogate(theta), [theta])
    delta = 1e-6
    numeric = torch.stack([(surrogate(theta.detach() + delta * e) - surrogate(theta.detach() - delta * e)) / (2 * delta)
                           for e in torch.eye(6, dtype=torch.float64)])
    torch.testing.assert_close(analytic, numeric, rtol=1e-5, atol=1e-8)


def test_one_unrolled_adam_step_is_torch_adams_step() -> None:
    torch.manual_seed(1)
    weight = torch.randn(3, 4)
    grads = [torch.randn(3, 4) for _ in range(3)]
    parameter = nn.Parameter(weight.clone())
    optimizer = torch.optim.Adam([parameter], lr=0.01, betas=(0.5, 0.999), eps=1e-8)
    rule, state, value = AdamRule(0.01, (0.5, 0.999), 1e-8), AdamState(), weight.clone()
    for grad in grads:
        parameter.grad = grad.clone()
        optimizer.step()
        (value_dict, state) = rule.apply({"w": value}, {"w": grad}, state)
        value = value_dict["w"]
    torch.testing.assert_close(value, parameter.detach())
    torch.testing.assert_close(state.exp_avg_sq["w"], optimizer.state[parameter]["exp_avg_sq"])


def test_dead_weights_give_finite_second_order_gradients() -> None:
    # a weight whose gradient is always 0 has Adam's second moment 0, where the square root's derivative is infinite
    theta = torch.tensor([0.5], requires_grad=True)
    weights = {"used": torch.tensor([1.0], requires_grad=True), "dead": torch.tensor([2.0], requires_grad=True)}
    after = unroll(lambda i, w: (w["used"] * theta).square().sum() + 0 * w["dead"].sum(), weights, 2,
                   AdamRule(0.1, (0.5, 0.999), 1e-8), AdamState())
    (grad,) = torch.autograd.grad((after["used"] + after["dead"]).sum() * theta.sum(), [theta])
    assert torch.isfinite(grad).all()


def test_at_weights_leaves_buffers_untouched() -> None:
    network = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3)).train()
    before = {name: b.clone() for name, b in network.named_buffers()}
    weights = {name: p * 2 for name, p in network.named_parameters()}
    at_weights(network, weights, lambda: network(torch.randn(8, 2)))
    for name, buffer in network.named_buffers():
        assert torch.equal(buffer, before[name]), name
    network(torch.randn(8, 2))  # a real call does move them, so the check above can fail
    assert not torch.equal(network[1].running_mean, before["1.running_mean"])
