"""TensorBoard logging (``[logging] tensorboard = true``): event files read back with TensorBoard's own reader."""

from __future__ import annotations

import re
import shutil
import sys

import pytest
from PIL import Image

from ganzoo.cli import main
from ganzoo.errors import ConfigError
from ganzoo.run import rundir
from ganzoo.run.config import RunConfig
from ganzoo.testing import train, trainer
from ganzoo.training.views import MISSING

TENSORBOARD = {"logging": {"tensorboard": True}}


@pytest.fixture
def events():
    """A function reading a run's event files as TensorBoard does: every event kept, purged ones hidden."""
    reader = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")

    def read(run):
        accumulator = reader.EventAccumulator(str(run / rundir.TENSORBOARD), size_guidance={"scalars": 0,
                                                                                             "images": 0})
        return accumulator.Reload()

    return read


def test_a_run_logs_its_statistics_pictures_metrics_and_config(tmp_path, events):
    run = tmp_path / "run"
    train(run, gan="gan", objective="fgan-js", steps=20, log_every=5, sample_every=10, eval_every=10,
          metrics={"num_generated": 256}, **TENSORBOARD)
    logged = events(run)
    stats = rundir.read_jsonl(run / rundir.STATS)
    for key, tag in [("loss_d", "losses/loss_d"), ("loss_g", "losses/loss_g"), ("divergence", "divergence/divergence")]:
        scalars = logged.Scalars(tag)
        assert [event.step for event in scalars] == [record["step"] for record in stats] == [5, 10, 15, 20]
        assert [event.value for event in scalars] == pytest.approx([record[key] for record in stats], rel=1e-6)
    metrics = rundir.read_jsonl(run / rundir.METRICS)
    for key in ("modes", "high_quality_pct"):
        scalars = logged.Scalars(f"metrics/{key}")
        assert [(e.step, e.value) for e in scalars] == [(r["step"], pytest.approx(r["metrics"][key])) for r in metrics]
    pictures = logged.Images("samples")
    assert [picture.step for picture in pictures] == [10, 20]
    with Image.open(rundir.picture_path(run, 20)) as image:
        assert (pictures[-1].width, pictures[-1].height) == image.size
    (config,) = logged.Tensors("config/text_summary")
    assert '"objective": "fgan-js"' in config.tensor_proto.string_val[0].decode()


def test_a_resumed_run_logs_each_step_once(tmp_path, events):
    run = tmp_path / "run"
    train(run, gan="gan", steps=10, checkpoint_every=10)  # without TensorBoard: [logging] may change on resume
    shutil.copy(run / rundir.LAST_CHECKPOINT, tmp_path / "step-10.safetensors")
    train(run, gan="gan", steps=20, checkpoint_every=10, resume=True, **TENSORBOARD)
    # as if that process had logged steps 15 and 20 and then stopped before checkpointing step 20
    shutil.copy(tmp_path / "step-10.safetensors", run / rundir.LAST_CHECKPOINT)
    train(run, gan="gan", steps=20, checkpoint_every=10, resume=True, **TENSORBOARD)
    assert len(list((run / rundir.TENSORBOARD).iterdir())) == 2  # one event file per process
    stats = rundir.read_jsonl(run / rundir.STATS)
    scalars = events(run).Scalars("losses/loss_d")
    assert [event.step for event in scalars] == [15, 20]
    assert [event.value for event in scalars] == pytest.approx([r["loss_d"] for r in stats[2:]], rel=1e-6)


def test_a_missing_tensorboard_package_is_one_line_before_any_work(tmp_path, monkeypatch, capsys):
    assert RunConfig(gan="gan", dataset="ring8").logging.tensorboard is False  # off by default
    for module in ("tensorboard", "torch.utils.tensorboard"):  # as if never installed: importing it fails
        monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(ConfigError, match=re.escape(MISSING)):
        trainer(tmp_path / "run", gan="gan", **TENSORBOARD)
    config = tmp_path / "run.toml"
    config.write_text(f'gan = "gan"\ndataset = "ring8"\nout_dir = "{tmp_path / "cli"}"\n[logging]\ntensorboard = true\n')
    assert main(["train", str(config), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err == f"ganzoo: error: {MISSING}\n" and not (tmp_path / "cli").exists()
