"""The generator's moving average, and latent interpolation (linear and spherical)."""

from __future__ import annotations

import math

import pytest
import torch

from conftest import toy_run
from ganzoo.cli import main
from ganzoo.errors import GanzooError
from ganzoo.registry.discovery import get_zoo
from ganzoo.run import rundir
from ganzoo.run.config import EmaConfig, resolve_config
from ganzoo.sampling.interpolation import latent_paths, linear_path, slerp_path
from ganzoo.training.checkpoint import load_checkpoint
from ganzoo.training.trainer import Trainer


def make_trainer(raw: dict) -> Trainer:
    zoo = get_zoo()
    return Trainer(resolve_config(raw, zoo), zoo, progress=False)


def flat(module: torch.nn.Module) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in module.parameters()])


@pytest.mark.parametrize("start", [0, 3])
def test_the_average_follows_its_closed_form(tmp_path, start):
    decay, steps = 0.9, 7
    trainer = make_trainer(toy_run(tmp_path, ema={"enabled": True, "decay": decay, "start": start}))
    history = [flat(trainer.generator)]  # G_0, ..., G_T
    for _ in range(steps):
        trainer.train_step()
        history.append(flat(trainer.generator))
    # copied until `start` steps are done, then ema_T = d^(T-s) G_s + (1 - d) sum_{t>s} d^(T-t) G_t
    expected = decay ** (steps - start) * history[start]
    for t in range(start + 1, steps + 1):
        expected = expected + (1 - decay) * decay ** (steps - t) * history[t]
    assert torch.allclose(flat(trainer.generator_ema), expected, atol=1e-6)
    assert not torch.allclose(flat(trainer.generator_ema), history[-1], atol=1e-4)


def test_the_ramped_up_average_follows_stylegan2_adas_rule_in_images(tmp_path):
    # training_loop.py: ema_nimg = min(ema_kimg * 1000, cur_nimg * rampup); beta = 0.5 ** (batch / ema_nimg)
    batch, ema_kimg, rampup = 64, 500, 0.05
    ema = EmaConfig(enabled=True, decay=0.5 ** (batch / (ema_kimg * 1000)), rampup=rampup)
    for done in (0, 1, 10, 1000, 156_249, 156_251, 10**6):
        nimg = min(ema_kimg * 1000, done * batch * rampup)
        expected = 0.5 ** (batch / max(nimg, 1e-8))
        assert ema.decay_at(done) == pytest.approx(expected, rel=1e-9, abs=1e-300)
    assert EmaConfig(decay=0.9, start=3).decay_at(2) == 0.0 and EmaConfig(decay=0.9, start=3).decay_at(3) == 0.9
    decays = []
    trainer = make_trainer(toy_run(tmp_path, ema={"enabled": True, "decay": 0.8, "rampup": 1.0}))
    history = [flat(trainer.generator)]
    for _ in range(4):
        decays.append(trainer.config.ema.decay_at(trainer.step))
        trainer.train_step()
        history.append(flat(trainer.generator))
    # the half-life grows with the steps done (1, 2, 3) until it reaches decay 0.8's, log 0.5 / log 0.8 = 3.1
    assert decays == pytest.approx([0.0, 0.5, 0.5 ** (1 / 2), 0.5 ** (1 / 3)])
    expected = history[0]
    for decay, weights in zip(decays, history[1:]):
        expected = decay * expected + (1 - decay) * weights
    assert torch.allclose(flat(trainer.generator_ema), expected, atol=1e-6)


def test_the_average_is_checkpointed_resumed_exactly_and_used_for_sampling(tmp_path, capsys):
    ema = {"enabled": True, "decay": 0.95}
    straight = make_trainer(toy_run(tmp_path / "a", steps=20, ema=ema))
    straight.fit()
    make_trainer(toy_run(tmp_path / "b", steps=10, ema=ema)).fit()
    resumed = make_trainer(toy_run(tmp_path / "b", steps=20, ema=ema))
    resumed.fit(resume=True)
    assert torch.equal(flat(straight.generator_ema), flat(resumed.generator_ema))
    checkpoint = load_checkpoint(tmp_path / "a" / "run" / rundir.LAST_CHECKPOINT)
    assert set(checkpoint.tensors) >= {"generator", "generator_ema", "discriminator"}
    metrics = rundir.read_jsonl(tmp_path / "a" / "run" / rundir.METRICS)
    assert metrics[-1]["protocol"]["generator_weights"] == "ema (decay 0.95)"

    run = str(tmp_path / "a" / "run")
    assert main(["eval", run]) == 0 and '"generator_weights": "ema (decay 0.95)"' in capsys.readouterr().out
    records = rundir.read_jsonl(tmp_path / "a" / "run" / rundir.METRICS)
    assert records[-1]["protocol"]["generator_weights"] == "ema (decay 0.95)"
    assert records[-1]["metrics"] == records[-2]["metrics"]  # same weights, same protocol, same numbers
    assert main(["eval", run, "--raw"]) == 0
    assert rundir.read_jsonl(tmp_path / "a" / "run" / rundir.METRICS)[-1]["protocol"]["generator_weights"] == "raw"
    assert main(["sample", run, "--raw", "-o", str(tmp_path / "raw.png")]) == 0
    assert "from the raw weights" in capsys.readouterr().out


