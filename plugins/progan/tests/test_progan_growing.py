"""The ``progressive`` algorithm: the release's schedule, reals at the networks' lod, resume in the middle of a fade,
and the registered defaults."""

from __future__ import annotations

import math

import pytest
import torch

from ganzoo.api.prior import generate
from ganzoo.cli.restore import restore_run
from ganzoo.registry.discovery import get_zoo
from ganzoo.run import rundir
from ganzoo.testing import resolved_config, trainer
from ganzoo.testing.kit import kit_zoo
from ganzoo_progan.growing import level_of_detail

TINY = {"fmap_base": 32, "fmap_max": 8}
# 4 images (one batch) at each resolution, 8 (two batches) for each fade: lod 3, 3, 2.5, 2, 2, 1.5, 1, 1, 0.5, 0
SCHEDULE = {"lod_training_kimg": 0.004, "lod_transition_kimg": 0.008}
RUN = {"gan": "progan-32", "dataset": "conformance-data", "dataset_options": {"shape": [3, 32, 32]},
       "gan_options": TINY, "algorithm_options": SCHEDULE, "z_dim": 16, "batch_size": 4, "log_every": 1}


@pytest.mark.parametrize("kimg, lod", [
    (0, 3.0), (599.999, 3.0), (600, 3.0),  # 600 kimg at 4x4
    (900, 2.5), (1199.4, 2.001),          # the fade to 8x8: 3 - (kimg - 600) / 600
    (1200, 2.0), (1800, 2.0),              # phase 1: 8x8, then the fade to 16x16
    (2100, 1.5), (3000, 1.0), (3300, 0.5),
    (3600, 0.0), (12_000, 0.0),            # 32x32 from 3,600 kimg on, never below 0
])
def test_release_schedule_at_points_worked_out_by_hand(kimg, lod):
    # TrainingSchedule for 32x32 (resolution_log2 5) from 4x4, 600 kimg per resolution and per fade
    assert level_of_detail(round(kimg * 1000), 5) == pytest.approx(lod, abs=1e-9)


def test_schedule_options_and_short_runs():
    assert level_of_detail(0, 5, initial_resolution=8) == 2.0  # starting at 8x8
    assert level_of_detail(10**9, 7) == 0.0
    assert level_of_detail(0, 5, 32, 0, 0) == 0.0  # the release's "-nogrowing": full resolution from the start
    # phases of 0.1 + 0.3 kimg = 400 images: the fade of phase 2 is a quarter done after 2 * 400 + 100 + 75 images
    assert level_of_detail(975, 5, 4, 0.1, 0.3) == 0.75
    assert [level_of_detail(4 * i, 5, 4, 0.004, 0.008) for i in range(10)] == [3, 3, 2.5, 2, 2, 1.5, 1, 1, 0.5, 0]


def test_each_step_runs_both_networks_and_the_real_images_at_the_scheduled_lod(tmp_path):
    run = trainer(tmp_path / "run", zoo=kit_zoo(), steps=6, **RUN)
    D = run.networks["discriminator"]
    seen: list[tuple[float, torch.Tensor]] = []
    D.register_forward_pre_hook(lambda module, inputs: seen.append((module.lod.item(), inputs[0].detach())))
    run.fit()
    records = rundir.read_jsonl(tmp_path / "run" / rundir.STATS)
    assert [record["lod"] for record in records] == [3, 3, 2.5, 2, 2, 1.5]
    # every batch D scores (real, generated and their mixes) is made at side 32 / 2^floor(lod): constant on those
    # squares. The data are independent random pixels, so the real batches are so only because they were brought
    # to the networks' lod.
    assert len(seen) == 6 * 4  # per step: real, generated and mixed batches for D, a generated one for G
    for lod, images in seen:
        block = 2 ** math.floor(lod)
        squares = images.unflatten(2, (-1, block)).unflatten(4, (-1, block))
        assert torch.allclose(squares, squares[:, :, :, :1, :, :1].expand_as(squares))
    # the checkpoint, the moving average and a sample all keep the lod the last step trained at, mid-fade
    restored = restore_run(tmp_path / "run", kit_zoo())
    assert restored.weights == "ema (decay 0.999)" and restored.generator.lod.item() == 1.5
    samples = generate(restored.generator, restored.prior, 8, seed=0)
    assert samples.shape == (8, 3, 32, 32) and samples.abs().max() <= 1
    assert torch.equal(samples[:, :, ::2, ::2].repeat_interleave(2, 2).repeat_interleave(2, 3), samples)


