"""The ``ganzoo`` command: arguments in :mod:`ganzoo.cli.main`, each sub-command in :mod:`ganzoo.cli.commands`.

This module imports nothing heavy. A Ctrl-C while torch loads is held until it has loaded (an interrupt inside
torch's own imports can leave them half done), then ends the command with one line, like a Ctrl-C at any later
moment.
"""

from __future__ import annotations

import signal
import sys
import threading

EXIT_INTERRUPTED = 130


def main(argv: list[str] | None = None) -> int:
    try:
        held = _import_holding_interrupts()
        if held:
            raise KeyboardInterrupt
        from ganzoo.cli.main import main as run

        return run(argv)
    except KeyboardInterrupt:
        print("ganzoo: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def _import_holding_interrupts() -> bool:
    """Import the sub-commands' modules (torch, matplotlib); whether a Ctrl-C came meanwhile."""
    if threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        import ganzoo.cli.commands  # noqa: F401

        return False
    came: list[int] = []
    signal.signal(signal.SIGINT, lambda signum, frame: came.append(signum))
    try:
        import ganzoo.cli.commands  # noqa: F401  (imports ganzoo.cli.main's dependencies too)
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    return bool(came)


__all__ = ["main"]
