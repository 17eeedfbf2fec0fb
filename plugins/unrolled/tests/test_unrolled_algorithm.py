"""The algorithm inside real runs: what it leaves of the discriminator, its k = 0 case, the optimizer it unrolls."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

from ganzoo import DataInfo, Objective
from ganzoo.errors import PluginError
from ganzoo.testing import resolved_config, trainer
from ganzoo.training.trainer import Trainer
from ganzoo_unrolled import PointMLPOptions, build_point_pair
from ganzoo_unrolled.algorithm import Unrolled, UnrolledOptions
from ganzoo_unrolled.unroll import AdamRule, SGDRule

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


def test_the_unrolled_updates_start_from_optimizer_d_at_this_step(tmp_path: Path) -> None:
    training = run(tmp_path / "u", 3, algorithm="unrolled", algorithm_options={"unroll_steps": 2},
                   lr_decay="linear")
    algorithm, optimizer = training.algorithm, training.optimizers["d"]
    assert isinstance(algorithm, Unrolled)
    rule, state = algorithm.update_rule(training.services)
    assert isinstance(rule, AdamRule)
    assert rule.lr == pytest.approx(1e-4 * (1 - 2 / 4))  # the rate of step 3 of 4 under the decay, as D trained
    assert (rule.betas, rule.eps) == ((0.5, 0.999), 1e-8)
    for name, parameter in training.networks["discriminator"].named_parameters():
        held = optimizer.state[parameter]
        assert float(state.step[name]) == float(held["step"]) == 3
        assert state.exp_avg[name] is held["exp_avg"] and state.exp_avg_sq[name] is held["exp_avg_sq"]
    # the first unrolled update is the one the optimizer makes next from the same gradient
    params = {n: p.detach().clone() for n, p in training.networks["discriminator"].named_parameters()}
    grads = {n: torch.randn_like(p) for n, p in params.items()}
    unrolled, _ = rule.apply(params, grads, state)
    for parameter, name in zip(training.networks["discriminator"].parameters(), params):
        parameter.grad = grads[name]
    optimizer.step()
    for name, parameter in training.networks["discriminator"].named_parameters():
        torch.testing.assert_close(unrolled[name], parameter.detach())


def test_an_optimizer_d_that_adam_cannot_unroll_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PluginError, match="unrolls optimizer_d, which is SGD; set optimizer_d.kind"):
        run(tmp_path / "u", 1, algorithm="unrolled", optimizer_d={"kind": "sgd", "lr": 0.01})
    sgd = run(tmp_path / "s", 1, algorithm="unrolled", optimizer_d={"kind": "sgd", "lr": 0.01},
              algorithm_options={"unroll_optimizer": "sgd"})
    rule, _ = sgd.algorithm.update_rule(sgd.services)
    assert rule == SGDRule(0.01)


def test_fresh_batches_first_order_and_sgd_train(tmp_path: Path) -> None:
    options = {"unroll_steps": 2, "unroll_batches": "fresh", "second_order": False, "unroll_optimizer": "sgd"}
    training = run(tmp_path / "u", 2, algorithm="unrolled", algorithm_options=options)
    assert all(torch.isfinite(p).all() for p in training.networks["generator"].parameters())


def test_weight_clipping_is_refused() -> None:
    class Clipping(Objective):
        def after_discriminator_step(self, discriminator: nn.Module) -> None:
            pass

    generator, discriminator = build_point_pair(DataInfo(shape=(2,)), 4, PointMLPOptions(hidden=4))
    networks = {"generator": generator, "discriminator": discriminator}
    with pytest.raises(ValueError, match="weight clipping"):
        Unrolled(UnrolledOptions()).check(networks, Clipping())
    Unrolled(UnrolledOptions(unroll_steps=0)).check(networks, Clipping())


def test_the_pair_takes_points_only() -> None:
    with pytest.raises(ValueError, match="takes points"):
        build_point_pair(DataInfo(shape=(1, 28, 28)), 4, PointMLPOptions())


def test_published_settings_arrive() -> None:
    config = resolved_config(gan="unrolled-mlp")
    assert (config.algorithm, config.objective, config.z_dim, config.batch_size) == ("unrolled", "minimax", 256, 512)
    assert (config.optimizer_d.lr, config.optimizer_g.lr, config.optimizer_d.betas) == (1e-4, 1e-3, (0.5, 0.999))
    assert UnrolledOptions.model_validate(config.algorithm_options).unroll_steps == 10
