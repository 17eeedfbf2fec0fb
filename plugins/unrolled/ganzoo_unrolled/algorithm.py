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

Reading the optimizer. An algorithm sees neither the run config nor the runner's optimizers (``TrainingStep``
exposes neither), so the unrolled rule takes its settings from this algorithm's options (``lr``, ``betas``,
``eps``; ``unrolled-mlp`` sets them to its ``optimizer_d``), and the Adam state is mirrored: after every real
discriminator update the algorithm folds the weights' gradients (still on ``p.grad``) into its own copy of Adam's
moments, the same arithmetic as ``torch.optim.Adam``, kept in the algorithm's ``state_dict`` so a resumed run
unrolls from the same state. The mirror equals the optimizer's state only while ``optimizer_d`` is Adam with the
same betas and no weight decay; a learning-rate schedule (``lr_decay``) is not seen by the unrolled steps.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated, Literal, TypeVar

import torch
from pydantic import Field
from torch import nn
from torch.func import functional_call

from ganzoo import Alternating, Batch, Objective, Options, StepContext, StepWrapper, TrainingStep
from ganzoo_unrolled.unroll import AdamRule, AdamState, Params, SGDRule, UpdateRule, unroll

Result = TypeVar("Result")
Beta = Annotated[float, Field(ge=0, lt=1)]
MOMENT_KEYS = ("exp_avg", "exp_avg_sq", "step")


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
        "the update rule unrolled: adam from the mirrored optimizer state (the released code), or plain gradient "
        "descent (the paper's eq. 12)"))
    lr: float = Field(1e-4, gt=0, le=10, description=(
        "learning rate of the unrolled updates; keep it equal to optimizer_d.lr (notebook: 1e-4)"))
    betas: tuple[Beta, Beta] = Field((0.5, 0.999), description=(
        "Adam's betas for the unrolled updates and the mirrored state; keep them equal to optimizer_d.betas"))
    eps: float = Field(1e-8, gt=0, le=1, description="Adam's epsilon for the unrolled updates (notebook: 1e-8)")


class Unrolled(Alternating):
    """``alternating`` whose generator step scores its samples with the discriminator unrolled K steps ahead."""

    def __init__(self, options: UnrolledOptions):
        self.options = options
        self.rule: UpdateRule = (AdamRule(options.lr, options.betas, options.eps)
                                 if options.unroll_optimizer == "adam" else SGDRule(options.lr))
        self.moments = AdamState()  # the mirror of optimizer_d's Adam state

    def check(self, networks: Mapping[str, nn.Module], objective: Objective) -> None:
        super().check(networks, objective)
        clips = type(objective).after_discriminator_step is not Objective.after_discriminator_step
        if self.options.unroll_steps and clips:
            raise ValueError(f"objective {type(objective).__name__} changes the discriminator after each update "
                             "(weight clipping), which the unrolled updates cannot do; use a penalty instead "
                             "(wgan-gp) or set algorithm_options.unroll_steps = 0")

    def step(self, step: TrainingStep) -> None:
        mirrors = self.options.unroll_steps > 0 and isinstance(self.rule, AdamRule)
        super().step(_WatchedStep(step, self.mirror_update) if mirrors else step)

    def mirror_update(self, discriminator: nn.Module) -> None:
        """Fold the gradients of the real update just made into the mirrored Adam state."""
        assert isinstance(self.rule, AdamRule)
        grads = {name: p.grad.detach() for name, p in discriminator.named_parameters() if p.grad is not None}
        if all(bool(torch.isfinite(grad).all()) for grad in grads.values()):  # a skipped (fp16 overflow) step
            with torch.no_grad():
                self.moments = self.rule.advance(self.moments, grads)

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
        weights = unroll(loss_at, start, options.unroll_steps, self.rule, self.moments,
                         second_order=options.second_order)
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

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {f"{key}.{name}": value for key in MOMENT_KEYS
                for name, value in getattr(self.moments, key).items()}

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        moments = AdamState()
        for entry, value in state.items():
            key, _, name = entry.partition(".")
            if key not in MOMENT_KEYS or not name:
                raise ValueError(f"unrolled keeps Adam's {', '.join(MOMENT_KEYS)} per weight, not '{entry}'")
            getattr(moments, key)[name] = value
        self.moments = moments


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


class _WatchedStep(StepWrapper):
    """The runner's step, calling ``after_update(discriminator)`` after each real update of optimizer ``d``."""

    def __init__(self, inner: TrainingStep, after_update: Callable[[nn.Module], None]):
        super().__init__(inner)
        self.after_update = after_update

    def optimize(self, optimizer: str, loss: torch.Tensor) -> None:
        self.inner.optimize(optimizer, loss)
        if optimizer == "d":
            self.after_update(self.networks["discriminator"])
