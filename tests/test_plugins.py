"""Discovery through real entry points, broken plugins, duplicates, switches."""

from __future__ import annotations

import warnings

import pytest

from ganzoo.api.version import PLUGIN_API
from ganzoo.cli import main
from ganzoo.errors import PluginError, UnknownNameError
from ganzoo.registry.discovery import NO_AUTOLOAD_ENV, PLUGINS_ENV, STRICT_ENV, PluginLoadWarning, Zoo, reset_zoo

DEMO_PLUGIN = """
from torch import nn
from ganzoo import GanSpec, ObjectiveSpec, hookimpl
ganzoo_plugin_api = "2.0"
from ganzoo_gan.objectives import NonSaturating

def build(info, z_dim, options):
    return nn.Linear(z_dim, info.shape[0]), nn.Linear(info.shape[0], 1)

@hookimpl
def register_gans(register):
    register(GanSpec(name="{gan}", build=build, default_objective="demo-ns", citation="demo"))

@hookimpl
def register_objectives(register):
    register(ObjectiveSpec(name="demo-ns", build=lambda options: NonSaturating(), citation="demo"))
"""


def test_first_party_plugin_is_found_through_its_entry_point():
    zoo = Zoo()
    source = zoo.gans.source("gan")
    assert (source.plugin, source.distribution) == ("gan", "ganzoo-gan")
    assert zoo.objectives.source("nonsaturating").distribution == "ganzoo-gan"


def test_third_party_distribution_is_discovered(make_distribution):
    make_distribution("ganzoo-demo", "1.2.3", "ganzoo_demo", DEMO_PLUGIN.format(gan="demo-linear"))
    zoo = Zoo()
    assert "demo-linear" in zoo.gans
    source = zoo.gans.source("demo-linear")
    assert (source.distribution, source.version) == ("ganzoo-demo", "1.2.3")
    record = next(r for r in zoo.records if r.source.distribution == "ganzoo-demo")
    assert record.contributes == {"gans": ["demo-linear"], "objectives": ["demo-ns"]}
    assert not record.errors


def test_plugin_that_fails_to_import_is_reported_and_the_rest_load(make_distribution):
    make_distribution("ganzoo-broken", "0.0.1", "ganzoo_broken", "raise ImportError('needs libfoo')")
    with pytest.warns(PluginLoadWarning, match=r"ganzoo-broken 0\.0\.1.*ImportError: needs libfoo"):
        zoo = Zoo()
    assert "gan" in zoo.gans
    assert [r.source.distribution for r in zoo.failed()] == ["ganzoo-broken"]


def test_plugin_whose_hook_raises_contributes_nothing(make_distribution):
    source = DEMO_PLUGIN.format(gan="half") + """
@hookimpl
def register_datasets(register):
    raise RuntimeError("dataset server down")
"""
    make_distribution("ganzoo-half", "2.0", "ganzoo_half", source)
    with pytest.warns(PluginLoadWarning, match="registration failed: RuntimeError: dataset server down"):
        zoo = Zoo()
    assert "half" not in zoo.gans
    assert "demo-ns" not in zoo.objectives


def test_registering_the_wrong_type_is_reported(make_distribution):
    make_distribution("ganzoo-typo", "1.0", "ganzoo_typo", """
from ganzoo import hookimpl
ganzoo_plugin_api = "2.0"

@hookimpl
def register_gans(register):
    register("not a spec")
""")
    with pytest.warns(PluginLoadWarning, match="register_gans got str, expected GanSpec"):
        Zoo()


def test_strict_mode_makes_a_broken_plugin_fatal(make_distribution, monkeypatch):
    make_distribution("ganzoo-broken", "0.0.1", "ganzoo_broken", "raise ImportError('needs libfoo')")
    monkeypatch.setenv(STRICT_ENV, "1")
    with pytest.raises(PluginError, match=r"ganzoo-broken 0\.0\.1.*needs libfoo"):
        Zoo()


