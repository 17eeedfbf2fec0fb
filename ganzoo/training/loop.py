"""The step loop: one run, or several seeds of one run trained together (:mod:`ganzoo.training.seeds`)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from tqdm.auto import tqdm

from ganzoo.errors import CheckpointError, GanzooError, TrainingDiverged

if TYPE_CHECKING:
    from ganzoo.training.trainer import Trainer


def train_runs(runs: Sequence[Trainer], advance: Callable[[], None]) -> list[tuple[Trainer, TrainingDiverged]]:
    """Step ``runs`` (all at the same step) with ``advance`` to their last step, writing each run's statistics,
    checkpoints, pictures and evaluations as they fall due. A run whose training diverges leaves the loop, and
    is returned with its error; the others go on. A Ctrl-C stops after the step in progress, and a data error before
    the next: either way each run keeps the steps it trained since its last checkpoint."""
    lead = runs[0]
    started = time.time()
    label = lead.run_dir.name + (f" and {len(runs) - 1} more seeds" if len(runs) > 1 else "")
    bar = tqdm(total=lead.config.steps, initial=lead.step, desc=label, unit="step",
               disable=None if lead.progress else True, dynamic_ncols=True, leave=False)
    active, diverged = list(runs), []

    def outputs(resumed: bool = False) -> None:
        for run in list(active):
            try:
                if resumed:
                    run.resume_outputs()
                run._outputs(started, bar)
            except TrainingDiverged as exc:
                active.remove(run)
                diverged.append((run, exc))

    try:
        if lead.step > 0:  # resumed: what a stop right after the checkpoint left undone at this step
            outputs(resumed=True)
        while active and lead.step < lead.config.steps:
            with lead.interrupts.deferred():  # Ctrl-C inside a step stops after it: see InterruptGuard
                advance()
            bar.update(1)
            outputs()
    except CheckpointError:
        raise  # a checkpoint that cannot be written: keep the last one
    except (KeyboardInterrupt, GanzooError):  # Ctrl-C, or an unreadable image drawn mid-run
        for run in active:
            run.save_on_stop(started)
        raise
    finally:
        bar.close()
    return diverged
