"""The core's own contributions, registered through the same hooks as any plugin."""

from __future__ import annotations

import dataclasses

from ganzoo.algorithms.alternating import ALTERNATING
from ganzoo.api.hookspecs import hookimpl
from ganzoo.api.specs import Reference, SuiteSpec
from ganzoo.api.version import PLUGIN_API
from ganzoo.bench.shipped import shipped_suites
from ganzoo.datasets import IMAGE_DATASETS
from ganzoo.datasets.toy import TOY_DATASETS
from ganzoo.datasets.unpaired import UNPAIRED_DATASETS
from ganzoo.metrics.suites import METRICS

ganzoo_plugin_api = PLUGIN_API  # the core always targets the API it provides

# The paper of the core's algorithm (alternating is its Algorithm 1), for 'ganzoo cite'
GOODFELLOW_2014 = Reference(
    authors=("Goodfellow, Ian", "Pouget-Abadie, Jean", "Mirza, Mehdi", "Xu, Bing", "Warde-Farley, David",
             "Ozair, Sherjil", "Courville, Aaron", "Bengio, Yoshua"),
    title="Generative Adversarial Nets", venue="Advances in Neural Information Processing Systems 27", year=2014,
    arxiv="1406.2661")


@hookimpl
def register_datasets(register):
    for spec in TOY_DATASETS + IMAGE_DATASETS + UNPAIRED_DATASETS:
        register(spec)


@hookimpl
def register_algorithms(register):
    register(dataclasses.replace(ALTERNATING, references=(GOODFELLOW_2014,)))


@hookimpl
def register_metrics(register):
    for spec in METRICS:
        register(spec)


@hookimpl
def register_suites(register):
    for name, path in shipped_suites():
        register(SuiteSpec(name, path))