def test_duplicate_names_are_an_error_naming_both_distributions(make_distribution):
    make_distribution("ganzoo-one", "1.0", "ganzoo_one", DEMO_PLUGIN.format(gan="twin"), entry_point="one")
    make_distribution("ganzoo-two", "2.0", "ganzoo_two", DEMO_PLUGIN.format(gan="twin"), entry_point="two")
    with pytest.warns(PluginLoadWarning):
        zoo = Zoo()
    with pytest.raises(UnknownNameError, match=r"GAN 'twin' is registered by both ganzoo-one 1\.0 and ganzoo-two 2\.0"):
        zoo.gans.get("twin")
    assert "twin" not in zoo.gans.names()
    errors = [e for r in zoo.failed() for e in r.errors]
    assert any("ganzoo-one 1.0" in e and "ganzoo-two 2.0" in e for e in errors)


def test_autoload_can_be_disabled_and_modules_named_instead(monkeypatch):
    monkeypatch.setenv(NO_AUTOLOAD_ENV, "1")
    zoo = Zoo()
    assert zoo.gans.names() == []
    assert zoo.datasets.names() == ["celeba", "cifar10", "cifar100", "fashion-mnist", "grid25", "image-folder",
                                    "lsun", "mnist", "ring8", "stl10", "unpaired"]  # the core's own
    monkeypatch.setenv(PLUGINS_ENV, "ganzoo_gan")
    assert Zoo().gans.names() == ["gan"]


def test_plugin_that_exits_on_import_is_reported(make_distribution):
    make_distribution("ganzoo-quitter", "1.0", "ganzoo_quitter", "import sys\nsys.exit(3)")
    with pytest.warns(PluginLoadWarning, match="import failed: SystemExit: 3"):
        zoo = Zoo()
    assert "gan" in zoo.gans


def test_spec_with_options_that_are_not_a_model_is_refused(make_distribution):
    make_distribution("ganzoo-dictopts", "1.0", "ganzoo_dictopts", """
from ganzoo import ObjectiveSpec, hookimpl
ganzoo_plugin_api = "2.0"

@hookimpl
def register_objectives(register):
    register(ObjectiveSpec(name="d", build=lambda o: None, citation="-", options=dict))
""")
    with pytest.warns(PluginLoadWarning, match="ObjectiveSpec 'd': options must be a ganzoo.Options subclass"):
        zoo = Zoo()
    assert "d" not in zoo.objectives


MAJOR, MINOR = (int(part) for part in PLUGIN_API.split("."))


@pytest.mark.parametrize(("declared", "message"), [
    (None, rf"declares no plugin API version .* provides plugin API {PLUGIN_API}: upgrade the plugin, or"),
    (f'"{MAJOR}.{MINOR + 1}"', rf"targets plugin API {MAJOR}\.{MINOR + 1}, but ganzoo-core .* provides plugin API "
                               rf"{PLUGIN_API}; upgrade ganzoo-core"),
    (f'"{MAJOR + 1}.0"', rf"targets plugin API {MAJOR + 1}\.0, .*; upgrade ganzoo-core"),
    (f'"{MAJOR - 1}.9"', rf"targets plugin API {MAJOR - 1}\.9, .*; upgrade the plugin"),
    (f"{MAJOR}.{MINOR}", rf"declares ganzoo_plugin_api = {MAJOR}\.{MINOR}, which is not of the form \"MAJOR.MINOR\""),
])
def test_a_plugin_for_another_api_version_is_refused_naming_both_versions(make_distribution, declared, message):
    declaration = "" if declared is None else f"ganzoo_plugin_api = {declared}"
    source = DEMO_PLUGIN.format(gan="versioned").replace('ganzoo_plugin_api = "2.0"', declaration)
    make_distribution("ganzoo-versioned", "1.0", "ganzoo_versioned", source)
    with pytest.warns(PluginLoadWarning, match=message):
        zoo = Zoo()
    assert "versioned" not in zoo.gans and "gan" in zoo.gans


def test_a_plugin_for_an_older_minor_version_of_the_api_loads(make_distribution):
    source = DEMO_PLUGIN.format(gan="older").replace('ganzoo_plugin_api = "2.0"', f'ganzoo_plugin_api = "{MAJOR}.0"')
    make_distribution("ganzoo-older", "1.0", "ganzoo_older", source)
    assert "older" in Zoo().gans


