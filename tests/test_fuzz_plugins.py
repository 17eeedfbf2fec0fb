"""Property-based fuzzing of what plugins hand ganzoo (the values their code returns, the specs they register)
and of the command line (the contract: tests/fuzzing.py)."""

from __future__ import annotations

import contextlib
import fnmatch
import functools
import io
import math
import shutil
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
from hypothesis import assume, event, given, note
from hypothesis import strategies as st
from pydantic import BaseModel

from conftest import TINY
from fuzzing import (
    CONFIG_PATHS,
    EDITS,
    NAMES,
    SCALARS,
    TEXT,
    TOML_VALUES,
    VALID_TOML,
    VALUES,
    budget,
    mutated,
    one_line,
    only_ganzoo_errors,
)
from ganzoo import GanSpec, ObjectiveSpec, Options, hookimpl
from ganzoo.api.objective import Objective
from ganzoo.cli import main
from ganzoo.errors import GanzooError
from ganzoo.registry.discovery import PluginLoadWarning, Zoo, get_zoo
from ganzoo.registry.registry import Source
from ganzoo.run import rundir
from ganzoo.run.config import resolve_config
from ganzoo.testing import train

# -- 5. what plugin code returns, and what plugins register -------------------------------


class Returned:
    """What the fuzzed objective's losses return: set by the test before each run."""

    d_loss: Callable[[torch.Tensor], Any] = staticmethod(lambda scores: scores.mean())
    g_loss: Callable[[torch.Tensor], Any] = staticmethod(lambda scores: scores.mean())
    divergence: Callable[[torch.Tensor], Any] = staticmethod(lambda scores: None)


class Fuzzed(Objective):
    def discriminator_loss(self, real_scores: torch.Tensor, fake_scores: torch.Tensor) -> Any:
        return Returned.d_loss(fake_scores - real_scores)

    def generator_loss(self, fake_scores: torch.Tensor) -> Any:
        return Returned.g_loss(-fake_scores)

    def divergence_estimate(self, real_scores: torch.Tensor, fake_scores: torch.Tensor) -> Any:
        return Returned.divergence(real_scores - fake_scores)


class FuzzPlugin:
    ganzoo_plugin_api = "2.0"

    @hookimpl
    def register_objectives(self, register):
        register(ObjectiveSpec(name="fuzzed", build=lambda options: Fuzzed(), citation="-"))


@functools.cache
def fuzz_zoo() -> Zoo:
    return Zoo(plugins=[(FuzzPlugin(), Source("fuzz", "ganzoo-fuzz", "1.0"))])


DTYPES = st.sampled_from([torch.float32, torch.float64, torch.float16, torch.bfloat16, torch.int64, torch.int32,
                          torch.uint8, torch.bool, torch.complex64])
FILLS = st.floats() | st.sampled_from([math.nan, math.inf, -math.inf, 0.0, 1e30])


@st.composite
def returned_values(draw: st.DrawFn) -> tuple[str, Callable[[torch.Tensor], Any]]:
    """A description and a function of the scores giving what a loss returns."""
    kind = draw(st.sampled_from(["valid", "valid", "valid", "python", "none", "text", "constant", "scores", "scores"]))
    if kind == "valid":
        scale = draw(st.floats(-10, 10))
        return f"scores.mean() * {scale}", lambda scores: scores.mean() * scale
    if kind == "python":
        value = draw(st.floats() | st.integers() | st.booleans() | st.sampled_from([math.nan, 1j, [1.0], {}]))
        return repr(value), lambda scores: value
    if kind == "none":
        return "None", lambda scores: None
    if kind == "text":
        text = draw(TEXT)
        return repr(text), lambda scores: text
    dtype, fill = draw(DTYPES), draw(FILLS)
    shape = draw(st.sampled_from([(), (), (1,), (8,), (2, 3), (0,)]))
    if kind == "constant":
        grad = draw(st.booleans()) and (dtype.is_floating_point or dtype.is_complex)

        def constant(scores: torch.Tensor) -> torch.Tensor:
            return torch.full(shape, fill, dtype=torch.float64).to(dtype).requires_grad_(grad)

        return f"torch.full({shape}, {fill}, dtype={dtype}, requires_grad={grad})", constant
    reduce = draw(st.sampled_from(["mean", "sum", "none", "first", "detach"]))

    def from_scores(scores: torch.Tensor) -> torch.Tensor:
        value = {"mean": scores.mean(), "sum": scores.sum(), "none": scores, "first": scores[:1],
                 "detach": scores.mean().detach()}[reduce]
        return (value * fill).to(dtype) if math.isfinite(fill) or draw_nonfinite else (value * 1.0).to(dtype)

    draw_nonfinite = draw(st.booleans())
    return f"(scores.{reduce} * {fill}).to({dtype}) non-finite={draw_nonfinite}", from_scores


