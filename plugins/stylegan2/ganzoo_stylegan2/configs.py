"""The release's training configurations (train.py's ``cfg_specs``), as ganzoo run-config defaults.

Two derived settings, computed here from the release's formulas:

- Lazy regularisation (training/training_loop.py, "Setup training phases"):
  the optimizer of a network regularised every k steps takes k + 1 steps per k
  minibatches, so its Adam is set up with mb_ratio = k / (k + 1):
  lr' = lr * mb_ratio, betas' = beta ** mb_ratio. k = 4 for G, 16 for D; this
  holds even when the penalty's weight is 0 (the CIFAR-10 config's G), as there.
- The generator's moving average (training_loop.py): after each minibatch,
  beta = 0.5 ** (batch / ema_nimg), ema_nimg = ema_kimg * 1000, with a ramp-up
  ema_nimg = min(ema_nimg, images_seen * ema_rampup) where the config sets
  one: ganzoo's ``ema.decay`` is the final beta for the config's batch and
  ``ema.rampup`` the same ramp-up (both in steps, so the same rule in images
  at that batch).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

G_REG_INTERVAL = 4  # training_loop.py's defaults, which train.py keeps
D_REG_INTERVAL = 16
ADAM_BETAS = (0.0, 0.99)  # train.py: G_opt_kwargs and D_opt_kwargs, eps 1e-8 (Adam's default)


@dataclass(frozen=True)
class ReleaseConfig:
    """One row of train.py's ``cfg_specs`` (the fields ganzoo uses)."""

    name: str
    batch: int  # mb
    mbstd_group: int  # mbstd
    fmaps: float  # channel_base = fmaps * 32768
    lrate: float
    gamma: float
    ema_kimg: float
    ema_rampup: float | None
    mapping_layers: int  # map

    @property
    def channel_base(self) -> int:
        return int(self.fmaps * 32768)


CIFAR = ReleaseConfig("cifar", batch=64, mbstd_group=32, fmaps=1, lrate=0.0025, gamma=0.01, ema_kimg=500,
                      ema_rampup=0.05, mapping_layers=2)
PAPER256 = ReleaseConfig("paper256", batch=64, mbstd_group=8, fmaps=0.5, lrate=0.0025, gamma=1, ema_kimg=20,
                         ema_rampup=None, mapping_layers=8)


def lazy_adam(lr: float, interval: int, betas: tuple[float, float] = ADAM_BETAS) -> dict[str, Any]:
    """Adam's settings for a network regularised every ``interval`` steps (mb_ratio = k / (k + 1))."""
    ratio = interval / (interval + 1)
    return {"kind": "adam", "lr": lr * ratio, "betas": [beta**ratio for beta in betas]}


def ema_settings(config: ReleaseConfig) -> dict[str, Any]:
    """ganzoo's ``[ema]`` for the release's moving average (see the module docstring)."""
    ramp = {} if config.ema_rampup is None else {"rampup": config.ema_rampup}
    return {"enabled": True, "decay": 0.5 ** (config.batch / (config.ema_kimg * 1000)), **ramp}


def run_defaults(config: ReleaseConfig) -> dict[str, Any]:
    """The run-config defaults of a GAN trained with ``config``: z, batch, optimizers, moving average, gamma."""
    return {
        "z_dim": 512,  # train.py: G_kwargs z_dim=512, w_dim=512
        "prior": "normal",
        "batch_size": config.batch,
        "d_steps": 1,
        "optimizer_g": lazy_adam(config.lrate, G_REG_INTERVAL),
        "optimizer_d": lazy_adam(config.lrate, D_REG_INTERVAL),
        "ema": ema_settings(config),
        "objective_options": {"gamma": config.gamma},
    }
