"""The ``[speed]`` table: mixed precision (autocast, fp16's gradient scaler), compilation, and a step loop that
never waits for the device."""

from __future__ import annotations

import contextlib
import json
import shutil
import sys
from pathlib import Path

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file
from torch import nn

from ganzoo.cli import main
from ganzoo.errors import ConfigError, SpeedWarning
from ganzoo.run import rundir
from ganzoo.testing import train, trainer
from ganzoo.training.checkpoint import load_checkpoint
from ganzoo.training.precision import resolve_precision
from ganzoo_r1 import r1_penalty
from ganzoo_wgan.objectives import GradientPenalty

HALF = {"bf16": torch.bfloat16, "fp16": torch.float16}


def test_defaults_leave_a_cpu_run_in_float32_and_record_the_settings(tmp_path):
    run = train(tmp_path / "run", gan="gan")
    speed = json.loads((tmp_path / "run" / rundir.PROVENANCE).read_text())["speed"]
    assert speed == {"precision": "fp32", "compiled": [], "channels_last": False, "tf32": False,
                     "cudnn_benchmark": False, "data_workers": 0}
    assert resolve_precision("auto", torch.device("cpu")) == "fp32"
    assert all(p.dtype == torch.float32 for p in run.generator.parameters())


def test_an_unknown_speed_setting_is_refused_with_the_close_match(tmp_path):
    with pytest.raises(ConfigError, match=r"unknown key 'speed.precison' \(did you mean 'precision'\?\)"):
        trainer(tmp_path / "run", gan="gan", speed={"precison": "bf16"})
    with pytest.raises(ConfigError, match="speed.precision: Input should be 'auto', 'fp32', 'bf16' or 'fp16'"):
        trainer(tmp_path / "run", gan="gan", speed={"precision": "fp8"})


@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_half_precision_runs_the_forward_passes_in_it_and_keeps_float32_weights(tmp_path, precision):
    run = trainer(tmp_path / "run", gan="gan", speed={"precision": precision})
    seen: list[torch.dtype] = []
    hooks = [module.register_forward_hook(lambda _m, _i, out: seen.append(out.dtype))
             for module in (run.generator, run.discriminator)]
    run.fit()
    for hook in hooks:
        hook.remove()
    training = seen[:3 * 20]  # each step: G without gradients, D twice, then G and D in the generator's step
    assert set(training) == {HALF[precision]}
    assert all(p.dtype == torch.float32 and p.isfinite().all() for p in run.generator.parameters())
    stats = rundir.read_jsonl(tmp_path / "run" / rundir.STATS)
    assert all(isinstance(record["loss_d"], float) for record in stats)


def test_evaluation_and_pictures_run_outside_autocast(tmp_path):
    run = trainer(tmp_path / "run", gan="gan", speed={"precision": "bf16"}, eval_every=10, sample_every=10)
    outside_training: list[bool] = []
    run.generator.register_forward_hook(
        lambda module, _i, _o: None if module.training else outside_training.append(torch.is_autocast_enabled("cpu")))
    run.fit()
    assert outside_training and not any(outside_training)
    assert [record["step"] for record in rundir.read_jsonl(tmp_path / "run" / rundir.METRICS)] == [10, 20]


def test_an_fp16_run_checkpoints_its_loss_scale_and_resumes_exactly(tmp_path):
    fp16 = {"speed": {"precision": "fp16"}}
    straight = train(tmp_path / "a", gan="gan", steps=30, **fp16)
    train(tmp_path / "b", gan="gan", steps=10, **fp16)
    checkpoint = load_checkpoint(tmp_path / "b" / rundir.LAST_CHECKPOINT)
    scaler = checkpoint.state_dict("scaler")
    assert set(scaler) == {"g/scale", "g/growth_tracker", "d/scale", "d/growth_tracker"}
    assert int(scaler["d/growth_tracker"]) == 10 and float(scaler["d/scale"]) == 2.0**16  # no overflow yet
    resumed = train(tmp_path / "b", gan="gan", steps=30, resume=True, **fp16)
    for a, b in zip(straight.generator.state_dict().values(), resumed.generator.state_dict().values()):
        assert torch.equal(a, b)
    assert resumed.precision.scalers["d"].state_dict() == straight.precision.scalers["d"].state_dict()


