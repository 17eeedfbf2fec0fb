"""Training throughput of the shared runner: generator steps per second.

    python benchmarks/runner_speed.py --gan gan --dataset ring8 --steps 500 --device cpu

Times only the training loop (data, networks and optimizers are built first);
logging, pictures, evaluation and checkpoints are switched off.
"""

from __future__ import annotations

import argparse
import tempfile
import time

import torch

from ganzoo.registry.discovery import get_zoo
from ganzoo.run.config import resolve_config
from ganzoo.training.trainer import Trainer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gan", default="gan")
    parser.add_argument("--dataset", default="ring8")
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()

    zoo = get_zoo()
    with tempfile.TemporaryDirectory() as out:
        config = resolve_config({"gan": args.gan, "dataset": args.dataset, "device": args.device, "out_dir": out}, zoo)
        trainer = Trainer(config, zoo, progress=False)
        for _ in range(args.warmup):
            trainer.train_step()
        sync = torch.cuda.synchronize if trainer.device.type == "cuda" else (lambda: None)
        sync()
        started = time.perf_counter()
        for _ in range(args.steps):
            trainer.train_step()
        sync()
        elapsed = time.perf_counter() - started
    print(f"{args.gan} on {args.dataset}, batch {config.batch_size}, d_steps {config.d_steps}, "
          f"device {trainer.device}, torch threads {torch.get_num_threads()}: "
          f"{args.steps / elapsed:.1f} steps/s ({1000 * elapsed / args.steps:.2f} ms/step)")


if __name__ == "__main__":
    main()
