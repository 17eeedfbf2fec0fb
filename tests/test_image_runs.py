"""Image runs end to end: what they write, what survives a failure, and what sampling needs afterwards."""

from __future__ import annotations

import json
import shutil
import signal

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors import safe_open
from safetensors.torch import save_file
from test_datasets import save_png

import ganzoo
from ganzoo.cli import main
from ganzoo.errors import GanzooError, RunDirError
from ganzoo.registry.discovery import get_zoo
from ganzoo.run import rundir
from ganzoo.run.config import resolve_config
from ganzoo.training.trainer import Trainer


def folder_run(tmp_path, **overrides) -> dict:
    """A narrow dcgan on six 32x32 images in two class folders."""
    rng = np.random.default_rng(0)
    for number in range(6):
        path = tmp_path / "data" / ("cats" if number % 2 else "dogs") / f"{number}.png"
        if not path.exists():
            save_png(path, rng.integers(0, 256, (32, 32, 3), dtype=np.uint8))
    return {"gan": "dcgan", "dataset": "image-folder",
            "dataset_options": {"root": str(tmp_path / "data"), "resolution": 32},
            "gan_options": {"g_channels": 8, "d_channels": 8}, "steps": 4, "batch_size": 4, "log_every": 1,
            "checkpoint_every": 2, "device": "cpu", "out_dir": str(tmp_path / "run"), **overrides}


def make_trainer(raw: dict) -> Trainer:
    zoo = get_zoo()
    return Trainer(resolve_config(raw, zoo), zoo, progress=False)


def test_an_image_run_with_the_default_intervals_finishes_without_metrics(tmp_path):
    raw = folder_run(tmp_path, sample_every=2)
    raw.pop("checkpoint_every")
    assert make_trainer(raw).fit() == []  # images are measured with ganzoo eval by default: no evaluation
    assert not (tmp_path / "run" / rundir.METRICS).exists() or not rundir.read_jsonl(tmp_path / "run" / rundir.METRICS)
    assert sorted(p.name for p in (tmp_path / "run" / "samples").iterdir()) == ["step-0000002.png", "step-0000004.png"]


def test_a_data_error_mid_run_keeps_the_steps_trained_since_the_last_checkpoint(tmp_path):
    trainer = make_trainer(folder_run(tmp_path, steps=10, checkpoint_every=100))
    draw, calls = trainer.batches.next, []

    def failing_draw(size):
        calls.append(1)
        if len(calls) == 4:
            raise GanzooError("image-folder: 3.png: cannot decode image (truncated)")
        return draw(size)

    trainer.batches.next = failing_draw
    with pytest.raises(GanzooError, match="cannot decode image"):
        trainer.fit()
    checkpoint = tmp_path / "run" / rundir.LAST_CHECKPOINT
    assert trainer.step == 3 and checkpoint.is_file()
    assert make_trainer(folder_run(tmp_path, steps=10, checkpoint_every=100)).fit(resume=True) == []


def test_linear_decay_refuses_a_resume_that_changes_steps(tmp_path):
    make_trainer(folder_run(tmp_path, lr_decay="linear")).fit()
    with pytest.raises(RunDirError, match=r"differs in: steps\); a resumed run may change only checkpoint_every"):
        make_trainer(folder_run(tmp_path, lr_decay="linear", steps=8)).fit(resume=True)
    (tmp_path / "b").mkdir()
    straight = make_trainer(folder_run(tmp_path / "b", steps=8, lr_decay="linear"))
    straight.fit()
    (tmp_path / "c").mkdir()
    interrupted = make_trainer(folder_run(tmp_path / "c", steps=8, lr_decay="linear"))
    draw = interrupted.batches.next

    def ctrl_c_twice_at_step_six(size):  # the second Ctrl-C stops the step before it drew anything
        if interrupted.step == 5:
            signal.raise_signal(signal.SIGINT)
            signal.raise_signal(signal.SIGINT)
        return draw(size)

    interrupted.batches.next = ctrl_c_twice_at_step_six
    with pytest.raises(KeyboardInterrupt):
        interrupted.fit()
    resumed = make_trainer(folder_run(tmp_path / "c", steps=8, lr_decay="linear"))
    resumed.fit(resume=True)  # the same schedule, through a resume: bit for bit the same weights
    assert interrupted.step == 5 and resumed.step == 8
    assert all(torch.equal(a, b) for a, b in zip(straight.generator.state_dict().values(),
                                                 resumed.generator.state_dict().values()))


