"""The shared runner's speed, side by side with what it replaces, in one process and one run.

    python benchmarks/perf.py --device cpu
    python benchmarks/perf.py --device cuda --inception-weights ~/.cache/ganzoo/inception/pt_inception.safetensors

Three comparisons, each printed as a ratio (above 1: ganzoo is faster), after a line naming the machine:

- runner: steps per second of the runner (with its [speed] defaults for the device) against a minimal
  hand-written loop in eager float32 with PyTorch's default settings: the same networks (one build, copied),
  objective (the non-saturating loss), Adam settings, batch and data, one discriminator step per generator step;
- data: images per second a DataLoader-fed file-backed data set delivers, against what training consumes;
- fid: images per second of ganzoo's image evaluation against a direct torch-fidelity call on the same
  generator, the same number of images and the same metrics (with --inception-weights only).

Each side takes turns in short rounds, so that a machine's drift in speed falls on both alike; ratios are
medians over rounds. Logging, pictures, evaluation and checkpoints are off while stepping.
"""

from __future__ import annotations

import argparse
import copy
import platform
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from ganzoo.registry.discovery import get_zoo
from ganzoo.run.config import resolve_config
from ganzoo.run.data import BatchSampler
from ganzoo.training.trainer import Trainer

RUNNER_CASES = ["gan:ring8:64", "gan:ring8:256", "dcgan:fashion-mnist:64", "dcgan:fashion-mnist:256",
                "dcgan:fashion-mnist@32:64", "dcgan:fashion-mnist@32:256", "sngan-resnet:fashion-mnist@32:64",
                "sngan-resnet:fashion-mnist@32:256"]
ROUND_SECONDS = 1.0


def machine(device: torch.device) -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or platform.machine()) \
        if Path("/proc/cpuinfo").is_file() else platform.processor() or platform.machine()
    gpu = f", GPU {torch.cuda.get_device_name(device)}, CUDA {torch.version.cuda}" if device.type == "cuda" else ""
    return f"CPU {cpu}{gpu}, torch {torch.__version__}, {torch.get_num_threads()} torch threads"


def build(gan: str, dataset: str, batch: int, device: str, out: str, **extra: object) -> Trainer:
    """A runner for ``gan`` on ``dataset`` (``name@resolution`` for another resolution)."""
    name, _, resolution = dataset.partition("@")
    raw = {"gan": gan, "dataset": name, "objective": "nonsaturating", "batch_size": batch, "device": device,
           "out_dir": out, "d_steps": 1, **extra}
    if resolution:
        raw["dataset_options"] = {"resolution": int(resolution)}
    zoo = get_zoo()
    return Trainer(resolve_config(raw, zoo), zoo, progress=False)


@contextmanager
def pytorch_defaults() -> Iterator[None]:
    """PyTorch's own GPU settings (no TF32 matrix products, no cuDNN benchmark) for the hand-written loop; the
    runner's [speed] settings are process-wide, and put back after."""
    kept = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32, torch.backends.cudnn.benchmark)
    torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32, torch.backends.cudnn.benchmark = (
        False, True, False)
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32, torch.backends.cudnn.benchmark = kept


