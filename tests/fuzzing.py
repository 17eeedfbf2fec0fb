"""Shared strategies and checks of the property-based fuzz tests (test_fuzz_inputs.py, test_fuzz_plugins.py).

The contract (docs/architecture.md, "What is guaranteed"): bad input ends in a :class:`ganzoo.errors.GanzooError`
whose message is one line, and the command exits with status 2 and one ``ganzoo: error:`` line; never another
exception, an internal error or a traceback. Hypothesis settings come from tests/conftest.py (profile "ci",
derandomized, unless HYPOTHESIS_PROFILE says otherwise); each test's budget is sized to keep both files near a
minute on two CPU cores.
"""

from __future__ import annotations

import contextlib
import json
import math
from pathlib import Path
from typing import Any

from hypothesis import event, settings
from hypothesis import strategies as st

from ganzoo.errors import GanzooError
from ganzoo.testing import quick_config


def budget(examples: int) -> Any:
    """``examples`` under the default profile ("ci", 100 examples), scaled by the loaded profile's max_examples."""
    default = settings.default
    return settings(max_examples=max(1, examples * (default.max_examples if default else 100) // 100))


def one_line(exc: BaseException) -> str:
    message = str(exc)
    assert "\n" not in message and "\r" not in message, f"{type(exc).__name__} over several lines: {message!r}"
    return message


@contextlib.contextmanager
def only_ganzoo_errors(*allowed: type[GanzooError]):
    """The block may raise a GanzooError (one of ``allowed``) with a one-line message, and nothing else; the list
    it yields then holds that message."""
    failure: list[str] = []
    try:
        yield failure
    except GanzooError as exc:
        event(f"refused: {type(exc).__name__}")
        assert isinstance(exc, allowed or (GanzooError,)), f"{type(exc).__name__} where {allowed} was expected: {exc}"
        failure.append(one_line(exc))
    else:
        event("accepted")


# -- strategies --------------------------------------------------------------

ODD_TEXT = st.sampled_from(["", " ", "\x00", "a\x00b", "\n", "gan\n", "x\r\ny", "\t", "\u2028", "\x1c", "..", ".",
                            "é", "\ud7ff", "'", '"', "\\", "[", "*", "=", "0", "-1", "1e999", "nan", "inf", "true"])
TEXT = st.text(max_size=12) | ODD_TEXT
NUMBERS = st.one_of(st.integers(-3, 3), st.integers(), st.sampled_from([2**31, 2**62, 2**63, 2**64, 2**80, -2**70]),
                    st.floats(), st.sampled_from([math.nan, math.inf, -math.inf, 0.0, -0.0, 1e-320, 1e308]))
SCALARS = st.one_of(st.none(), st.booleans(), NUMBERS, TEXT)
# JSON- and TOML-like values: tables (str keys) and arrays nested a few levels
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
                      max_leaves=8)
NAMES = st.sampled_from(["gan", "wgan", "wgan-gp", "dcgan", "nonsaturating", "minimax", "alternating", "ring8",
                         "grid25", "mnist", "cpu", "auto", "cuda:0", "adam", "sgd", "linear", "none", "uniform"])

# keys of a run config, nested ones dotted: the tables and fields a user sets
CONFIG_PATHS = [
    "gan", "objective", "algorithm", "augmentation", "dataset", "gan_options", "objective_options", "dataset_options",
    "algorithm_options", "augmentation_options", "conditional", "ema", "ema.enabled", "ema.decay", "ema.start",
    "metrics", "metrics.suites", "metrics.options", "metrics.num_generated", "metrics.num_reference",
    "metrics.reference_split", "metrics.inception_weights", "z_dim", "prior", "optimizer_g", "optimizer_g.kind",
    "optimizer_g.lr", "optimizer_g.betas", "optimizer_g.momentum", "optimizer_g.weight_decay", "optimizer_d.lr",
    "optimizer_d.betas", "optimizers", "optimizers.critic", "optimizers.critic.lr", "d_steps", "lr_decay",
    "batch_size", "steps", "seed", "device", "out_dir", "log_every", "sample_every", "eval_every",
    "checkpoint_every", "gan_options.g_hidden", "gan_options.pieces", "objective_options.clip",
]
OPTION_TABLES = ["gan_options", "objective_options", "dataset_options", "algorithm_options", "augmentation_options",
                 "metrics.options.toy"]
PATHS = st.one_of(st.sampled_from(CONFIG_PATHS).map(lambda p: p.split(".")),
                  st.tuples(st.sampled_from(OPTION_TABLES), TEXT).map(lambda t: [*t[0].split("."), t[1]]),
                  st.lists(TEXT, min_size=1, max_size=3))
REMOVE = object()


def mutated(base: dict[str, Any], edits: list[tuple[list[str], Any]]) -> dict[str, Any]:
    """``base`` with each ``(path, value)`` applied: the value set at the path (tables made as needed, a scalar in
    the way replaced by a table) or, for REMOVE, the key deleted."""
    raw = json.loads(json.dumps(base))
    for path, value in edits:
        node = raw
        for part in path[:-1]:
            if not isinstance(node.get(part), dict):
                node[part] = {}
            node = node[part]
        if value is REMOVE:
            node.pop(path[-1], None)
        else:
            node[path[-1]] = value
    return raw


NAME_KEYS = st.sampled_from(["gan", "objective", "algorithm", "augmentation", "dataset"]).map(lambda key: [key])
EDITS = st.lists(st.tuples(PATHS, st.one_of(st.just(REMOVE), NAMES, VALUES))
                 | st.tuples(NAME_KEYS, NAMES | ODD_TEXT | NAMES.map(lambda name: name + "\n") | TEXT), max_size=5)


def base_config(where: Path) -> dict[str, Any]:
    return quick_config(where / "run", gan="gan")

VALID_TOML = ('gan = "gan"\ndataset = "ring8"\nsteps = 2\nbatch_size = 8\ndevice = "cpu"\nout_dir = "/nonexistent/run"\n'
              '[optimizer_g]\nlr = 1e-3\nbetas = [0.5, 0.999]\n')

TOML_VALUES = st.one_of(st.sampled_from(["1", "0", "-1", "1e999", "nan", "inf", "-inf", "true", "false", '"x"', "''",
                                         "[0.5, 0.9]", "[true, 0.9]", "[1,", "{a = 1}", "{ = 1}", "[[]]", "1979-05-27",
                                         '"""a\nb"""', "0x10", "1_000", "9" * 30, "[" * 40 + "]" * 40,
                                         "{a = " * 40 + "1" + "}" * 40, '"a\\u0000b"', "\x00", "adam", "cpu"]),
                        TEXT, NUMBERS.map(str))
