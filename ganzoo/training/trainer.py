"""The one training loop every plugin shares."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch
from torch import nn
from tqdm.auto import tqdm

from ganzoo.api.prior import Prior, generate
from ganzoo.api.stats import Statistics, collecting
from ganzoo.errors import CheckpointError, GanzooError, PluginError, RunDirError, TrainingDiverged
from ganzoo.interrupts import InterruptGuard
from ganzoo.metrics.evaluation import Evaluator
from ganzoo.registry.discovery import Zoo
from ganzoo.run import distributed, rundir
from ganzoo.run.config import RunConfig
from ganzoo.run.data import BatchSampler, content_sha256, load_data
from ganzoo.run.plan import RunPlan
from ganzoo.run.streams import global_states, seed_global, set_global_states, stream_seed
from ganzoo.sampling.generation import first_samples, picture_plan, run_title, save_picture
from ganzoo.training.checkpoint import check_data, load_checkpoint, restore_parts, save_checkpoint, state_problem
from ganzoo.training.components import build_algorithm, build_augmentation, build_objective
from ganzoo.training.ema import generator_average, update_ema, weights_name
from ganzoo.training.loop import train_run
from ganzoo.training.networks import build_networks, check_pairing, network_info
from ganzoo.training.optimizers import build_optimizers, scale_learning_rates
from ganzoo.training.precision import Precision
from ganzoo.training.speed import Speed
from ganzoo.training.step import RunnerStep
from ganzoo.training.views import RunViews

PICTURE_SEED = 0
TOY_EVAL_EVERY = 1000
IMAGE_EVAL_EVERY = 0
DIVERGING = ("loss", "penalty", "divergence")  # statistics whose non-finite values mean training has diverged


class Trainer:
    """Builds a run from its config and trains it, one step of its algorithm at a time."""

    def __init__(self, config: RunConfig, zoo: Zoo, *, progress: bool = True):
        self.config = config
        self.plan = RunPlan.create(config, zoo)  # every name and options table checked before any work
        self.run_dir = config.run_dir()
        self.views = RunViews(self.run_dir, tensorboard=config.logging.tensorboard)
        self.world, self.device = distributed.join(config.device)
        self.progress = progress and self.world.writer
        seed_global(config.seed)
        self.data = load_data(self.plan.dataset)
        info = network_info(config, self.data.info)
        self.algorithm = build_algorithm(self.plan)
        self.networks = {name: network.to(self.device)
                         for name, network in build_networks(self.plan, self.algorithm, info).items()}
        batch_size = self.world.per_rank(config.batch_size)
        if config.speed.sync_batch_norm:
            distributed.synchronise_batch_norm(self.networks, self.world, self.device)
        self.world.align(self.networks)
        self.world.seed_own_stream(config.seed, 0)
        self.objective = build_objective(self.plan)
        check_pairing(self.plan, self.algorithm, self.networks, self.objective)
        self.augmentation = build_augmentation(self.plan)
        self.generator_ema = generator_average(config.ema.enabled, self.networks, self.algorithm.generator,
                                               self.plan.algorithm.name)
        self.speed = Speed(config.speed, self.device)
        self.speed.prepare(self.networks, self.objective, generator=self.algorithm.generator,
                           discriminators=self.algorithm.discriminators)
        self.optimizers = build_optimizers(config, self.algorithm, self.plan.algorithm.name, self.networks)
        self.precision = Precision(config.speed.precision, self.device, self.optimizers)
        self.prior = Prior(config.prior, config.z_dim, self.device, info.condition_classes)
        self.noise_rng = torch.Generator(device=self.device).manual_seed(stream_seed(config.seed, "noise"))
        self.batches = BatchSampler(self.data.samples, self.device, stream_seed(config.seed, "batches"),
                                    batch_size=batch_size, labelled=config.conditional,
                                    workers=self.speed.data_workers, world=self.world)
        self.services = RunnerStep(networks=self.networks, optimizers=self.optimizers, objective=self.objective,
                                   augmentation=self.augmentation, batches=self.batches, prior=self.prior,
                                   noise=self.noise_rng, steps=config.steps, batch_size=batch_size,
                                   d_steps=config.d_steps, sample_shape=self.data.info.shape, speed=self.speed,
                                   precision=self.precision, world=self.world)
        speed = {"precision": self.precision.name, **self.speed.provenance(),
                 "data_workers": self.batches.workers}  # none for data held in memory
        self.provenance = {**self.plan.provenance(self.device), "divergence_estimate": self.objective.divergence_name,
                           "speed": speed, "processes": self.world.size,
                           "data_sha256": content_sha256(self.data.samples)}
        self.evaluator = Evaluator(self.plan, zoo, self.data)  # at start-up, so a bad reference_split stops no run
        self.eval_every = config.eval_every if config.eval_every is not None else (
            IMAGE_EVAL_EVERY if self.data.info.is_image else TOY_EVAL_EVERY)
        self.plugin_states()  # a plugin whose state cannot be checkpointed is refused before training, not at a save
        self.statistics = Statistics()
        self.interrupts = InterruptGuard()
        self.claim: rundir.Claim | None = None  # what a new run wrote, taken back if it fails before a checkpoint
        self.lock: rundir.RunLock | None = None
        self.step = 0
        self.in_step = False
        self.saved_step = self.logged_step = -1
        self.prepared = False
        self.last_eval: list[dict[str, Any]] = []
        # torch's global streams (dropout, a penalty's random mix) as built: a new run starts training from them
        self.initial_rng = global_states(self.device)

    @property
    def generator(self) -> nn.Module | None:
        """The network that maps latent codes to samples (None for an algorithm without one)."""
        return None if self.algorithm.generator is None else self.networks[self.algorithm.generator]

    @property
    def discriminator(self) -> nn.Module:
        return self.networks["discriminator"]

    @property
    def sampling_generator(self) -> nn.Module | None:
        """The weights used for pictures and evaluation: the moving average when there is one."""
        return self.generator if self.generator_ema is None else self.generator_ema

    @property
    def measured(self) -> bool:
        """Whether evaluations run: a metric suite applies, and the algorithm has a generator to measure."""
        return bool(self.evaluator) and self.generator is not None

    @property
    def generator_weights(self) -> str:
        return weights_name(None if self.generator_ema is None else self.config.ema.decay, self.config.ema.rampup)

    # -- one step ----------------------------------------------------------

    def train_step(self) -> None:
        """One step of the algorithm, its statistics collected, then the moving average of G; ``step`` counts it.
        An exception inside leaves the run between two steps (see :attr:`consistent`)."""
        self.in_step, self.services.touched = True, False
        # Learning rates for this step
        if self.config.lr_decay != "none":
            scale_learning_rates(self.optimizers, self.config, self.config.lr_factor(self.step))
        # The algorithm's step: forward passes in the run's precision, statistics collected, each failure named
        self.services.index = self.step
        with collecting(self.statistics), self.precision.autocast():
            try:
                self.algorithm.step(self.services)
            except PluginError as exc:  # a runner check on what the plugins handed it
                exc.args = (f"training step {self.step + 1}: {exc} ({self.plan.suspects()})",)
                raise
            except GanzooError as exc:  # a data error: an unreadable image, say
                exc.args = (f"training step {self.step + 1}: {exc}",)
                raise
            except KeyboardInterrupt as exc:
                if self.interrupts.signalled:
                    raise  # Ctrl-C
                raise self.plan.failure(exc, f"training step {self.step + 1}") from exc
            except BaseException as exc:  # plugin code inside the step (the algorithm, objective, networks or data),
                # SystemExit included: a plugin does not end the run without a word
                raise self.plan.failure(exc, f"training step {self.step + 1}") from exc
        # Moving average of G: a plain copy until ema.start steps are done
        if self.generator_ema is not None and self.generator is not None:
            update_ema(self.generator_ema, self.generator, self.config.ema.decay_at(self.step))
        # Count the step
        self.step += 1
        self.in_step = False

    @property
    def consistent(self) -> bool:
        """Whether the run's state is that of a completed step: between steps, or inside one that has not yet drawn
        noise or changed a weight (an unreadable image on its first draw). Saved at any other moment, a checkpoint
        would mix two steps, and a resume would differ from a run never stopped."""
        return not (self.in_step and self.services.touched)

    # -- the loop ----------------------------------------------------------

    def prepare(self, *, resume: bool = False, wait: bool = False) -> None:
        """Claim the run directory: lock it (``wait`` for another process using it, else refuse), check it,
        restore the checkpoint if resuming, write config and provenance. In a run over several processes, rank 0
        does so, and the others restore the checkpoint it restored."""
        if not self.world.writer:
            if self.world.agree(False):
                self.restore(self.run_dir / rundir.LAST_CHECKPOINT)
            else:
                set_global_states(self.initial_rng, self.device)
            self.prepared = True
            return
        self.lock = rundir.RunLock(self.run_dir, wait=wait)
        try:
            checkpoint = rundir.check_run_dir(self.run_dir, self.config, resume)
            if checkpoint is None:
                self.claim = rundir.Claim(self.run_dir, self.lock.created_dirs)
            with self._taken_back_on_failure():
                if checkpoint is not None:
                    self.restore(checkpoint)
                else:
                    set_global_states(self.initial_rng, self.device)
                if self.step > self.config.steps:
                    raise RunDirError(f"{self.run_dir} is already at step {self.step}, past steps = "
                                      f"{self.config.steps}; ask for {self.step} steps or more")
                self._write_run_files()
                self.last_eval = [r for r in rundir.read_jsonl(self.run_dir / rundir.METRICS)
                                  if r.get("step") == self.step and "source" not in r]
                self.views.open(self.step, self.config.to_json())
            self.world.agree(checkpoint is not None)
        except BaseException:
            self._release()
            raise
        self.prepared = True

    def fit(self, *, resume: bool = False, wait: bool = False) -> list[dict[str, Any]]:
        """Train to ``config.steps``; with ``resume``, continue the run already in the run directory (``wait``:
        for another process training it first). Returns the last evaluation's records, one per metric suite."""
        if not self.prepared:
            self.prepare(resume=resume, wait=wait)
        try:
            with self._taken_back_on_failure():
                train_run(self)  # a divergence raises: the last checkpoint stays
                self._finish()
        finally:
            self._release()
        return self.last_eval

    def _release(self) -> None:
        self.views.close()
        self.batches.close()
        if self.lock is not None:
            self.lock.release()

    @contextmanager
    def _taken_back_on_failure(self) -> Iterator[None]:
        """A new run that fails before its first checkpoint (whatever it trained is lost then: there is nothing
        to resume from) removes what it wrote, so that the corrected run can start in the same directory."""
        try:
            yield
        except TrainingDiverged:
            raise  # diverged.json stays: the same settings diverge again
        except BaseException:
            if self.claim is not None:
                self.views.close()  # its files go with the rest, so no writer may write them again
                self.claim.withdraw()
            raise

    def resume_outputs(self) -> None:
        """At the step a resumed run starts from: a log written just before the stop holds the statistics the
        checkpoint kept, so they are not logged twice."""
        if any(r.get("step") == self.step for r in rundir.read_jsonl(self.run_dir / rundir.STATS)):
            self.logged_step = self.step
            self.statistics = Statistics()

    def save_on_stop(self, started: float) -> None:
        """Keep what was trained since the last save, if the run stands between two steps."""
        if self.consistent and self.step > max(self.saved_step, 0):
            if self._due(self.config.log_every) and self.logged_step != self.step:
                self._log(started)  # the checkpoint then holds the state after this step's log, as a save would
            self.save()

    def write_due_outputs(self, started: float, bar: tqdm) -> None:
        """What is due after a step and not yet done, in this order: its statistics, checkpoint, picture and
        evaluation (then the curves beside the picture)."""
        if self._due(self.config.log_every) and self.logged_step != self.step:
            record = self._log(started)
            bar.set_postfix({k: f"{v:.3f}" for k, v in record.items() if v is not None}, refresh=False)
        if not self.world.writer:
            return
        if self._due(self.config.checkpoint_every) and self.saved_step != self.step:
            self.save()
        pictured = self._due(self.config.sample_every) and not self.picture_path().is_file()
        if pictured:
            self.save_samples()
        if self._due(self.eval_every) and self.measured and not self._evaluated():
            self.evaluate()
        if pictured and self.step < self.config.steps:  # beside each picture, with this step's evaluation drawn
            self.views.draw_curves(self.step)  # too; at the last step, _finish draws once the evaluation is in

    def _evaluated(self) -> bool:
        return any(record["step"] == self.step for record in self.last_eval)

    def _due(self, every: int) -> bool:
        return every > 0 and (self.step % every == 0 or self.step == self.config.steps)

    def _finish(self) -> None:
        """Make sure the final step has a checkpoint, samples and (where a metric fits) an evaluation."""
        if not self.world.writer:
            return
        if self.saved_step != self.step:
            self.save()
        if self.generator is not None and not self.picture_path().is_file():
            self.save_samples()
        final = self.measured and (self.eval_every > 0 or not self.data.info.is_image)
        if final and not self._evaluated():
            self.evaluate()
        if self.views.curves_step != self.step:
            self.views.draw_curves(self.step)

    def _write_run_files(self) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        (self.run_dir / rundir.CONFIG).write_text(self.config.to_json() + "\n", encoding="utf-8")
        (self.run_dir / rundir.PROVENANCE).write_text(json.dumps(self.provenance, indent=2) + "\n", encoding="utf-8")
        for name in (rundir.STATS, rundir.METRICS):
            rundir.truncate_jsonl(self.run_dir / name, self.step)

    def _log(self, started: float) -> dict[str, float | None]:
        """Append the mean statistics since the last log (a value that is not finite as null); stop if a loss,
        penalty or divergence estimate is not finite: training has diverged. Over several processes: the means
        over every rank's share, written by rank 0."""
        self.world.average(self.statistics.sums[name] for name in sorted(self.statistics.sums))
        means = self.statistics.means()
        broken = [key for key, value in means.items() if not math.isfinite(value) and key.startswith(DIVERGING)]
        record = {key: value if math.isfinite(value) else None for key, value in means.items()}
        if broken:
            if self.world.writer:
                rundir.mark_diverged(self.run_dir, self.step, broken)
                self.views.draw_curves(self.step)  # up to the last finite log: how it came to diverge
            last = f"the last checkpoint is from step {self.saved_step}" if self.saved_step >= 0 else "no checkpoint"
            raise TrainingDiverged(f"training diverged: {', '.join(broken)} not finite at step {self.step}; {last}",
                                   self.step)
        self.logged_step = self.step  # first: an interrupt from here on must not log this step twice
        if self.world.writer:
            rundir.append_jsonl(self.run_dir / rundir.STATS,
                                {"step": self.step, "seconds": round(time.time() - started, 3), **record})
            self.views.statistics(self.step, record)
        self.statistics = Statistics()  # only once logged: a checkpoint taken in between still holds them
        return record

    # -- outputs -----------------------------------------------------------

    def evaluate(self) -> list[dict[str, Any]]:
        """Measure the sampling weights with every suite; an image run also keeps its checkpoint of lowest FID."""
        assert self.sampling_generator is not None
        self.last_eval = self.evaluator.evaluate(self.sampling_generator, self.prior, step=self.step,
                                                 provenance=self.provenance, generator_weights=self.generator_weights)
        rundir.append_jsonl(self.run_dir / rundir.METRICS, *self.last_eval)  # every suite's record, or none
        self.views.metrics(self.step, self.last_eval)
        for record in self.last_eval:
            fid = record["metrics"].get("fid")
            if fid is not None and fid <= min(rundir.fids(self.run_dir, record["protocol"]), default=fid):
                if self.saved_step != self.step:
                    self.save()
                rundir.keep_as_best(self.run_dir)
        return self.last_eval

    def picture_path(self) -> Path:
        return rundir.picture_path(self.run_dir, self.step)

    def save_samples(self) -> Path | None:
        """A picture of the sampling weights' samples; None for an algorithm without a generator."""
        if self.sampling_generator is None:
            return None
        path = self.picture_path()
        rows = None if self.prior.num_classes is None else list(range(self.prior.num_classes))
        labels, count = picture_plan(self.data.info, rows)
        try:
            samples = generate(self.sampling_generator, self.prior, count, PICTURE_SEED, labels)
        except Exception as exc:
            raise self.plan.failure(exc, f"sampling at step {self.step}") from exc
        title = run_title(self.config, self.step, self.generator_weights)
        points = None if self.data.info.is_image else first_samples(self.data)
        save_picture(samples, self.data.info, path, title, rows, points)
        self.views.picture(self.step, path)
        return path

    def parts(self) -> dict[str, Any]:
        """What a checkpoint holds besides the step: networks, optimizers, the plugins' own state and the
        statistics not yet logged (so the first record after a resume averages the same steps)."""
        modules = dict(self.networks)
        if self.generator_ema is not None:
            modules[f"{self.algorithm.generator}_ema"] = self.generator_ema
        states = {**self._plugin_objects(), "statistics": self.statistics}
        if self.precision.scalers:
            states["scaler"] = self.precision
        return {"modules": modules, "optimizers": {f"optimizer_{k}": v for k, v in self.optimizers.items()},
                "states": states}

    def _plugin_objects(self) -> dict[str, Any]:
        objects = {"algorithm": self.algorithm, "objective": self.objective}
        if self.augmentation is not None:
            objects["augmentation"] = self.augmentation
        return objects

    def rng_streams(self) -> dict[str, torch.Generator]:
        return {"noise": self.noise_rng, "batches": self.batches.rng}

    def plugin_states(self) -> dict[str, dict[str, torch.Tensor]]:
        """Each plugin object's ``state_dict()``, checked to map names to tensors (checkpoints hold tensors)."""
        roles, states = self.plan.parts(), {}
        for role, owner in self._plugin_objects().items():
            states[role] = roles[role].call(owner.state_dict, what="give its state_dict")
            problem = state_problem(states[role])
            if problem is not None:
                raise PluginError(f"{roles[role]}: {problem}")
        return states

    def save(self) -> None:
        """Write the checkpoint (rank 0 of several processes; the others only mark the step saved)."""
        self.batches.settle()  # the data stream as the batches trained on leave it, not as the workers read ahead
        if self.world.writer:
            parts, checked = self.parts(), self.plugin_states()
            parts["states"] = {role: checked[role] if role in checked else owner.state_dict()
                               for role, owner in parts["states"].items()}
            save_checkpoint(self.run_dir / rundir.LAST_CHECKPOINT, step=self.step, config_json=self.config.to_json(),
                            provenance=self.provenance, data_info=self.data.info, device=self.device,
                            streams=self.rng_streams(), **parts)
        self.saved_step = self.step

    def restore(self, path: Path) -> None:
        """Strictly load every part, the random streams and the step from a checkpoint of this run."""
        checkpoint = load_checkpoint(path)
        differ = rundir.config_differences(checkpoint.config, self.config)
        if differ:
            raise CheckpointError(f"{path} belongs to a different run (its config differs in: {', '.join(differ)})")
        check_data(checkpoint, path, self.data.info, self.config.dataset)
        trained = checkpoint.provenance.get("speed")
        self.precision.check_resume(trained.get("precision") if isinstance(trained, dict) else None, path)
        restore_parts(checkpoint, path, device=self.device, streams=self.rng_streams(), seed=self.config.seed,
                      **self.parts())
        self.step = self.saved_step = checkpoint.step
        self.world.seed_own_stream(self.config.seed, self.step)

