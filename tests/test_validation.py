"""Damaged or absurd input refused at the door: config bounds, deep nesting, NUL in paths, checkpoint metadata,
JSON-lines logs and image folders holding things that are not files."""

from __future__ import annotations

import json
import os
import threading
import warnings

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

import ganzoo
from conftest import toy_run
from ganzoo.api.metric import MAX_SAMPLES
from ganzoo.cli import main
from ganzoo.datasets.common import decode_image
from ganzoo.datasets.imagefolder import ImageFolderOptions, image_files
from ganzoo.errors import CheckpointError, ConfigError, DamagedRecordWarning, GanzooError
from ganzoo.run import rundir
from ganzoo.run.config import (
    MAX_BATCH_SIZE,
    MAX_D_STEPS,
    MAX_DEPTH,
    MAX_STEPS,
    MAX_Z_DIM,
    RunConfig,
    deep_merge,
    parse_overrides,
    read_toml,
    validate,
)
from ganzoo.training.checkpoint import FORMAT, Checkpoint, load_checkpoint, load_optimizer_state

BASE = {"gan": "gan", "dataset": "ring8"}


def refused(match: str, call, *args) -> str:
    """``call(*args)`` raises a ConfigError matching ``match``, on one line."""
    with pytest.raises(ConfigError, match=match) as caught:
        call(*args)
    assert "\n" not in str(caught.value)
    return str(caught.value)


def with_set(*pairs: str) -> dict:
    return deep_merge(BASE, parse_overrides(pairs))


# -- config bounds ---------------------------------------------------------


@pytest.mark.parametrize(("pair", "message"), [
    ("optimizer_g.lr=inf", "optimizer_g.lr: Input should be a finite number"),
    ("optimizer_g.lr=nan", "optimizer_g.lr: Input should be a finite number"),
    ("optimizer_d.momentum=inf", "optimizer_d.momentum: Input should be a finite number"),
    ("optimizer_d.weight_decay=nan", "optimizer_d.weight_decay: Input should be a finite number"),
    ("optimizers.e.lr=inf", "optimizers.e.lr: Input should be a finite number"),
    ("optimizer_g.betas=[true, 0.9]", "optimizer_g.betas: Value error, must hold numbers, not true or false"),
    ("optimizer_g.betas=[0.5, false]", "must hold numbers, not true or false"),
    ("optimizer_g.betas=[1.0, 0.9]", "optimizer_g.betas.0: Input should be less than 1"),
    ("optimizer_g.betas=[0.5, -0.1]", "optimizer_g.betas.1: Input should be greater than or equal to 0"),
    ("optimizer_g.betas=[0.5, nan]", "optimizer_g.betas.1: Input should be a finite number"),
    ("optimizer_g.betas=[0.5, inf]", "optimizer_g.betas.1: Input should be a finite number"),
    ("ema.decay=nan", "ema.decay: Input should be a finite number"),
    ("ema.decay=-inf", "ema.decay: Input should be a finite number"),
    (f"batch_size={MAX_BATCH_SIZE + 1}", f"batch_size: Input should be less than or equal to {MAX_BATCH_SIZE}"),
    (f"z_dim={MAX_Z_DIM + 1}", "z_dim: Input should be less than or equal to"),
    (f"steps={MAX_STEPS + 1}", "steps: Input should be less than or equal to"),
    (f"d_steps={MAX_D_STEPS + 1}", "d_steps: Input should be less than or equal to"),
    (f"log_every={MAX_STEPS + 1}", "log_every: Input should be less than or equal to"),
    (f"sample_every={MAX_STEPS + 1}", "sample_every: Input should be less than or equal to"),
    (f"eval_every={MAX_STEPS + 1}", "eval_every: Input should be less than or equal to"),
    (f"checkpoint_every={MAX_STEPS + 1}", "checkpoint_every: Input should be less than or equal to"),
    (f"ema.start={MAX_STEPS + 1}", "ema.start: Input should be less than or equal to"),
    (f"metrics.num_generated={MAX_SAMPLES + 1}", "metrics.num_generated: Input should be less than or equal to"),
    (f"metrics.num_reference={MAX_SAMPLES + 1}", "metrics.num_reference: Input should be less than or equal to"),
    ("gan=''", "gan: Value error, must be a registered name"),
    ("dataset='   '", "dataset: Value error, must be a registered name"),
    ("objective=''", "objective: Value error, must be a registered name"),
    ("algorithm=' '", "algorithm: Value error, must be a registered name"),
])
def test_out_of_range_values_are_refused(pair, message):
    refused(message, validate, RunConfig, with_set(pair), "cfg")


