"""Property-based fuzzing of what a user hands ganzoo: configs, ``--set`` pairs, TOML files, checkpoints and
JSON-lines logs (the contract: tests/fuzzing.py)."""

from __future__ import annotations

import functools
import json
import struct
import tempfile
import warnings
from pathlib import Path

import pytest
import torch
from hypothesis import assume, event, given, note
from hypothesis import strategies as st
from safetensors import safe_open
from safetensors.torch import save_file

from conftest import TINY
from fuzzing import (
    CONFIG_PATHS,
    EDITS,
    NAMES,
    NUMBERS,
    REMOVE,
    SCALARS,
    TEXT,
    TOML_VALUES,
    VALID_TOML,
    VALUES,
    base_config,
    budget,
    mutated,
    one_line,
    only_ganzoo_errors,
)
from ganzoo.errors import CheckpointError, DamagedRecordWarning, GanzooError
from ganzoo.registry.discovery import get_zoo
from ganzoo.run import rundir
from ganzoo.run.config import RunConfig, deep_merge, parse_overrides, read_toml, resolve_config
from ganzoo.testing import trainer
from ganzoo.training.checkpoint import load_checkpoint

# -- 1. configs ---------------------------------------------------------------


@budget(300)
@given(edits=EDITS)
def test_any_config_resolves_or_is_refused_on_one_line_and_round_trips(tmp_path_factory, edits):
    raw = mutated(base_config(Path("/nonexistent/fuzz")), edits)
    note(repr(raw))
    config = None
    with only_ganzoo_errors():
        config = resolve_config(raw, get_zoo())
    if config is not None:
        assert RunConfig.model_validate(json.loads(config.to_json())) == config
        assert config.to_json() == RunConfig.model_validate(json.loads(config.to_json())).to_json()


# -- 2. --set and TOML files -----------------------------------------------------

SET_KEYS = st.sampled_from(CONFIG_PATHS) | st.sampled_from(["", ".", "a..b", " steps ", "ema.", ".ema", "a" + ".a" * 40,
                                                             "gan.x", "steps.x", "optimizer_g.lr.x"]) | TEXT
GOOD_PAIRS = st.sampled_from(["steps=3", "optimizer_g.lr=1e-4", "ema.enabled=true", "optimizer_g.betas=[0.0,0.9]",
                              "seed=7", "device=cpu", "gan=wgan", "objective=minimax", "metrics.suites=['toy']",
                              "gan_options.g_hidden=16", "ema.decay=0.5", "lr_decay=linear", "out_dir=elsewhere"])
SET_PAIRS = st.lists(GOOD_PAIRS | GOOD_PAIRS | st.builds(lambda key, sep, value: f"{key}{sep}{value}", SET_KEYS,
                               st.sampled_from(["=", "=", "", " = "]), TOML_VALUES) | TEXT, max_size=5)



