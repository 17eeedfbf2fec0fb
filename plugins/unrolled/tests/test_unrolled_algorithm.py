"""The algorithm inside real runs: what it leaves of the discriminator, its k = 0 case, its Adam mirror."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

from ganzoo import DataInfo, Objective
from ganzoo.testing import resolved_config, trainer
from ganzoo.training.trainer import Trainer
from ganzoo_unrolled import PointMLPOptions, build_point_pair
from ganzoo_unrolled.algorithm import Unrolled, UnrolledOptions

SMALL = {"gan": "unrolled-mlp", "gan_options": {"hidden": 8}, "z_dim": 4, "batch_size": 16, "steps": 4}


def run(folder: Path, steps: int, **config: Any) -> Trainer:
    torch.manual_seed(0)
    training = trainer(folder, **{**SMALL, **config})
    training.prepare()
    for _ in range(steps):
        training.train_step()
    return training


def weights(training: Trainer, network: str) -> list[torch.Tensor]:
    return [p.detach().clone() for p in training.networks[network].parameters()]


def test_zero_unroll_steps_is_the_alternating_step(tmp_path: Path) -> None:
    alternating = run(tmp_path / "a", 3, algorithm="alternating")
    unrolled = run(tmp_path / "u", 3, algorithm="unrolled", algorithm_options={"unroll_steps": 0})
    for name in ("generator", "discriminator"):
        assert all(torch.equal(a, b) for a, b in zip(weights(alternating, name), weights(unrolled, name))), name


def test_the_discriminator_keeps_its_plain_update(tmp_path: Path) -> None:
    # D's update comes first in both algorithms, from the same weights and draws: only G may differ after the step
    alternating = run(tmp_path / "a", 1, algorithm="alternating")
    unrolled = run(tmp_path / "u", 1, algorithm="unrolled", algorithm_options={"unroll_steps": 3})
    assert all(torch.equal(a, b) for a, b in zip(weights(alternating, "discriminator"),
                                                 weights(unrolled, "discriminator")))
    assert not all(torch.equal(a, b) for a, b in zip(weights(alternating, "generator"),
                                                     weights(unrolled, "generator")))


def test_the_mirrored_adam_state_is_the_optimizers(tmp_path: Path) -> None:
    training = run(tmp_path / "u", 3, algorithm="unrolled", algorithm_options={"unroll_steps": 2})
    algorithm = training.algorithm
    assert isinstance(algorithm, Unrolled)
    optimizer = training.optimizers["d"]
    for name, parameter in training.networks["discriminator"].named_parameters():
        state = optimizer.state[parameter]
        assert float(algorithm.moments.step[name]) == float(state["step"]) == 3
        torch.testing.assert_close(algorithm.moments.exp_avg[name], state["exp_avg"])
        torch.testing.assert_close(algorithm.moments.exp_avg_sq[name], state["exp_avg_sq"])


def test_fresh_batches_first_order_and_sgd_train(tmp_path: Path) -> None:
    options = {"unroll_steps": 2, "unroll_batches": "fresh", "second_order": False, "unroll_optimizer": "sgd"}
    training = run(tmp_path / "u", 2, algorithm="unrolled", algorithm_options=options)
    assert all(torch.isfinite(p).all() for p in training.networks["generator"].parameters())
    assert training.algorithm.state_dict() == {}  # plain SGD keeps no optimizer state to mirror


def test_weight_clipping_is_refused() -> None:
    class Clipping(Objective):
        def after_discriminator_step(self, discriminator: nn.Module) -> None:
            pass

    generator, discriminator = build_point_pair(DataInfo(shape=(2,)), 4, PointMLPOptions(hidden=4))
    networks = {"generator": generator, "discriminator": discriminator}
    with pytest.raises(ValueError, match="weight clipping"):
        Unrolled(UnrolledOptions()).check(networks, Clipping())
    Unrolled(UnrolledOptions(unroll_steps=0)).check(networks, Clipping())


def test_bad_state_is_refused() -> None:
    with pytest.raises(ValueError, match="exp_avg"):
        Unrolled(UnrolledOptions()).load_state_dict({"momentum.net.0.weight": torch.zeros(1)})


def test_the_pair_takes_points_only() -> None:
    with pytest.raises(ValueError, match="takes points"):
        build_point_pair(DataInfo(shape=(1, 28, 28)), 4, PointMLPOptions())


def test_published_settings_arrive() -> None:
    config = resolved_config(gan="unrolled-mlp")
    assert (config.algorithm, config.objective, config.z_dim, config.batch_size) == ("unrolled", "minimax", 256, 512)
    assert (config.optimizer_d.lr, config.optimizer_g.lr, config.optimizer_d.betas) == (1e-4, 1e-3, (0.5, 0.999))
    unrolled = UnrolledOptions.model_validate(config.algorithm_options)
    assert (unrolled.unroll_steps, unrolled.lr, unrolled.betas) == (10, config.optimizer_d.lr,
                                                                    config.optimizer_d.betas)