@pytest.mark.filterwarnings("ignore:Casting complex values to real")
@budget(60)
@given(d_loss=returned_values(), g_loss=returned_values(), divergence=st.one_of(st.none(), st.none(), returned_values()))
def test_whatever_an_objective_returns_a_run_trains_or_fails_on_one_line(tmp_path_factory, d_loss, g_loss,
                                                                        divergence):
    note(f"discriminator_loss -> {d_loss[0]}; generator_loss -> {g_loss[0]}; divergence -> {divergence}")
    Returned.d_loss, Returned.g_loss = d_loss[1], g_loss[1]
    Returned.divergence = (lambda scores: None) if divergence is None else divergence[1]
    run = Path(tempfile.mkdtemp(dir=tmp_path_factory.getbasetemp())) / "run"
    with only_ganzoo_errors() as failure:
        train(run, zoo=fuzz_zoo(), **{**TINY, "steps": 1, "objective": "fuzzed"})
    if failure:  # the message says what was wrong with the value, or names the plugin function that raised
        assert any(word in failure[0] for word in ("loss", "diverge", "Fuzzed.", "ganzoo-fuzz")), failure[0]


class NotOptions(BaseModel):
    width: int = 1


class SomeOptions(Options):
    width: int = 1


def build_pair(info, z_dim, options):
    return torch.nn.Linear(z_dim, 2), torch.nn.Linear(2, 1)


looped: dict[str, Any] = {}
looped["self"] = looped

SPEC_NAMES = st.one_of(st.from_regex(r"[a-z][a-z0-9_-]{0,10}", fullmatch=True), TEXT, st.sampled_from(["ok-name", "gan", "nonsaturating"]), st.integers(), st.none(),
                       st.builds(type("Name", (str,), {}), TEXT))
SPEC_OPTIONS = st.sampled_from([Options, SomeOptions, SomeOptions, NotOptions, dict, int, "options", None,
                                SomeOptions()])
SPEC_TABLES = st.one_of(st.builds(lambda base, edits: mutated(base, edits), st.just({}), EDITS),
                        st.dictionaries(TEXT, VALUES, max_size=3), VALUES, st.just(looped),
                        st.dictionaries(st.integers(), SCALARS, min_size=1, max_size=2),
                        st.builds(lambda base, edits: mutated(base, edits), st.just({}), EDITS))


@st.composite
def spec_fields(draw: st.DrawFn) -> dict[str, Any]:
    fields: dict[str, Any] = {"name": draw(SPEC_NAMES)}
    if draw(st.booleans()):
        fields["name"] = draw(st.from_regex(r"[a-z][a-z0-9_-]{0,10}", fullmatch=True))
    for key, strategy in (("citation", TEXT | st.none() | st.integers()), ("description", TEXT | st.none()),
                          ("options", SPEC_OPTIONS), ("defaults", SPEC_TABLES), ("overrides", SPEC_TABLES),
                          ("default_objective", NAMES | st.none() | st.integers()),
                          ("build", st.sampled_from([build_pair, None, "build"]))):
        if draw(st.integers(0, 3)) == 0:
            fields[key] = draw(strategy)
    return fields