def test_a_resumed_run_keeps_its_precision(tmp_path, capsys):
    train(tmp_path / "run", gan="gan", steps=10)
    with pytest.raises(Exception, match="speed"):
        train(tmp_path / "run", gan="gan", steps=20, resume=True, speed={"precision": "bf16"})
    # the same setting resolved to another precision: 'auto' trained in bf16 on a GPU, resumed on this CPU
    checkpoint = tmp_path / "run" / rundir.LAST_CHECKPOINT
    tensors, metadata = load_file(str(checkpoint)), safe_open(str(checkpoint), "pt").metadata()
    provenance = json.loads(metadata["provenance"])
    provenance["speed"]["precision"] = "bf16"
    save_file(tensors, str(checkpoint), metadata={**metadata, "provenance": json.dumps(provenance)})
    assert main(["train", str(tmp_path / "run"), "--resume", "--set", "steps=20", "--quiet"]) == 2
    error = capsys.readouterr().err.strip()
    assert error == (f"ganzoo: error: {checkpoint} was trained in bf16, but speed.precision = 'auto' means fp32 on "
                     "cpu: resume it on a GPU with bfloat16, or start a new run (a run keeps one precision)")
    assert load_checkpoint(checkpoint).step == 10  # the run is as it was


def _mlp_critic() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(16, 64), nn.LeakyReLU(0.2), nn.Linear(64, 64), nn.LeakyReLU(0.2), nn.Linear(64, 1))


@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_gradient_penalties_under_autocast_match_their_closed_forms_and_float32(precision):
    """For a linear critic D(x) = w.x + b, grad_x D = w everywhere: WGAN-GP's penalty is lambda (|w| - 1)^2 and R1
    is gamma / 2 |w|^2 (Gulrajani et al. 2017; Mescheder et al. 2018). A nonlinear critic is checked against the
    same penalty in float32. Tolerances are those of each format's 8 or 11 significant bits."""
    tolerance = {"bf16": 2e-2, "fp16": 2e-3}[precision]
    real, fake = torch.randn(256, 16), torch.randn(256, 16)
    linear = nn.Linear(16, 1)
    norm = linear.weight.norm().item()
    with torch.autocast("cpu", dtype=HALF[precision]):
        gp = GradientPenalty(10.0).penalty(linear, real, fake)
        r1 = r1_penalty(lambda x, _labels: linear(x), real, None, 10.0)
    assert gp.item() == pytest.approx(10 * (norm - 1) ** 2, rel=tolerance)
    assert r1.item() == pytest.approx(5 * norm**2, rel=tolerance)

    critic = _mlp_critic()
    torch.manual_seed(1)
    exact = GradientPenalty(10.0).penalty(critic, real, fake)
    torch.manual_seed(1)
    with torch.autocast("cpu", dtype=HALF[precision]):
        rounded = GradientPenalty(10.0).penalty(critic, real, fake)
    assert rounded.dtype == torch.float32 and rounded.item() == pytest.approx(exact.item(), rel=5 * tolerance)
    (weights_exact,) = torch.autograd.grad(exact, critic[0].weight)
    (weights_rounded,) = torch.autograd.grad(rounded, critic[0].weight)
    assert torch.allclose(weights_rounded, weights_exact, rtol=0, atol=10 * tolerance * weights_exact.abs().max())


def test_a_wgan_gp_run_trains_in_bf16(tmp_path):
    run = train(tmp_path / "run", gan="wgan-gp", speed={"precision": "bf16"}, d_steps=2)
    penalties = [record["penalty"] for record in rundir.read_jsonl(tmp_path / "run" / rundir.STATS)]
    assert len(penalties) == 4 and all(isinstance(p, float) and p >= 0 for p in penalties)
    assert all(p.isfinite().all() for p in run.discriminator.parameters())


def test_compile_leaves_networks_a_penalty_differentiates_twice_uncompiled(tmp_path):
    with pytest.warns(SpeedWarning, match="discriminator stay uncompiled: the objective's penalty takes gradients "
                                          "of gradients"):
        run = trainer(tmp_path / "run", gan="wgan-gp", speed={"compile": True})
    assert run.speed.compiled == ["generator"]
    assert list(run.generator.state_dict()) == list(trainer(tmp_path / "b", gan="wgan-gp").generator.state_dict())


