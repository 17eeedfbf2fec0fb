"""Results over seeds: Student's t checked against its density and its closed forms, and the bench table."""

from __future__ import annotations

import math
import statistics

import pytest

from ganzoo.bench.seeds import over_seeds, t_quantile, t_within
from ganzoo.bench.shipped import shipped_suites
from ganzoo.bench.suite import load_suite_file
from ganzoo.bench.table import summarize, text_table


def t_density(x: float, df: int) -> float:
    return (math.gamma((df + 1) / 2) / (math.sqrt(df * math.pi) * math.gamma(df / 2))
            * (1 + x * x / df) ** (-(df + 1) / 2))


def simpson(f, a: float, b: float, n: int = 2000) -> float:
    h = (b - a) / n
    return h / 3 * (f(a) + f(b) + sum((4 if i % 2 else 2) * f(a + i * h) for i in range(1, n)))


@pytest.mark.parametrize("df", [1, 2, 3, 4, 5, 6, 9, 30])
@pytest.mark.parametrize("t", [0.3, 1.0, 2.5, 7.0])
def test_the_closed_form_is_the_integral_of_the_density(df, t):
    assert t_within(t, df) == pytest.approx(simpson(lambda x: t_density(x, df), -t, t), abs=1e-9)


def test_the_quantile_matches_the_closed_forms_and_tends_to_the_normal():
    p = 0.975  # the two-sided 95 % quantile is the one-sided 97.5 % one
    assert t_quantile(1) == pytest.approx(math.tan(math.pi * (p - 0.5)), rel=1e-12)
    assert t_quantile(2) == pytest.approx((2 * p - 1) / math.sqrt(2 * p * (1 - p)), rel=1e-12)
    assert t_quantile(10_000) == pytest.approx(statistics.NormalDist().inv_cdf(p), abs=1e-3)
    assert [t_quantile(df) for df in range(1, 6)] == sorted((t_quantile(df) for df in range(1, 6)), reverse=True)
    assert t_within(t_quantile(7), 7) == pytest.approx(0.95, abs=1e-12)


def test_over_seeds_gives_mean_sd_interval_and_best_in_the_right_direction():
    values = [0.5, None, 2.0, 1.0, 3.5]
    higher = over_seeds(values, higher_is_better=True)
    present = [0.5, 2.0, 1.0, 3.5]
    half = t_quantile(3) * statistics.stdev(present) / 2
    assert higher is not None and higher.count == 4 and higher.mean == pytest.approx(1.75)
    assert higher.sd == pytest.approx(statistics.stdev(present))
    assert higher.interval == pytest.approx((1.75 - half, 1.75 + half)) and higher.best == 3.5
    lower = over_seeds(values, higher_is_better=False)
    assert lower is not None and lower.best == 0.5
    one = over_seeds([None, 4.0], higher_is_better=True)
    assert one is not None and (one.count, one.mean, one.sd, one.interval, one.best) == (1, 4.0, None, None, 4.0)
    assert over_seeds([None, None], higher_is_better=True) is None


def test_the_bench_table_shows_the_interval_and_best_run_beside_the_mean():
    def run(seed, modes, hq, kl):
        return {"entry": "gan", "gan": "gan", "objective": "ns", "dataset": "ring8", "seed": seed,
                "conditional": False, "last_stats": {"divergence": 0.1},
                "metrics": {"modes": modes, "high_quality_pct": hq, "reverse_kl": kl, "num_modes": 8}}

    suite = load_suite_file(dict(shipped_suites())["toy"])
    table = text_table(suite, "quick", summarize(suite, [run(0, 6, 50.0, 0.4), run(1, 8, 70.0, 0.2),
                                                         {**run(2, 0, 0, 0), "metrics": None}]))
    half = t_quantile(1) * statistics.stdev([50.0, 70.0]) / math.sqrt(2)
    assert 60 - half < 0 and 60 + half > 100  # the interval of two seeds overruns a percentage's range: clipped
    assert "60.0 ± 14.1 [0.0, 100.0] best 70.0" in table
    assert "best 0.200" in table and "3 (1 diverged)" in table  # lower reverse KL is the better run
    assert "0.100 ± 0.000 [0.100, 0.100]" in table and "best 0.100" not in table  # D's estimate is not a score
