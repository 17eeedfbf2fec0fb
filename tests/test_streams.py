"""A run's random streams (ganzoo/run/streams.py): the documented scheme, and checkpoints of earlier cores resuming
bit for bit under it."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from ganzoo.cli import main
from ganzoo.run import rundir, streams

OLD_RUN = Path(__file__).parent / "data" / "checkpoint-0.2.6"


def networks_sha256(checkpoint: Path) -> str:
    tensors = load_file(str(checkpoint))
    digest = hashlib.sha256()
    for name in sorted(tensors):
        if name.startswith(("generator/", "discriminator/")):
            digest.update(name.encode())
            digest.update(tensors[name].numpy().tobytes())
    return digest.hexdigest()


@pytest.fixture
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_a_checkpoint_of_ganzoo_0_2_6_resumes_bit_for_bit(tmp_path, one_thread):
    expected = json.loads((OLD_RUN / "expected.json").read_text())
    run = tmp_path / "run"
    shutil.copytree(OLD_RUN, run, ignore=shutil.ignore_patterns("*.md", "expected.json"))
    assert main(["train", str(run), "--resume", "--set", f"steps={expected['resumed_to_step']}", "--quiet"]) == 0
    assert networks_sha256(run / rundir.LAST_CHECKPOINT) == expected["networks_sha256"]


def test_the_streams_start_and_reseed_as_the_scheme_says():
    assert [streams.stream_seed(7, name) for name in ("noise", "batches")] == [8, 9]
    noise, batches = torch.Generator(), torch.Generator()
    saved = streams.saved_states(torch.device("cpu"), {"noise": noise, "batches": batches})
    assert set(saved) == {"torch_cpu", "noise", "batches"}
    # on another device type the saved states do not apply: each stream restarts from the step
    streams.restore_states(saved, Path("ck"), torch.device("cpu"), {"noise": noise, "batches": batches},
                           step=40, seed=7, same_device=False)
    assert torch.equal(noise.get_state(), torch.Generator().manual_seed(7 + 1 + 1000 * 40).get_state())
    assert torch.equal(batches.get_state(), torch.Generator().manual_seed(7 + 2 + 1000 * 40).get_state())


def test_a_damaged_stream_state_is_a_one_line_checkpoint_error():
    from ganzoo.errors import CheckpointError

    with pytest.raises(CheckpointError, match=r"ck: damaged random-number state \(KeyError"):
        streams.restore_states({}, Path("ck"), torch.device("cpu"), {"noise": torch.Generator()}, step=1, seed=0,
                               same_device=True)
