"""What a run shows besides its logs (:class:`RunViews`): its curves.png and, with ``[logging] tensorboard =
true``, TensorBoard event files through ``torch.utils.tensorboard``.

What goes in, under ``<run>/tensorboard/``:

- the resolved config, as text (``config``), when training starts or resumes;
- at every log interval, each statistic of stats.jsonl under its curves group (``losses/loss_d``,
  ``divergence/divergence``, ``penalties/penalty``, ``statistics/ada_p``);
- at every sample save, the picture itself (``samples``);
- at every evaluation, each number of each suite's record (``metrics/fid``, ``metrics/modes``).

A resumed run trains again the steps after its checkpoint, which the process that stopped may already have
logged: its writer starts with ``purge_step`` at the first such step, so TensorBoard hides those older events
and shows the steps once. The events of each process go to a file of their own in the same folder.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ganzoo.curves.panels import stat_group
from ganzoo.curves.series import is_number
from ganzoo.errors import ConfigError, CurvesWarning, one_line
from ganzoo.run import rundir

MISSING = ("logging.tensorboard is set but the tensorboard package is not installed: "
           "pip install 'ganzoo-core[tensorboard]'")


def summary_writer_class() -> Any:
    """torch's ``SummaryWriter``, imported only for a run that asks for it (tensorboard is an optional extra)."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        raise ConfigError(MISSING) from None
    return SummaryWriter


class TensorBoardLog:
    """One process's writer of a run's event files; only the writing rank of a run opens one."""

    def __init__(self, folder: Path, step: int):
        writer_class = summary_writer_class()
        self.writer = writer_class(str(folder), purge_step=step + 1 if step > 0 else None)

    def config(self, config_json: str, step: int) -> None:
        """The resolved config, indented so that TensorBoard's Markdown shows it as code."""
        self.writer.add_text("config", "    " + config_json.replace("\n", "\n    "), step)
        self.writer.flush()

    def statistics(self, step: int, record: Mapping[str, float | None]) -> None:
        """One log interval's means; a statistic logged as null (not finite) is left out."""
        for key, value in sorted(record.items()):
            group = stat_group(key)
            if group is not None and value is not None:
                self.writer.add_scalar(f"{group}/{key}", value, step)
        self.writer.flush()  # so that a run that stops hard loses no more of its events than of stats.jsonl

    def metrics(self, step: int, records: Iterable[dict[str, Any]]) -> None:
        """Every number of every suite's record of one evaluation."""
        for record in records:
            for key, value in sorted(record.get("metrics", {}).items()):
                if is_number(value):
                    self.writer.add_scalar(f"metrics/{key}", value, step)
        self.writer.flush()

    def picture(self, step: int, path: Path) -> None:
        """The sample picture as written (a scatter over the data, or an image grid)."""
        import numpy as np
        from PIL import Image

        with Image.open(path) as image:
            pixels = np.asarray(image.convert("RGB"))
        self.writer.add_image("samples", pixels, step, dataformats="HWC")
        self.writer.flush()

    def close(self) -> None:
        self.writer.close()


class RunViews:
    """A run's curves.png, redrawn on request, and its TensorBoard log once :meth:`open` (with ``tensorboard``)."""

    def __init__(self, run_dir: Path, *, tensorboard: bool):
        if tensorboard:
            summary_writer_class()  # a missing extra is a config error before any work, not one at the first log
        self.run_dir, self.wanted = run_dir, tensorboard
        self.log: TensorBoardLog | None = None
        self.curves_step = -1  # the step curves.png was last drawn at

    def open(self, step: int, config_json: str) -> None:
        """Start the TensorBoard log at ``step`` (a resumed run's checkpoint), if the run asked for one."""
        if self.wanted:
            self.log = TensorBoardLog(self.run_dir / rundir.TENSORBOARD, step)
            self.log.config(config_json, step)

    def statistics(self, step: int, record: Mapping[str, float | None]) -> None:
        if self.log is not None:
            self.log.statistics(step, record)

    def metrics(self, step: int, records: Iterable[dict[str, Any]]) -> None:
        if self.log is not None:
            self.log.metrics(step, records)

    def picture(self, step: int, path: Path) -> None:
        if self.log is not None:
            self.log.picture(step, path)

    def draw_curves(self, step: int) -> None:
        """``<run>/curves.png`` from the logs so far. Drawing is never worth a run: a failure is a one-line
        warning, and training goes on (a Ctrl-C while drawing still stops it, as anywhere between steps)."""
        from ganzoo import curves

        self.curves_step = step
        try:
            curves.write_run_curves(self.run_dir)
        except Exception as exc:
            warnings.warn(f"{self.run_dir / rundir.CURVES} not drawn: {one_line(exc)}", CurvesWarning, stacklevel=3)

    def close(self) -> None:
        """Close the TensorBoard log (before its folder is removed, or when the run ends); again, nothing."""
        if self.log is not None:
            self.log.close()
            self.log = None