class HandLoop:
    """The loop a researcher would write: one D step on a real and a generated batch, one G step."""

    def __init__(self, trainer: Trainer):
        config, device = trainer.config, trainer.device
        assert trainer.generator is not None
        self.G = copy.deepcopy(trainer.generator).to(memory_format=torch.contiguous_format)
        self.D = copy.deepcopy(trainer.discriminator).to(memory_format=torch.contiguous_format)
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=config.optimizer_g.lr, betas=config.optimizer_g.betas)
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=config.optimizer_d.lr, betas=config.optimizer_d.betas)
        samples = trainer.data.samples
        assert isinstance(samples, torch.utils.data.TensorDataset), "the comparison needs data held in a tensor"
        self.data = samples.tensors[0].to(device)
        self.batch, self.z_dim, self.device = config.batch_size, config.z_dim, device
        self.uniform = config.prior == "uniform"

    def noise(self) -> torch.Tensor:
        if self.uniform:
            return torch.rand(self.batch, self.z_dim, device=self.device) * 2 - 1
        return torch.randn(self.batch, self.z_dim, device=self.device)

    def step(self) -> None:
        real = self.data[torch.randint(len(self.data), (self.batch,), device=self.device)]
        with torch.no_grad():
            fake = self.G(self.noise())
        d_loss = F.softplus(-self.D(real)).mean() + F.softplus(self.D(fake)).mean()
        self.opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        self.opt_d.step()
        g_loss = F.softplus(-self.D(self.G(self.noise()))).mean()
        self.opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        self.opt_g.step()


def timed(work: Callable[[], object], repeats: int, sync: Callable[[], None]) -> float:
    """Seconds per call of ``work``."""
    sync()
    started = time.perf_counter()
    for _ in range(repeats):
        work()
    sync()
    return (time.perf_counter() - started) / repeats


def interleaved(ours: Callable[[], None], theirs: Callable[[], None], rounds: int, sync: Callable[[], None],
                wrap_theirs: Callable[[], AbstractContextManager[object]] = nullcontext,
                warmup: int = 3) -> tuple[float, float]:
    """Median seconds per call of each, in alternating rounds of about ROUND_SECONDS (one call at least); the
    first calls (which allocate, compile, fill caches and let cuDNN choose) are not counted."""
    timed(ours, warmup, sync)
    with wrap_theirs():
        timed(theirs, warmup, sync)
    repeats = max(1, int(ROUND_SECONDS / max(timed(ours, 1, sync), 1e-6)))
    mine, other = [], []
    for _ in range(rounds):
        mine.append(timed(ours, repeats, sync))
        with wrap_theirs():
            other.append(timed(theirs, repeats, sync))
    return statistics.median(mine), statistics.median(other)


def runner_row(case: str, device: str, rounds: int) -> str:
    gan, dataset, batch = case.split(":")
    with tempfile.TemporaryDirectory() as out:
        trainer = build(gan, dataset, int(batch), device, out)
        hand = HandLoop(trainer)
        for network in (trainer.generator, trainer.discriminator, hand.G, hand.D):
            assert isinstance(network, nn.Module)
            network.train()
        ours, theirs = interleaved(trainer.train_step, hand.step, rounds, _sync(trainer.device), pytorch_defaults)
    speed = trainer.speed.provenance()
    settings = trainer.precision.name + (", compiled" if speed["compiled"] else "") + (
        ", channels_last" if speed["channels_last"] else "") + (", TF32" if speed["tf32"] else "")
    return (f"runner  {gan} on {dataset}, batch {batch} ({settings}): runner {1 / ours:.3g} steps/s, hand-written "
            f"eager fp32 {1 / theirs:.3g} steps/s, ratio {theirs / ours:.3f}")


def data_rows(device: str, rounds: int, workers: list[int]) -> list[str]:
    """An image folder of 2,048 random 32x32 PNGs (written here), read by the runner's sampler, beside the rate
    at which DCGAN at 32x32 consumes real images (one batch per discriminator step)."""
    rows = []
    with tempfile.TemporaryDirectory() as out:
        folder = Path(out) / "images"
        folder.mkdir()
        rng = np.random.default_rng(0)
        for number in range(2048):
            Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(folder / f"{number:04d}.png")
        trainer = build("dcgan", "image-folder", 64, device, f"{out}/run",
                        dataset_options={"root": str(folder), "resolution": 32, "in_memory": False})
        sync = _sync(trainer.device)
        consumed = 64 / timed(trainer.train_step, max(3, rounds), sync)
        for count in workers:
            sampler = BatchSampler(trainer.data.samples, trainer.device, 0, batch_size=64, workers=count)
            try:
                sampler.next(64)  # workers start
                delivered = 64 / timed(lambda: sampler.next(64), 20 * rounds, sync)  # noqa: B023
            finally:
                sampler.close()
            rows.append(f"data    image folder of 32x32 PNGs, batch 64, {count} loader workers: {delivered:.0f} "
                        f"images/s delivered, DCGAN training consumes {consumed:.0f} images/s, ratio "
                        f"{delivered / consumed:.2f}")
    return rows


