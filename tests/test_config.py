"""Config validation, defaults and their precedence, and the registries' name handling."""

from __future__ import annotations

import pytest
import torch
from pydantic import Field

from ganzoo import AlgorithmSpec, GanSpec, ObjectiveSpec, Options, hookimpl
from ganzoo.errors import ConfigError, UnknownNameError
from ganzoo.registry.discovery import Zoo
from ganzoo.registry.registry import Source
from ganzoo.run.config import load_config, parse_overrides, resolve_config
from ganzoo.run.plan import RunPlan
from ganzoo_gan.objectives import Minimax


class WidthOptions(Options):
    width: int = Field(8, gt=0)


class DefaultsPlugin:
    """A plugin object (not a module): GAN and objective defaults that disagree."""

    ganzoo_plugin_api = "2.0"

    @hookimpl
    def register_gans(self, register):
        register(GanSpec(name="opinionated", build=lambda info, z, o: None, default_objective="strict-obj",
                         citation="-", options=WidthOptions,
                         defaults={"batch_size": 11, "d_steps": 2, "optimizer_d": {"kind": "sgd", "lr": 0.5}}))

        register(GanSpec(name="with-options", build=lambda info, z, o: None, default_objective="strict-obj",
                         citation="-", defaults={"objective_options": {"gamma": 2.0}},
                         overrides={"algorithm_options": {"patience": 3}}, default_algorithm="patient"))

        register(GanSpec(name="architectural", build=lambda info, z, o: None, default_objective="strict-obj",
                         default_algorithm="patient", citation="-", defaults={"optimizer_d": {"lr": 0.3}},
                         overrides={"optimizer_d": {"lr": 0.7}, "batch_size": 13}))

    @hookimpl
    def register_algorithms(self, register):
        register(AlgorithmSpec(name="patient", build=lambda o: None, citation="-",
                               defaults={"d_steps": 9, "batch_size": 3, "steps": 7}))

    @hookimpl
    def register_objectives(self, register):
        register(ObjectiveSpec(name="strict-obj", build=lambda o: Minimax(), citation="-",
                               defaults={"d_steps": 5, "optimizer_d": {"lr": 0.05}}))
        register(ObjectiveSpec(name="plain-obj", build=lambda o: Minimax(), citation="-"))


@pytest.fixture
def zoo():
    return Zoo(autoload=False, plugins=[(DefaultsPlugin(), Source("defaults", "defaults-dist", "0.1"))])


def test_defaults_precedence_gan_then_objective_then_user(zoo):
    config = resolve_config({"gan": "opinionated", "dataset": "ring8"}, zoo)
    assert config.objective == "strict-obj"  # the GAN's own
    assert config.batch_size == 11  # GAN default
    assert config.d_steps == 5  # objective beats GAN
    assert (config.optimizer_d.kind, config.optimizer_d.lr) == ("sgd", 0.05)  # merged per key
    user = resolve_config({"gan": "opinionated", "dataset": "ring8", "d_steps": 3, "optimizer_d": {"lr": 1.0}}, zoo)
    assert (user.d_steps, user.optimizer_d.kind, user.optimizer_d.lr) == (3, "sgd", 1.0)
    plain = resolve_config({"gan": "opinionated", "objective": "plain-obj", "dataset": "ring8"}, zoo)
    assert (plain.d_steps, plain.optimizer_d.lr) == (2, 0.5)


def test_an_algorithm_s_defaults_are_lowest_and_a_gan_s_overrides_beat_the_objective(zoo):
    config = resolve_config({"gan": "architectural", "dataset": "ring8"}, zoo)
    assert config.algorithm == "patient"  # the GAN's own
    assert config.steps == 7  # the algorithm's default, set by no one else
    assert config.d_steps == 5  # the objective beats the algorithm
    assert config.batch_size == 13 and config.optimizer_d.lr == 0.7  # the GAN's overrides beat the objective's
    user = resolve_config({"gan": "architectural", "dataset": "ring8", "optimizer_d": {"lr": 1.0}}, zoo)
    assert user.optimizer_d.lr == 1.0  # and the user beats everything
    default = resolve_config({"gan": "opinionated", "dataset": "ring8"}, zoo)
    with pytest.raises(UnknownNameError, match="unknown algorithm 'patience'; did you mean 'patient'"):
        resolve_config({"gan": "opinionated", "dataset": "ring8", "algorithm": "patience"}, zoo)
    assert default.algorithm == "alternating"


def test_a_gans_options_for_its_default_objective_and_algorithm_do_not_follow_it_to_others(zoo):
    own = resolve_config({"gan": "with-options", "dataset": "ring8"}, zoo)
    assert own.objective_options == {"gamma": 2.0} and own.algorithm_options == {"patience": 3}
    other = resolve_config({"gan": "with-options", "dataset": "ring8", "objective": "plain-obj",
                            "algorithm": "alternating"}, zoo)
    assert other.objective_options == {} and other.algorithm_options == {}
    user = resolve_config({"gan": "with-options", "dataset": "ring8", "objective": "plain-obj",
                           "objective_options": {"beta": 1}}, zoo)
    assert user.objective_options == {"beta": 1} and user.algorithm_options == {"patience": 3}