def test_runs_without_an_average_keep_none():
    zoo = get_zoo()
    config = resolve_config({"gan": "gan", "dataset": "ring8"}, zoo)
    assert config.ema.enabled is False


def test_linear_path_is_evenly_spaced_on_the_segment():
    z0, z1 = torch.tensor([1.0, 2.0, -1.0]), torch.tensor([3.0, -2.0, 5.0])
    path = linear_path(z0, z1, 5)
    assert torch.equal(path[0], z0) and torch.allclose(path[-1], z1)
    assert torch.allclose(path[2], (z0 + z1) / 2)
    gaps = (path[1:] - path[:-1]).norm(dim=1)
    assert torch.allclose(gaps, gaps[0].expand(4))


def test_slerp_moves_along_the_great_circle_at_constant_angular_speed():
    rng = torch.Generator().manual_seed(0)
    z0, z1 = torch.randn(64, generator=rng, dtype=torch.float64), torch.randn(64, generator=rng, dtype=torch.float64)
    z1 = z1 * z0.norm() / z1.norm()  # equal norms: the whole path keeps that norm
    path = slerp_path(z0, z1, 9)
    assert torch.allclose(path[0], z0) and torch.allclose(path[-1], z1)
    assert torch.allclose(path.norm(dim=1), z0.norm().expand(9))
    cos = torch.nn.functional.cosine_similarity(path[:-1], path[1:], dim=1).clamp(-1, 1)
    theta = math.acos(float(torch.dot(z0, z1) / (z0.norm() * z1.norm())))
    assert torch.allclose(torch.arccos(cos), torch.full((8,), theta / 8, dtype=torch.float64), atol=1e-9)
    # every point lies in the plane of z0 and z1
    basis, _ = torch.linalg.qr(torch.stack([z0, z1], dim=1))
    assert torch.allclose(basis @ (basis.T @ path.T), path.T, atol=1e-9)
    # the straight line's midpoint falls inside the sphere
    assert linear_path(z0, z1, 3)[1].norm() < z0.norm()


@pytest.mark.parametrize("factor", [2.0, -2.0, 0.0])
def test_slerp_of_parallel_opposite_or_zero_vectors_is_the_segment(factor):
    z = torch.tensor([1.0, 2.0, 3.0])
    path = slerp_path(z, factor * z, 5)
    assert torch.isfinite(path).all() and torch.allclose(path, linear_path(z, factor * z, 5))
    assert torch.allclose(slerp_path(torch.zeros(3), z, 3), linear_path(torch.zeros(3), z, 3))


def test_latent_paths_are_row_after_row():
    starts, ends = torch.zeros(2, 3), torch.ones(2, 3)
    paths = latent_paths(starts, ends, 4, "linear")
    assert paths.shape == (8, 3) and torch.allclose(paths[3], ends[0]) and torch.allclose(paths[4], starts[1])
    with pytest.raises(ValueError, match="unknown interpolation 'cubic'"):
        latent_paths(starts, ends, 4, "cubic")


@pytest.mark.parametrize("method", ["slerp", "linear"])
def test_interpolate_command_writes_a_picture(tmp_path, capsys, method):
    make_trainer(toy_run(tmp_path, steps=5)).fit()
    out = tmp_path / f"{method}.png"
    code = main(["interpolate", str(tmp_path / "run"), "--method", method, "--rows", "2", "--steps", "6",
                 "-o", str(out)])
    assert code == 0 and out.stat().st_size > 1000
    assert f"wrote 2 {method} paths of 6 steps from the raw weights" in capsys.readouterr().out
    assert main(["interpolate", str(tmp_path / "run"), "--classes", "1"]) == 2
    assert "--classes needs a class-conditional run" in capsys.readouterr().err


def test_linear_decay_brings_both_learning_rates_to_zero_at_the_last_step(tmp_path):
    trainer = make_trainer(toy_run(tmp_path, steps=4, lr_decay="linear", optimizer_g={"lr": 0.4},
                                   optimizer_d={"lr": 0.8}))
    seen = []
    for _ in range(4):
        trainer.train_step()  # the rate of step t (counted from 0) is lr * (1 - t / steps)
        seen += [trainer.optimizers[name].param_groups[0]["lr"] for name in ("g", "d")]
    assert seen == pytest.approx([0.4, 0.8, 0.3, 0.6, 0.2, 0.4, 0.1, 0.2])


def test_decay_from_a_later_start_follows_cyclegan_s_rule(tmp_path):
    """CycleGAN keeps the rate for the first half (lr_decay_start 0.5), then lowers it linearly towards 0: at step t
    of T the rate is lr * min(1, (T - t) / (T - 0.5 T))."""
    trainer = make_trainer(toy_run(tmp_path, steps=8, lr_decay="linear", lr_decay_start=0.5, optimizer_g={"lr": 0.4}))
    seen = []
    for _ in range(8):
        trainer.train_step()
        seen.append(trainer.optimizers["g"].param_groups[0]["lr"])
    assert seen == pytest.approx([0.4] * 5 + [0.3, 0.2, 0.1])
    with pytest.raises(GanzooError, match="lr_decay_start is set but lr_decay is 'none'; set lr_decay"):
        make_trainer(toy_run(tmp_path / "b", lr_decay_start=0.5))
