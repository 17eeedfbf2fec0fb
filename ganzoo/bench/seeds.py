"""Results over training seeds, as Lucic et al. 2018 ("Are GANs Created Equal?") recommend reporting them: the
mean, the standard deviation, a 95 % confidence interval for the mean (Student's t), and the best run beside them.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

CONFIDENCE = 0.95


@dataclass(frozen=True)
class OverSeeds:
    """One metric over the seeds that finished. ``sd`` and ``interval`` need two seeds or more."""

    count: int
    mean: float
    sd: float | None
    interval: tuple[float, float] | None
    best: float

    def as_dict(self) -> dict[str, object]:
        return {"count": self.count, "mean": self.mean, "sd": self.sd,
                "ci95": None if self.interval is None else list(self.interval), "best": self.best}


def over_seeds(values: list[float | None], *, higher_is_better: bool) -> OverSeeds | None:
    """Summarise one metric's per-seed values (None where a seed has no value); None if no seed has one."""
    present = [v for v in values if v is not None]
    if not present:
        return None
    mean = statistics.fmean(present)
    best = max(present) if higher_is_better else min(present)
    if len(present) == 1:
        return OverSeeds(1, mean, None, None, best)
    sd = statistics.stdev(present)
    half = t_quantile(len(present) - 1) * sd / math.sqrt(len(present))
    return OverSeeds(len(present), mean, sd, (mean - half, mean + half), best)


def t_quantile(df: int, confidence: float = CONFIDENCE) -> float:
    """The two-sided ``confidence`` quantile of Student's t with ``df`` degrees of freedom: the t with
    P(|T| <= t) = confidence, found by bisection on :func:`t_within`."""
    low, high = 0.0, 1.0
    while t_within(high, df) < confidence:
        high *= 2
    for _ in range(200):
        middle = (low + high) / 2
        low, high = (middle, high) if t_within(middle, df) < confidence else (low, middle)
    return (low + high) / 2


def t_within(t: float, df: int) -> float:
    """P(|T| <= t) for Student's t with a whole number ``df`` of degrees of freedom, in closed form
    (Abramowitz and Stegun 1964, 26.7.3 and 26.7.4), with theta = atan(t / sqrt(df))."""
    if df < 1:
        raise ValueError(f"degrees of freedom must be at least 1, got {df}")
    theta = math.atan(t / math.sqrt(df))
    cos2 = math.cos(theta) ** 2
    term, total = 1.0, 1.0
    if df % 2 == 0:  # sin(theta) * (1 + 1/2 cos^2 + 1*3/(2*4) cos^4 + ... up to cos^(df-2))
        for k in range(1, df // 2):
            term *= (2 * k - 1) / (2 * k) * cos2
            total += term
        return math.sin(theta) * total
    if df == 1:
        return 2 * theta / math.pi
    for k in range(1, (df - 1) // 2):  # (2/pi)(theta + sin cos (1 + 2/3 cos^2 + ... up to cos^(df-3)))
        term *= (2 * k) / (2 * k + 1) * cos2
        total += term
    return 2 / math.pi * (theta + math.sin(theta) * math.cos(theta) * total)