@pytest.mark.parametrize(("spec", "message"), [
    ("GanSpec(name=123, build=build, default_objective='demo-ns', citation='-')", "name must be a non-empty string"),
    ("GanSpec(name='x', build=build, default_objective='demo-ns', citation='-', serves=((2,),))",
     "serves must be a non-empty tuple of ganzoo.DataInfo"),
    ("GanSpec(name='x', build=build, default_objective='demo-ns', citation='-', defaults=[1])",
     "defaults and overrides must be dicts"),
])
def test_a_malformed_spec_is_refused_when_registered(make_distribution, spec, message):
    source = DEMO_PLUGIN.format(gan="fine").replace(
        '    register(GanSpec(name="fine", build=build, default_objective="demo-ns", citation="demo"))',
        f"    register({spec})")
    make_distribution("ganzoo-malformed", "1.0", "ganzoo_malformed", source)
    with pytest.warns(PluginLoadWarning, match=message):
        zoo = Zoo()
    assert "demo-ns" not in zoo.objectives  # nothing of the plugin, and the listing still works
    assert "gan" in zoo.gans.names()



ONLY_GAN = """
from ganzoo import GanSpec, hookimpl
from pydantic import BaseModel
ganzoo_plugin_api = "2.0"

class Name(str):
    pass

class NotOptions(BaseModel):
    width: int = 1

looped = dict()
looped["self"] = looped

@hookimpl
def register_gans(register):
    register({spec})
"""


@pytest.mark.parametrize(("spec", "message"), [
    ("GanSpec(name=Name('x'), build=print, default_objective='gan', citation='-')", "name must be a non-empty string"),
    ("GanSpec(name='', build=print, default_objective='gan', citation='-')", "name must be a non-empty string"),
    ("GanSpec(name='x', build=print, default_objective='gan', citation='-', options=NotOptions)",
     "options must be a ganzoo.Options subclass"),
    ("GanSpec(name='x', build=print, default_objective='gan', citation='-', defaults={1: 2})",
     "defaults and overrides must be dicts of run-config values, keyed by strings"),
    ("GanSpec(name='x', build=print, default_objective='gan', citation='-', overrides={'optimizer_d': {2: 1}})",
     "keyed by strings"),
    ("GanSpec(name='x', build=print, default_objective='gan', citation='-', defaults=looped)",
     "nested at most 32 levels deep"),
    ("GanSpec(name='x\\x1b[2J', build=print, default_objective='gan', citation='-')", "printable characters"),
    ("GanSpec(name='x' * 65, build=print, default_objective='gan', citation='-')", "at most 64 printable"),
    ("GanSpec(name='x', build=print, default_objective='gan', citation='-', defaults={'out_dir': '/elsewhere'})",
     "may not set out_dir: where and how a run goes is the user's"),
])
def test_a_spec_with_a_malformed_name_options_or_defaults_is_refused(make_distribution, spec, message):
    make_distribution("ganzoo-odd", "1.0", "ganzoo_odd", ONLY_GAN.format(spec=spec))
    with pytest.warns(PluginLoadWarning, match=message):
        zoo = Zoo()
    assert "gan" in zoo.gans and "x" not in zoo.gans
    assert [r.source.distribution for r in zoo.failed()] == ["ganzoo-odd"]


ESCAPE = """
import sys

class Escape(BaseException):
    pass

"""
RAISES_ON_IMPORT = ESCAPE + "raise {exc}\n"
RAISES_IN_HOOK = ESCAPE + """
from ganzoo import hookimpl
ganzoo_plugin_api = "2.0"

@hookimpl
def register_gans(register):
    raise {exc}
"""
RAISES_ON_DECLARATION = ESCAPE + """
def __getattr__(name):
    raise {exc}
"""