def test_compile_without_a_compiler_warns_once_and_runs_eagerly(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.warns(SpeedWarning, match="needs a C\\+\\+ compiler"):
        run = trainer(tmp_path / "run", gan="gan", speed={"compile": True})
    assert run.speed.compiled == []
    run.fit()


@pytest.mark.slow
def test_a_compiled_run_follows_the_eager_one(tmp_path):
    """Inductor fuses and reorders float32 arithmetic, so the two runs agree to rounding, not bit for bit."""
    compiled = train(tmp_path / "a", gan="gan", steps=5, speed={"compile": True})
    eager = train(tmp_path / "b", gan="gan", steps=5)
    assert compiled.speed.compiled == ["generator", "discriminator"]
    for a, b in zip(compiled.generator.parameters(), eager.generator.parameters()):
        assert torch.allclose(a, b, rtol=1e-4, atol=1e-5)


@contextlib.contextmanager
def _no_host_reads():
    """Every Python-level way to read a tensor's value back to the host raises inside the block, when called from
    outside torch (torch's optimizers read their step counters, which live on the CPU whatever the device)."""
    torch_dir = str(Path(torch.__file__).parent)
    saved = {name: getattr(torch.Tensor, name) for name in
             ("item", "tolist", "numpy", "__bool__", "__float__", "__int__", "__index__")}

    def guarded(name):
        def read(*args, **kwargs):
            if not sys._getframe(1).f_code.co_filename.startswith(torch_dir):
                raise AssertionError(f"Tensor.{name} read a value back to the host inside a training step")
            return saved[name](*args, **kwargs)
        return read

    try:
        for name in saved:
            setattr(torch.Tensor, name, guarded(name))
        yield
    finally:
        for name, method in saved.items():
            setattr(torch.Tensor, name, method)


@pytest.mark.parametrize("gan", ["gan", "wgan-gp"])
def test_training_steps_never_read_a_tensor_back_to_the_host(tmp_path, gan):
    """On a GPU, such a read waits for the device to finish; only logs, checkpoints and evaluations may."""
    run = trainer(tmp_path / "run", gan=gan, ema={"enabled": True})
    run.prepare()
    run.train_step()  # the first step may set things up
    with _no_host_reads():
        for _ in range(3):
            run.train_step()
    assert run.step == 4


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_on_a_gpu_the_step_loop_never_synchronises(tmp_path):
    run = trainer(tmp_path / "run", gan="gan", device="cuda", ema={"enabled": True})
    run.prepare()
    run.train_step()
    torch.cuda.set_sync_debug_mode("error")
    try:
        for _ in range(3):
            run.train_step()
    finally:
        torch.cuda.set_sync_debug_mode("default")


def test_channels_last_lays_out_convolutional_networks_and_image_batches_only(tmp_path):
    from ganzoo.run.config import SpeedConfig
    from ganzoo.training.speed import Speed
    speed = Speed(SpeedConfig(), torch.device("cpu"))
    assert not speed.channels_last  # a CUDA-only setting
    speed.channels_last = True
    convolutional = nn.Sequential(nn.Conv2d(3, 8, 3), nn.Flatten(), nn.Linear(288, 1))
    dense = nn.Sequential(nn.Linear(2, 8), nn.Linear(8, 1))
    speed.prepare({"discriminator": convolutional, "generator": dense}, GradientPenalty(10.0), generator="generator",
                  discriminators=["discriminator"])
    assert convolutional[0].weight.is_contiguous(memory_format=torch.channels_last)
    assert dense[0].weight.is_contiguous()
    assert speed.images(torch.zeros(2, 3, 8, 8)).is_contiguous(memory_format=torch.channels_last)
    assert speed.images(torch.zeros(2, 2)).is_contiguous()


def test_bf16_on_a_gpu_without_it_is_refused_in_one_line(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *args, **kwargs: False)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda *args: "Tesla V100")
    with pytest.raises(ConfigError, match="speed.precision = 'bf16', but Tesla V100 has no bfloat16; set "
                                          "speed.precision = 'fp16' or 'fp32'"):
        resolve_precision("bf16", torch.device("cuda"))
    assert resolve_precision("auto", torch.device("cuda")) == "fp32"
