"""A run's plugin-made parts other than networks and data: objective, algorithm, augmentation."""

from __future__ import annotations

from ganzoo.api.algorithm import Algorithm
from ganzoo.api.augmentation import Augmentation
from ganzoo.api.objective import Objective
from ganzoo.errors import GanzooError
from ganzoo.run.plan import RunPlan


def build_objective(plan: RunPlan) -> Objective:
    assert plan.objective is not None, "a plan made for training has an objective"
    objective: Objective = plan.objective.build(check=lambda result: isinstance(result, Objective))
    for name in ("heads", "d_penalty_every", "g_penalty_every"):
        value = getattr(objective, name)
        if not (isinstance(value, int) and not isinstance(value, bool) and value >= 1):
            raise GanzooError(f"{plan.objective} sets {name} = {value!r}; it must be a whole number of at least 1")
    if not (objective.divergence_name is None or isinstance(objective.divergence_name, str)):
        raise GanzooError(f"{plan.objective} sets divergence_name = {objective.divergence_name!r}; it must be a "
                          "few words saying what divergence_estimate estimates, or None")
    return objective


def build_algorithm(plan: RunPlan) -> Algorithm:
    algorithm: Algorithm = plan.algorithm.build(check=lambda result: isinstance(result, Algorithm))
    return algorithm


def build_augmentation(plan: RunPlan) -> Augmentation | None:
    if plan.augmentation is None:
        return None
    augmentation: Augmentation = plan.augmentation.build(check=lambda result: isinstance(result, Augmentation))
    return augmentation