@pytest.mark.parametrize("template", [RAISES_ON_IMPORT, RAISES_IN_HOOK, RAISES_ON_DECLARATION])
@pytest.mark.parametrize(("exc", "shown"), [
    ("SystemExit(4)", "SystemExit: 4"), ("GeneratorExit('closed')", "GeneratorExit: closed"),
    ("Escape('out')", "Escape: out"),
])
def test_a_base_exception_from_plugin_code_is_a_load_failure(make_distribution, monkeypatch, template, exc, shown):
    make_distribution("ganzoo-escape", "1.0", "ganzoo_escape", template.format(exc=exc))
    with pytest.warns(PluginLoadWarning, match=rf"ganzoo-escape 1\.0.*failed: {shown}"):
        zoo = Zoo()
    assert "gan" in zoo.gans and [r.source.distribution for r in zoo.failed()] == ["ganzoo-escape"]
    monkeypatch.setenv(STRICT_ENV, "1")
    with pytest.raises(PluginError, match=rf"failed: {shown}"):
        Zoo()


CTRL_C_ON_IMPORT = """
import signal
ganzoo_plugin_api = "2.0"
signal.raise_signal(signal.SIGINT)
"""
CTRL_C_IN_HOOK = """
import signal
from ganzoo import hookimpl
ganzoo_plugin_api = "2.0"

@hookimpl
def register_gans(register):
    signal.raise_signal(signal.SIGINT)
"""


@pytest.mark.parametrize("template", [CTRL_C_ON_IMPORT, CTRL_C_IN_HOOK])
def test_ctrl_c_while_loading_a_plugin_still_stops_the_command(make_distribution, template):
    make_distribution("ganzoo-slow", "1.0", "ganzoo_slow", template)
    with pytest.raises(KeyboardInterrupt):
        Zoo()


@pytest.mark.parametrize("template", [RAISES_ON_IMPORT, RAISES_IN_HOOK, RAISES_ON_DECLARATION])
def test_a_keyboard_interrupt_a_plugin_raises_itself_is_its_load_failure(make_distribution, template):
    make_distribution("ganzoo-odd", "1.0", "ganzoo_odd", template.format(exc="KeyboardInterrupt"))
    with pytest.warns(PluginLoadWarning, match="failed: KeyboardInterrupt"):
        zoo = Zoo()
    assert "gan" in zoo.gans and [r.source.distribution for r in zoo.failed()] == ["ganzoo-odd"]


@pytest.mark.parametrize("source", [
    ONLY_GAN.format(spec="GanSpec(name=7, build=print, default_objective='gan', citation='-')"),
    RAISES_IN_HOOK.format(exc="SystemExit(2)"),
    RAISES_ON_IMPORT.format(exc="Escape()"),
])
def test_listing_works_with_a_broken_plugin_installed(make_distribution, capsys, source):
    make_distribution("ganzoo-broken", "1.0", "ganzoo_broken", source)
    for command, listed in (("list", "  gan "), ("plugins", "ganzoo-broken 1.0  (plugin 'ganzoo_broken', FAILED)")):
        reset_zoo()
        with warnings.catch_warnings():
            warnings.simplefilter("always")  # each command is a process of its own: the warning is shown each time
            code = main([command])
        out, err = capsys.readouterr()
        assert code == 0 and listed in out
        assert err.startswith("ganzoo: warning: plugin 'ganzoo_broken'") and err.count("\n") == 1


def test_ganzoo_list_takes_every_kind_wildcards_and_comma_separated_patterns():
    import ganzoo

    assert ganzoo.list("gans", "wgan*") == ["wgan", "wgan-gp", "wgan-gp-resnet"]
    assert ganzoo.list("gans", "pacgan, gan") == ["gan", "pacgan"]
    assert ganzoo.list("gans", "[g,p]a*,wgan") == ["gan", "pacgan", "wgan"]  # a comma inside a set is the set's
    assert "toy" in ganzoo.list("suites") and "alternating" in ganzoo.list("algorithms")
    with pytest.raises(ValueError, match=r"unknown kind 'gan'; did you mean 'gans'\? kinds: gans, objectives"):
        ganzoo.list("gan")
    with pytest.warns(DeprecationWarning, match=r"use ganzoo.list\('objectives', pattern\)"):
        assert ganzoo.list_objectives("fgan-k*") == ganzoo.list("objectives", "fgan-k*") == ["fgan-kl"]
