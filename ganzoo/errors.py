"""Errors a user can fix. The CLI prints each on one line and exits with status 2."""

from __future__ import annotations

# Long enough for any useful message; torch's own (a state-dict mismatch, a shape error) can run to pages.
ONE_LINE_LIMIT = 300


class GanzooError(Exception):
    """Base class: the message says what went wrong and what to do about it."""


class ConfigError(GanzooError):
    """A run config is malformed, has unknown keys or values of the wrong type."""


class UnknownNameError(GanzooError):
    """A GAN, objective, data set or other registered name that no installed plugin registered."""


class PluginError(GanzooError):
    """A plugin failed to load or register (fatal only in strict mode), or its code failed during a run."""


class CheckpointError(GanzooError):
    """A checkpoint is missing, corrupt, or does not match the model it is loaded into."""


class RunDirError(GanzooError):
    """A run directory is missing, or holds a different run than the one asked for."""


class TrainingDiverged(GanzooError):
    """A logged loss stopped being finite; the run cannot go on as configured."""

    def __init__(self, message: str, step: int):
        super().__init__(message)
        self.step = step


class DamagedRecordWarning(UserWarning):
    """A line of a run's JSON-lines log (stats.jsonl, metrics.jsonl) was damaged and skipped; the message names the
    file and the line, on one line."""


class CurvesWarning(UserWarning):
    """A run's curves.png could not be drawn (an odd value in a log, a full disk); the run goes on without it."""


class SpeedWarning(UserWarning):
    """A ``[speed]`` setting could not be applied in full (a network torch.compile cannot handle); the run goes on
    without it."""


def one_line(exc: BaseException) -> str:
    """``Type: message`` on one line: whitespace (newlines included) collapsed, cut at :data:`ONE_LINE_LIMIT`."""
    message = " ".join(str(exc).split())
    if len(message) > ONE_LINE_LIMIT:
        message = message[:ONE_LINE_LIMIT - 3].rstrip() + "..."
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__
