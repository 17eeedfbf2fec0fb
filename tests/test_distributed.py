"""Training over several processes launched by torchrun: two CPU processes with the gloo backend."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file

from ganzoo.run import rundir
from ganzoo.run.distributed import World
from ganzoo.testing import quick_config, train

HERE = Path(__file__).parent


def torchrun(*args: str, processes: int = 2) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={processes}", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=HERE,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})


def train_on_two(raw: dict, *flags: str) -> None:
    done = torchrun(str(HERE / "distributed_run.py"), json.dumps(raw), *flags)
    assert done.returncode == 0, done.stderr[-3000:]


@pytest.mark.slow
def test_two_processes_hold_the_same_weights_and_follow_one_process_with_the_same_global_batch(tmp_path):
    raw = quick_config(tmp_path / "two", gan="gan", steps=20, batch_size=32)
    train_on_two(raw)
    rank0, rank1 = (load_file(str(tmp_path / "two" / f"rank{rank}.safetensors")) for rank in (0, 1))
    assert rank0.keys() == rank1.keys() and all(torch.equal(rank0[key], rank1[key]) for key in rank0)
    with safe_open(str(tmp_path / "two" / "rank1.safetensors"), "pt") as saved:  # an algorithm's view of the batch
        assert saved.metadata() == {"batch_size": "16", "world_size": "2"}

    # one process with the same global batch draws the same samples and noise: only the order of sums differs
    torch.set_num_threads(1)
    one = train(tmp_path / "one", gan="gan", steps=20, batch_size=32)
    for name, network in one.networks.items():
        for key, value in network.state_dict().items():
            assert torch.allclose(rank0[f"{name}/{key}"], value, rtol=1e-4, atol=1e-5), (name, key)

    # rank 0 alone wrote the run: one record per log, the checkpoint, and the number of processes
    stats = rundir.read_jsonl(tmp_path / "two" / rundir.STATS)
    assert [record["step"] for record in stats] == [5, 10, 15, 20]
    provenance = json.loads((tmp_path / "two" / rundir.PROVENANCE).read_text())
    assert provenance["processes"] == 2
    # the logged means are over both ranks' shares: they follow the single process's
    for two, single in zip(stats, rundir.read_jsonl(tmp_path / "one" / rundir.STATS)):
        assert two["loss_d"] == pytest.approx(single["loss_d"], rel=1e-3)


@pytest.mark.slow
def test_a_run_started_in_one_process_resumes_in_two(tmp_path):
    torch.set_num_threads(1)
    straight = train(tmp_path / "straight", gan="gan", steps=20, batch_size=32)
    train(tmp_path / "split", gan="gan", steps=10, batch_size=32)
    train_on_two(quick_config(tmp_path / "split", gan="gan", steps=20, batch_size=32), "--resume")
    resumed = load_file(str(tmp_path / "split" / "rank1.safetensors"))
    for key, value in straight.generator.state_dict().items():
        assert torch.allclose(resumed[f"generator/{key}"], value, rtol=1e-4, atol=1e-5), key
    assert [r["step"] for r in rundir.read_jsonl(tmp_path / "split" / rundir.STATS)] == [5, 10, 15, 20]


@pytest.mark.slow
def test_a_global_batch_that_does_not_split_is_one_line_from_the_command(tmp_path):
    config = tmp_path / "run.toml"
    config.write_text(f'gan = "gan"\ndataset = "ring8"\nbatch_size = 33\ndevice = "cpu"\n'
                      f'out_dir = "{tmp_path / "run"}"\n')
    done = torchrun("-m", "ganzoo", "train", str(config))
    assert done.returncode != 0  # torchrun then reports the failed processes in its own words
    message = "ganzoo: error: batch_size 33 cannot be split over 2 processes; set a multiple of 2"
    assert done.stderr.count(message) == 2  # each process, in one line


def test_each_rank_takes_its_share_of_a_global_batch():
    world = World(rank=1, size=3)
    assert world.share(4) == slice(4, 8) and torch.arange(12)[world.share(4)].tolist() == [4, 5, 6, 7]
    assert World().per_rank(64) == 64 and world.per_rank(63) == 21
