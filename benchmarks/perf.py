"""The shared runner's speed against a minimal hand-written PyTorch loop, side by side in one process.

    python benchmarks/perf.py --device cpu
    python benchmarks/perf.py --device cuda --cases gan:ring8:64 dcgan:fashion-mnist:64 dcgan:fashion-mnist:256

Both train the same networks (one build, copied), with the same objective (the non-saturating GAN loss), Adam
settings, batch size and data, one discriminator step per generator step. They take turns in short rounds, so
that a machine's drift in speed falls on both alike; the ratio printed is the median over rounds of the
runner's steps per second over the hand-written loop's (above 1: the runner is faster). Logging, pictures,
evaluation and checkpoints are off, as in the loop.
"""

from __future__ import annotations

import argparse
import copy
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ganzoo.registry.discovery import get_zoo
from ganzoo.training.config import resolve_config
from ganzoo.training.trainer import Trainer


def machine(device: torch.device) -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or platform.machine()) \
        if Path("/proc/cpuinfo").is_file() else platform.processor() or platform.machine()
    gpu = f", GPU {torch.cuda.get_device_name(device)}, CUDA {torch.version.cuda}" if device.type == "cuda" else ""
    return f"CPU {cpu}{gpu}, torch {torch.__version__}, {torch.get_num_threads()} torch threads"


class HandLoop:
    """The loop a researcher would write: one D step on a real and a generated batch, one G step."""

    def __init__(self, trainer: Trainer):
        config, device = trainer.config, trainer.device
        self.G = copy.deepcopy(trainer.generator)
        self.D = copy.deepcopy(trainer.discriminator)
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


def rate(step: Callable[[], None], steps: int, sync: Callable[[], None]) -> float:
    sync()
    started = time.perf_counter()
    for _ in range(steps):
        step()
    sync()
    return steps / (time.perf_counter() - started)


def compare(gan: str, dataset: str, batch: int, device: str, rounds: int, steps: int) -> str:
    zoo = get_zoo()
    with tempfile.TemporaryDirectory() as out:
        config = resolve_config({"gan": gan, "dataset": dataset, "objective": "nonsaturating", "batch_size": batch,
                                 "device": device, "out_dir": out, "d_steps": 1}, zoo)
        trainer = Trainer(config, zoo, progress=False)
        hand = HandLoop(trainer)
        for network in (trainer.generator, trainer.discriminator, hand.G, hand.D):
            assert isinstance(network, nn.Module)
            network.train()
        sync = torch.cuda.synchronize if trainer.device.type == "cuda" else (lambda: None)
        rate(trainer.train_step, 5, sync)  # warm up both: first calls allocate
        rate(hand.step, 5, sync)
        ours, theirs = [], []
        for _ in range(rounds):
            ours.append(rate(trainer.train_step, steps, sync))
            theirs.append(rate(hand.step, steps, sync))
    ratio = statistics.median(o / t for o, t in zip(ours, theirs))
    return (f"{gan} on {dataset}, batch {batch}: runner {statistics.median(ours):.1f} steps/s, hand-written "
            f"{statistics.median(theirs):.1f} steps/s, ratio {ratio:.3f} (median of {rounds} rounds of {steps})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", default=["gan:ring8:100", "dcgan:fashion-mnist:64"],
                        metavar="GAN:DATASET:BATCH")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--steps", type=int, default=None, help="steps per round (default: 200 for MLPs, 10 else)")
    args = parser.parse_args()
    device = torch.device("cuda" if args.device == "auto" and torch.cuda.is_available() else
                          "cpu" if args.device == "auto" else args.device)
    print(machine(device))
    for case in args.cases:
        gan, dataset, batch = case.split(":")
        steps = args.steps or (200 if dataset in ("ring8", "grid25") else 10)
        print(compare(gan, dataset, int(batch), str(device), args.rounds, steps), flush=True)


if __name__ == "__main__":
    main()