def test_a_run_resumed_in_the_middle_of_a_fade_continues_as_an_uninterrupted_one(tmp_path):
    # a fade over 16 images (4 steps): lod 3, 3, 2.75, then the checkpoint, then 2.5, 2.25 and 2
    def make():
        schedule = {"lod_training_kimg": 0.004, "lod_transition_kimg": 0.016}
        return trainer(tmp_path / "run", zoo=kit_zoo(), steps=6, **{**RUN, "algorithm_options": schedule})

    first = make()
    first.prepare()
    for _ in range(3):
        first.train_step()
    first.save()
    second = make()
    second.restore(tmp_path / "run" / rundir.LAST_CHECKPOINT)
    assert second.networks["generator"].lod.item() == 2.75 and second.generator_ema.lod.item() == 2.75
    shared = torch.get_rng_state()
    for run in (first, second):
        torch.set_rng_state(shared)  # the gradient penalty's draws come from torch's global generator
        for _ in range(3):
            run.train_step()
    for name, network in {**first.networks, "ema": first.generator_ema}.items():
        other = second.generator_ema if name == "ema" else second.networks[name]
        for key, value in network.state_dict().items():
            assert torch.equal(value, other.state_dict()[key]), f"{name}.{key}"
    assert first.networks["generator"].lod.item() == 2.0
    for name, optimizer in first.optimizers.items():
        states = optimizer.state_dict()["state"], second.optimizers[name].state_dict()["state"]
        assert states[0].keys() == states[1].keys()
        for index in states[0]:
            assert all(torch.equal(states[0][index][key], states[1][index][key]) for key in states[0][index])
    assert first.statistics.means() == second.statistics.means()


# progan-32: the Theano release's config.py, "Section 6.4.2: CIFAR10 inception scores" over its Appendix A.1
# baseline; progan-128: the TensorFlow release's celeba entry with preset-v2-1gpu
RELEASE = {"progan-32": (16, 15_000, 400, 750.0, 4096, 16), "progan-128": (16, 12_000, 600, 1.0, 8192, 4)}


@pytest.mark.parametrize("name", RELEASE)
def test_registered_defaults_are_the_papers_and_the_releases(name):
    batch, total_kimg, phase_kimg, target, fmap_base, group = RELEASE[name]
    config = resolved_config(gan=name)
    assert config.objective == "wgan-gp-drift" and config.algorithm == "progressive"
    assert config.z_dim == 512 and config.prior == "normal" and config.d_steps == 1
    assert config.batch_size == batch and config.steps * batch == total_kimg * 1000
    assert config.algorithm_options == {"lod_training_kimg": phase_kimg, "lod_transition_kimg": phase_kimg}
    assert config.objective_options == {"target": target}
    options = get_zoo().gans.get(name).options()
    assert (options.fmap_base, options.fmap_max, options.mbstd_group_size) == (fmap_base, 512, group)
    assert config.ema.enabled and config.ema.decay == 0.999 and config.lr_decay == "none"
    for optimizer in (config.optimizer_g, config.optimizer_d):
        assert optimizer.kind == "adam" and optimizer.lr == 1e-3 and optimizer.betas == (0.0, 0.99)
    # the Adam settings are the architecture's (equalised learning rate): they hold with another objective
    assert resolved_config(gan=name, objective="wgan-gp").optimizer_d.lr == 1e-3


def test_progressive_refuses_networks_without_a_level_of_detail(tmp_path):
    with pytest.raises(Exception, match="progressive grows networks that keep a level of detail"):
        trainer(tmp_path / "run", zoo=kit_zoo(), gan="conformance-mlp", algorithm="progressive",
                objective="conformance-ns")