class SpecPlugin:
    ganzoo_plugin_api = "2.0"

    def __init__(self, gan: dict[str, Any], objective: dict[str, Any]):
        self.gan, self.objective = gan, objective

    @hookimpl
    def register_gans(self, register):
        register(GanSpec(**{"build": build_pair, "default_objective": "nonsaturating", "citation": "-", **self.gan}))

    @hookimpl
    def register_objectives(self, register):
        register(ObjectiveSpec(**{"build": lambda options: Fuzzed(), "citation": "-",
                                  **{k: v for k, v in self.objective.items() if k in ObjectiveSpec.__dataclass_fields__}}))


@budget(100)
@given(gan=spec_fields(), objective=spec_fields())
def test_whatever_a_plugin_registers_the_zoo_loads_refusing_a_malformed_spec(tmp_path_factory, gan, objective):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        zoo = Zoo(autoload=False, strict=False, plugins=[(FuzzPlugin(), Source("fuzz", "ganzoo-fuzz", "1.0")),
                                                         (SpecPlugin(gan, objective), Source("specs", "ganzoo-specs",
                                                                                             "1.0"))])
    assert all(issubclass(w.category, PluginLoadWarning) and "\n" not in str(w.message) for w in caught), \
        [str(w.message) for w in caught]
    record = zoo.records[-1]
    assert bool(record.errors) == bool(caught)
    if record.errors:  # a refused plugin contributes nothing
        assert not record.contributes
    for kind in ("gans", "objectives", "datasets", "algorithms"):
        names = zoo.registry(kind).names()
        assert all(type(name) is str for name in names)
    assert "ring8" in zoo.datasets.names()
    if "gans" in record.contributes:  # a registered GAN resolves into a run config or a one-line error
        (name,) = record.contributes["gans"]
        (paired,) = record.contributes.get("objectives", ["fuzzed"])
        with only_ganzoo_errors():
            resolve_config({"gan": name, "objective": paired, "dataset": "ring8"}, zoo)
    if record.errors:  # strict mode: the same refusal, as a one-line error
        with pytest.raises(GanzooError) as strictly:
            Zoo(autoload=False, strict=True, plugins=[(SpecPlugin(gan, objective), Source("specs", "ganzoo-specs",
                                                                                          "1.0"))])
        one_line(strictly.value)


# -- 6. the command line ------------------------------------------------------------------

SMALL = st.sampled_from(["0", "1", "2", "3", "-1", "4", "x", "", "1.5", "99999999999999999999", " 2", "0x2"])


def option(flag: str, values: st.SearchStrategy[str]) -> st.SearchStrategy[list[str]]:
    return st.builds(lambda value: [flag, value], values) | st.just([flag])


