"""Short training runs for a plugin's own tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ganzoo.registry.discovery import Zoo, get_zoo
from ganzoo.training.config import RunConfig, resolve_config
from ganzoo.training.trainer import Trainer


def quick_config(out_dir: Path, **overrides: Any) -> dict[str, Any]:
    """A raw run config for a few CPU seconds on ``ring8``: 20 steps of 32, logs every 5, a checkpoint every 10,
    no pictures or metrics until the end; ``overrides`` replace any key (``gan`` must be among them)."""
    return {"dataset": "ring8", "steps": 20, "batch_size": 32, "log_every": 5, "sample_every": 0, "eval_every": 0,
            "checkpoint_every": 10, "device": "cpu", "out_dir": str(out_dir), **overrides}


def resolved_config(**config: Any) -> RunConfig:
    """The config ganzoo resolves for ``config`` (``dataset`` defaults to ``ring8``): the algorithm's, GAN's and
    objective's defaults filled in, as a plugin's tests check that its published settings arrive."""
    return resolve_config({"dataset": "ring8", **config}, get_zoo(), "test config")


def trainer(out_dir: Path, *, zoo: Zoo | None = None, **overrides: Any) -> Trainer:
    """A :class:`~ganzoo.training.trainer.Trainer` for :func:`quick_config` with ``overrides``, not yet trained."""
    zoo = zoo or get_zoo()
    return Trainer(resolve_config(quick_config(out_dir, **overrides), zoo), zoo, progress=False)


def train(out_dir: Path, *, zoo: Zoo | None = None, resume: bool = False, **overrides: Any) -> Trainer:
    """Train :func:`quick_config` with ``overrides`` into ``out_dir`` (continuing it with ``resume``); returns the
    trainer, whose ``networks``, ``objective``, ``algorithm`` and ``last_eval`` the test can then inspect."""
    run = trainer(out_dir, zoo=zoo, **overrides)
    run.fit(resume=resume)
    return run
