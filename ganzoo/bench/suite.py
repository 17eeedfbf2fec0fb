"""Benchmark suites as data: a TOML file says what is trained (the matrix of GANs, objectives, data sets and
seeds, with the networks' and the optimizer's settings), for how long (its budgets), how it is measured, and
which published figures it is compared with.

The core ships its suites in ``benchmarks/suites/``; a plugin contributes its own with the ``register_suites``
hook, and any TOML file can be run by its path. A suite file is validated as strictly as a run config.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from ganzoo.api.options import StrictModel
from ganzoo.errors import ConfigError
from ganzoo.run.config import MAX_STEPS, read_toml, validate

# Run-config keys a suite sets itself, for every run: in a suite's [run] tables they would be overridden silently.
SUITE_KEYS = frozenset({"gan", "objective", "dataset", "seed", "steps", "out_dir", "device", "eval_every"})
MAX_SEEDS = 1000
QUICK, PAPER = "quick", "paper"


def _run_table(value: dict[str, Any]) -> dict[str, Any]:
    taken = sorted(SUITE_KEYS & set(value))
    if taken:
        raise ValueError(f"sets {', '.join(taken)}, which the suite sets for each run (entries name gan and "
                         f"objective, the suite its datasets, budgets steps and seeds, and every run is measured "
                         f"at its last step; device and out_dir are the command line's)")
    return value


class Column(StrictModel):
    """One figure of the suite's table: a value of the evaluation record, or (``stat``) of the last training log."""

    key: str = Field(description="the metric's key in the suite's metric record, e.g. 'fid' or 'modes'")
    label: str = Field(description="the column's header")
    better: Literal["higher", "lower", "neither"] = Field(description=(
        "which way is better: the best seed is picked by it ('neither' for a figure that is not a score)"))
    format: str = Field(".3f", description="Python format spec, e.g. '.1f'")
    stat: bool = Field(False, description="read from the last training statistics instead of the evaluation")
    range: tuple[float | None, float | None] = Field((None, None), description=(
        "[low, high]: the values the figure can take (inf or -inf: unbounded); intervals are clipped to it"))
    high_from: str | None = Field(None, description=(
        "a key of the same record that states a run's upper bound (e.g. 'num_modes', the data set's mode count); "
        "where the record has it, it replaces range's high"))

    @field_validator("range", mode="before")
    @classmethod
    def _infinite_is_unbounded(cls, value: Any) -> Any:
        # TOML has no null: an unbounded side is written inf or -inf, and kept as None (JSON has no infinity)
        if isinstance(value, (list, tuple)):
            return [None if isinstance(v, float) and math.isinf(v) else v for v in value]
        return value

    @model_validator(mode="after")
    def _ordered_range(self) -> Column:
        low, high = self.range
        if low is not None and high is not None and low >= high:
            raise ValueError(f"range [{low:g}, {high:g}] must have its low end below its high end")
        return self

    def bounds(self, source: dict[str, Any] | None) -> tuple[float | None, float | None]:
        """The column's range for one run, the high end from ``source`` (the record the figure is read from)
        where it states one."""
        low, high = self.range
        stated = None if self.high_from is None or source is None else source.get(self.high_from)
        if isinstance(stated, (int, float)) and not isinstance(stated, bool) and math.isfinite(stated):
            high = float(stated)
        return low, high

    @field_validator("format")
    @classmethod
    def _formats_numbers(cls, value: str) -> str:
        try:
            format(1.5, value)
        except ValueError:
            raise ValueError("must be a Python format spec for numbers, e.g. '.1f' or '.3f'") from None
        return value


class Entry(StrictModel):
    """A row of the matrix: a GAN (a name, or an fnmatch pattern over the installed ones), its objective and
    run-config settings. Every entry runs on every data set of the suite, once per seed."""

    gan: str = Field(description="a registered GAN, or a pattern such as '*' for every installed one that fits")
    objective: str | None = Field(None, description="a registered objective or pattern (default: the GAN's own)")
    label: str | None = Field(None, description="the row's name, e.g. 'PacGAN2' (default: the GAN's name)")
    run: dict[str, Any] = Field(default_factory=dict, description="run-config settings of this entry's runs")

    _suite_keys = field_validator("run")(_run_table)

    @field_validator("label")
    @classmethod
    def _usable_as_folder_name(cls, value: str | None) -> str | None:
        if value is not None and not names_a_folder(value):
            raise ValueError("must be letters, digits, '-' or '_' (it names run folders)")
        return value

    @model_validator(mode="after")
    def _pattern_has_no_label(self) -> Entry:
        if self.label is not None and is_pattern(self.gan):
            raise ValueError(f"a label names one GAN's row, but gan = '{self.gan}' is a pattern; drop the label")
        return self


class Budget(StrictModel):
    """How long each run trains, over how many seeds, and whether its figures compare with the published ones."""

    steps: int = Field(gt=0, le=MAX_STEPS, description="generator steps per run")
    entry_steps: dict[str, Annotated[int, Field(gt=0, le=MAX_STEPS)]] = Field(default_factory=dict, description=(
        "generator steps of some entries, by label, where the protocol fixes discriminator steps (say, a critic "
        "taking 5 steps per generator step trains 1/5 as many generator steps)"))
    seeds: int = Field(gt=0, le=MAX_SEEDS, description="training seeds 0 .. seeds-1 per entry and data set")
    comparable: bool = Field(description="true only if this is exactly the published protocol")
    description: str = Field(description="what the budget is, in words (e.g. '400 epochs of 100,000 samples')")
    run: dict[str, Any] = Field(default_factory=dict, description="run-config settings of this budget's runs")
    minutes_per_run: float | None = Field(None, gt=0, description=(
        "measured minutes per run on the reference machine named in the suite's cost_basis, for --list's estimate"))

    _suite_keys = field_validator("run")(_run_table)


