"""The ``ganzoo`` command: arguments in :mod:`ganzoo.cli.main`, each sub-command in :mod:`ganzoo.cli.commands`.

This module imports nothing heavy, so that a Ctrl-C while torch and the plugins load ends the command with one
line, like a Ctrl-C at any later moment.
"""

from __future__ import annotations

import sys

EXIT_INTERRUPTED = 130


def main(argv: list[str] | None = None) -> int:
    try:
        from ganzoo.cli.main import main as run

        return run(argv)
    except KeyboardInterrupt:
        print("ganzoo: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


__all__ = ["main"]