def test_sampling_needs_neither_the_data_nor_its_folder_names(tmp_path, capsys):
    make_trainer(folder_run(tmp_path, conditional=True)).fit()
    shutil.rmtree(tmp_path / "data")
    assert main(["sample", str(tmp_path / "run"), "-n", "3", "-o", str(tmp_path / "s.png")]) == 0
    assert "wrote 6 samples (3 per class)" in capsys.readouterr().out
    assert main(["interpolate", str(tmp_path / "run"), "--rows", "2", "--steps", "3"]) == 0
    assert main(["eval", str(tmp_path / "run")]) == 2  # metrics do need the data: one line says which is missing
    assert "image-folder:" in capsys.readouterr().err


def test_a_checkpoint_whose_plugin_options_no_longer_validate_is_one_line(tmp_path, capsys):
    make_trainer(folder_run(tmp_path)).fit()
    path = tmp_path / "run" / rundir.LAST_CHECKPOINT
    with safe_open(str(path), framework="pt") as handle:
        metadata = handle.metadata()
        tensors = {key: handle.get_tensor(key) for key in handle.keys()}
    config = json.loads(metadata["config"])
    config["gan_options"]["g_channels"] = "wide"  # as if the plugin's options changed since
    save_file(tensors, str(path), metadata={**metadata, "config": json.dumps(config)})
    assert main(["sample", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ganzoo: error: gan_options for 'dcgan': g_channels: ") and err.count("\n") == 1


def test_sixteen_bit_grey_images_are_scaled_not_clipped(tmp_path):
    wide = (np.arange(64, dtype=np.uint16) * 1040).reshape(8, 8)  # 0 .. 65520
    (tmp_path / "grey").mkdir()
    Image.fromarray(wide).save(tmp_path / "grey" / "deep.png")  # PIL writes mode "I;16"
    with Image.open(tmp_path / "grey" / "deep.png") as image:
        assert image.mode.startswith("I")
    data = ganzoo.load_dataset("image-folder", root=tmp_path / "grey", channels=1, resolution=8, in_memory=True)
    expected = torch.from_numpy(np.rint(wide / 257.0)).float() / 127.5 - 1
    assert torch.allclose(data.samples.tensors[0][0, 0], expected)


def test_image_metrics_refuse_too_few_samples_before_any_work(tmp_path, capsys):
    from ganzoo.api.prior import Prior
    from ganzoo.metrics.fidelity import fidelity_metrics
    from ganzoo.metrics.inception import InceptionWeights

    weights = InceptionWeights("unused", tmp_path / "unused.safetensors", "unused", "0" * 64, has_logits=False)
    with pytest.raises(GanzooError, match="at least 4 generated and reference images .* got 8 and 3"):
        fidelity_metrics(torch.nn.Identity(), Prior("normal", 2, torch.device("cpu")), torch.zeros(3, 3, 8, 8),
                         num_generated=8, seed=0, weights=weights, reference_name="x")
    # the [metrics] table's own bounds refuse it on the command line, before the run is looked for
    assert main(["eval", "nowhere", "--num-generated", "3"]) == 2
    assert "ganzoo eval: num_generated: Input should be greater than or equal to 4 (got 3)" in capsys.readouterr().err


def test_the_best_checkpoint_compares_fids_of_one_protocol_only(tmp_path):
    protocol = {"num_generated": 100, "reference_split": "test", "checkpoint_step": 10}
    for step, fid, generated in ((10, 50.0, 100), (20, 40.0, 100), (30, 5.0, 10)):  # the last: fewer samples
        rundir.append_jsonl(tmp_path / rundir.METRICS, {"step": step, "metrics": {"fid": fid},
                                                        "protocol": {**protocol, "num_generated": generated,
                                                                     "checkpoint_step": step}})
    rundir.append_jsonl(tmp_path / rundir.METRICS, {"step": 30, "metrics": {"fid": 1.0}, "protocol": protocol,
                                                    "source": "ganzoo eval"})
    assert rundir.fids(tmp_path, {**protocol, "checkpoint_step": 40}) == [50.0, 40.0]
