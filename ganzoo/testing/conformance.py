"""Conformance checks: what every contribution of a plugin distribution must do, run through the real runner.

``checks_for("ganzoo-mine")`` lists the checks of an installed distribution;
each runs in a folder of its own and raises on failure (``Skipped`` when it
cannot apply). A plugin's pytest suite turns them all on with one line,
``test_conformance = conformance_tests("ganzoo-mine")``, and
``ganzoo plugin check ganzoo-mine`` prints them as a table.

For each contribution:

- GAN, for every data description in ``serves``, built with its
  ``test_options``: it builds and its networks fit the data (the runner's own
  shape checks), the generator's images lie in [-1, 1]; with its default
  objective, the discriminator's loss falls on a fixed batch; a run trains,
  checkpoints and resumes, and a few steps later every network, optimizer,
  plugin state and statistic equals the uninterrupted run's.
- objective, algorithm, augmentation: the same run checks with the kit's MLP
  pair (or, for an objective or algorithm, a GAN of its own distribution that
  defaults to it); an augmentation keeps shapes and passes gradients.
- data set: it builds with its default options (or is skipped, saying why) and
  its samples have the shape and range it declares.
- metric suite: it builds, and measures a generator of data it applies to.
- every spec: a citation, and options that have defaults and refuse unknown keys.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from pydantic import ValidationError

from ganzoo.api.algorithm import ScoreLayout
from ganzoo.api.objective import StepContext
from ganzoo.api.prior import generate
from ganzoo.api.specs import DataInfo, LoadedData
from ganzoo.errors import GanzooError, UnknownNameError
from ganzoo.registry.discovery import PluginRecord, Zoo
from ganzoo.run.config import resolve_config
from ganzoo.testing import kit
from ganzoo.training.trainer import DIVERGING, Trainer

UPDATES = 5  # discriminator updates on a fixed batch
STEPS = 2  # training steps before a checkpoint is taken and resumed
AFTER = 3  # steps after it, in the resumed run and the uninterrupted one


class Skipped(Exception):
    """The check does not apply; the message says why."""


@dataclass(frozen=True)
class Check:
    """One conformance check: ``run(folder)`` returns a short note, raises on failure, ``Skipped`` to skip."""

    id: str
    run: Callable[[Path], str]


def checks_for(distribution: str, zoo: Zoo | None = None) -> list[Check]:
    """The checks of every contribution of ``distribution`` (its name, or the name of its entry point)."""
    zoo = zoo or kit.kit_zoo()
    record = _record(zoo, distribution)
    checks = [Check(f"{record.source.distribution}-loads", lambda folder: _loaded(record))]
    makers: dict[str, Callable[[Zoo, str, PluginRecord], list[Check]]] = {
        "gans": _gan_checks, "objectives": _objective_checks, "algorithms": _algorithm_checks,
        "augmentations": _augmentation_checks, "datasets": _dataset_checks, "metrics": _metric_checks,
        "suites": _suite_checks}
    for kind, names in record.contributes.items():
        for name in names:
            if kind != "suites":  # a suite is a data file: it has no options or citation of its own to declare
                checks.append(Check(f"{kind[:-1]}[{name}]-declaration", _declaration_check(zoo, kind, name)))
            checks += makers[kind](zoo, name, record)
    return checks


def _record(zoo: Zoo, distribution: str) -> PluginRecord:
    wanted = distribution.lower().replace("_", "-")
    for record in zoo.records:
        if wanted in (record.source.distribution.lower().replace("_", "-"), record.source.plugin):
            return record
    installed = sorted({r.source.distribution for r in zoo.records if r.source.plugin != "ganzoo.testing"})
    raise GanzooError(f"no installed plugin distribution '{distribution}' (installed: {', '.join(installed)})")


def _loaded(record: PluginRecord) -> str:
    if record.errors:
        raise AssertionError("; ".join(record.errors))
    return ", ".join(f"{kind}: {', '.join(names)}" for kind, names in record.contributes.items()) or "nothing"


def _declaration_check(zoo: Zoo, kind: str, name: str) -> Callable[[Path], str]:
    def check(folder: Path) -> str:
        spec = zoo.registry(kind).get(name)
        assert spec.citation.strip(), "the spec has no citation: say what to cite (paper, or author and year)"
        try:
            spec.options.model_validate({"surely-not-an-option": 1})
        except ValidationError as exc:
            if not any(error["type"] == "extra_forbidden" for error in exc.errors()):
                raise AssertionError("its options accept unknown keys; derive them from ganzoo.Options") from None
        else:
            raise AssertionError("its options accept unknown keys; derive them from ganzoo.Options")
        required = [name for name, field in spec.options.model_fields.items() if field.is_required()]
        return "citation; options refuse unknown keys" + (f"; required: {', '.join(required)}" if required else "")
    return check


# -- runs ----------------------------------------------------------------------


def _trainer(zoo: Zoo, folder: Path, **config: Any) -> Trainer:
    raw = {"dataset": kit.DATA, "steps": STEPS + AFTER, "log_every": 1, "sample_every": 0, "eval_every": 0,
           "checkpoint_every": 1000, "device": "cpu", "out_dir": str(folder), "metrics": {"suites": []}, **config}
    return Trainer(resolve_config(raw, zoo, "conformance check"), zoo, progress=False)


def _data_config(info: DataInfo) -> dict[str, Any]:
    return {"dataset_options": {"shape": list(info.shape), "classes": info.num_classes},
            "conditional": info.conditional}


def _label(info: DataInfo) -> str:
    shape = "(" + ",".join(str(side) for side in info.shape) + ("," if len(info.shape) == 1 else "") + ")"
    return shape + (f"-conditional{info.num_classes}" if info.conditional else "")


def _batch_size(zoo: Zoo, gan: str, info: DataInfo) -> int:
    """Four packs of the GAN's widest pack: small enough for a CPU, a multiple of every pack."""
    spec = zoo.gans.get(gan)
    built = spec.build(info, 8, spec.options.model_validate(dict(spec.test_options)))
    modules = built.values() if isinstance(built, dict) else built
    return 4 * math.lcm(*(ScoreLayout.of(module).pack for module in modules))


