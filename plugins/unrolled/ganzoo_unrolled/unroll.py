"""Differentiable optimizer steps on a discriminator's weights: the unrolled optimization of Metz et al. 2017.

The surrogate loss of the paper (section 2.2, eq. 10-12) is the generator's
loss against the discriminator after K optimizer steps,
``theta_D^{k+1} = theta_D^k + eta^k df/dtheta_D^k``. Each step here is written
with tensor operations on the weights, so ``theta_D^K`` is a function of the
generator's weights and the generator's gradient flows through every step
(the second term of eq. 12). With ``second_order=False`` the discriminator's
gradients are taken without a graph: ``theta_D^K`` is then a constant to the
generator, the cheaper variant the paper discusses (section 2.3), which keeps
only the first term of eq. 12.

The released code (poolio/unrolled_gan, "Unrolled GAN demo.ipynb") unrolls
Keras' Adam, carrying Adam's moments and step count through the unrolled steps
(``extract_update_dict`` takes them from Adam's update ops, and
``graph_replace`` chains them). :class:`AdamRule` does the same with the update
rule of ``torch.optim.Adam`` (bias-corrected moments, epsilon added to the
corrected root), so the first unrolled step is exactly the update the run's
optimizer would make from the same state. :class:`SGDRule` is the plain
gradient step the paper's equations write.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch

Params = dict[str, torch.Tensor]


@dataclass
class AdamState:
    """Adam's first and second moments and per-weight step counts (float tensors, as torch.optim.Adam keeps)."""

    exp_avg: Params = field(default_factory=dict)
    exp_avg_sq: Params = field(default_factory=dict)
    step: Params = field(default_factory=dict)


@dataclass(frozen=True)
class SGDRule:
    """theta <- theta - lr * g."""

    lr: float

    def apply(self, params: Params, grads: Params, state: AdamState) -> tuple[Params, AdamState]:
        return {name: value - self.lr * grads[name] for name, value in params.items()}, state


@dataclass(frozen=True)
class AdamRule:
    """torch.optim.Adam's update (no weight decay, no AMSGrad), written out so that it is differentiable."""

    lr: float
    betas: tuple[float, float]
    eps: float

    def advance(self, state: AdamState, grads: Params) -> AdamState:
        """The moments and step counts after one more gradient, for the weights in ``grads``; the others keep
        theirs (as torch.optim.Adam skips weights without a gradient)."""
        beta1, beta2 = self.betas
        moments = AdamState(dict(state.exp_avg), dict(state.exp_avg_sq), dict(state.step))
        for name, grad in grads.items():
            moments.step[name] = state.step.get(name, torch.zeros((), device=grad.device)) + 1
            moments.exp_avg[name] = beta1 * state.exp_avg.get(name, torch.zeros_like(grad)) + (1 - beta1) * grad
            moments.exp_avg_sq[name] = (beta2 * state.exp_avg_sq.get(name, torch.zeros_like(grad))
                                        + (1 - beta2) * grad * grad)
        return moments

    def apply(self, params: Params, grads: Params, state: AdamState) -> tuple[Params, AdamState]:
        beta1, beta2 = self.betas
        moments = self.advance(state, grads)
        updated = {}
        for name, value in params.items():
            step = moments.step[name]
            denominator = _safe_sqrt(moments.exp_avg_sq[name]) / (1 - beta2 ** step).sqrt() + self.eps
            updated[name] = value - (self.lr / (1 - beta1 ** step)) * moments.exp_avg[name] / denominator
        return updated, moments


UpdateRule = SGDRule | AdamRule


def _safe_sqrt(value: torch.Tensor) -> torch.Tensor:
    """The square root with a zero (not infinite) derivative at 0: a weight whose gradient has always been 0
    (a dead ReLU unit) would otherwise turn the second-order gradient into inf * 0 = NaN."""
    positive = value > 0
    return torch.where(positive, torch.where(positive, value, torch.ones_like(value)).sqrt(), torch.zeros_like(value))


def unroll(loss_at: Callable[[int, Params], torch.Tensor], params: Params, steps: int, rule: UpdateRule,
           state: AdamState, *, second_order: bool = True) -> Params:
    """The weights after ``steps`` updates of ``rule`` from ``params`` and optimizer ``state``, where
    ``loss_at(i, weights)`` is the loss minimized at update ``i``.

    With ``second_order`` the result keeps the graph to everything the losses depend on (the generator's weights
    among them); without it the gradients carry no graph, so the result depends on ``params`` alone (pass
    detached ``params`` to make it a constant).
    """
    for index in range(steps):
        loss = loss_at(index, params)
        names = [name for name, value in params.items() if value.requires_grad]
        found = torch.autograd.grad(loss, [params[name] for name in names], create_graph=second_order,
                                    allow_unused=True)
        grads = {name: torch.zeros_like(value) for name, value in params.items()}
        grads.update({name: grad for name, grad in zip(names, found) if grad is not None})
        params, state = rule.apply(params, grads, state)
    return params
