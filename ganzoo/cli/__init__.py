"""The ``ganzoo`` command: arguments in :mod:`ganzoo.cli.main`, each sub-command in :mod:`ganzoo.cli.commands`."""

from ganzoo.cli.main import main

__all__ = ["main"]
