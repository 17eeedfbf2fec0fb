"""Interrupts, failures and the user's files: an interrupt saves only a completed step and a resume repeats the
uninterrupted run bit for bit (at the same thread count); a run never writes into a folder that is not its own;
a run failing before its first checkpoint leaves nothing behind; a checkpoint that cannot be written keeps the
previous one."""

from __future__ import annotations

import os
import random
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from ganzoo.errors import CheckpointError, DamagedRecordWarning, GanzooError, RunDirError
from ganzoo.run import rundir
from ganzoo.testing import trainer as make_trainer
from ganzoo.training.checkpoint import load_checkpoint
from ganzoo.training.trainer import Trainer

# A short run that logs, checkpoints, draws and evaluates at intervals that do not line up, so an interrupt
# lands between each pair of them somewhere.
RUN = {"gan": "gan", "steps": 9, "batch_size": 16, "log_every": 2, "checkpoint_every": 4, "sample_every": 5,
       "eval_every": 3, "metrics": {"num_generated": 64}}


def outcome(run: Trainer) -> dict:
    """Everything a finished run leaves that must not depend on where it was interrupted."""
    folder = run.run_dir
    return {
        "tensors": {f"{part}/{key}": value for part, tensors in load_checkpoint(folder / rundir.LAST_CHECKPOINT)
                    .tensors.items() for key, value in tensors.items()},
        "stats": [{k: v for k, v in r.items() if k != "seconds"} for r in rundir.read_jsonl(folder / rundir.STATS)],
        "metrics": [{k: v for k, v in r.items() if k != "time"} for r in rundir.read_jsonl(folder / rundir.METRICS)],
        "pictures": sorted(path.name for path in (folder / "samples").iterdir()),
    }


def assert_same(a: dict, b: dict) -> None:
    assert a["tensors"].keys() == b["tensors"].keys()
    for key, value in a["tensors"].items():
        assert torch.equal(value, b["tensors"][key]), key
    assert (a["stats"], a["metrics"], a["pictures"]) == (b["stats"], b["metrics"], b["pictures"])


def interrupt_at_call(k: int):
    """A trace function sending SIGINT to this process as the k-th Python function call starts: a Ctrl-C at an
    arbitrary point of the run's code."""
    calls = 0

    def trace(frame, event, arg):
        nonlocal calls
        calls += 1
        if calls == k:
            sys.settrace(None)
            signal.raise_signal(signal.SIGINT)
        return None

    return trace


def traced_fit(run: Trainer, trace) -> None:
    sys.settrace(trace)
    try:
        run.fit()
    finally:
        sys.settrace(None)


def test_ctrl_c_at_random_moments_then_resume_ends_bit_identical(tmp_path):
    make_trainer(tmp_path / "warm-up", **RUN).fit()  # first-use work (matplotlib's font cache) is done here
    straight = make_trainer(tmp_path / "straight", **RUN)
    calls = 0

    def count(frame, event, arg):
        nonlocal calls
        calls += 1

    traced_fit(straight, count)
    expected = outcome(straight)
    moments = sorted(random.Random(0).sample(range(1, calls), 8))
    for moment in moments:
        folder = tmp_path / f"stopped-at-{moment}"
        with pytest.raises(KeyboardInterrupt):
            traced_fit(make_trainer(folder, **RUN), interrupt_at_call(moment))
        resumed = make_trainer(folder, **RUN)
        resumed.fit(resume=True)
        assert_same(outcome(resumed), expected)


def ctrl_c_in_step(run: Trainer, step: int, times: int = 1) -> Trainer:
    """``run``, sent SIGINT ``times`` times inside training step ``step`` (counted from 1), after its
    discriminator's update: half-way through the step."""
    loss = run.objective.generator_loss

    def interrupted(fake_scores):
        if run.step == step - 1:
            for _ in range(times):
                signal.raise_signal(signal.SIGINT)
        return loss(fake_scores)

    run.objective.generator_loss = interrupted
    return run