def test_toml_file_and_set_overrides(tmp_path, zoo):
    path = tmp_path / "run.toml"
    path.write_text('gan = "opinionated"\ndataset = "grid25"\nsteps = 10\n[optimizer_g]\nlr = 0.1\n')
    config = load_config(path, ["steps=20", "optimizer_g.betas=[0.0, 0.9]", "prior=uniform"], zoo)
    assert (config.steps, config.optimizer_g.lr, config.optimizer_g.betas, config.prior) == (
        20, 0.1, (0.0, 0.9), "uniform")


@pytest.mark.parametrize(("raw", "message"), [
    ({"stesp": 5}, r"unknown key 'stesp' \(did you mean 'steps'\?\)"),
    ({"optimizer_g": {"lrr": 1}}, r"unknown key 'optimizer_g.lrr' \(did you mean 'lr'\?\)"),
    ({"steps": "many"}, r"steps: .*integer.*\(got 'many'\)"),
    ({"steps": 0}, r"steps: Input should be greater than 0"),
    ({"steps": True}, r"steps: Value error, must be a number, not true or false"),
    ({"optimizer_g": {"betas": [0.5]}}, r"optimizer_g.betas: too few values \(got \[0.5\]\)"),
    ({"device": "tpu"}, r"device: .*'auto', 'cpu', 'cuda'"),
    ({"prior": "cauchy"}, r"prior: .*'normal' or 'uniform'"),
    ({"gan_options": {"width": -1}}, r"gan_options for 'opinionated': width: Input should be greater than 0"),
    ({"gan_options": {"depth": 3}}, r"unknown key 'depth'"),
    ({"objective_options": {"x": 1}}, r"objective_options for 'strict-obj': unknown key 'x'"),
    ({"ema": {"start": True}}, r"ema.start: Value error, must be a number, not true or false"),
    ({"gan_options": {"width": True}}, r"gan_options for 'opinionated': width: Value error, must be a number"),
    ({"conditional": 1}, r"conditional: Value error, must be true or false \(got 1\)"),
    ({"ema": {"enabled": "yes"}}, r"ema.enabled: Value error, must be true or false \(got 'yes'\)"),
    ({"optimizers": {"d": {"lr": 1}}}, r"set optimizer_d for the 'd' optimizer, not optimizers.d"),
    ({"metrics": {"options": {"toy-modes": {"x": 1}}}}, r"metrics.options for 'toy-modes': unknown key 'x'"),
    ({"metrics": {"suites": ["toy-modes"], "options": {"fid": {}}}}, r"metrics.options names fid, which this run"),
])
def test_invalid_values_are_rejected_with_a_pointed_message(zoo, raw, message):
    with pytest.raises(ConfigError, match=message):  # plugins' options tables are validated once, by the plan
        RunPlan.create(resolve_config({"gan": "opinionated", "dataset": "ring8", **raw}, zoo), zoo)


def test_required_keys_are_named(zoo):
    with pytest.raises(ConfigError, match=r"'gan' is required; 'dataset' is required"):
        resolve_config({}, zoo)


def test_unknown_names_get_close_matches(zoo):
    with pytest.raises(UnknownNameError, match=r"unknown GAN 'opinionted'; did you mean 'opinionated'\?"):
        resolve_config({"gan": "opinionted", "dataset": "ring8"}, zoo)
    with pytest.raises(UnknownNameError, match=r"unknown dataset 'ring9'; did you mean 'ring8'\?"):
        resolve_config({"gan": "opinionated", "dataset": "ring9"}, zoo)
    with pytest.raises(UnknownNameError, match=r"unknown objective 'zzz' \(registered: plain-obj, strict-obj\)"):
        resolve_config({"gan": "opinionated", "objective": "zzz", "dataset": "ring8"}, zoo)
    config = resolve_config({"gan": "opinionated", "dataset": "ring8", "metrics": {"suites": ["toy-mode"]}}, zoo)
    with pytest.raises(UnknownNameError, match=r"unknown metric 'toy-mode'; did you mean 'toy-modes'\?"):
        RunPlan.create(config, zoo)


def test_wildcard_listing(zoo):
    assert zoo.objectives.names("*-obj") == ["plain-obj", "strict-obj"]
    assert zoo.objectives.names("s*") == ["strict-obj"]
    assert zoo.datasets.names("[gr]*") == ["grid25", "ring8"]
    assert zoo.datasets.names("x*") == []


def test_file_errors(tmp_path, zoo):
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "absent.toml", [], zoo)
    bad = tmp_path / "bad.toml"
    bad.write_text('gan = "x\n')
    with pytest.raises(ConfigError, match="malformed TOML"):
        load_config(bad, [], zoo)


def test_overrides_parse_as_toml_values_else_strings():
    assert parse_overrides(["a=1", "b=1.5", "c=true", "d=[1, 2]", "e=word", "f.g=\"q\""]) == {
        "a": 1, "b": 1.5, "c": True, "d": [1, 2], "e": "word", "f": {"g": "q"}}
    with pytest.raises(ConfigError, match="--set expects key=value"):
        parse_overrides(["steps"])


@pytest.mark.parametrize("kind", ["adam", "rmsprop"])
def test_an_optimizers_epsilon_reaches_torch(kind):
    from ganzoo.run.config import OptimizerConfig
    from ganzoo.training.optimizers import build_optimizer

    weight = torch.nn.Parameter(torch.zeros(3))
    assert build_optimizer(OptimizerConfig(kind=kind), [weight]).param_groups[0]["eps"] == 1e-8
    assert build_optimizer(OptimizerConfig(kind=kind, eps=1e-6), [weight]).param_groups[0]["eps"] == 1e-6
