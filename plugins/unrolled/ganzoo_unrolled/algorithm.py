"""``unrolled``: the alternating GAN step, with the generator's loss taken against the discriminator unrolled K
optimizer steps ahead (Metz et al. 2017, section 2.2).

One training step:

1. the discriminator's ``d_steps`` real updates, exactly as ``alternating`` makes them (``step.optimize("d")``);
2. from the updated weights and the optimizer's state, K more updates of a functional copy of the discriminator
   (``torch.func.functional_call``: the unrolled weights are tensors in the graph), on one real batch and the
   generator's batch (``unroll_batches = "shared"``, as the released code) or on fresh batches each;
3. the generator's loss on the unrolled discriminator's scores, and ``step.optimize("g")``. The real
   discriminator keeps the weights of step 1: the unrolled ones are dropped with the graph.

With ``unroll_steps = 0`` this is ``alternating``, draw for draw.

Reading the optimizer. The unrolled updates are those of the run's ``optimizer_d`` at this step: with
``unroll_optimizer = "adam"`` they read its learning rate (after any ``lr_decay``), betas and epsilon and start
from its moments and step counts (``TrainingStep.optimizer("d")``), so the first unrolled update is exactly the
one the optimizer would make next; ``optimizer_d`` must then be Adam without weight decay or AMSGrad.
``"sgd"`` takes plain gradient steps at its current learning rate, whatever its kind.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Literal, TypeVar

import torch
from pydantic import Field
from torch import nn
from torch.func import functional_call

from ganzoo import Alternating, Batch, Objective, Options, StepContext, TrainingStep
from ganzoo_unrolled.unroll import AdamRule, AdamState, Params, SGDRule, UpdateRule, unroll

Result = TypeVar("Result")


class UnrolledOptions(Options):
    unroll_steps: int = Field(10, ge=0, le=100, description=(
        "K, the discriminator updates the generator looks ahead (paper: 0, 1, 5, 10 on the 2D mixture; 10 in "
        "Figure 1); 0 is the alternating step"))
    second_order: bool = Field(True, description=(
        "backpropagate through the unrolled updates (eq. 12 in full); false drops the second term of eq. 12, "
        "treating the unrolled weights as constants (section 2.3)"))
    unroll_batches: Literal["shared", "fresh"] = Field("shared", description=(
        "shared: every unrolled update and the generator's loss use one real batch and the generator's batch, as "
        "the released notebook does; fresh: new batches for each unrolled update and for the generator's loss"))
    unroll_optimizer: Literal["adam", "sgd"] = Field("adam", description=(
        "the update rule unrolled: optimizer_d's Adam, from its state (the released code), or plain gradient "
        "descent at optimizer_d's learning rate (the paper's eq. 12)"))


class Unrolled(Alternating):
    """``alternating`` whose generator step scores its samples with the discriminator unrolled K steps ahead."""

    def __init__(self, options: UnrolledOptions):
        self.options = options

    def check(self, networks: Mapping[str, nn.Module], objective: Objective) -> None:
        super().check(networks, objective)
        clips = type(objective).after_discriminator_step is not Objective.after_discriminator_step
        if self.options.unroll_steps and clips:
            raise ValueError(f"objective {type(objective).__name__} changes the discriminator after each update "
                             "(weight clipping), which the unrolled updates cannot do; use a penalty instead "
                             "(wgan-gp) or set algorithm_options.unroll_steps = 0")

    def update_rule(self, step: TrainingStep) -> tuple[UpdateRule, AdamState]:
        """The rule of the unrolled updates and the state they start from: ``optimizer_d``'s, at this step."""
        optimizer = step.optimizer("d")
        group = optimizer.param_groups[0]
        if self.options.unroll_optimizer == "sgd":
            return SGDRule(group["lr"]), AdamState()
        if not isinstance(optimizer, torch.optim.Adam) or group["weight_decay"] or group["amsgrad"]:
            raise ValueError(f"unroll_optimizer 'adam' unrolls optimizer_d, which is {type(optimizer).__name__}"
                             f"{' with weight decay or AMSGrad' if isinstance(optimizer, torch.optim.Adam) else ''}"
                             "; set optimizer_d.kind = \"adam\" without weight decay, or "
                             "algorithm_options.unroll_optimizer = \"sgd\"")
        state = AdamState()
        for name, parameter in step.networks["discriminator"].named_parameters():
            held = optimizer.state.get(parameter)
            if held:  # none before a weight's first gradient: Adam starts it from zero, as the rule does
                state.exp_avg[name], state.exp_avg_sq[name] = held["exp_avg"], held["exp_avg_sq"]
                state.step[name] = held["step"]
        return AdamRule(group["lr"], tuple(group["betas"]), group["eps"]), state

    def generator_context(self, step: TrainingStep) -> StepContext:  # type: ignore[override]
        options = self.options
        if options.unroll_steps == 0:
            return Alternating.generator_context(step)
        objective, discriminator = step.objective, step.networks["discriminator"]
        shared = options.unroll_batches == "shared"
        real, fake = (step.real(), step.generate()) if shared else (None, None)
        losses: list[torch.Tensor] = []

        def loss_at(index: int, weights: Params) -> torch.Tensor:
            batch_real = real if real is not None else step.real()
            if fake is not None:
                batch_fake = fake
            else:
                with torch.set_grad_enabled(options.second_order):
                    batch_fake = step.generate()
            if not options.second_order:  # keeps the generator's graph out of the first-order updates
                batch_fake = Batch(batch_fake.samples.detach(), batch_fake.labels, batch_fake.latents)
            losses.append(at_weights(discriminator, weights, lambda: discriminator_loss(step, batch_real,
                                                                                         batch_fake)))
            return losses[-1]

        start = {name: p if options.second_order else p.detach().requires_grad_()
                 for name, p in discriminator.named_parameters() if p.requires_grad}
        rule, state = self.update_rule(step)
        weights = unroll(loss_at, start, options.unroll_steps, rule, state, second_order=options.second_order)
        step.report("loss_d_unrolled", losses[-1].detach())

        if fake is None:
            fake = step.generate()
        if not objective.generator_uses_real:
            real = None
        elif real is None:
            real = step.real()
        scored_real = real

        def scores() -> tuple[torch.Tensor, torch.Tensor | None]:
            assert fake is not None
            fake_scores = step.discriminate(fake.samples, fake.labels)
            return fake_scores, None if scored_real is None else step.discriminate(scored_real.samples,
                                                                                  scored_real.labels)

        fake_scores, real_scores = at_weights(discriminator, weights, scores)
        return StepContext(step, "generator", fake, fake_scores, real, real_scores)


