"""File-backed data read ahead by DataLoader workers: the same batches as reading in the training process, runs
that resume bit for bit, and data errors that stay one line."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from test_datasets import save_png
from test_image_runs import folder_run, make_trainer

import ganzoo
from ganzoo.errors import ConfigError, GanzooError
from ganzoo.run import rundir
from ganzoo.run.data import BatchSampler
from ganzoo.training.speed import resolve_workers


def image_folder(tmp_path, count: int = 12):
    rng = np.random.default_rng(0)
    for number in range(count):
        save_png(tmp_path / "data" / f"{number:02d}.png", rng.integers(0, 256, (8, 8, 3), dtype=np.uint8))
    return ganzoo.load_dataset("image-folder", root=tmp_path / "data", resolution=8).samples


def test_workers_hand_out_the_batches_read_in_process_whatever_the_sizes_asked_for(tmp_path):
    dataset = image_folder(tmp_path)
    here = BatchSampler(dataset, torch.device("cpu"), 7, batch_size=4)
    ahead = BatchSampler(dataset, torch.device("cpu"), 7, batch_size=4, workers=2)
    try:
        for number, size in enumerate([4, 4, 3, 4, 4, 4, 5, 4]):
            if number == 5:
                ahead.settle()  # as before a checkpoint: the stream goes back to the batches handed out
                assert torch.equal(ahead.rng.get_state(), here.rng.get_state())
            (mine, _), (theirs, _) = here.next(size), ahead.next(size)
            assert theirs.shape == (size, 3, 8, 8) and torch.equal(mine, theirs)
        assert len(ahead.ahead) > 0  # the workers were reading ahead
        ahead.settle()
        assert torch.equal(ahead.rng.get_state(), here.rng.get_state())
    finally:
        ahead.close()


def test_in_memory_data_never_starts_workers(tmp_path):
    points = torch.utils.data.TensorDataset(torch.randn(10, 2))
    sampler = BatchSampler(points, torch.device("cpu"), 0, batch_size=4, workers=2)
    assert sampler.workers == 0 and sampler.next(4)[0].shape == (4, 2) and sampler.loader is None


def test_a_run_read_by_workers_resumes_bit_for_bit_and_equals_one_read_in_process(tmp_path):
    workers = {"speed": {"data_workers": 2}}
    straight = make_trainer(folder_run(tmp_path / "a", steps=6, checkpoint_every=3, **workers))
    straight.fit()
    make_trainer(folder_run(tmp_path / "b", steps=3, checkpoint_every=3, **workers)).fit()
    resumed = make_trainer(folder_run(tmp_path / "b", steps=6, checkpoint_every=3, **workers))
    resumed.fit(resume=True)
    in_process = make_trainer(folder_run(tmp_path / "c", steps=6, checkpoint_every=3))
    in_process.fit()
    for other in (resumed, in_process):
        assert all(torch.equal(a, b) for a, b in zip(straight.generator.state_dict().values(),
                                                     other.generator.state_dict().values()))
    assert straight.batches.loader is None  # the workers stop with the run
    assert json.loads((tmp_path / "a" / "run" / rundir.PROVENANCE).read_text())["speed"]["data_workers"] == 2


def test_an_image_a_worker_cannot_read_fails_in_one_line_and_leaves_the_stream(tmp_path):
    dataset = image_folder(tmp_path, count=4)
    (tmp_path / "data" / "02.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    sampler = BatchSampler(dataset, torch.device("cpu"), 3, batch_size=4, workers=1)
    try:
        before = sampler.rng.get_state()
        with pytest.raises(GanzooError) as failure:
            for _ in range(20):  # 4 draws of 4 from 4 images: one of them reads 02.png
                before = sampler.rng.get_state() if not sampler.ahead else sampler.ahead[0]
                sampler.next(4)
        message = str(failure.value)
        assert "02.png: cannot decode image" in message and "\n" not in message and "DataLoader" not in message
        assert torch.equal(sampler.rng.get_state(), before)
    finally:
        sampler.close()


def test_the_number_of_workers_is_chosen_for_the_device():
    assert resolve_workers("auto", torch.device("cpu")) == 0  # the training process has the cores to itself
    assert resolve_workers(3, torch.device("cpu")) == 3
    assert 1 <= resolve_workers("auto", torch.device("cuda")) <= 8


def test_a_negative_number_of_workers_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="speed.data_workers"):
        make_trainer(folder_run(tmp_path, speed={"data_workers": -1}))
