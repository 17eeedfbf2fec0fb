"""Several seeds of one run trained together, as one batched computation (vectorised seeds).

Each seed keeps a whole run of its own (a :class:`Trainer`: its run directory, networks, optimizers, random
streams, statistics, checkpoints, pictures and metrics, all as when it trains alone). Only the training step is
shared: the seeds' networks are stacked (:mod:`ganzoo.training.stacking`), each draws its own real batch and
latent codes from its own streams, the stacked networks score the seeds' batches in one pass, each seed's
objective computes its losses from its own scores, and one update of stacked optimizers steps every seed. The
gradient of the sum of the seeds' losses with respect to one seed's weights is that seed's own gradient, and the
optimizers work element by element, so each seed trains as it would alone, to floating-point rounding.

Small networks gain most: a step of a toy MLP costs little arithmetic and much per-operation overhead, which S
seeds then share.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import ExitStack

import torch
from torch import nn

from ganzoo.algorithms.alternating import Alternating
from ganzoo.api.algorithm import Batch, ScoreLayout, TrainingStep
from ganzoo.api.objective import STEP_LEVEL, Objective, StepContext
from ganzoo.errors import TrainingDiverged
from ganzoo.training.ema import update_ema
from ganzoo.training.loop import train_runs
from ganzoo.training.optimizers import build_optimizer, optimizer_settings, scale_learning_rates
from ganzoo.training.prior import forward
from ganzoo.training.stacking import probe_problem, stack_networks, stacking_problem
from ganzoo.training.stats import collecting
from ganzoo.training.trainer import Trainer
from ganzoo.utils import eval_mode

APART = {"seed", "out_dir"}  # the only settings in which the seeds' runs may differ


def together_problem(runs: Sequence[Trainer]) -> str | None:
    """Why these runs cannot train together; None if they can, as far as their settings and layers tell."""
    settings = [{k: v for k, v in run.config.model_dump(mode="json").items() if k not in APART} for run in runs]
    if len(runs) < 2:
        return "a single run"
    if any(other != settings[0] for other in settings[1:]):
        return "the runs differ in more than their seeds"
    return run_problem(runs[0])


def run_problem(first: Trainer) -> str | None:
    """Why a run cannot train together with other seeds of it, as far as its parts and layers tell."""
    reasons = [
        (type(first.algorithm) is not Alternating, f"algorithm '{first.plan.algorithm.name}' is not the core's "
                                                   "alternating step"),
        (first.augmentation is not None, "an augmentation"),
        (first.config.conditional, "a class-conditional run"),
        (first.speed.precision == "fp16" or bool(first.speed.compiled), "fp16 or compiled networks"),
        (first.world.size > 1, "a run over several processes"),
        (any(first.objective.defines(method) for method in STEP_LEVEL),
         f"objective '{first.config.objective}' works at the step level (a penalty, or losses of its own)"),
    ]
    for failed, reason in reasons:
        if failed:
            return reason
    for name, network in first.networks.items():
        problem = stacking_problem(network)
        if problem is not None:
            return f"{name}: {problem}"
    return None


class SeedGroup:
    """The shared step of several seeds' runs: stacked networks and optimizers over the runs' own weights."""

    def __init__(self, runs: Sequence[Trainer]):
        self.runs = list(runs)
        first = self.runs[0]
        self.networks = {name: stack_networks([run.networks[name] for run in self.runs]) for name in first.networks}
        self.optimizers = {name: build_optimizer(optimizer_settings(first.config, name),
                                                 [p for member in members for p in self.networks[member].parameters()])
                           for name, members in first.algorithm.optimizers.items()}
        self.step = SeedsStep(self)
        self.linked: set[str] = set()

    def probe_problem(self) -> str | None:
        """Whether the stacked networks compute what each seed's own do (see :func:`probe_problem`)."""
        first = self.runs[0]
        generator, discriminator = self.networks["generator"], self.networks["discriminator"]  # alternating's
        count = 2 * ScoreLayout.of(discriminator).pack
        codes = torch.randn(len(self.runs) * count, first.config.z_dim, generator=torch.Generator().manual_seed(0))
        codes = codes.to(first.device)
        problem = probe_problem(generator, [run.networks["generator"] for run in self.runs], codes)
        if problem is None:
            with torch.no_grad(), eval_mode(generator):  # batch-norm statistics stay put
                samples = generator(codes)
            problem = probe_problem(discriminator, [run.networks["discriminator"] for run in self.runs], samples)
        return problem

    def adopt_optimizer_states(self) -> None:
        """After a resume: the group's optimizers take the states the runs' checkpoints held, stacked."""
        for name, optimizer in self.optimizers.items():
            group_params = _params(optimizer)
            own = [_params(run.optimizers[name]) for run in self.runs]
            for index, stacked in enumerate(group_params):
                states = [run.optimizers[name].state[params[index]] for run, params in zip(self.runs, own)
                          if params[index] in run.optimizers[name].state]
                if len(states) < len(self.runs):
                    continue  # no step taken yet
                optimizer.state[stacked] = {
                    key: torch.stack([state[key] for state in states]) if _per_weight(value, stacked.shape[1:])
                    else value for key, value in states[0].items()}
            self._link(name)

    def _link(self, name: str) -> None:
        """Each run's optimizer state as views of the group's, so its checkpoints hold what the group learned."""
        optimizer = self.optimizers[name]
        for seed, run in enumerate(self.runs):
            own = run.optimizers[name]
            for stacked, param in zip(_params(optimizer), _params(own)):
                if stacked in optimizer.state:
                    own.state[param] = {key: value[seed] if _per_weight(value, stacked.shape) else value
                                        for key, value in optimizer.state[stacked].items()}
        if optimizer.state:  # else the optimizer has not stepped yet, and links at its first step
            self.linked.add(name)

    def advance(self) -> None:
        """One step of every seed, then each one's moving average of G."""
        first = self.runs[0]
        for run in self.runs:
            run.in_step = run.services.touched = True  # a failure inside leaves no run between two steps
        if first.config.lr_decay != "none":
            for optimizers in (self.optimizers, *(run.optimizers for run in self.runs)):  # the runs' for checkpoints
                scale_learning_rates(optimizers, first.config, first.config.lr_factor(first.step))
        self.step.index = first.step
        with first.speed.autocast():
            first.algorithm.step(self.step)
        for run in self.runs:
            if run.generator_ema is not None and run.generator is not None:
                update_ema(run.generator_ema, run.generator, run.config.ema.decay_at(run.step))
            run.step += 1
            run.in_step = False

    def optimized(self, name: str) -> None:
        if name not in self.linked:  # the optimizer made its state at its first step
            self._link(name)


