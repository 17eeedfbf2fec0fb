"""Two image domains (the ``unpaired`` data set), algorithms that translate between them, and
``ganzoo translate``.

The translation trained here is a colour inversion learned by regression, a map whose right answer is known, so
the command's output can be checked pixel by pixel against the true inversion of its input.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from ganzoo import Algorithm, AlgorithmSpec, DataInfo, GanSpec, hookimpl
from ganzoo.cli import main
from ganzoo.cli.translate import _file_names
from ganzoo.datasets.unpaired import UnpairedImages
from ganzoo.errors import GanzooError
from ganzoo.registry.discovery import Zoo
from ganzoo.registry.registry import Source
from ganzoo.testing import trainer

SIDE = 8


class LearnsInversion(Algorithm):
    """Fits ``a2b`` to map each A image x to -x (its colour inversion in [-1, 1]); no adversary needed."""

    optimizers = {"g": ("a2b",)}
    generator = None
    discriminators = ()
    translators = {"a2b": "a2b"}

    def step(self, step):
        a = step.real().samples[:, 0]
        step.optimize("g", (step.networks["a2b"](a) + a).abs().mean())


class TranslationPlugin:
    ganzoo_plugin_api = "2.0"

    @hookimpl
    def register_algorithms(self, register):
        register(AlgorithmSpec(name="learns-inversion", build=lambda options: LearnsInversion(), citation="-"))

    @hookimpl
    def register_gans(self, register):
        register(GanSpec(name="pixelwise", build=lambda info, z, o: {"a2b": nn.Conv2d(info.shape[1], 1, 1)},
                         default_objective="nonsaturating", default_algorithm="learns-inversion", citation="-",
                         serves=(DataInfo(shape=(2, 1, SIDE, SIDE)),)))


def write_images(folder, count, seed, invert=False):
    folder.mkdir(parents=True)
    generator = torch.Generator().manual_seed(seed)
    for i in range(count):
        pixels = torch.randint(0, 256, (SIDE, SIDE), generator=generator, dtype=torch.uint8)
        Image.fromarray((255 - pixels if invert else pixels).numpy()).save(folder / f"{i:02d}.png")
    return folder


def domains(tmp_path, **b):
    a = {"dataset": "image-folder", "options": {"root": str(write_images(tmp_path / "a", 6, 0)), "channels": 1,
                                               "resolution": SIDE}}
    b_root = write_images(tmp_path / "b", 4, 1, invert=True)
    return {"a": a, "b": {"dataset": "image-folder", "options": {"root": str(b_root), "channels": 1,
                                                                 "resolution": SIDE, **b}}}


@pytest.fixture
def zoo(monkeypatch):
    zoo = Zoo(plugins=[(TranslationPlugin(), Source("translation", "ganzoo-translation", "1.0"))])
    for where in ("ganzoo.cli.translate", "ganzoo.cli.commands"):
        monkeypatch.setattr(f"{where}.get_zoo", lambda: zoo)
    return zoo


def test_each_pair_is_an_a_image_and_a_b_image_and_every_combination_comes_once():
    a = torch.utils.data.TensorDataset(torch.arange(3.0).view(3, 1, 1, 1))
    b = torch.utils.data.TensorDataset(10 + torch.arange(4.0).view(4, 1, 1, 1))
    pairs = UnpairedImages(a, b)
    assert len(pairs) == 12 and pairs[0].shape == (2, 1, 1, 1)
    seen = [(int(pairs[i][0].item()), int(pairs[i][1].item())) for i in range(len(pairs))]
    assert sorted(seen) == list(itertools.product(range(3), range(10, 14)))
    with pytest.raises(IndexError):
        pairs[12]


def test_a_translation_run_trains_checkpoints_and_translates_images(zoo, tmp_path):
    run = tmp_path / "run"
    training = trainer(run, zoo=zoo, gan="pixelwise", dataset="unpaired", dataset_options=domains(tmp_path),
                       steps=300, batch_size=4, optimizer_g={"kind": "adam", "lr": 0.05}, lr_decay="linear",
                       lr_decay_start=0.5)
    assert training.data.info.shape == (2, 1, SIDE, SIDE)
    training.fit()
    assert not list((run / "samples").glob("*.png"))  # no generator of codes: no sample pictures

    inputs = write_images(tmp_path / "new", 3, 7)
    assert main(["translate", str(run), str(inputs), "-o", str(tmp_path / "out")]) == 0
    for i in range(3):
        original = torch.from_numpy(np.array(Image.open(inputs / f"{i:02d}.png"))).float()
        translated = torch.from_numpy(np.array(Image.open(tmp_path / "out" / f"{i:02d}.png"))).float()
        assert (translated - (255 - original)).abs().max() <= 6  # the inversion, to a few levels of 255
    grid = Image.open(tmp_path / "out" / "grid.png")
    assert grid.width > 2 * grid.height  # one row of three pairs, side by side


def test_translate_refuses_what_it_cannot_do_in_one_line(zoo, tmp_path, capsys):
    run = tmp_path / "run"
    trainer(run, zoo=zoo, gan="pixelwise", dataset="unpaired", dataset_options=domains(tmp_path), steps=2,
            batch_size=2).fit()
    image = write_images(tmp_path / "x", 1, 3) / "00.png"
    (tmp_path / "file").write_text("x")
    trainer(tmp_path / "points", zoo=zoo, gan="gan", steps=2, batch_size=8).fit()
    cases = [
        (["--direction", "b2a"], "--direction b2a: this run translates a2b"),
        (["-o", str(tmp_path / "file")], "is a file"),
    ]
    for extra, message in cases:
        assert main(["translate", str(run), str(image), *extra]) == 2
        assert message in capsys.readouterr().err
    assert main(["translate", str(tmp_path / "points"), str(image)]) == 2
    assert "algorithm 'alternating' learns no translation between domains" in capsys.readouterr().err
    assert main(["sample", str(run)]) == 2
    assert f"translate images with 'ganzoo translate {run} IMAGES'" in capsys.readouterr().err


@pytest.mark.parametrize(("change", "message"), [
    ({"b": {"resolution": 4}}, r"domain a gives samples of shape \(1, 8, 8\) and domain b \(1, 4, 4\)"),
    ({"classes": ["cat"]}, "classes is set, but 'image-folder' has no labels"),
    ({"dataset": "unpaired"}, "a domain of 'unpaired' cannot itself be 'unpaired'"),
    ({"dataset": "imagefolder"}, "image-folder"),
])
def test_malformed_domains_are_refused_with_what_to_fix(zoo, tmp_path, change, message):
    options = domains(tmp_path, **change.pop("b", {}))
    options["b"].update(change)
    with pytest.raises(GanzooError, match=message):
        trainer(tmp_path / "run", zoo=zoo, gan="pixelwise", dataset="unpaired", dataset_options=options)


def test_a_domain_keeps_the_classes_it_names_by_number_or_name(zoo, tmp_path):
    for label, invert in (("cat", False), ("dog", True)):
        write_images(tmp_path / "pets" / label, 3, 0, invert)
    pets = {"dataset": "image-folder", "options": {"root": str(tmp_path / "pets"), "channels": 1,
                                                  "resolution": SIDE}}
    options = {"a": {**pets, "classes": ["cat"]}, "b": {**pets, "classes": [1]}}
    pairs = trainer(tmp_path / "run", zoo=zoo, gan="pixelwise", dataset="unpaired",
                    dataset_options=options).data.samples
    assert len(pairs) == 9
    a, b = torch.stack([pairs[i][0] for i in range(9)]), torch.stack([pairs[i][1] for i in range(9)])
    # A holds the cats, B the dogs, drawn as the cats' inversions: cat k is item 3k's A image, dog k item k's B image
    assert torch.allclose(a[::3] + b[:3], torch.zeros(3, 1, SIDE, SIDE), atol=1e-6)
    options["a"]["classes"] = ["cta"]
    with pytest.raises(GanzooError, match="has no class 'cta'; did you mean 'cat'"):
        trainer(tmp_path / "run2", zoo=zoo, gan="pixelwise", dataset="unpaired", dataset_options=options)


def test_translated_files_keep_their_names_unless_two_share_one_or_one_is_the_grid_s():
    assert _file_names(["a/x.png", "b/x.jpg", "c/grid.png", "d/y.jpg"]) == ["x-0.png", "x-1.png", "grid-2.png",
                                                                             "y.png"]