def _resumes_bit_for_bit(make: Callable[[Path], Trainer], folder: Path) -> str:
    """Train, save, restore into a fresh trainer, then take ``AFTER`` more steps in both: every network,
    optimizer and plugin state, and every statistic reported, must agree with the uninterrupted run."""
    first = make(folder)
    first.prepare()
    for _ in range(STEPS):
        first.train_step()
    first.save()
    second = make(folder)
    second.restore(folder / "checkpoints" / "last.safetensors")
    shared = torch.get_rng_state()  # both continue from the global generator's saved state
    for trainer in (first, second):
        torch.set_rng_state(shared)
        for _ in range(AFTER):
            trainer.train_step()
    parts: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
        "network": (first.networks, second.networks), "state": (first.plugin_states(), second.plugin_states()),
        "optimizer": ({k: v.state_dict()["state"] for k, v in first.optimizers.items()},
                      {k: v.state_dict()["state"] for k, v in second.optimizers.items()})}
    for kind, (straight, resumed) in parts.items():
        for name in straight:
            for key, a, b in _leaves(straight[name], resumed[name]):
                assert _equal(a, b), f"after resuming, {kind} {name} ({key}) differs from the uninterrupted run"
    means, again = first.statistics.means(), second.statistics.means()
    assert set(means) == set(again) and all(
        means[key] == again[key] or math.isnan(means[key]) and math.isnan(again[key]) for key in means), \
        "after resuming, the reported statistics differ"
    broken = [key for key, value in means.items() if not math.isfinite(value) and key.startswith(DIVERGING)]
    assert not broken, f"statistics not finite: {', '.join(broken)}"
    return f"{STEPS} steps, checkpoint, {AFTER} more steps: networks, optimizers and state resumed bit for bit"


