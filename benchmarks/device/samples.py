"""The generated images of an image run's final evaluation, drawn where its weights are and measured elsewhere.

A Fashion-MNIST run of `fashion-mnist-lucic` checkpoints 158 MB (generator, discriminator, Adam states), too much
to bring back from the lent GPU machine, which also lacks the 95 MB Inception weights FID needs. So on the GPU,
after training, ``capture`` draws exactly the images the run's evaluation at its last step would hand to the
Inception network: ganzoo's own torch-fidelity input (``UInt8Generator``) fed by torch-fidelity's own loop over
its seeded noise, with a feature extractor that returns its input. They are a few MB. On a CPU, ``evaluate_run``
replays them through ganzoo's evaluator in place of the generator (``ReplayGenerator``): torch-fidelity draws
the same noise in the same batches, and gets back the stored images, so FID, KID and precision/recall are those
of the trained generator, computed on another device.

    python benchmarks/device/samples.py capture --into DIR RUN...   # on the GPU: DIR/<run>.safetensors
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from safetensors.torch import save_file
from torch import nn

from ganzoo.errors import GanzooError, one_line

RECORDER = "ganzoo-device-recorder"
SUFFIX = ".safetensors"


def _recorder() -> nn.Module:
    """torch-fidelity feature extractor whose one "feature" is the uint8 image batch it is given."""
    from torch_fidelity.feature_extractor_base import FeatureExtractorBase

    class Recorder(FeatureExtractorBase):
        def __init__(self) -> None:
            super().__init__(RECORDER, ["images"])

        @staticmethod
        def get_provided_features_list() -> tuple[str, ...]:
            return ("images",)

        def forward(self, images: torch.Tensor) -> tuple[torch.Tensor]:
            return (images.contiguous(),)

    return Recorder()


def capture(generator: nn.Module, prior: Any, count: int, seed: int) -> torch.Tensor:
    """The ``count`` uint8 images (n, 3, h, w) that ``fidelity_metrics`` would feed torch-fidelity's Inception
    network for ``generator`` with sampling seed ``seed``: the same wrappers, modes, streams and loop."""
    from torch_fidelity.defaults import DEFAULTS
    from torch_fidelity.utils import get_featuresdict_from_generative_model

    from ganzoo.metrics.fidelity import UInt8Generator
    from ganzoo.utils import eval_mode, seeded_draws

    cuda = prior.device.type == "cuda"
    on_device = torch.cuda.device(prior.device) if cuda else nullcontext()
    with on_device, eval_mode(generator), seeded_draws(seed, prior.device):
        features = get_featuresdict_from_generative_model(
            UInt8Generator(generator, prior, seed), _recorder(), count, DEFAULTS["batch_size"], cuda, seed, False)
    return features["images"]


class ReplayGenerator(nn.Module):
    """Stands in for a generator: each call returns the next stored images as the generator's [-1, 1] output
    (``to_uint8`` turns them back into the same bytes exactly), whatever codes it is given."""

    def __init__(self, images: torch.Tensor):
        super().__init__()
        self.images = images
        self.served = 0

    def forward(self, codes: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        batch = self.images[self.served:self.served + len(codes)]
        if len(batch) < len(codes):
            raise GanzooError(f"the evaluation asked for more than the {len(self.images)} stored images")
        self.served += len(codes)
        return batch.to(codes.device, torch.float32) / 127.5 - 1

    def check_all_served(self) -> None:
        if self.served != len(self.images):
            raise GanzooError(f"the evaluation took {self.served} of the {len(self.images)} stored images, not all: "
                              f"it did not draw what the GPU drew")


def capture_run(run_dir: Path, into: Path) -> Path:
    """Restore ``run_dir``'s last checkpoint on this machine's device, draw its final sample picture and curves
    (what the run would have drawn at its end, had its evaluation not failed for want of Inception weights) and
    store its evaluation images as ``into/<run>.safetensors``."""
    from ganzoo.metrics.evaluation import EVAL_SEED
    from ganzoo.metrics.suites import IMAGES_DEFAULT_SAMPLES
    from ganzoo.registry.discovery import get_zoo
    from ganzoo.run import rundir
    from ganzoo.run.config import RunConfig, validate
    from ganzoo.training.trainer import Trainer

    stored = rundir.read_json_object(run_dir / rundir.CONFIG)
    config: RunConfig = validate(RunConfig, {**stored, "out_dir": str(run_dir)}, f"{run_dir / rundir.CONFIG}")
    zoo = get_zoo()
    trainer = Trainer(config, zoo, progress=False)
    try:
        trainer.restore(run_dir / rundir.LAST_CHECKPOINT)
        if trainer.step != config.steps:
            raise GanzooError(f"{run_dir}: its last checkpoint is at step {trainer.step}, not {config.steps}")
        generator = trainer.sampling_generator
        if generator is None:
            raise GanzooError(f"{run_dir}: its algorithm trains no generator")
        trainer.save_samples()
        trainer.views.draw_curves(trainer.step)
        count = config.metrics.num_generated or IMAGES_DEFAULT_SAMPLES
        images = capture(generator, trainer.prior, count, EVAL_SEED)
        channels = trainer.data.info.shape[0]
        if channels == 1:  # to_uint8 repeated the grey channel three times: keep one
            if not torch.equal(images, images[:, :1].expand_as(images)):
                raise GanzooError(f"{run_dir}: grey images came back with differing channels")
            images = images[:, :1]
    finally:
        trainer.batches.close()
    import torch_fidelity
    from torch_fidelity.defaults import DEFAULTS

    device = trainer.device
    into.mkdir(parents=True, exist_ok=True)
    path = into / f"{run_dir.name}{SUFFIX}"
    save_file({"images": images.contiguous()}, str(path), metadata={
        "run": run_dir.name, "step": str(trainer.step), "num_generated": str(count), "sampling_seed": str(EVAL_SEED),
        "generator_weights": trainer.generator_weights, "device": str(device),
        "device_name": torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU",
        "torch": torch.__version__, "torch_fidelity": torch_fidelity.__version__,
        "batch_size": str(DEFAULTS["batch_size"])})
    return path


def read_samples(path: Path) -> tuple[torch.Tensor, dict[str, str]]:
    with safe_open(str(path), framework="pt") as stored:
        return stored.get_tensor("images"), dict(stored.metadata() or {})


def evaluate_run(run_dir: Path, samples: Path, note: str) -> list[dict[str, Any]]:
    """Measure ``run_dir`` from its stored evaluation images with every metric suite its config names, as the
    run would have at its last step, and append the records to its metrics.jsonl, where ``ganzoo bench`` finds
    them. ``note`` goes into each record's provenance under ``evaluated_apart``."""
    from ganzoo.registry.discovery import get_zoo
    from ganzoo.run import rundir
    from ganzoo.run.config import RunConfig, validate
    from ganzoo.training.trainer import Trainer

    images, meta = read_samples(samples)
    stored = rundir.read_json_object(run_dir / rundir.CONFIG)
    config: RunConfig = validate(RunConfig, {**stored, "device": "cpu", "out_dir": str(run_dir)},
                                 f"{run_dir / rundir.CONFIG}")
    if int(meta.get("step", -1)) != config.steps:
        raise GanzooError(f"{samples}: drawn at step {meta.get('step')}, the run has {config.steps} steps")
    trainer = Trainer(config, get_zoo(), progress=False)  # the run's own evaluator and prior, on this CPU
    try:
        if meta.get("generator_weights") != trainer.generator_weights:
            raise GanzooError(f"{samples}: drawn from the {meta.get('generator_weights')} weights, the run "
                              f"evaluates its {trainer.generator_weights} weights")
        provenance = rundir.read_json_object(run_dir / rundir.PROVENANCE)
        provenance["evaluated_apart"] = {
            "note": note, "samples": {key: meta[key] for key in sorted(meta)},
            "samples_sha256": _sha256(samples)}
        replay = ReplayGenerator(images)
        records = trainer.evaluator.evaluate(replay, trainer.prior, step=config.steps, provenance=provenance,
                                             generator_weights=meta["generator_weights"])
        replay.check_all_served()
    finally:
        trainer.batches.close()
    rundir.append_jsonl(run_dir / rundir.METRICS, *records)
    return records


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    grab = sub.add_parser("capture", help="draw the final evaluation images of finished runs (on the GPU)")
    grab.add_argument("--into", type=Path, required=True, help="folder for <run>.safetensors")
    grab.add_argument("runs", type=Path, nargs="+")
    args = parser.parse_args(argv)
    failed = 0
    for run in args.runs:
        try:
            path = capture_run(run, args.into)
        except (GanzooError, OSError, RuntimeError) as exc:
            print(f"samples.py: {run.name}: {one_line(exc)}", file=sys.stderr, flush=True)
            failed += 1
            continue
        print(json.dumps({"run": run.name, "samples": str(path), "bytes": path.stat().st_size}), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
