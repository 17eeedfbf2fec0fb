"""GAN inversion (``ganzoo invert``): codes recovered for images whose codes are known, the encoder path, the
Inception feature loss against torch-fidelity's own extractor, and paths between real images."""

from __future__ import annotations

import pytest
import torch
from PIL import Image
from safetensors.torch import load_file
from torch import nn

import ganzoo
from conftest import TINY
from ganzoo.api.prior import Prior, generate
from ganzoo.cli import main
from ganzoo.cli.restore import restore_run
from ganzoo.metrics.features import InceptionFeatures
from ganzoo.metrics.inception import EXTRACTOR_NAME, SafetensorsInceptionV3
from ganzoo.registry.discovery import get_zoo
from ganzoo.sampling.inversion import invert_by_optimisation, invert_with_encoder
from ganzoo.testing import labelled_images, train

Z = 8


def test_optimisation_recovers_the_code_that_made_each_image():
    torch.manual_seed(0)
    generator, _ = ganzoo.build_gan("dcgan", ganzoo.DataInfo((1, 28, 28)), z_dim=Z, g_channels=16, d_channels=16)
    prior = Prior("normal", Z, torch.device("cpu"))
    codes = prior.sample(6, torch.Generator().manual_seed(1))
    images = generate(generator, prior, 6, seed=0, latents=codes)
    found = invert_by_optimisation(generator, prior, images, steps=300, lr=0.05, seed=2)  # from other codes
    assert (found.codes - codes).norm(dim=1).max() < 1e-3 * codes.norm(dim=1).min()
    assert found.errors.max() < 1e-8 and torch.allclose(found.reconstructions, images, atol=1e-4)
    assert generator.training and all(p.requires_grad for p in generator.parameters())  # left as it was


def test_a_uniform_priors_codes_stay_in_its_box():
    generator = nn.Sequential(nn.Linear(Z, 16), nn.Tanh(), nn.Unflatten(1, (1, 4, 4)))
    prior = Prior("uniform", Z, torch.device("cpu"))
    found = invert_by_optimisation(generator, prior, torch.ones(3, 1, 4, 4), steps=50, lr=0.5)
    assert found.codes.abs().max() <= 1


def test_an_encoder_gives_the_codes_directly():
    generator = nn.Sequential(nn.Linear(Z, 16, bias=False), nn.Unflatten(1, (1, 4, 4)))
    encoder = nn.Sequential(nn.Flatten(), nn.Linear(16, Z, bias=False))
    with torch.no_grad():  # the generator's left inverse
        encoder[1].weight.copy_(torch.linalg.pinv(generator[0].weight))
    codes = torch.randn(4, Z)
    images = generator(codes).detach()
    found = invert_with_encoder(encoder, generator, images, torch.device("cpu"))
    assert torch.allclose(found.codes, codes, atol=1e-4) and found.errors.max() < 1e-8


@pytest.mark.slow
def test_feature_loss_uses_the_metrics_inception_exactly_and_passes_gradients(offline_weights):
    torch.manual_seed(0)
    pixels = torch.randint(0, 256, (2, 3, 32, 32), dtype=torch.uint8)
    images = pixels.float() / 127.5 - 1  # exactly representable: the uint8 path sees the same images
    features = InceptionFeatures(offline_weights)
    reference = SafetensorsInceptionV3(EXTRACTOR_NAME, ["2048"], feature_extractor_weights_path=str(offline_weights))
    with torch.no_grad():
        assert torch.allclose(features(images), reference.eval()(pixels)[0], atol=1e-3, rtol=1e-4)
    source = images.clone().requires_grad_(True)
    features(source).square().sum().backward()
    assert source.grad is not None and source.grad.abs().sum() > 0


@pytest.fixture(scope="module")
def image_run(tmp_path_factory):
    """A narrow DCGAN run of 2 steps on 40 Fashion-MNIST-format images, and two of its own images as PNGs."""
    folder = tmp_path_factory.mktemp("invert")
    run = folder / "run"
    train(run, gan="dcgan", dataset="fashion-mnist", steps=2, batch_size=8, z_dim=Z,
          dataset_options=labelled_images(folder / "data"), gan_options={"g_channels": 16, "d_channels": 16})
    restored = restore_run(run, get_zoo())
    images = generate(restored.generator, restored.prior, 2, seed=7)
    paths = []
    for index, image in enumerate(images):
        path = folder / f"made{index}.png"
        pixels = ((image[0].clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).numpy()
        Image.fromarray(pixels).save(path)  # a 2D uint8 array is a gray image
        paths.append(path)
    return run, paths


def test_invert_writes_pairs_errors_and_codes_and_interpolate_runs_between_the_real_images(image_run, tmp_path,
                                                                                         capsys):
    run, paths = image_run
    output = tmp_path / "inverted.png"
    assert main(["invert", str(run), *map(str, paths), "--steps", "300", "-o", str(output)]) == 0
    out = capsys.readouterr().out
    assert "inverted 2 images by 300 Adam steps (pixels)" in out and output.is_file()
    saved = load_file(str(tmp_path / "inverted.codes.safetensors"))
    assert saved["codes"].shape == (2, Z) and saved["errors"].max() < 1e-4  # 8-bit rounding of the PNGs aside
    lines = (tmp_path / "inverted.txt").read_text().splitlines()
    assert [line.split("\t")[0] for line in lines] == [str(path) for path in paths]
    paths_picture = tmp_path / "paths.png"
    assert main(["interpolate", str(run), "--codes", str(tmp_path / "inverted.codes.safetensors"), "--steps", "4",
                 "-o", str(paths_picture)]) == 0
    assert "wrote 1 slerp paths of 4 steps" in capsys.readouterr().out and paths_picture.is_file()


@pytest.mark.parametrize(("extra", "message"), [
    (["--method", "encoder"], "needs a run whose algorithm trained an encoder; algorithm 'alternating' has none"),
    (["--label", "3"], "--label is for class-conditional runs"),
])
def test_invert_refuses_what_the_run_cannot_do_in_one_line(image_run, tmp_path, capsys, extra, message):
    run, paths = image_run
    assert main(["invert", str(run), str(paths[0]), *extra, "-o", str(tmp_path / "x.png")]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.splitlines()) == 1


def test_invert_refuses_missing_images_point_runs_and_foreign_codes(image_run, tmp_path, capsys):
    run, _ = image_run
    assert main(["invert", str(run), str(tmp_path / "nowhere.png")]) == 2
    assert "nowhere.png: no such file or folder" in capsys.readouterr().err
    train(tmp_path / "points", **TINY)
    (tmp_path / "a.png").write_bytes(b"")
    assert main(["invert", str(tmp_path / "points"), str(tmp_path / "a.png")]) == 2
    assert "invert finds codes for images" in capsys.readouterr().err
    (tmp_path / "junk.safetensors").write_bytes(b"not safetensors")
    assert main(["interpolate", str(run), "--codes", str(tmp_path / "junk.safetensors")]) == 2
    assert "cannot read codes" in capsys.readouterr().err
