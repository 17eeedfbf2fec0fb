"""The core's own contributions, registered through the same hooks as any plugin."""

from __future__ import annotations

from ganzoo.api.hookspecs import hookimpl
from ganzoo.datasets import IMAGE_DATASETS
from ganzoo.datasets.toy import TOY_DATASETS


@hookimpl
def register_datasets(register):
    for spec in TOY_DATASETS + IMAGE_DATASETS:
        register(spec)
