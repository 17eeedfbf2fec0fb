"""The step loop of one run, and the order of events in it.

Each step, :meth:`Trainer.train_step` sets the learning rates, runs the algorithm's step (its forward passes under
the run's precision, its statistics collected), updates the moving average of G and counts the step. Then
:meth:`Trainer.write_due_outputs` writes what falls due at the new step: the statistics' log line, the checkpoint,
the sample picture, the evaluation, and the curves beside the picture. The last step also gets whatever of these
is still missing (:meth:`Trainer.fit`).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from tqdm.auto import tqdm

from ganzoo.errors import CheckpointError, GanzooError, TrainingDiverged

if TYPE_CHECKING:
    from ganzoo.training.trainer import Trainer


def train_run(run: Trainer) -> None:
    """Step ``run`` to its last step, writing its statistics, checkpoints, pictures and evaluations as they fall
    due. Training that diverges raises :class:`~ganzoo.errors.TrainingDiverged`. A Ctrl-C stops after the step in
    progress, and a data error before the next: either way the run keeps the steps it trained since its last
    checkpoint."""
    started = time.time()
    bar = tqdm(total=run.config.steps, initial=run.step, desc=run.run_dir.name, unit="step",
               disable=None if run.progress else True, dynamic_ncols=True, leave=False)
    try:
        if run.step > 0:  # resumed: what a stop right after the checkpoint left undone at this step
            run.resume_outputs()
            run.write_due_outputs(started, bar)
        while run.step < run.config.steps:
            # One step; a Ctrl-C inside it stops after it (see InterruptGuard)
            with run.interrupts.deferred():
                run.train_step()
            bar.update(1)
            # What falls due at the new step
            run.write_due_outputs(started, bar)
    except (CheckpointError, TrainingDiverged):
        raise  # a checkpoint that cannot be written, or weights that are not finite: keep the last checkpoint
    except (KeyboardInterrupt, GanzooError):  # Ctrl-C, or an unreadable image drawn mid-run
        run.save_on_stop(started)
        raise
    finally:
        bar.close()