def fid_row(device: str, weights_path: Path, images: int) -> str:
    import torch_fidelity

    from ganzoo.metrics.fidelity import UInt8Generator, fidelity_metrics
    from ganzoo.metrics.inception import resolve_weights

    weights = resolve_weights(weights_path)
    with tempfile.TemporaryDirectory() as out:
        trainer = build("dcgan", "fashion-mnist@32", 64, device, f"{out}/run")
        reference = (torch.rand(images, 3, 32, 32) * 255).to(torch.uint8)
        generator, prior = trainer.generator, trainer.prior
        assert generator is not None
        cache = Path(out) / "cache"

        def ours() -> None:
            fidelity_metrics(generator, prior, reference, num_generated=images, seed=0, weights=weights,
                             reference_name="perf", cache_root=cache)

        def direct() -> None:
            from ganzoo.metrics.fidelity import ReferenceImages

            torch_fidelity.calculate_metrics(
                input1=UInt8Generator(generator, prior, 0), input1_model_num_samples=images,
                input2=ReferenceImages(reference), input2_cache_name="perf-direct", cuda=trainer.device.type == "cuda",
                isc=weights.has_logits, fid=True, kid=True, prc=True, feature_extractor=weights.extractor,
                feature_extractor_weights_path=str(weights.path), kid_subset_size=min(1000, images),
                cache=True, cache_root=str(cache), save_cpu_ram=True, verbose=False)

        ours_seconds, direct_seconds = interleaved(ours, direct, 3, _sync(trainer.device), warmup=1)
    return (f"fid     {images} generated 32x32 images against cached reference statistics: ganzoo "
            f"{images / ours_seconds:.1f} images/s, torch-fidelity direct {images / direct_seconds:.1f} images/s, "
            f"ratio {direct_seconds / ours_seconds:.3f}")


def _sync(device: torch.device) -> Callable[[], None]:
    return torch.cuda.synchronize if device.type == "cuda" else (lambda: None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda (default auto)")
    parser.add_argument("--sections", nargs="+", default=["runner", "data", "fid"],
                        choices=["runner", "data", "fid"])
    parser.add_argument("--cases", nargs="+", default=RUNNER_CASES, metavar="GAN:DATASET[@RES]:BATCH",
                        help="runner comparisons (default: the toy MLP, DCGAN 28x28 and 32x32 and SNGAN's ResNet "
                             "at batch 64 and 256)")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds per comparison (default 5)")
    parser.add_argument("--workers", type=int, nargs="+", default=[0, 2], help="loader workers to try (default 0 2)")
    parser.add_argument("--inception-weights", type=Path, default=None, help="for the fid row")
    parser.add_argument("--fid-images", type=int, default=64, help="generated images of the fid row (default 64)")
    args = parser.parse_args()
    device = torch.device("cuda" if args.device == "auto" and torch.cuda.is_available() else
                          "cpu" if args.device == "auto" else args.device)
    print(machine(device), flush=True)
    if "runner" in args.sections:
        for case in args.cases:
            print(runner_row(case, str(device), args.rounds), flush=True)
    if "data" in args.sections:
        for row in data_rows(str(device), args.rounds, args.workers):
            print(row, flush=True)
    if "fid" in args.sections:
        if args.inception_weights is None:
            print("fid     skipped: give --inception-weights (see docs/metrics.md)")
        else:
            print(fid_row(str(device), args.inception_weights, args.fid_images), flush=True)


if __name__ == "__main__":
    main()