def discriminator_loss(step: TrainingStep, real: Batch, fake: Batch) -> torch.Tensor:
    """The discriminator's loss as ``alternating`` computes it in one of its updates, with the penalty when it
    is not lazy (a lazy one has optimizer steps of its own, which are not unrolled)."""
    objective = step.objective
    real_scores = step.discriminate(real.samples, real.labels)
    ctx = StepContext(step, "discriminator", fake, step.discriminate(fake.samples, fake.labels), real, real_scores)
    loss = objective.d_loss(ctx)
    penalty = objective.d_penalty(ctx) if objective.d_penalty_every == 1 else None
    return loss if penalty is None else loss + penalty


class _Holder(nn.Module):
    """Holds a network so that ``functional_call`` swaps its weights while ``compute`` runs."""

    def __init__(self, network: nn.Module):
        super().__init__()
        self.network = network

    def forward(self, compute: Callable[[], Result]) -> Result:
        return compute()


def at_weights(network: nn.Module, weights: Params, compute: Callable[[], Result]) -> Result:
    """``compute()`` while ``network`` has ``weights`` in place of its parameters, and copies of its buffers (a
    batch norm's running statistics, a spectral norm's vectors), so the real network keeps no trace of it. Every
    call of the network inside, through ``step.discriminate`` too, uses these weights."""
    tensors = {f"network.{name}": value for name, value in weights.items()}
    tensors.update({f"network.{name}": buffer.clone() for name, buffer in network.named_buffers()})
    result: Result = functional_call(_Holder(network), tensors, (compute,))
    return result
