"""A trained ALI run inverts images with its encoder: ``ganzoo invert`` takes z = E(x), no optimisation."""

from __future__ import annotations

import torch
from PIL import Image
from safetensors.torch import load_file

from ganzoo.cli import main
from ganzoo.cli.invert import read_images
from ganzoo.cli.restore import restore_run
from ganzoo.registry.discovery import get_zoo
from ganzoo.testing import labelled_images, train


def test_invert_uses_the_encoder_of_an_ali_run(tmp_path, capsys):
    run = tmp_path / "run"
    train(run, gan="ali-cnn", dataset="fashion-mnist", steps=2, batch_size=8, z_dim=16,
          dataset_options={**labelled_images(tmp_path / "data"), "resolution": 32}, gan_options={"channels": 2})
    pictures = tmp_path / "images"
    pictures.mkdir()
    for index in range(3):
        Image.fromarray(torch.randint(0, 256, (32, 32), dtype=torch.uint8).numpy()).save(pictures / f"{index}.png")
    assert main(["invert", str(run), str(pictures), "-o", str(tmp_path / "inverted.png")]) == 0
    assert "inverted 3 images with the run's encoder" in capsys.readouterr().out
    codes = load_file(str(tmp_path / "inverted.codes.safetensors"))["codes"]
    encoder = restore_run(run, get_zoo()).network("encoder")
    assert encoder is not None
    _, images = read_images([pictures], (1, 32, 32))
    with torch.no_grad():
        assert torch.allclose(codes, encoder.eval()(images), atol=1e-5)  # the posterior mean, as E gives in eval