class Published(StrictModel):
    """One published figure as printed: the mean and, when the paper gives one, the ± beside it."""

    mean: float
    pm: float | None = Field(None, ge=0, description="the ± as printed")


class PublishedRow(StrictModel):
    """A row of a paper's table, set beside ours and marked as quoted."""

    entry: str = Field(description="the label of the suite's entry it compares with")
    dataset: str
    budget: str = Field(PAPER, description="the budget whose protocol it was measured with (shown in that "
                                           "budget's tables, and a paper row in tables of budgets not comparable)")
    source: str = Field(description="where it is printed, e.g. 'Lin et al. 2018, Table 1'")
    pm_means: str = Field(description="what the ± is, e.g. 'standard deviation over 10 runs'")
    values: dict[str, Published] = Field(description="by column key")


class Resources(StrictModel):
    """Per-job resources for --launcher slurm (each overridable on the command line)."""

    timeout_min: int = Field(60, gt=0)
    cpus_per_task: int = Field(2, gt=0)
    gpus_per_node: int = Field(0, ge=0)
    mem_gb: int = Field(8, gt=0)
    partition: str | None = None


class Suite(StrictModel):
    """A benchmark suite: see docs/benchmarks.md for the format."""

    name: str = Field(description="the suite's name, as 'ganzoo bench NAME' takes it")
    title: str
    description: str
    follows: str | None = Field(None, description="the paper whose protocol the suite follows")
    bibtex: str | None = Field(None, description="that paper's BibTeX entry, for 'ganzoo cite'")
    metric: str = Field(description="the registered metric suite whose record the columns read")
    datasets: list[str] = Field(min_length=1)
    run: dict[str, Any] = Field(default_factory=dict, description="run-config settings every run shares")
    entries: list[Entry] = Field(min_length=1)
    budgets: dict[str, Budget]
    columns: list[Column] = Field(min_length=1)
    published: list[PublishedRow] = Field(default_factory=list)
    choices: list[str] = Field(default_factory=list, description=(
        "where the paper and its code leave a detail open: the choice made and why"))
    cost_basis: str | None = Field(None, description="the machine the budgets' minutes_per_run were measured on")
    resources: Resources = Field(default_factory=Resources)

    _suite_keys = field_validator("run")(_run_table)

    @field_validator("name")
    @classmethod
    def _usable_name(cls, value: str) -> str:
        if not (names_a_folder(value) and len(value) <= 64):
            raise ValueError("must be at most 64 letters, digits, '-' or '_'")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Suite:
        if QUICK not in self.budgets:
            raise ValueError("needs a 'quick' budget (minutes on a 2-core CPU), e.g. [budgets.quick]")
        if self.budgets[QUICK].comparable:
            raise ValueError("budgets.quick.comparable must be false: a quick budget is not the published protocol")
        if self.follows is not None and PAPER not in self.budgets:
            raise ValueError("follows a paper, so it needs a 'paper' budget with exactly its protocol")
        labels = [entry.label or entry.gan for entry in self.entries]
        twice = sorted({label for label in labels if labels.count(label) > 1})
        if twice:
            raise ValueError(f"entries named twice: {', '.join(twice)}; give each a distinct label")
        for name, budget in self.budgets.items():
            stray = sorted(set(budget.entry_steps) - set(labels))
            if stray:
                raise ValueError(f"budgets.{name}.entry_steps names {', '.join(stray)}, not entries of the suite "
                                 f"({', '.join(labels)})")
        keys = {column.key for column in self.columns}
        for row in self.published:
            if row.entry not in labels:
                raise ValueError(f"published row names entry '{row.entry}', which is not one of {', '.join(labels)}")
            if row.dataset not in self.datasets:
                raise ValueError(f"published row for '{row.entry}' names dataset '{row.dataset}', not one of "
                                 f"the suite's ({', '.join(self.datasets)})")
            if row.budget not in self.budgets:
                raise ValueError(f"published row for '{row.entry}' names budget '{row.budget}', not one of the "
                                 f"suite's ({', '.join(self.budgets)})")
            stray = sorted(set(row.values) - keys)
            if stray:
                raise ValueError(f"published row for '{row.entry}' on {row.dataset} has values for "
                                 f"{', '.join(stray)}, which are not column keys ({', '.join(sorted(keys))})")
        return self

    def budget(self, name: str) -> Budget:
        if name not in self.budgets:
            raise ConfigError(f"suite '{self.name}' has no budget '{name}' (its budgets: {', '.join(self.budgets)})")
        return self.budgets[name]

    def digest(self) -> str:
        """SHA-256 of the suite's content: two results folders with the same digest ran the same suite."""
        content = self.model_dump(mode="json")
        for column in content["columns"]:  # bounds left unset hash as before they existed: old results still match
            if column["range"] == [None, None] and column["high_from"] is None:
                del column["range"], column["high_from"]
        return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def names_a_folder(text: str) -> bool:
    """Letters, digits, '-' and '_' only: safe as (part of) a folder's name."""
    return bool(text) and text.replace("-", "").replace("_", "").isalnum()


def is_pattern(name: str) -> bool:
    return any(char in name for char in "*?[")


def load_suite_file(path: Path) -> Suite:
    """A suite from its TOML file, validated; a malformed one is one ConfigError line."""
    suite: Suite = validate(Suite, read_toml(path), str(path))
    return suite
