"""f-divergences with the output activations and conjugates of f-GAN's Table 2.

D_f(P || Q) = E_Q[f(p/q)] for convex f with f(1) = 0. Its variational form
(Nguyen et al. 2010; Nowozin et al. 2016, eq. 4) is

    D_f(P || Q) >= sup_T  E_P[T(x)] - E_Q[f*(T(x))],

with f* the Fenchel conjugate, f*(t) = sup_u (t u - f(u)), and equality at
T*(x) = f'(p(x) / q(x)). The critic outputs an unconstrained V(x) and
T = g_f(V) maps it into the domain of f*.

``conjugate_of_activation(v)`` is f*(g_f(v)) rewritten in closed form so it
stays finite where composing the two would overflow: for example, for the
GAN divergence f*(g_f(v)) = -log(1 - sigmoid(v)) = softplus(v).

Jensen-Shannon: with f(u) = u log u - (u + 1) log((u + 1) / 2), the f of the
table, D_f = KL(P || M) + KL(Q || M) for M = (P + Q) / 2, which is twice the
Jensen-Shannon divergence with its usual 1/2 weights.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

Fn = Callable[[torch.Tensor], torch.Tensor]
LOG2 = math.log(2.0)


@dataclass(frozen=True)
class FDivergence:
    name: str
    title: str
    f: Fn
    conjugate: Fn
    activation: Fn
    conjugate_of_activation: Fn
    optimal_critic: Fn  # T* as a function of the density ratio u = p/q
    domain: tuple[float, float]  # where f* is finite (TV includes its end points)
    estimates: str  # D_f(P || Q) for this f, in the usual names: what the critic's bound F estimates from below


class _JeffreyConjugate(torch.autograd.Function):
    """f*(t) = W(e^(1-t)) + 1/W(e^(1-t)) + t - 2 for f(u) = (u - 1) log u; its derivative is 1/W."""

    @staticmethod
    def forward(ctx, t: torch.Tensor) -> torch.Tensor:
        w = lambert_w_of_exp(1 - t.double())
        ctx.save_for_backward(w)
        return (w + 1 / w + t.double() - 2).to(t.dtype)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        (w,) = ctx.saved_tensors
        return grad * (1 / w).to(grad.dtype)


def lambert_w_of_exp(log_x: torch.Tensor, max_iterations: int = 50) -> torch.Tensor:
    """W(e^L): the w > 0 with w + log w = L, by Newton's method in float64 (no overflow for large L)."""
    L = log_x.double()
    w = torch.where(L > 1, L - torch.log(L.clamp(min=1)), torch.exp(L.clamp(max=1)))
    for _ in range(max_iterations):
        step = (w + torch.log(w) - L) / (1 + 1 / w)
        w = (w - step).clamp(min=1e-300)
        if bool((step.abs() <= 1e-15 * w).all()):
            break
    return w


def _xlogx(u: torch.Tensor) -> torch.Tensor:
    return torch.special.xlogy(u, u)


DIVERGENCES: dict[str, FDivergence] = {d.name: d for d in [
    FDivergence(
        "kl", "Kullback-Leibler",
        f=_xlogx,
        conjugate=lambda t: torch.exp(t - 1),
        activation=lambda v: v,
        conjugate_of_activation=lambda v: torch.exp(v - 1),
        optimal_critic=lambda u: 1 + torch.log(u),
        domain=(-math.inf, math.inf),
        estimates="KL(P || Q)",
    ),
    FDivergence(
        "reverse-kl", "reverse Kullback-Leibler",
        f=lambda u: -torch.log(u),
        conjugate=lambda t: -1 - torch.log(-t),
        activation=lambda v: -torch.exp(-v),
        conjugate_of_activation=lambda v: v - 1,
        optimal_critic=lambda u: -1 / u,
        domain=(-math.inf, 0.0),
        estimates="KL(Q || P)",
    ),
    FDivergence(
        "pearson", "Pearson chi-squared",
        f=lambda u: (u - 1) ** 2,
        conjugate=lambda t: t**2 / 4 + t,
        activation=lambda v: v,
        conjugate_of_activation=lambda v: v**2 / 4 + v,
        optimal_critic=lambda u: 2 * (u - 1),
        domain=(-math.inf, math.inf),
        estimates="Pearson chi^2(P || Q)",
    ),
    FDivergence(
        "neyman", "Neyman chi-squared",
        f=lambda u: (1 - u) ** 2 / u,
        conjugate=lambda t: 2 - 2 * torch.sqrt(1 - t),
        activation=lambda v: 1 - torch.exp(-v),
        conjugate_of_activation=lambda v: 2 - 2 * torch.exp(-v / 2),
        optimal_critic=lambda u: 1 - 1 / u**2,
        domain=(-math.inf, 1.0),
        estimates="Neyman chi^2(P || Q)",
    ),
    FDivergence(
        "hellinger", "squared Hellinger",
        f=lambda u: (torch.sqrt(u) - 1) ** 2,
        conjugate=lambda t: t / (1 - t),
        activation=lambda v: 1 - torch.exp(-v),
        conjugate_of_activation=lambda v: torch.expm1(v),
        optimal_critic=lambda u: 1 - 1 / torch.sqrt(u),
        domain=(-math.inf, 1.0),
        estimates="squared Hellinger, int (sqrt p - sqrt q)^2",
    ),
    FDivergence(
        "jeffrey", "Jeffrey",
        f=lambda u: (u - 1) * torch.log(u),
        conjugate=_JeffreyConjugate.apply,
        activation=lambda v: v,
        conjugate_of_activation=_JeffreyConjugate.apply,
        optimal_critic=lambda u: 1 + torch.log(u) - 1 / u,
        domain=(-math.inf, math.inf),
        estimates="KL(P || Q) + KL(Q || P)",
    ),
    FDivergence(
        "js", "Jensen-Shannon (times 2)",
        f=lambda u: _xlogx(u) - (u + 1) * torch.log((u + 1) / 2),
        conjugate=lambda t: -torch.log(2 - torch.exp(t)),
        activation=lambda v: LOG2 - F.softplus(-v),
        conjugate_of_activation=lambda v: F.softplus(v) - LOG2,
        optimal_critic=lambda u: torch.log(2 * u / (u + 1)),
        domain=(-math.inf, LOG2),
        estimates="2 JS(P, Q)",
    ),
    FDivergence(
        "gan", "GAN (2 JS - log 4)",
        f=lambda u: _xlogx(u) - (u + 1) * torch.log(u + 1),
        conjugate=lambda t: -torch.log(1 - torch.exp(t)),
        activation=lambda v: -F.softplus(-v),
        conjugate_of_activation=lambda v: F.softplus(v),
        optimal_critic=lambda u: torch.log(u / (u + 1)),
        domain=(-math.inf, 0.0),
        estimates="2 JS(P, Q) - log 4",
    ),
    FDivergence(
        "tv", "total variation",
        f=lambda u: 0.5 * torch.abs(u - 1),
        conjugate=lambda t: t,
        activation=lambda v: 0.5 * torch.tanh(v),
        conjugate_of_activation=lambda v: 0.5 * torch.tanh(v),
        optimal_critic=lambda u: 0.5 * torch.sign(u - 1),
        domain=(-0.5, 0.5),
        estimates="total variation, 1/2 int |p - q|",
    ),
]}