def test_the_largest_sizes_and_finite_numbers_are_accepted():
    config = validate(RunConfig, with_set(f"batch_size={MAX_BATCH_SIZE}", f"z_dim={MAX_Z_DIM}", f"steps={MAX_STEPS}",
                                          f"d_steps={MAX_D_STEPS}", "optimizer_g.betas=[0, 0.999]",
                                          "optimizer_g.lr=1e300", f"metrics.num_generated={MAX_SAMPLES}"), "cfg")
    assert config.batch_size == MAX_BATCH_SIZE and config.optimizer_g.betas == (0.0, 0.999)


def test_an_absurd_size_is_refused_before_a_run_directory_is_made(tmp_path, capsys):
    config = tmp_path / "run.toml"
    config.write_text("".join(f"{key} = {json.dumps(value)}\n" for key, value in toy_run(tmp_path).items()))
    code = main(["train", str(config), "--set", f"batch_size={2**40}", "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("ganzoo: error: ") and err.count("\n") == 1 and "batch_size" in err
    assert not (tmp_path / "run").exists()


# -- deep nesting ------------------------------------------------------------


def test_deeply_nested_toml_is_a_config_error_not_a_recursion_error(tmp_path):
    arrays = tmp_path / "arrays.toml"
    arrays.write_text("gan = " + "[" * 100_000 + "]" * 100_000 + "\n")
    refused(r"arrays\.toml: tables or arrays nested too deeply", read_toml, arrays)
    tables = tmp_path / "tables.toml"
    tables.write_text("gan_options = " + "{a = " * 50_000 + "1" + "}" * 50_000 + "\n")
    refused(r"tables\.toml: tables or arrays nested too deeply", read_toml, tables)
    # deep enough to be absurd, not so deep that tomllib fails: the depth limit catches it
    shallow = tmp_path / "shallow.toml"
    shallow.write_text("gan_options = " + "{a = " * (MAX_DEPTH + 5) + "1" + "}" * (MAX_DEPTH + 5) + "\n")
    refused(rf"gan_options\.a\.a\.a\.\.\.' is nested {MAX_DEPTH + 1}\+ levels deep; at most {MAX_DEPTH}",
            deep_merge, BASE, read_toml(shallow))


def test_deep_set_keys_and_values_are_refused():
    refused(rf"{MAX_DEPTH + 1} dotted parts; at most {MAX_DEPTH}", parse_overrides, ["a." * MAX_DEPTH + "b=1"])
    refused("dotted parts", parse_overrides, ["a." * 100_000 + "b=1"])
    refused(r"--set gan_options: value nested too deeply", parse_overrides, ["gan_options=" + "[" * 100_000])
    refused("nested too deeply", parse_overrides, ["gan_options=" + "{a=" * 50_000 + "1" + "}" * 50_000])
    refused("empty part in the key", parse_overrides, ["optimizer_g..lr=1"])
    assert parse_overrides(["a." * (MAX_DEPTH - 1) + "b=1"])  # the limit itself is fine


def test_deep_tables_are_refused_by_merge_and_validate():
    deep: dict = {}
    node = deep
    for _ in range(10_000):
        node["a"] = {}
        node = node["a"]
    refused("nested 33\\+ levels deep", deep_merge, BASE, {"gan_options": deep})
    refused(r"^cfg: 'gan_options\.a\.a\.a\.\.\.' is nested", validate, RunConfig, {**BASE, "gan_options": deep}, "cfg")
    looped: dict = {}
    looped["self"] = looped  # a plugin's defaults could hold a cycle
    refused("nested", deep_merge, BASE, looped)


# -- NUL in paths ------------------------------------------------------------


@pytest.mark.parametrize("pair", ["out_dir='runs/a\x00b'", "metrics.inception_weights='w\x00.pth'"])
def test_nul_in_a_path_is_refused(pair):
    refused("a path cannot contain a NUL character", validate, RunConfig, with_set(pair), "cfg")


def test_nul_in_a_data_root_or_config_path_is_refused(tmp_path, capsys):
    refused("root: Value error, a path cannot contain a NUL character", validate, ImageFolderOptions,
            {"root": "data\x00"}, "dataset_options")
    refused(r"config path '.*a\\x00b.toml' contains a NUL character", read_toml, tmp_path / "a\x00b.toml")
    code = main(["train", str(tmp_path / "a\x00b.toml")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "\x00" not in err


# -- checkpoint metadata -----------------------------------------------------


DATA_INFO = {"shape": [3, 8, 8], "num_classes": 2, "class_names": ["cat", "dog"]}


def write_checkpoint(path, **changes) -> object:
    """A minimal checkpoint file whose metadata fields are replaced by ``changes`` (None: the field is left out)."""
    metadata = {"format": FORMAT, "ganzoo_version": "0", "step": "7", "config": "{}", "provenance": "{}",
                "optimizers": "{}", "data_info": json.dumps(DATA_INFO)}
    metadata.update(changes)
    save_file({"generator/w": torch.zeros(2)}, str(path), metadata={k: v for k, v in metadata.items() if v is not None})
    return path


def test_a_well_formed_checkpoint_loads(tmp_path):
    checkpoint = load_checkpoint(write_checkpoint(tmp_path / "ok.safetensors"))
    assert checkpoint.step == 7 and checkpoint.data_info.shape == (3, 8, 8)
    assert checkpoint.data_info.class_names == ("cat", "dog")
    legacy = load_checkpoint(write_checkpoint(tmp_path / "old.safetensors", data_info=None, step="0"))
    assert legacy.step == 0 and legacy.data_info is None


def info(**changes) -> str:
    return json.dumps({**DATA_INFO, **changes})


@pytest.mark.parametrize(("changes", "field"), [
    ({"step": "-5"}, "step"), ({"step": "1e3"}, "step"), ({"step": " 7"}, "step"), ({"step": "True"}, "step"),
    ({"step": "1_000"}, "step"), ({"step": "\u0663"}, "step"), ({"step": ""}, "step"), ({"step": None}, "step"),
    ({"step": "9" * 5000}, "step"),
    ({"config": "[]"}, "config"), ({"config": "{"}, "config"), ({"config": None}, "config"),
    ({"config": "[" * 100_000}, "config"), ({"provenance": "1"}, "provenance"), ({"optimizers": "null"}, "optimizers"),
    ({"data_info": "[]"}, "data_info"), ({"data_info": "{"}, "data_info"), ({"data_info": "[" * 100_000}, "data_info"),
    ({"data_info": json.dumps({"shape": [2]})}, "data_info"),
    ({"data_info": info(extra=1)}, "data_info"),
    ({"data_info": info(shape=[])}, "data_info"), ({"data_info": info(shape=[0, 8, 8])}, "data_info"),
    ({"data_info": info(shape=[1, 2, 3, 4, 5])}, "data_info"), ({"data_info": info(shape=[3, True, 8])}, "data_info"),
    ({"data_info": info(shape=[3, 8.5, 8])}, "data_info"), ({"data_info": info(shape=["3", 8, 8])}, "data_info"),
    ({"data_info": info(shape=[3, 10**9, 8])}, "data_info"), ({"data_info": info(shape=3)}, "data_info"),
    ({"data_info": info(num_classes=0)}, "data_info"), ({"data_info": info(num_classes=-2)}, "data_info"),
    ({"data_info": info(num_classes=True, class_names=None)}, "data_info"),
    ({"data_info": info(num_classes="2")}, "data_info"), ({"data_info": info(num_classes=2.0)}, "data_info"),
    ({"data_info": info(class_names=["cat"])}, "data_info"), ({"data_info": info(class_names=[1, 2])}, "data_info"),
    ({"data_info": info(class_names="ab")}, "data_info"),
    ({"data_info": info(num_classes=None)}, "data_info"),
])
def test_damaged_checkpoint_metadata_is_a_one_line_error_naming_file_and_field(tmp_path, changes, field):
    path = write_checkpoint(tmp_path / "damaged.safetensors", **changes)
    with pytest.raises(CheckpointError) as caught:
        load_checkpoint(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: damaged metadata") and f"'{field}'" in message
    assert "\n" not in message and len(message) < 400


def optimizer_checkpoint(groups, scalars=None) -> tuple[torch.optim.Optimizer, Checkpoint]:
    optimizer = torch.optim.Adam(torch.nn.Linear(2, 1).parameters(), lr=0.1)
    meta = {"param_groups": groups, "scalars": {} if scalars is None else scalars}
    return optimizer, Checkpoint(0, {}, {}, {}, {"optimizer_g": meta})


def saved_groups() -> list[dict]:
    """Adam's param groups as a checkpoint holds them: through JSON, so betas is a list."""
    optimizer = torch.optim.Adam(torch.nn.Linear(2, 1).parameters(), lr=0.01)
    return json.loads(json.dumps(optimizer.state_dict()["param_groups"]))


def test_stored_optimizer_settings_load(tmp_path):
    optimizer, checkpoint = optimizer_checkpoint(saved_groups())
    load_optimizer_state(optimizer, checkpoint, "optimizer_g", tmp_path / "c.safetensors")
    assert optimizer.param_groups[0]["lr"] == 0.01 and optimizer.param_groups[0]["betas"] == (0.9, 0.999)
    assert isinstance(checkpoint.optimizers["optimizer_g"]["param_groups"][0]["betas"], list)  # left as read


@pytest.mark.parametrize(("change", "message"), [
    (lambda g: g[0].update(lr="0.1"), r"param_groups\[0\]\.lr is '0\.1', not a finite number"),
    (lambda g: g[0].update(lr=True), r"param_groups\[0\]\.lr is True"),
    (lambda g: g[0].update(lr=float("nan")), r"param_groups\[0\]\.lr is nan"),
    (lambda g: g[0].update(lr=float("inf")), r"param_groups\[0\]\.lr is inf"),
    (lambda g: g[0].update(lr=None), r"param_groups\[0\]\.lr is None"),
    (lambda g: g[0].update(lr=-1.0), r"param_groups\[0\]\.lr is -1\.0, below 0"),
    (lambda g: g[0].update(betas=[0.9, "x"]), r"param_groups\[0\]\.betas is \[0\.9, 'x'\]"),
    (lambda g: g[0].update(betas=[]), r"param_groups\[0\]\.betas is \[\]"),
    (lambda g: g[0].update(betas=[0.9, False]), r"param_groups\[0\]\.betas"),
    (lambda g: g[0].update(eps={"a": 1}), r"param_groups\[0\]\.eps"),
    (lambda g: g[0].update(weight_decay=True), r"param_groups\[0\]\.weight_decay is True"),
    (lambda g: g[0].update(amsgrad=float("-inf")), r"param_groups\[0\]\.amsgrad is -inf"),
    (lambda g: g[0].update(params="01"), r"param_groups\[0\]\.params is not a list of parameter indices"),
    (lambda g: g[0].update(params=[0, -1]), r"param_groups\[0\]\.params"),
    (lambda g: g.append(3), "param_groups is not a list of objects"),
])
def test_damaged_optimizer_settings_are_refused(tmp_path, change, message):
    groups = saved_groups()
    change(groups)
    optimizer, checkpoint = optimizer_checkpoint(groups)
    path = tmp_path / "c.safetensors"
    with pytest.raises(CheckpointError, match=rf"^{path}: damaged optimizer_g state \(metadata field 'optimizers': "
                                              rf"optimizer_g\.{message}"):
        load_optimizer_state(optimizer, checkpoint, "optimizer_g", path)
    assert optimizer.param_groups[0]["lr"] == 0.1  # untouched


@pytest.mark.parametrize(("groups", "scalars", "message"), [
    ({}, {}, "param_groups is not a list of objects"),
    ([], [], "scalars is not an object of objects"),
    ([], {"0": 1}, "scalars is not an object of objects"),
    ([], {"0": {"step": "3"}}, r"scalars\[0\]\.step is '3', not a finite number"),
    ([], {"0": {"step": float("nan")}}, r"scalars\[0\]\.step is nan"),
    ([], {" 0": {"step": 1.0}}, r"invalid parameter index ' 0'"),
    ([], {"-1": {"step": 1.0}}, r"invalid parameter index '-1'"),
])
def test_damaged_optimizer_scalars_are_refused(tmp_path, groups, scalars, message):
    optimizer, checkpoint = optimizer_checkpoint(groups, scalars)
    with pytest.raises(CheckpointError, match=rf"c\.safetensors: damaged optimizer_g state \(.*{message}"):
        load_optimizer_state(optimizer, checkpoint, "optimizer_g", tmp_path / "c.safetensors")
    absent = Checkpoint(0, {}, {}, {}, {})
    with pytest.raises(CheckpointError, match="metadata field 'optimizers' holds no param_groups and scalars"):
        load_optimizer_state(optimizer, absent, "optimizer_g", tmp_path / "c.safetensors")


# -- JSON-lines logs ---------------------------------------------------------


def test_damaged_log_lines_are_skipped_with_a_warning_naming_file_and_line(tmp_path):
    log = tmp_path / "stats.jsonl"
    lines = [b'{"step": 1, "loss": 0.5}', b'{"step": 2, "lo', b"\xff\xfe\x00\x01garbage", b'{"step": 3, "x": "\xff"}',
             b"[1, 2]", b"42", b'{"step": -1}', b'{"step": true}', b'{"step": "4"}', b'{"step": 1.5}',
             b"[" * 100_000, b"", b'{"step": 5}', b'{"note": "no step"}', b'{"step": 6']
    log.write_bytes(b"\n".join(lines))
    with pytest.warns(DamagedRecordWarning) as caught:
        records = rundir.read_jsonl(log)
    assert [r.get("step") for r in records] == [1, 5, None]
    messages = [str(w.message) for w in caught]
    assert messages[:5] == [f"{log}, line 2: damaged record skipped (not JSON)",
                            f"{log}, line 3: damaged record skipped (not UTF-8 text)",
                            f"{log}, line 4: damaged record skipped (not UTF-8 text)",
                            f"{log}, line 5: damaged record skipped (not a JSON object)",
                            f"{log}, line 6: damaged record skipped (not a JSON object)"]
    assert messages[5:] == [f"{log}: 6 more damaged records skipped"]
    assert all("\n" not in m for m in messages)


def test_a_log_cut_short_by_a_crash_is_read_up_to_the_cut(tmp_path):
    log = tmp_path / "metrics.jsonl"
    log.write_text('{"step": 10, "metrics": {}}\n{"step": 20, "metr')
    with pytest.warns(DamagedRecordWarning, match=r"metrics\.jsonl, line 2: damaged record skipped"):
        assert rundir.read_jsonl(log) == [{"step": 10, "metrics": {}}]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        log.write_text('{"step": 0}\n\n{"step": 3}\n')
        assert len(rundir.read_jsonl(log)) == 2  # blank lines are not damage


# -- image folders -------------------------------------------------------------


def finishes(call, *args, timeout: float = 60, **kwargs):
    """``call(...)``'s result, failing (not hanging) if it blocks: opening a FIFO waits for a writer forever."""
    outcome: dict = {}

    def run():
        try:
            outcome["value"] = call(*args, **kwargs)
        except BaseException as exc:  # handed to the test below
            outcome["error"] = exc

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(timeout)
    assert not worker.is_alive(), f"{call.__name__} blocked"
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_an_image_folder_skips_fifos_and_broken_links(tmp_path):
    from PIL import Image

    Image.fromarray(np.full((8, 8, 3), 200, np.uint8)).save(tmp_path / "real.png")
    os.mkfifo(tmp_path / "stuck.png")
    os.symlink(tmp_path / "gone.png", tmp_path / "broken.png")
    os.symlink(tmp_path / "real.png", tmp_path / "linked.png")
    os.symlink(tmp_path / "stuck.png", tmp_path / "to-fifo.png")
    assert [str(p) for p in finishes(image_files, tmp_path)] == ["linked.png", "real.png"]
    data = finishes(ganzoo.load_dataset, "image-folder", root=tmp_path, resolution=8, in_memory=True)
    assert len(data.samples) == 2
    with pytest.raises(GanzooError, match=r"stuck\.png: cannot decode image \(not a regular file: a FIFO\)"):
        finishes(decode_image, tmp_path / "stuck.png", "RGB", str(tmp_path / "stuck.png"))
    with pytest.raises(GanzooError, match=r"cannot decode image \(not a regular file: missing\)"):
        decode_image(tmp_path / "broken.png", "RGB", "broken.png")