@st.composite
def command_lines(draw: st.DrawFn, places: dict[str, str]) -> list[str]:
    """An argv for one sub-command, its options drawn from real flags with values small or wrong, paths from a
    temporary folder (``places``), and stray words."""
    where = st.one_of(st.sampled_from(sorted(places.values())), st.sampled_from(sorted(places.values())), TEXT)
    command = draw(st.sampled_from(["train", "sample", "eval", "interpolate", "list", "bench", "plugins", "plugin",
                                    "nonsense", "--version", "--help"]))
    flags: list[st.SearchStrategy[list[str]]] = [st.builds(lambda word: [word], TEXT | st.sampled_from(["--", "-"]))]
    if command == "train":
        pairs = st.builds(lambda key, value: f"{key}={value}",
                          st.sampled_from([p for p in CONFIG_PATHS if p not in ("steps", "batch_size", "out_dir")]),
                          TOML_VALUES) | TEXT
        flags += [option("--set", pairs), st.just(["--resume"]), st.just(["--quiet"])]
        argv = [command, draw(st.sampled_from([places["config"], places["run"]]) | where)]
    elif command in ("sample", "interpolate", "eval"):
        flags += [option("--seed", SMALL), st.just(["--raw"]), option("--classes", TEXT | st.just("0,1"))]
        if command == "sample":
            pictures = st.builds(lambda path, suffix: path + suffix, where, st.sampled_from(["", ".png", ".jpg", ".gif"]))
            flags += [option("-n", SMALL), option("-o", pictures)]
        if command == "interpolate":
            flags += [option("--steps", SMALL), option("--rows", SMALL),
                      option("--method", st.sampled_from(["slerp", "linear", "x"])), option("-o", where)]
        if command == "eval":
            flags += [option("--num-generated", SMALL), option("--num-reference", SMALL),
                      option("--reference-split", TEXT), option("--inception-weights", where)]
        argv = [command, draw(where)]
    elif command == "list":
        argv = [command, *draw(st.lists(TEXT | st.sampled_from(["gans", "objectives", "datasets", "g*", "[",
                                                                  "-v"]), max_size=3))]
    elif command == "bench":
        pattern = draw(TEXT | st.sampled_from(["zz*", "[", "nomatch"]))
        # never a real benchmark: the pattern matches no installed GAN
        assume(not fnmatch.filter(get_zoo().gans.names(), pattern))
        argv = [command, draw(st.sampled_from(["toy", "images", ""])), "--gans", pattern,
                "--out", places["bench"]]
        flags += [option("--steps", SMALL), option("--seeds", SMALL), option("--objectives", TEXT),
                  option("--device", TEXT | st.just("cpu"))]
    elif command == "plugin":
        argv = [command, *draw(st.lists(TEXT | st.sampled_from(["check", "ganzoo-nonexistent"]), max_size=2))]
    else:
        argv = [command]
    for extra in draw(st.lists(st.sampled_from(flags), max_size=4)):
        argv += draw(extra)
    if command == "train":  # a real training run is at most the config's 2 steps
        assume(not any(arg.startswith(("steps", "batch_size", "out_dir", "z_dim")) for arg in argv[2:]))
    return argv


@pytest.fixture(scope="module")
def cli_places(tiny_run, tmp_path_factory) -> Path:
    """The template of each example's folder: a copy of the tiny run, TOML configs good and bad, a text file."""
    folder = tmp_path_factory.mktemp("cli-template")
    shutil.copytree(tiny_run, folder / "run")
    (folder / "notes.txt").write_text("not a config\n")
    (folder / "empty").mkdir()
    return folder


def places_in(folder: Path) -> dict[str, str]:
    return {"run": str(folder / "run"), "checkpoint": str(folder / "run" / rundir.LAST_CHECKPOINT),
            "config": str(folder / "good.toml"), "bad": str(folder / "bad.toml"), "notes": str(folder / "notes.txt"),
            "empty": str(folder / "empty"), "missing": str(folder / "missing"), "bench": str(folder / "bench"),
            "stats": str(folder / "run" / rundir.STATS), "picture": str(folder / "out.png")}


@budget(150)
@given(data=st.data())
def test_any_command_line_exits_0_or_2_with_one_error_line(cli_places, tmp_path_factory, data):
    folder = Path(tempfile.mkdtemp(dir=tmp_path_factory.getbasetemp()))
    shutil.copytree(cli_places, folder, dirs_exist_ok=True)
    (folder / "good.toml").write_text(VALID_TOML.replace("/nonexistent/run", str(folder / "new")))
    (folder / "bad.toml").write_text(VALID_TOML.replace("steps = 2", "steps = true"))
    argv = data.draw(command_lines(places_in(folder)))
    note(repr(argv))
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            code: int | str | None = main(argv)
        except SystemExit as exc:  # argparse's own exits: --help, --version, usage errors
            code = exc.code
    shown = err.getvalue()
    event(f"{argv[0]}: exit {code}")
    assert code in (0, 2), (code, shown)
    assert "Traceback" not in shown and "internal error" not in shown, shown
    if code == 2:
        assert shown.count("\n") == 1 and shown.startswith("ganzoo: error:"), shown


def test_a_stray_word_with_a_line_break_gets_one_error_line(tmp_path, capsys):
    (tmp_path / "run.toml").write_text(VALID_TOML)
    with pytest.raises(SystemExit) as caught:
        main(["train", str(tmp_path / "run.toml"), "\n"])
    err = capsys.readouterr().err
    assert caught.value.code == 2 and err.startswith("ganzoo: error: unrecognized arguments")
    assert err.count("\n") == 1, err