def _params(optimizer: torch.optim.Optimizer) -> list[torch.Tensor]:
    return [p for group in optimizer.param_groups for p in group["params"]]


def _per_weight(value: object, shape: torch.Size) -> bool:
    """Whether an optimizer state entry holds one value per weight of a tensor of ``shape`` (a moment), not one
    for the whole tensor (its step count)."""
    return isinstance(value, torch.Tensor) and value.shape == shape


class SeedsStep(TrainingStep):
    """What the algorithm sees of a group's step: batches of every seed, one after the other, and the stacked
    networks. Losses and reported statistics have one value per seed."""

    def __init__(self, group: SeedGroup):
        first = group.runs[0]
        self.group = group
        self.seeds = len(group.runs)
        self.networks = group.networks
        self.objective = SeedObjectives(group.runs)
        self.steps, self.d_steps = first.config.steps, first.config.d_steps
        self.batch_size, self.world_size = first.services.batch_size, first.services.world_size
        self.num_classes = None
        self.index = 0
        self.speed = first.speed

    def real(self, n: int | None = None) -> Batch:
        size = n or self.batch_size
        return Batch(self.speed.images(torch.cat([run.batches.next(size)[0] for run in self.group.runs])))

    def latents(self, n: int | None = None) -> Batch:
        size = n or self.batch_size
        codes = torch.cat([run.prior.sample(size, run.noise_rng) for run in self.group.runs])
        return Batch(codes, None, codes)

    def generate(self, n: int | None = None, *, network: str = "generator") -> Batch:
        latents = self.latents(n)
        assert latents.latents is not None
        return Batch(forward(self.networks[network], latents.latents, None).float(), None, latents.latents)

    def discriminate(self, samples: torch.Tensor, labels: torch.Tensor | None = None, *,
                     network: str = "discriminator", observe: bool = False) -> torch.Tensor:
        discriminator = self.networks[network]
        layout = ScoreLayout.of(discriminator)
        scores = forward(discriminator, samples, None).float()
        count = len(samples) // layout.pack
        return scores.reshape(count) if layout.heads == 1 else scores.reshape(count, layout.heads)

    def optimize(self, optimizer: str, loss: torch.Tensor) -> None:
        step = self.group.optimizers[optimizer]
        step.zero_grad(set_to_none=True)
        with self.speed.autocast(enabled=False):
            loss.sum().backward(inputs=_params(step))  # each seed's weights get their own loss's gradient
        step.step()
        self.group.optimized(optimizer)

    def report(self, name: str, value: torch.Tensor | float) -> None:
        per_seed = isinstance(value, torch.Tensor) and value.dim() == 1 and len(value) == self.seeds
        for seed, run in enumerate(self.group.runs):
            run.statistics.add(name, value[seed] if per_seed else value)  # type: ignore[index]