def _leaves(a: Any, b: Any, key: str = "") -> list[tuple[str, Any, Any]]:
    """Pairs of matching leaves of two nested state dicts (modules' state_dicts included)."""
    if isinstance(a, torch.nn.Module):
        a, b = a.state_dict(), b.state_dict()
    if isinstance(a, dict):
        assert isinstance(b, dict) and set(a) == set(b), f"{key or 'state'} has different keys after resuming"
        return [leaf for k in a for leaf in _leaves(a[k], b[k], f"{key}.{k}" if key else str(k))]
    return [(key, a, b)]


def _equal(a: Any, b: Any) -> bool:
    return torch.equal(a, b) if isinstance(a, torch.Tensor) else bool(a == b)


def _updates_every_network(make: Callable[[Path], Trainer], folder: Path) -> str:
    trainer = make(folder)
    trainer.prepare()
    before = {name: [p.detach().clone() for p in network.parameters()] for name, network in trainer.networks.items()}
    trainer.train_step()
    trained = [name for members in trainer.algorithm.optimizers.values() for name in members]
    for name in trained:
        after = list(trainer.networks[name].parameters())
        assert any(not torch.equal(a, b) for a, b in zip(before[name], after)), f"one step left {name} unchanged"
    return f"one step changed {', '.join(trained)}"


def _discriminator_learns(make: Callable[[Path], Trainer], folder: Path) -> str:
    """With the run's objective, ``UPDATES`` updates on one fixed batch lower the discriminator's loss."""
    trainer = make(folder)
    if "d" not in trainer.optimizers or "discriminator" not in trainer.networks:
        raise Skipped(f"algorithm '{trainer.plan.algorithm.name}' has no discriminator optimizer 'd'")
    step, objective, critic = trainer.services, trainer.objective, trainer.networks["discriminator"]
    real = step.real()
    with torch.no_grad():
        fake = step.generate()
    objective.after_discriminator_step(critic)  # start where the objective keeps D (weight clipping)

    def loss() -> torch.Tensor:
        torch.manual_seed(0)  # the same dropout masks and penalty draws at every evaluation
        ctx = StepContext(step, "discriminator", fake, step.discriminate(fake.samples, fake.labels), real,
                          step.discriminate(real.samples, real.labels))
        penalty = objective.d_penalty(ctx) if objective.d_penalty_every == 1 else None
        total = objective.d_loss(ctx)
        return total if penalty is None else total + penalty

    before = loss().item()
    for _ in range(UPDATES):
        step.optimize("d", loss())
        objective.after_discriminator_step(critic)
    after = loss().item()
    assert after < before, (f"the discriminator's loss on a fixed batch went from {before:.6g} to {after:.6g} "
                            f"after {UPDATES} updates; it should fall")
    return f"loss {before:.4g} -> {after:.4g} in {UPDATES} updates"


# -- per kind ------------------------------------------------------------------


def _gan_checks(zoo: Zoo, name: str, record: PluginRecord) -> list[Check]:
    checks = []
    for info in zoo.gans.get(name).serves:
        make = functools.partial(_gan_trainer, zoo, name, info)
        label = f"gan[{name}]-{_label(info)}"
        checks += [Check(f"{label}-builds", functools.partial(_gan_builds, make, info)),
                   Check(f"{label}-discriminator-learns", functools.partial(_discriminator_learns, make)),
                   Check(f"{label}-trains-and-resumes", functools.partial(_resumes_bit_for_bit, make))]
    return checks


def _gan_trainer(zoo: Zoo, name: str, info: DataInfo, folder: Path, **config: Any) -> Trainer:
    """A run of GAN ``name`` at its test options, on synthetic data of ``info``."""
    return _trainer(zoo, folder, gan=name, batch_size=_batch_size(zoo, name, info),
                    gan_options=dict(zoo.gans.get(name).test_options), **_data_config(info), **config)


