"""The ``ganzoo`` command: arguments in :mod:`ganzoo.cli.main`, each sub-command in :mod:`ganzoo.cli.commands`.

This module imports nothing heavy. A Ctrl-C while torch and matplotlib load is held until they have loaded (an
interrupt inside torch's own imports can leave them half done; a second Ctrl-C stops at once), then ends the
command with one line, like a Ctrl-C at any later moment.
"""

from __future__ import annotations

import sys

from ganzoo.interrupts import EXIT_INTERRUPTED, InterruptGuard


def main(argv: list[str] | None = None) -> int:
    try:
        with InterruptGuard().deferred():
            import ganzoo.cli.commands  # noqa: F401  (the sub-commands' modules, and ganzoo.cli.main's)
        from ganzoo.cli.main import main as run

        return run(argv)
    except KeyboardInterrupt:
        print("ganzoo: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


__all__ = ["main"]