class SeedObjectives(Objective):
    """Each seed's own objective on its own scores; losses come back with one value per seed."""

    def __init__(self, runs: Sequence[Trainer]):
        self.runs = runs
        first = runs[0].objective
        self.heads, self.generator_uses_real = first.heads, first.generator_uses_real

    def _each(self, ctx: StepContext, loss: Callable[[Objective, StepContext], torch.Tensor]) -> torch.Tensor:
        seeds, values = len(self.runs), []
        for seed, run in enumerate(self.runs):
            own = StepContext(ctx.step, ctx.phase, _part(ctx.fake, seed, seeds), ctx.fake_scores.chunk(seeds)[seed],
                              None if ctx.real is None else _part(ctx.real, seed, seeds),
                              None if ctx.real_scores is None else ctx.real_scores.chunk(seeds)[seed])
            with collecting(run.statistics):  # what the objective reports goes to its own run
                values.append(loss(run.objective, own))
        return torch.stack(values)

    def d_loss(self, ctx: StepContext) -> torch.Tensor:
        return self._each(ctx, lambda objective, own: objective.d_loss(own))

    def g_loss(self, ctx: StepContext) -> torch.Tensor:
        return self._each(ctx, lambda objective, own: objective.g_loss(own))

    def after_discriminator_step(self, discriminator: nn.Module) -> None:
        for run in self.runs:  # its weights are views of the stacked ones: weight clipping clips them in place
            run.objective.after_discriminator_step(run.discriminator)

    def divergence_estimate(self, real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor | None:
        seeds = len(self.runs)
        estimates = [run.objective.divergence_estimate(real, fake) for run, real, fake
                     in zip(self.runs, real_scores.chunk(seeds), fake_scores.chunk(seeds))]
        return None if any(value is None for value in estimates) else torch.stack(estimates)  # type: ignore[arg-type]


def _part(batch: Batch, seed: int, seeds: int) -> Batch:
    def share(tensor: torch.Tensor | None) -> torch.Tensor | None:
        return None if tensor is None else tensor.chunk(seeds)[seed]

    return Batch(batch.samples.chunk(seeds)[seed], share(batch.labels), share(batch.latents))


def fit_together(runs: Sequence[Trainer], *, resume: bool = False, wait: bool = False,
                 report: Callable[[str], None] = print) -> str | None:
    """Train the runs (seeds of one run) together where they can be, else one after the other. Returns None, or
    why they trained apart. A run that diverges is reported and the others go on; errors stop them all."""
    problem, group = together_problem(runs), None
    if problem is None:
        group = SeedGroup(runs)
        problem = group.probe_problem()
    if group is None or problem is not None:
        _fit_apart(runs, resume, wait, report)
        return problem
    for run in runs:
        run.provenance["speed"]["seeds_together"] = len(runs)
    with ExitStack() as stack:
        for run in runs:
            stack.callback(run._release)
            run.prepare(resume=resume, wait=wait)
        if len({run.step for run in runs}) > 1:
            for run in runs:  # resumed from checkpoints of different steps: they go on alone
                run.provenance["speed"].pop("seeds_together")
                run._write_run_files()
            _fit_apart(runs, resume, wait, report)
            return "their checkpoints are at different steps"
        group.adopt_optimizer_states()
        for run in runs:
            stack.enter_context(run._taken_back_on_failure())
        diverged = train_runs(runs, group.advance)
        for _, exc in diverged:
            report(f"    {exc}")
        stopped = [run for run, _ in diverged]
        for run in runs:
            if run not in stopped:
                run._finish()
    return None


def _fit_apart(runs: Sequence[Trainer], resume: bool, wait: bool, report: Callable[[str], None]) -> None:
    for run in runs:
        try:
            run.fit(resume=resume, wait=wait)
        except TrainingDiverged as exc:
            report(f"    {exc}")