def _own_gan(zoo: Zoo, record: PluginRecord, role: str, name: str) -> str | None:
    """A GAN of the same distribution whose default ``role`` (objective, algorithm) is ``name``."""
    own = [gan for gan in record.contributes.get("gans", []) if getattr(zoo.gans.get(gan), f"default_{role}") == name]
    return own[0] if own else None


def _gan_builds(make: Callable[[Path], Trainer], info: DataInfo, folder: Path) -> str:
    trainer = make(folder)
    if trainer.generator is None:
        return "networks fit the data; no generator to sample"
    samples = generate(trainer.generator, trainer.prior, 8, seed=0)
    assert torch.isfinite(samples).all(), "the generator gives values that are not finite"
    if info.is_image:
        assert samples.abs().max() <= 1 + 1e-6, "generated images leave [-1, 1]: end G in tanh"
    return f"networks fit {info.shape}; samples in range"


def _objective_checks(zoo: Zoo, name: str, record: PluginRecord) -> list[Check]:
    """Run with a GAN of the same distribution made for the objective, if there is one (an objective may need
    its own networks: a path-length penalty a mapping network), else with the kit's MLP pair."""
    own = _own_gan(zoo, record, "objective", name)

    def make(folder: Path) -> Trainer:
        if own is not None:
            return _gan_trainer(zoo, own, zoo.gans.get(own).serves[0], folder, objective=name)
        return _trainer(zoo, folder, gan=kit.MLP, objective=name, batch_size=16)

    return [Check(f"objective[{name}]-discriminator-learns", functools.partial(_discriminator_learns, make)),
            Check(f"objective[{name}]-trains-and-resumes", lambda folder: _resumes_bit_for_bit(make, folder))]


def _algorithm_checks(zoo: Zoo, name: str, record: PluginRecord) -> list[Check]:
    own = _own_gan(zoo, record, "algorithm", name)

    def make(folder: Path) -> Trainer:
        if own is not None:
            return _gan_trainer(zoo, own, zoo.gans.get(own).serves[0], folder, algorithm=name)
        return _trainer(zoo, folder, gan=kit.MLP, algorithm=name, objective=kit.OBJECTIVE,
                        batch_size=_batch_size(zoo, kit.MLP, zoo.gans.get(kit.MLP).serves[0]),
                        **_data_config(zoo.gans.get(kit.MLP).serves[0]))

    return [Check(f"algorithm[{name}]-updates-every-network", functools.partial(_updates_every_network, make)),
            Check(f"algorithm[{name}]-trains-and-resumes", lambda folder: _resumes_bit_for_bit(make, folder))]


def _augmentation_checks(zoo: Zoo, name: str, record: PluginRecord) -> list[Check]:
    served = zoo.augmentations.get(name).serves  # each data description it claims, as a GAN's serves

    def make(folder: Path, info: DataInfo = served[0]) -> Trainer:
        return _trainer(zoo, folder, gan=kit.MLP, augmentation=name, batch_size=8, **_data_config(info))

    def differentiable(info: DataInfo, folder: Path) -> str:
        augmentation = make(folder, info).augmentation
        assert augmentation is not None
        samples = (torch.rand(8, *info.shape) * 2 - 1).requires_grad_(True)
        out = augmentation(samples)
        assert out.shape == samples.shape, f"the augmentation turned {tuple(samples.shape)} into {tuple(out.shape)}"
        out.square().sum().backward()
        assert samples.grad is not None and torch.isfinite(samples.grad).all(), "no finite gradient reaches the input"
        return "shapes kept, gradients reach the samples"

    return [*(Check(f"augmentation[{name}]-differentiable-{_label(info)}", functools.partial(differentiable, info))
              for info in served),
            Check(f"augmentation[{name}]-trains-and-resumes", lambda folder: _resumes_bit_for_bit(make, folder))]


