"""The helpers every part of the core shares."""

from __future__ import annotations

import pytest
from torch import nn

from ganzoo.datasets.common import data_root
from ganzoo.errors import ONE_LINE_LIMIT, one_line
from ganzoo.utils import CACHE_ENV, cache_dir, eval_mode


def test_one_line_collapses_newlines_and_cuts_long_messages():
    assert one_line(ValueError("first\n  second\tthird")) == "ValueError: first second third"
    assert one_line(KeyError()) == "KeyError"
    long = one_line(RuntimeError("x " * 1000))
    assert "\n" not in long and long.endswith("...") and len(long) <= len("RuntimeError: ") + ONE_LINE_LIMIT


def test_every_cache_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    assert cache_dir() == tmp_path / "cache"
    assert data_root(None) == tmp_path / "cache"  # data sets used to ignore the variable
    assert data_root(tmp_path / "mine") == tmp_path / "mine"
    monkeypatch.delenv(CACHE_ENV)
    assert cache_dir().parts[-2:] == (".cache", "ganzoo")


def test_eval_mode_restores_each_network_even_after_an_error():
    training, frozen = nn.Linear(1, 1), nn.Linear(1, 1).eval()
    with pytest.raises(ZeroDivisionError), eval_mode(training, frozen):
        assert not training.training and not frozen.training
        raise ZeroDivisionError
    assert training.training and not frozen.training