def test_a_sigint_inside_a_step_finishes_that_step_and_saves_it(tmp_path):
    straight = make_trainer(tmp_path / "straight", **RUN)
    straight.fit()
    run = ctrl_c_in_step(make_trainer(tmp_path / "stopped", **RUN), 6)
    with pytest.raises(KeyboardInterrupt):
        run.fit()
    assert load_checkpoint(run.run_dir / rundir.LAST_CHECKPOINT).step == 6
    resumed = make_trainer(tmp_path / "stopped", **RUN)
    resumed.fit(resume=True)
    assert_same(outcome(resumed), outcome(straight))


def test_a_second_sigint_stops_at_once_and_saves_nothing_of_that_step(tmp_path):
    run = ctrl_c_in_step(make_trainer(tmp_path, **RUN), 6, times=2)
    with pytest.raises(KeyboardInterrupt):
        run.fit()
    assert load_checkpoint(run.run_dir / rundir.LAST_CHECKPOINT).step == 4
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_the_first_record_after_a_resume_averages_the_same_steps(tmp_path):
    settings = {**RUN, "log_every": 4, "checkpoint_every": 100, "eval_every": 0, "sample_every": 0}
    straight = make_trainer(tmp_path / "straight", **settings)
    straight.fit()
    run = make_trainer(tmp_path / "stopped", **settings)
    step = run.train_step

    def stop_after_step_six():
        if run.step == 6:
            raise KeyboardInterrupt
        step()

    run.train_step = stop_after_step_six  # type: ignore[method-assign]
    with pytest.raises(KeyboardInterrupt):
        run.fit()
    resumed = make_trainer(tmp_path / "stopped", **settings)
    resumed.fit(resume=True)
    records = [outcome(r)["stats"] for r in (straight, resumed)]
    assert [r["step"] for r in records[0]] == [4, 8, 9] and records[0] == records[1]


@pytest.mark.slow
def test_sigint_to_the_command_at_random_moments_then_resume_ends_bit_identical(tmp_path):
    config = tmp_path / "run.toml"
    config.write_text('gan = "gan"\ndataset = "ring8"\nsteps = 300\nbatch_size = 16\nlog_every = 7\n'
                      'checkpoint_every = 50\nsample_every = 0\neval_every = 0\ndevice = "cpu"\n')
    command = [sys.executable, "-m", "ganzoo", "train", str(config), "--quiet"]
    straight = subprocess.run([*command, "--set", f"out_dir='{tmp_path / 'straight'}'"], capture_output=True,
                              text=True, env=_threads(1))
    assert straight.returncode == 0, straight.stderr
    expected = load_checkpoint(tmp_path / "straight" / rundir.LAST_CHECKPOINT)
    for attempt, delay in enumerate((2.0, 4.0, 6.0)):
        out = tmp_path / f"stopped-{attempt}"
        argv = [*command, "--set", f"out_dir='{out}'", "--resume"]
        process = subprocess.Popen(argv, stderr=subprocess.PIPE, text=True, env=_threads(1))
        time.sleep(delay)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=120)
        assert "Traceback" not in stderr and sum(line.startswith("ganzoo:") for line in stderr.splitlines()) <= 1
        # 130, or killed by SIGINT (-2, which a shell shows as 130 too): CPython ends that way when a Ctrl-C
        # passed through code a C extension ran while importing, however the program handled it afterwards
        assert process.returncode in (0, 130, -signal.SIGINT), stderr
        resumed = subprocess.run(argv, capture_output=True, text=True, env=_threads(1))
        assert resumed.returncode == 0, resumed.stderr
        final = load_checkpoint(out / rundir.LAST_CHECKPOINT)
        assert final.step == expected.step
        for part, tensors in expected.tensors.items():
            for key, value in tensors.items():
                assert torch.equal(value, final.tensors[part][key]), f"{part}/{key}"


def _threads(count: int) -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": str(count), "MKL_NUM_THREADS": str(count)}


