"""BigGAN's published settings as a run resolves them, and a tiny conditional run sampled through the CLI."""

from __future__ import annotations

import json

import pytest
import torch
from PIL import Image

import ganzoo
from ganzoo.api.prior import Prior, generate
from ganzoo.cli import main
from ganzoo.testing import labelled_images, resolved_config, train

# name: (z_dim, batch, D steps, lr G, lr D, Adam eps, EMA start) from launch_cifar_ema.sh and
# launch_BigGAN_bs256x8.sh (with utils.py's defaults for the flags they leave out)
PUBLISHED = {"biggan-32": (128, 50, 4, 2e-4, 2e-4, 1e-8, 1000), "biggan-128": (120, 2048, 1, 1e-4, 4e-4, 1e-6, 20000)}


@pytest.mark.parametrize("name", PUBLISHED)
def test_defaults_resolve_to_the_release_s_settings(name):
    z_dim, batch, d_steps, lr_g, lr_d, eps, ema_start = PUBLISHED[name]
    config = resolved_config(gan=name)
    assert (config.z_dim, config.batch_size, config.d_steps, config.prior) == (z_dim, batch, d_steps, "normal")
    for optimizer, lr in ((config.optimizer_g, lr_g), (config.optimizer_d, lr_d)):
        assert optimizer.kind == "adam" and optimizer.lr == lr and optimizer.betas == (0.0, 0.999)
        assert optimizer.eps == eps
    assert config.ema.enabled and config.ema.decay == 0.9999 and config.ema.start == ema_start
    assert config.objective == "biggan-hinge" and config.lr_decay == "none"


@pytest.fixture(scope="module")
def conditional_run(tmp_path_factory):
    """Three steps of biggan-32, narrow, on 40 Fashion-MNIST-format images of 10 classes brought to 32x32."""
    folder = tmp_path_factory.mktemp("biggan")
    run = folder / "run"
    train(run, gan="biggan-32", dataset="fashion-mnist", conditional=True, steps=3, batch_size=8, log_every=1,
          dataset_options={**labelled_images(folder / "fashion"), "resolution": 32},
          gan_options={"g_channels": 8, "d_channels": 8})
    return run


def test_a_conditional_run_logs_the_orthogonal_penalty(conditional_run):
    stats = [json.loads(line) for line in (conditional_run / "stats.jsonl").read_text().splitlines()]
    assert [record["step"] for record in stats] == [1, 2, 3]
    assert all(record["penalty_g"] > 0 and record["loss_d"] >= 0 for record in stats)


def test_sample_draws_a_labelled_truncated_grid(conditional_run, tmp_path, capsys):
    picture = tmp_path / "grid.png"
    assert main(["sample", str(conditional_run), "--classes", "0,7,9", "-n", "4", "--truncation", "0.5",
                 "-o", str(picture)]) == 0
    out = capsys.readouterr().out
    assert "wrote 12 samples (4 per class) from the ema (decay 0.9999) weights" in out
    assert "latents truncated to ±0.5" in out
    with Image.open(picture) as image:  # three rows of four 32x32 images, drawn twice their size, with names
        width, height = image.size
    assert 2 * (4 * 34 + 2) < width < 2 * (4 * 34 + 2) + 200 and 2 * (3 * 34 + 2) < height < 2 * (3 * 34 + 2) + 60


def test_truncation_reaches_every_chunk_of_the_hierarchical_latents():
    torch.manual_seed(0)
    G, _ = ganzoo.build_gan("biggan-32", ganzoo.DataInfo((1, 32, 32), num_classes=10, conditional=True), z_dim=128,
                     g_channels=8, d_channels=8)
    chunks = []
    G.linear.register_forward_hook(lambda module, inputs, output: chunks.append(inputs[0]))
    for block in G.blocks:
        block.norm1.gain.register_forward_hook(lambda module, inputs, output: chunks.append(inputs[0][:, 128:]))
    prior = Prior("normal", 128, torch.device("cpu"), num_classes=10)
    images = generate(G, prior, 50, seed=0, truncation=0.3)
    assert images.shape == (50, 1, 32, 32) and len(chunks) == 4
    assert all(chunk.shape == (50, 32) and chunk.abs().max() <= 0.3 for chunk in chunks)