def _dataset_checks(zoo: Zoo, name: str, record: PluginRecord) -> list[Check]:
    def loads(folder: Path) -> str:
        spec = zoo.datasets.get(name)
        try:
            data = spec.build(spec.options())
        except ValidationError:
            raise Skipped("needs options set by the user (see its declaration); its own tests load it") from None
        except GanzooError as exc:  # files that are not here: the loader's own tests use small copies
            raise Skipped(f"not loadable with its default options here: {exc}") from None
        assert isinstance(data, LoadedData), f"build returned {type(data).__name__}, not ganzoo.LoadedData"
        assert len(data.samples) > 0, "the data set is empty"  # type: ignore[arg-type]
        item = data.samples[0]
        sample = item[0] if isinstance(item, (tuple, list)) else item
        assert tuple(sample.shape) == data.info.shape, f"a sample has shape {tuple(sample.shape)}, the info says " \
                                                       f"{data.info.shape}"
        if data.info.is_image:
            assert sample.abs().max() <= 1, "images must be scaled to [-1, 1]"
        return f"{len(data.samples)} samples of {data.info.shape}"  # type: ignore[arg-type]

    return [Check(f"dataset[{name}]-loads", loads)]


def _suite_checks(zoo: Zoo, name: str, record: PluginRecord) -> list[Check]:
    """The suite file is valid, and every run of every budget resolves against the installed plugins."""
    def plans(folder: Path) -> str:
        from ganzoo.bench.matrix import find_suite, plan_jobs

        suite = find_suite(name, zoo)
        try:
            counts = [f"{budget}: {len(plan_jobs(suite, budget, zoo, out=folder))} runs" for budget in suite.budgets]
        except UnknownNameError as exc:  # a suite may compare other distributions' GANs
            raise Skipped(f"needs a plugin that is not installed: {exc}") from None
        return "; ".join(counts)
    return [Check(f"suite[{name}]-plans", plans)]


def _metric_checks(zoo: Zoo, name: str, record: PluginRecord) -> list[Check]:
    """The metric measures the kit's MLP pair on the first data it applies to: ``ring8``, then small images."""
    def measures(folder: Path) -> str:
        spec = zoo.metrics.get(name)
        for data in ({"dataset": "ring8"}, _data_config(DataInfo(shape=(3, 16, 16)))):
            trainer = _trainer(zoo, folder, gan=kit.MLP, objective=kit.OBJECTIVE, batch_size=8, **data,
                               metrics={"suites": [name] if spec.applies(_loaded_data(zoo, data)) else [],
                                        "num_generated": 16})
            if trainer.measured:
                trainer.prepare()
                (result,) = trainer.evaluate()
                json.dumps(result)  # a record must be JSON
                return f"{', '.join(sorted(result['metrics']))} on {data.get('dataset', kit.DATA)}"
        raise Skipped(f"'{name}' applies neither to ring8 nor to small images; its own tests measure it")

    return [Check(f"metric[{name}]-measures", measures)]


def _loaded_data(zoo: Zoo, data: dict[str, Any]) -> LoadedData:
    spec = zoo.datasets.get(data.get("dataset", kit.DATA))
    loaded: LoadedData = spec.build(spec.options.model_validate(data.get("dataset_options", {})))
    return loaded


def conformance_tests(distribution: str) -> Callable[..., None]:
    """A pytest test running every check of ``distribution``, one test case each::

        test_conformance = conformance_tests("ganzoo-mine")
    """
    import pytest

    checks = checks_for(distribution)

    @pytest.mark.parametrize("check", checks, ids=[check.id for check in checks])
    def test_conformance(check: Check, tmp_path: Path) -> None:
        try:
            check.run(tmp_path / "run")
        except Skipped as exc:
            pytest.skip(str(exc))

    return test_conformance