@pytest.fixture(scope="module")
def valid_toml(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("toml") / "run.toml"
    path.write_text(VALID_TOML, encoding="utf-8")
    return path


@budget(250)
@given(pairs=SET_PAIRS)
def test_any_set_pairs_parse_or_are_refused_and_merge_into_a_config_or_a_one_line_error(valid_toml, pairs):
    overrides = None
    with only_ganzoo_errors():
        overrides = parse_overrides(pairs)
    if overrides is None:
        return
    assert isinstance(overrides, dict)
    config = None
    with only_ganzoo_errors():
        config = resolve_config(deep_merge(read_toml(valid_toml), overrides), get_zoo(), str(valid_toml))
    if config is not None:
        assert RunConfig.model_validate(json.loads(config.to_json())) == config


TOML_LINES = st.one_of(
    st.builds(lambda key, value: f"{key} = {value}", st.sampled_from(CONFIG_PATHS) | TEXT, TOML_VALUES),
    st.sampled_from(["[optimizer_g]", "[[a]]", "[a.b.c]", "[", "a.b = 1", '"quoted key" = 1', "# comment", "",
                     "\ufeff", "\r", "a = 1\r", "x = '''", "a = 1 # \x00"]),
    TEXT)


@budget(150)
@given(text=st.lists(TOML_LINES, max_size=8).map("\n".join) | st.text(max_size=60),
       binary=st.none() | st.binary(max_size=40), name=st.just("fuzz.toml") | TEXT.filter(lambda n: "/" not in n))
def test_any_toml_file_reads_as_a_table_or_a_one_line_config_error(tmp_path_factory, text, binary, name):
    folder = Path(tempfile.mkdtemp(dir=tmp_path_factory.getbasetemp()))
    with only_ganzoo_errors(GanzooError):  # a file of any name that is not there
        read_toml(folder / "missing" / name)
    path = folder / (name if name.strip(".") and "\x00" not in name else "fuzz.toml")
    if binary is None:
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
    else:
        path.write_bytes(binary)
    table = None
    with only_ganzoo_errors(GanzooError):
        table = read_toml(path)
    if table is not None:
        assert isinstance(table, dict)
        with only_ganzoo_errors():  # and whatever it holds is a config or a one-line error
            resolve_config(deep_merge(read_toml(path), {"gan": "gan", "dataset": "ring8"}), get_zoo())


# -- 3. checkpoints ---------------------------------------------------------------


def read_checkpoint(path: Path) -> tuple[dict[str, str], dict[str, torch.Tensor]]:
    with safe_open(str(path), framework="pt") as handle:
        return dict(handle.metadata()), {key: handle.get_tensor(key) for key in handle.keys()}


METADATA_KEYS = ["format", "ganzoo_version", "step", "config", "provenance", "data_info", "optimizers"]


def metadata_edit(draw: st.DrawFn, key: str, text: str) -> str | None:
    """One field of checkpoint metadata, kept, removed (None), replaced, or edited inside its JSON."""
    how = draw(st.sampled_from(["keep", "remove", "text", "json", "inner", "inner", "inner"]))
    if how == "keep":
        return text
    if how == "remove":
        return None
    if how == "text":
        return draw(TEXT | st.sampled_from(["1", "-1", "01", "1" * 25, "١", "{}", "[]", "null", '"x"', "[[[[[[[" * 500]))
    if how == "json":
        return json.dumps(draw(VALUES))
    try:
        value = json.loads(text)
    except ValueError:
        return text
    if not isinstance(value, (dict, list)):
        return json.dumps(draw(VALUES))
    for _ in range(draw(st.integers(1, 3))):  # replace or delete a value somewhere inside
        node, parent, key_in = value, None, None  # type: Any, Any, Any
        while isinstance(node, (dict, list)) and node and draw(st.booleans()):
            keys = list(node) if isinstance(node, dict) else list(range(len(node)))
            parent, key_in = node, draw(st.sampled_from(keys))
            node = node[key_in]
        replacement = draw(st.one_of(st.just(REMOVE), NAMES, VALUES))
        if parent is None:
            if isinstance(value, dict):
                target = draw(st.sampled_from([*value, "extra"])) if value else "extra"
                if replacement is REMOVE:
                    value.pop(target, None)
                else:
                    value[target] = replacement
        elif replacement is REMOVE and isinstance(parent, dict):
            parent.pop(key_in, None)
        elif replacement is not REMOVE:
            parent[key_in] = replacement
    return json.dumps(value)


@st.composite
def metadata_mutations(draw: st.DrawFn, metadata: dict[str, str]) -> dict[str, str]:
    edited = dict(metadata)
    for key in draw(st.lists(st.sampled_from(METADATA_KEYS), min_size=1, max_size=3, unique=True)):
        value = metadata_edit(draw, key, metadata[key])
        if value is None:
            del edited[key]
        else:
            edited[key] = value
    if draw(st.booleans()):
        edited[draw(TEXT)] = draw(TEXT)
    assume(edited != metadata)
    return edited


@functools.cache
def pristine(run: Path) -> tuple[dict[str, str], dict[str, torch.Tensor]]:
    return read_checkpoint(run / rundir.LAST_CHECKPOINT)


def loads_or_refuses(path: Path, run: Path) -> None:
    """``load_checkpoint`` returns or raises a one-line CheckpointError; what it returns, a fresh trainer of the
    same config restores or refuses with a one-line GanzooError."""
    checkpoint = None
    with only_ganzoo_errors(CheckpointError):
        checkpoint = load_checkpoint(path)
    if checkpoint is None:
        return
    fresh = trainer(run, **TINY)
    event("loaded; restoring")
    with only_ganzoo_errors():
        fresh.restore(path)


@budget(120)
@given(data=st.data())
def test_any_checkpoint_metadata_loads_and_restores_or_is_refused_on_one_line(tiny_run, tmp_path_factory, data):
    metadata, tensors = pristine(tiny_run)
    edited = data.draw(metadata_mutations(metadata))
    note(repr(edited))
    path = Path(tempfile.mkdtemp(dir=tmp_path_factory.getbasetemp())) / "fuzz.safetensors"
    save_file(tensors, str(path), metadata=edited)
    loads_or_refuses(path, tiny_run)


@budget(80)
@given(data=st.data())
def test_any_byte_damage_to_a_checkpoint_is_refused_or_harmless(tiny_run, tmp_path_factory, data):
    blob = bytearray((tiny_run / rundir.LAST_CHECKPOINT).read_bytes())
    (header_size,) = struct.unpack("<Q", blob[:8])
    in_header = st.integers(0, 8 + header_size - 1)
    anywhere = st.integers(0, len(blob) - 1)
    damage = data.draw(st.lists(st.tuples(st.sampled_from(["flip", "set", "cut"]), in_header | anywhere,
                                          st.integers(0, 255)), min_size=1, max_size=4))
    cut = False
    for how, where, byte in damage:
        if how == "cut":
            del blob[min(where, len(blob)):]
            cut = True
        elif where < len(blob):
            blob[where] = blob[where] ^ (1 << byte % 8) if how == "flip" else byte
    assume(bytes(blob) != (tiny_run / rundir.LAST_CHECKPOINT).read_bytes())
    path = Path(tempfile.mkdtemp(dir=tmp_path_factory.getbasetemp())) / "fuzz.safetensors"
    path.write_bytes(bytes(blob))
    if cut:  # a truncated file is always refused
        with pytest.raises(CheckpointError) as caught:
            load_checkpoint(path)
        one_line(caught.value)
    else:
        loads_or_refuses(path, tiny_run)


# -- 4. JSON-lines logs --------------------------------------------------------------

JSON_LINES = st.one_of(
    st.binary(max_size=30),
    st.builds(lambda record: json.dumps(record).encode(), st.dictionaries(TEXT, VALUES, max_size=3)),
    st.builds(lambda step, rest: json.dumps({"step": step, **rest}).encode(), VALUES | NUMBERS,
              st.dictionaries(TEXT, SCALARS, max_size=2)),
    st.sampled_from([b'{"step": 1}', b'{"step": -1}', b'{"step": 1.0}', b'{"step": true}', b'{"step": 1e999}',
                     b'{"step": ' + b"9" * 5000 + b"}", b'{"step": NaN}', b"[" * 100000, b'{"step": 2', b"\xff\xfe",
                     b'{"step": 3}\r', b"\x00", b"null", b'"step"', b'{"step": 1, "step": -2}',
                     b'{"step": 1, "loss": Infinity}', b'{"\\ud800": 1}', b'\xef\xbb\xbf{"step": 1}']))


@budget(150)
@given(lines=st.lists(JSON_LINES, max_size=10), name=st.sampled_from([rundir.STATS, rundir.METRICS]))
def test_any_json_lines_read_as_records_with_a_step_never_an_error(tmp_path_factory, lines, name):
    path = Path(tempfile.mkdtemp(dir=tmp_path_factory.getbasetemp())) / name
    path.write_bytes(b"\n".join(lines))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        records = rundir.read_jsonl(path)
    assert all(issubclass(w.category, DamagedRecordWarning) and "\n" not in str(w.message) for w in caught)
    for record in records:
        assert isinstance(record, dict)
        step = record.get("step", 0)  # a record without one counts as step 0 wherever records are read
        assert type(step) is int and step >= 0, record


