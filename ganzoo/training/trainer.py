"""The one training loop every plugin shares."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

from ganzoo.errors import CheckpointError, GanzooError, RunDirError, TrainingDiverged
from ganzoo.metrics.evaluation import can_evaluate, evaluate, reference_for
from ganzoo.registry.discovery import Zoo
from ganzoo.sampling.generation import first_samples, generate, picture_plan, run_title, save_picture
from ganzoo.training import rundir
from ganzoo.training.checkpoint import load_checkpoint, load_module_state, load_optimizer_state, save_checkpoint
from ganzoo.training.components import build_objective, provenance
from ganzoo.training.config import RunConfig
from ganzoo.training.data import BatchSampler, load_data
from ganzoo.training.device import resolve_device
from ganzoo.training.ema import ema_copy, update_ema, weights_name
from ganzoo.training.networks import WithLabels, build_networks, network_info
from ganzoo.training.optimizers import build_optimizer
from ganzoo.training.prior import Prior, forward

PICTURE_SEED = 0
TOY_EVAL_EVERY = 1000
IMAGE_EVAL_EVERY = 0


def _scalar(loss: torch.Tensor, what: str) -> torch.Tensor:
    if not (isinstance(loss, torch.Tensor) and loss.dim() == 0):
        raise GanzooError(f"the objective's {what} must return a scalar tensor, got {getattr(loss, 'shape', loss)!r}")
    return loss


class Trainer:
    """Builds a run from its config and trains it: k discriminator steps, then one generator step."""

    def __init__(self, config: RunConfig, zoo: Zoo, *, progress: bool = True):
        self.config = config
        self.run_dir = config.run_dir()
        self.progress = progress
        self.device = resolve_device(config.device)
        torch.manual_seed(config.seed)
        self.data = load_data(config, zoo)
        info = network_info(config, self.data.info)
        generator, discriminator = build_networks(config, zoo, info)
        self.generator = generator.to(self.device)
        self.discriminator = discriminator.to(self.device)
        self.generator_ema = ema_copy(self.generator) if config.ema.enabled else None
        self.objective = build_objective(config, zoo)
        self.opt_g = build_optimizer(config.optimizer_g, self.generator.parameters())
        self.opt_d = build_optimizer(config.optimizer_d, self.discriminator.parameters())
        self.prior = Prior(config.prior, config.z_dim, self.device, info.condition_classes)
        self.noise_rng = torch.Generator(device=self.device).manual_seed(config.seed + 1)
        self.batches = BatchSampler(self.data.samples, config.batch_size, self.device, config.seed + 2,
                                    labelled=config.conditional)
        self.provenance = provenance(config, zoo, self.device)
        self.reference = reference_for(config, zoo, self.data)  # at start-up, so a bad reference_split stops no run
        self.eval_every = config.eval_every if config.eval_every is not None else (
            IMAGE_EVAL_EVERY if self.data.info.is_image else TOY_EVAL_EVERY)
        self.step = 0
        self.saved_step = -1
        self.prepared = False
        self.last_eval: dict[str, Any] | None = None

    @property
    def sampling_generator(self) -> torch.nn.Module:
        """The weights used for pictures and evaluation: the moving average when there is one."""
        return self.generator if self.generator_ema is None else self.generator_ema

    @property
    def generator_weights(self) -> str:
        return weights_name(None if self.generator_ema is None else self.config.ema.decay)

    # -- one step ----------------------------------------------------------

    def _fake(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        """A generated batch and, for a conditional run, the labels it was asked for."""
        size = self.config.batch_size
        noise, labels = self.prior.sample(size, self.noise_rng), self.prior.sample_labels(size, self.noise_rng)
        return forward(self.generator, noise, labels), labels

    def train_step(self) -> dict[str, torch.Tensor]:
        """One generator step preceded by ``d_steps`` discriminator steps; returns detached stats."""
        G, D, objective = self.generator, self.discriminator, self.objective
        stats: dict[str, torch.Tensor] = {}
        if self.config.lr_decay == "linear":  # a function of the step alone, so resuming needs no extra state
            self._scale_learning_rates(1.0 - self.step / self.config.steps)

        # Discriminator: k updates on fresh real and generated batches
        for _ in range(self.config.d_steps):
            real, real_labels = self.batches.next()
            with torch.no_grad():
                fake, fake_labels = self._fake()
            real_scores = forward(D, real, real_labels).reshape(-1)
            fake_scores = forward(D, fake, fake_labels).reshape(-1)
            loss_d = _scalar(objective.discriminator_loss(real_scores, fake_scores), "discriminator_loss")
            # a penalty scores mixes of real and fake samples; they take the real samples' labels
            penalty = objective.penalty(D if real_labels is None else WithLabels(D, real_labels), real, fake)
            total = loss_d if penalty is None else loss_d + penalty
            self.opt_d.zero_grad(set_to_none=True)
            total.backward()
            self.opt_d.step()
            objective.after_discriminator_step(D)
        stats["loss_d"] = loss_d.detach()
        if penalty is not None:
            stats["penalty"] = penalty.detach()
        divergence = objective.divergence_estimate(real_scores.detach(), fake_scores.detach())
        if divergence is not None:
            stats["divergence"] = divergence.detach()

        # Generator: one update through the discriminator
        fake, fake_labels = self._fake()
        fake_scores = forward(D, fake, fake_labels).reshape(-1)
        loss_g = _scalar(objective.generator_loss(fake_scores), "generator_loss")
        self.opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        self.opt_g.step()
        stats["loss_g"] = loss_g.detach()

        # Moving average of G: a plain copy until ema.start steps are done
        if self.generator_ema is not None:
            decay = self.config.ema.decay if self.step >= self.config.ema.start else 0.0
            update_ema(self.generator_ema, G, decay)
        return stats

    def _scale_learning_rates(self, factor: float) -> None:
        for optimizer, settings in ((self.opt_g, self.config.optimizer_g), (self.opt_d, self.config.optimizer_d)):
            for group in optimizer.param_groups:
                group["lr"] = settings.lr * factor

    # -- the loop ----------------------------------------------------------

    def prepare(self, *, resume: bool = False) -> None:
        """Claim the run directory: check it, restore the checkpoint if resuming, write config and provenance."""
        checkpoint = rundir.check_run_dir(self.run_dir, self.config, resume)
        if checkpoint is not None:
            self.restore(checkpoint)
        if self.step > self.config.steps:
            raise RunDirError(f"{self.run_dir} is already at step {self.step}, past steps = {self.config.steps}; "
                              f"ask for {self.step} steps or more")
        self._write_run_files()
        self.last_eval = next((r for r in reversed(rundir.read_jsonl(self.run_dir / rundir.METRICS))
                               if r.get("step") == self.step and "source" not in r), None)
        self.prepared = True

    def fit(self, *, resume: bool = False) -> dict[str, Any] | None:
        """Train to ``config.steps``; with ``resume``, continue the run already in the run directory."""
        if not self.prepared:
            self.prepare(resume=resume)
        sums: dict[str, torch.Tensor] = {}
        logged_at, started = self.step, time.time()
        bar = tqdm(total=self.config.steps, initial=self.step, desc=self.run_dir.name, unit="step",
                   disable=None if self.progress else True, dynamic_ncols=True, leave=False)
        try:
            while self.step < self.config.steps:
                for key, value in self.train_step().items():
                    sums[key] = sums.get(key, 0) + value
                self.step += 1
                bar.update(1)
                if self._due(self.config.log_every):
                    record = self._log(sums, self.step - logged_at, started)
                    bar.set_postfix({k: f"{v:.3f}" for k, v in record.items()}, refresh=False)
                    sums, logged_at = {}, self.step
                if self._due(self.config.checkpoint_every):
                    self.save()
                if self._due(self.config.sample_every):
                    self.save_samples()
                if self._due(self.eval_every) and can_evaluate(self.data):
                    self.evaluate()
        except TrainingDiverged:
            raise  # the weights are not finite: the last checkpoint is kept as it is
        except KeyboardInterrupt:
            self.save()
            raise
        except GanzooError:  # e.g. an unreadable image drawn mid-run: keep what was trained since the last save
            if self.step > max(self.saved_step, 0):
                self.save()
            raise
        finally:
            bar.close()
        self._finish()
        return self.last_eval

    def _due(self, every: int) -> bool:
        return every > 0 and (self.step % every == 0 or self.step == self.config.steps)

    def _finish(self) -> None:
        """Make sure the final step has a checkpoint, samples and (where a metric fits) an evaluation."""
        if self.saved_step != self.step:
            self.save()
        if not self.picture_path().is_file():
            self.save_samples()
        final = can_evaluate(self.data) and (self.eval_every > 0 or not self.data.info.is_image)
        if final and (self.last_eval is None or self.last_eval["step"] != self.step):
            self.evaluate()

    def _write_run_files(self) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        (self.run_dir / rundir.CONFIG).write_text(self.config.to_json() + "\n", encoding="utf-8")
        (self.run_dir / rundir.PROVENANCE).write_text(json.dumps(self.provenance, indent=2) + "\n", encoding="utf-8")
        for name in (rundir.STATS, rundir.METRICS):
            rundir.truncate_jsonl(self.run_dir / name, self.step)

    def _log(self, sums: dict[str, torch.Tensor], steps: int, started: float) -> dict[str, float]:
        """Append the mean stats since the last log; stop if training has diverged."""
        record = {key: float(value) / steps for key, value in sums.items()}
        broken = [key for key, value in record.items() if not math.isfinite(value)]
        if broken:
            rundir.mark_diverged(self.run_dir, self.step, broken)
            last = f"the last checkpoint is from step {self.saved_step}" if self.saved_step >= 0 else "no checkpoint"
            raise TrainingDiverged(f"training diverged: {', '.join(broken)} not finite at step {self.step}; {last}",
                                   self.step)
        rundir.append_jsonl(self.run_dir / rundir.STATS,
                            {"step": self.step, "seconds": round(time.time() - started, 3), **record})
        return record

    # -- outputs -----------------------------------------------------------

    def evaluate(self) -> dict[str, Any]:
        """Measure the sampling weights; an image run also keeps its checkpoint of lowest FID as best."""
        self.last_eval = evaluate(self.sampling_generator, self.prior, self.data, step=self.step,
                                  dataset=self.config.dataset, provenance=self.provenance,
                                  generator_weights=self.generator_weights, reference=self.reference)
        rundir.append_jsonl(self.run_dir / rundir.METRICS, self.last_eval)
        fid = self.last_eval["metrics"].get("fid")
        if fid is not None and fid <= min(rundir.fids(self.run_dir, self.last_eval["protocol"]), default=fid):
            if self.saved_step != self.step:
                self.save()
            rundir.keep_as_best(self.run_dir)
        return self.last_eval

    def picture_path(self) -> Path:
        return self.run_dir / "samples" / f"step-{self.step:07d}.png"

    def save_samples(self) -> Path:
        path = self.picture_path()
        rows = None if self.prior.num_classes is None else list(range(self.prior.num_classes))
        labels, count = picture_plan(self.data.info, rows)
        samples = generate(self.sampling_generator, self.prior, count, PICTURE_SEED, labels)
        title = run_title(self.config, self.step, self.generator_weights)
        points = None if self.data.info.is_image else first_samples(self.data)
        save_picture(samples, self.data.info, path, title, rows, points)
        return path

    def save(self) -> None:
        self.saved_step = self.step
        rng = {"torch_cpu": torch.get_rng_state(), "noise": self.noise_rng.get_state(),
               "batches": self.batches.rng.get_state()}
        if self.device.type == "cuda":
            rng["torch_cuda"] = torch.cuda.get_rng_state(self.device)
        models = {"generator": self.generator, "discriminator": self.discriminator}
        if self.generator_ema is not None:
            models["generator_ema"] = self.generator_ema
        save_checkpoint(self.run_dir / rundir.LAST_CHECKPOINT, step=self.step, config_json=self.config.to_json(),
                        provenance=self.provenance, data_info=self.data.info, models=models,
                        optimizers={"optimizer_g": self.opt_g, "optimizer_d": self.opt_d}, rng=rng)

    def restore(self, path: Path) -> None:
        """Strictly load weights, optimizer state, RNG state and step from a checkpoint of this run."""
        checkpoint = load_checkpoint(path)
        differ = rundir.config_differences(checkpoint.config, self.config)
        if differ:
            raise CheckpointError(f"{path} belongs to a different run (its config differs in: {', '.join(differ)})")
        load_module_state(self.generator, checkpoint, "generator", path)
        load_module_state(self.discriminator, checkpoint, "discriminator", path)
        if self.generator_ema is not None:
            load_module_state(self.generator_ema, checkpoint, "generator_ema", path)
        load_optimizer_state(self.opt_g, checkpoint, "optimizer_g", path)
        load_optimizer_state(self.opt_d, checkpoint, "optimizer_d", path)
        saved_on = str(checkpoint.provenance.get("device", "cpu")).split(":")[0]
        self._restore_rng(checkpoint.state_dict("rng"), checkpoint.step, path, same_device=saved_on == self.device.type)
        self.step = self.saved_step = checkpoint.step

    def _restore_rng(self, rng: dict[str, torch.Tensor], step: int, path: Path, same_device: bool) -> None:
        """Continue the saved random streams; on another device type, reseed them from the step."""
        if not same_device:  # generator states are device-specific: the run goes on, not bit for bit
            for offset, generator in enumerate((self.noise_rng, self.batches.rng), start=1):
                generator.manual_seed(self.config.seed + offset + 1000 * step)
            return
        try:
            torch.set_rng_state(rng["torch_cpu"])
            self.noise_rng.set_state(rng["noise"])
            self.batches.rng.set_state(rng["batches"])
            if self.device.type == "cuda":
                torch.cuda.set_rng_state(rng["torch_cuda"], self.device)
        except (KeyError, RuntimeError, TypeError) as exc:
            raise CheckpointError(f"{path}: damaged random-number state ({type(exc).__name__}: {exc})") from None
