"""Ctrl-C held until a block of work is done: a training step (so an interrupt saves a completed step), or the
loading of plugins (so a KeyboardInterrupt raised inside tells a plugin's own from the user's)."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

EXIT_INTERRUPTED = 130  # the shell's status for a command ended by SIGINT (128 + 2)

class InterruptGuard:
    """Holds a SIGINT that arrives inside a :meth:`deferred` block until the block has completed, then raises
    KeyboardInterrupt; a second Ctrl-C inside the same block raises at once (a training step is then lost, never
    saved half-done).

    Only where Python's own SIGINT handler is in place, in the main thread: a program that handles SIGINT
    itself keeps doing so, and a KeyboardInterrupt raised some other way stops the block where it is.
    """

    def __init__(self) -> None:
        self.pending = False
        self.active = False

    @property
    def signalled(self) -> bool:
        """Whether a KeyboardInterrupt may come from Ctrl-C: not while the guard holds SIGINT and none arrived
        (plugin code raised it then)."""
        return not self.active or self.pending

    @contextmanager
    def deferred(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread() or \
                signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
            yield
            return
        self.pending = False

        def hold(signum: int, frame: FrameType | None) -> None:
            if self.pending:
                raise KeyboardInterrupt
            self.pending = True

        signal.signal(signal.SIGINT, hold)
        self.active = True
        try:
            yield
        finally:
            self.active = False
            signal.signal(signal.SIGINT, signal.default_int_handler)
        if self.pending:
            raise KeyboardInterrupt