@pytest.mark.parametrize("delay", [0.05, 0.3, 1.0])
def test_ctrl_c_while_the_command_starts_is_one_line(delay):
    process = subprocess.Popen([sys.executable, "-c", "import sys; from ganzoo.cli import main; "
                                "sys.exit(main(['list']))"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True)
    time.sleep(delay)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    if process.returncode == 0:  # finished before the signal came
        return
    if "init_import_site" in stderr:  # came while the interpreter was still starting, before any of ganzoo's code
        return
    assert process.returncode in (130, -signal.SIGINT) and stderr.strip().startswith("ganzoo: interrupted"), stderr
    assert len(stderr.strip().splitlines()) == 1, stderr


def test_a_folder_that_is_not_a_run_is_refused_and_left_as_it_was(tmp_path):
    folder = tmp_path / "mine"
    (folder / "samples").mkdir(parents=True)
    (folder / "provenance.json").write_text("my notes\n")
    (folder / "samples" / "step-0000020.png").write_bytes(b"my picture")
    for resume in (False, True):
        with pytest.raises(RunDirError, match="is not empty .* holds no ganzoo run"):
            make_trainer(folder, gan="gan").fit(resume=resume)
    assert (folder / "provenance.json").read_text() == "my notes\n"
    assert (folder / "samples" / "step-0000020.png").read_bytes() == b"my picture"
    assert sorted(p.name for p in folder.rglob("*")) == ["provenance.json", "samples", "step-0000020.png"]


def fail_at_step(run: Trainer, step: int) -> Trainer:
    """``run``, its discriminator loss raising inside training step ``step`` (counted from 1)."""
    loss = run.objective.discriminator_loss

    def failing(real_scores, fake_scores):
        if run.step == step - 1:
            raise ValueError("boom")
        return loss(real_scores, fake_scores)

    run.objective.discriminator_loss = failing
    return run


@pytest.mark.parametrize("existing", [False, True])
def test_a_run_failing_before_its_first_checkpoint_leaves_the_folder_for_the_corrected_rerun(tmp_path, existing):
    folder = tmp_path / "runs" / "mine"
    if existing:
        folder.mkdir(parents=True)
    run = fail_at_step(make_trainer(folder, gan="gan", log_every=1), 3)
    with pytest.raises(GanzooError, match="training step 3"):
        run.fit()
    assert folder.is_dir() == existing and not any(folder.iterdir() if existing else ())
    assert not (tmp_path / "runs").exists() or existing
    make_trainer(folder, gan="gan", batch_size=8).fit()  # the corrected run, in the same folder
    assert load_checkpoint(folder / rundir.LAST_CHECKPOINT).step == 20


def test_a_run_failing_after_a_checkpoint_keeps_it(tmp_path):
    run = fail_at_step(make_trainer(tmp_path, gan="gan"), 15)
    with pytest.raises(GanzooError, match="training step 15"):
        run.fit()
    assert load_checkpoint(run.run_dir / rundir.LAST_CHECKPOINT).step == 10
    assert (run.run_dir / rundir.CONFIG).is_file()


def _limit_file_size(size: int):
    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the write fails with EFBIG instead of killing the process
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
    return limit


def test_a_checkpoint_that_cannot_be_written_is_one_line_and_keeps_the_previous_one(tmp_path):
    config = tmp_path / "run.toml"
    config.write_text(f'gan = "gan"\ndataset = "ring8"\nsteps = 4\nbatch_size = 8\ncheckpoint_every = 2\n'
                      f'sample_every = 0\neval_every = 0\ndevice = "cpu"\nout_dir = "{tmp_path / "run"}"\n')
    command = [sys.executable, "-m", "ganzoo", "train", str(config), "--quiet"]
    first = subprocess.run([*command, "--set", "steps=2"], capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    checkpoint = tmp_path / "run" / rundir.LAST_CHECKPOINT
    before = checkpoint.read_bytes()
    full = subprocess.run([*command, "--resume"], capture_output=True, text=True,
                          preexec_fn=_limit_file_size(len(before) // 2))
    assert full.returncode == 2, full.stderr
    lines = full.stderr.strip().splitlines()
    assert len(lines) == 1 and "could not write" in lines[0] and "previous checkpoint is kept" in lines[0], lines
    assert checkpoint.read_bytes() == before and not list(checkpoint.parent.glob("*.partial"))
    again = subprocess.run([*command, "--resume"], capture_output=True, text=True)  # room again: it goes on
    assert again.returncode == 0, again.stderr
    assert load_checkpoint(checkpoint).step == 4


def test_checkpoints_reach_the_disk_before_they_replace_the_last(tmp_path, monkeypatch):
    order: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: (order.append("fsync"), real_fsync(fd))[1])
    monkeypatch.setattr(os, "replace", lambda a, b: (order.append(f"replace {Path(b).name}"), real_replace(a, b))[1])
    make_trainer(tmp_path, gan="gan", steps=10).save()
    assert order == ["fsync", "replace last.safetensors", "fsync"]


def test_a_checkpoint_whose_data_description_differs_from_the_data_is_refused(tmp_path):
    from safetensors import safe_open
    from safetensors.torch import save_file

    run = make_trainer(tmp_path, gan="gan", steps=2)
    run.fit()
    path = run.run_dir / rundir.LAST_CHECKPOINT
    with safe_open(str(path), framework="pt") as handle:
        metadata = handle.metadata()
        tensors = {key: handle.get_tensor(key) for key in handle.keys()}
    metadata["data_info"] = '{"shape": [3], "num_classes": null, "class_names": null}'
    save_file(tensors, str(path), metadata=metadata)
    with pytest.raises(CheckpointError, match=r"trained on data of shape \(3,\).*now gives shape \(2,\)"):
        make_trainer(tmp_path, gan="gan", steps=4).fit(resume=True)
    assert load_checkpoint(path).step == 2


def test_a_record_appended_after_a_line_cut_short_stays_readable(tmp_path):
    log = tmp_path / "metrics.jsonl"
    log.write_text('{"step": 1}\n{"step": 3, "x": 1')  # a crash cut the last line short
    rundir.append_jsonl(log, {"step": 4})
    with pytest.warns(DamagedRecordWarning, match="line 2: damaged record skipped"):
        assert rundir.read_jsonl(log) == [{"step": 1}, {"step": 4}]


def test_a_run_that_diverged_before_its_first_checkpoint_says_what_to_do(tmp_path):
    run = make_trainer(tmp_path, gan="gan", log_every=2, optimizer_d={"lr": 1e30}, optimizer_g={"lr": 1e30})
    with pytest.raises(GanzooError, match="training diverged"):
        run.fit()
    with pytest.raises(RunDirError, match="diverged at step .* before its first checkpoint: nothing there can be "
                                          "resumed, so delete that folder or set out_dir to a new directory"):
        make_trainer(tmp_path, gan="gan").fit()


def test_a_new_run_stopped_while_claiming_its_folder_leaves_nothing(tmp_path, monkeypatch):
    run = make_trainer(tmp_path / "new" / "run", gan="gan")
    write = run._write_run_files

    def written_then_ctrl_c():
        write()
        raise KeyboardInterrupt

    monkeypatch.setattr(run, "_write_run_files", written_then_ctrl_c)
    with pytest.raises(KeyboardInterrupt):
        run.prepare()  # as `ganzoo train` calls it, before fit
    assert not (tmp_path / "new").exists()


def test_a_run_in_use_by_another_trainer_is_refused_until_it_is_done(tmp_path):
    first = make_trainer(tmp_path, gan="gan", steps=4)
    first.prepare()
    with pytest.raises(RunDirError, match="in use by another ganzoo process"):
        make_trainer(tmp_path, gan="gan", steps=4).fit(resume=True)
    first.fit()
    again = make_trainer(tmp_path, gan="gan", steps=6)
    again.fit(resume=True)  # the lock went with the first run: the run goes on
    assert again.step == 6


def test_two_benches_on_one_folder_train_each_run_once_and_agree(tmp_path):
    argv = [sys.executable, "-m", "ganzoo", "bench", "toy", "--steps", "30", "--gans", "gan", "--out",
            str(tmp_path / "bench"), "--device", "cpu"]
    benches = [subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [bench.communicate(timeout=300) for bench in benches]
    assert [bench.returncode for bench in benches] == [0, 0], outputs
    records = rundir.read_jsonl(tmp_path / "bench" / "results.jsonl")
    assert sorted(r["dataset"] for r in records) == ["grid25", "ring8"]
    for record in records:
        steps = [r["step"] for r in rundir.read_jsonl(Path(record["run_dir"]) / rundir.STATS)]
        assert steps == sorted(set(steps)) and steps[-1] == 30  # trained once: no step logged twice
    assert not list((tmp_path / "bench").glob("*.partial"))
