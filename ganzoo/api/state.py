"""State that a plugin object keeps across steps, saved in checkpoints and restored on resume."""

from __future__ import annotations

import torch


class Stateful:
    """Objectives, algorithms and augmentations derive from this.

    Override both methods when the object keeps anything that changes during
    training (a running mean, an adaptive probability, a step counter): the
    runner saves ``state_dict()`` in every checkpoint and hands it back to
    ``load_state_dict`` on resume, so a resumed run goes on exactly as an
    uninterrupted one. State is tensors only (a number is a 0-d tensor), as
    checkpoints are safetensors files: nothing is pickled.
    """

    def state_dict(self) -> dict[str, torch.Tensor]:
        """The object's state as named tensors; empty for objects without state."""
        return {}

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        """Restore what :meth:`state_dict` returned; raise ``ValueError`` for state that does not fit."""
        if state:
            raise ValueError(f"{type(self).__name__} keeps no state, but was given {', '.join(sorted(state))}")
