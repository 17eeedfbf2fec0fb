"""Class-conditional runs through the shared runner, with a small conditional GAN on labelled 2D data."""

from __future__ import annotations

import pytest
import torch

from conftest import toy_run
from ganzoo import DataInfo
from ganzoo.api.prior import generate
from ganzoo.cli import main
from ganzoo.errors import ConfigError
from ganzoo.registry.discovery import get_zoo
from ganzoo.run.config import resolve_config
from ganzoo.training.trainer import Trainer

# Three labelled clusters; a generator that ignores its labels cannot put class k's samples at centre k.
LABELLED = """
import torch
from torch import nn
from ganzoo import DataInfo, DatasetSpec, GanSpec, LoadedData, hookimpl
ganzoo_plugin_api = "2.0"

CENTERS = torch.tensor([[-4.0, 0.0], [0.0, 4.0], [4.0, 0.0]])


def load(options):
    rng = torch.Generator().manual_seed(0)
    labels = torch.arange(3000) % 3
    points = CENTERS[labels] + 0.1 * torch.randn(3000, 2, generator=rng)
    return LoadedData(torch.utils.data.TensorDataset(points, labels),
                      DataInfo((2,), num_classes=3, class_names=("left", "top", "right")))


class Generator(nn.Module):
    def __init__(self, z_dim):
        super().__init__()
        self.embed = nn.Embedding(3, 8)
        self.net = nn.Sequential(nn.Linear(z_dim + 8, 64), nn.ReLU(), nn.Linear(64, 2))

    def forward(self, z, labels):
        return self.net(torch.cat([z, self.embed(labels)], 1))


class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(3, 8)
        self.net = nn.Sequential(nn.Linear(2 + 8, 64), nn.LeakyReLU(0.2), nn.Linear(64, 1))

    def forward(self, x, labels):
        return self.net(torch.cat([x, self.embed(labels)], 1))


def build(info, z_dim, options):
    if not info.conditional:
        raise ValueError("conditional only")
    return Generator(z_dim), Discriminator()


@hookimpl
def register_gans(register):
    register(GanSpec(name="cmlp", build=build, default_objective="nonsaturating", citation="test"))


@hookimpl
def register_datasets(register):
    register(DatasetSpec(name="blobs3", build=load, citation="test"))
"""

CENTERS = torch.tensor([[-4.0, 0.0], [0.0, 4.0], [4.0, 0.0]])


@pytest.fixture
def labelled(make_distribution):
    make_distribution("ganzoo-labelled", "0.1", "ganzoo_labelled", LABELLED)


def conditional_run(tmp_path, **overrides) -> dict:
    settings = {"gan": "cmlp", "dataset": "blobs3", "conditional": True, "z_dim": 4, "batch_size": 64,
                "optimizer_g": {"lr": 2e-3}, "optimizer_d": {"lr": 2e-3}}
    return toy_run(tmp_path, **{**settings, **overrides})


def test_real_batches_keep_their_labels(tmp_path, labelled):
    zoo = get_zoo()
    trainer = Trainer(resolve_config(conditional_run(tmp_path), zoo), zoo, progress=False)
    points, labels = trainer.batches.next(64)
    assert labels.dtype == torch.long and labels.shape == (64,)
    assert (points - CENTERS[labels]).norm(dim=1).max() < 1.0  # each point sits at its own class's centre


def test_a_conditional_generator_learns_where_each_class_lies(tmp_path, labelled):
    zoo = get_zoo()
    trainer = Trainer(resolve_config(conditional_run(tmp_path, steps=600), zoo), zoo, progress=False)
    trainer.fit()
    for label, centre in enumerate(CENTERS):
        samples = generate(trainer.generator, trainer.prior, 300, seed=1, labels=torch.full((300,), label))
        assert (samples.mean(0) - centre).norm() < 1.0, (label, samples.mean(0))


def test_conditional_needs_labels_and_a_conditional_network(tmp_path, labelled):
    zoo = get_zoo()
    with pytest.raises(ConfigError, match="data set 'ring8' has none"):
        Trainer(resolve_config(conditional_run(tmp_path, dataset="ring8"), zoo), zoo)
    with pytest.raises(ConfigError, match="the MLP GAN has no class-conditional variant; set conditional = false"):
        Trainer(resolve_config(conditional_run(tmp_path, gan="gan"), zoo), zoo)
    with pytest.raises(ConfigError, match="cannot be built for data set 'blobs3' .*conditional only"):
        Trainer(resolve_config(conditional_run(tmp_path, conditional=False), zoo), zoo)


def test_a_conditional_data_description_needs_classes():
    with pytest.raises(ValueError, match="needs labelled data"):
        DataInfo((1, 28, 28), conditional=True)
    assert DataInfo((1, 28, 28), num_classes=10, conditional=True).condition_classes == 10
    assert DataInfo((1, 28, 28), num_classes=10).condition_classes is None


def test_sample_and_interpolate_take_class_labels(tmp_path, labelled, capsys):
    zoo = get_zoo()
    Trainer(resolve_config(conditional_run(tmp_path, steps=5), zoo), zoo, progress=False).fit()
    run = str(tmp_path / "run")
    assert main(["sample", run, "-n", "4", "--classes", "2,0", "-o", str(tmp_path / "s.png")]) == 0
    assert "wrote 8 samples (4 per class)" in capsys.readouterr().out
    assert main(["sample", run, "-n", "1", "--classes", "2,2,0", "-o", str(tmp_path / "s.png")]) == 0
    assert "wrote 3 samples (1 per class)" in capsys.readouterr().out
    assert main(["interpolate", run, "--rows", "3", "--steps", "5", "--classes", "1"]) == 0
    assert (tmp_path / "run" / "samples" / "interpolate-slerp-0000005.png").stat().st_size > 1000
    assert main(["sample", run, "--classes", "3"]) == 2
    assert "--classes must name classes 0 to 2; got '3'" in capsys.readouterr().err
    assert main(["sample", run, "--classes", "a,b"]) == 2
    assert "--classes takes class numbers" in capsys.readouterr().err
