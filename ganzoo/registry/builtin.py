"""The core's own contributions, registered through the same hooks as any plugin."""

from __future__ import annotations

from ganzoo.algorithms.alternating import ALTERNATING
from ganzoo.api.hookspecs import hookimpl
from ganzoo.api.specs import SuiteSpec
from ganzoo.api.version import PLUGIN_API
from ganzoo.bench.shipped import shipped_suites
from ganzoo.datasets import IMAGE_DATASETS
from ganzoo.datasets.toy import TOY_DATASETS
from ganzoo.datasets.unpaired import UNPAIRED_DATASETS
from ganzoo.metrics.suites import METRICS

ganzoo_plugin_api = PLUGIN_API  # the core always targets the API it provides


@hookimpl
def register_datasets(register):
    for spec in TOY_DATASETS + IMAGE_DATASETS + UNPAIRED_DATASETS:
        register(spec)


@hookimpl
def register_algorithms(register):
    register(ALTERNATING)


@hookimpl
def register_metrics(register):
    for spec in METRICS:
        register(spec)


@hookimpl
def register_suites(register):
    for name, path in shipped_suites():
        register(SuiteSpec(name, path))
