"""Every registered objective trains through the one runner, on both toy data sets."""

from __future__ import annotations

import math

import pytest
import torch

from conftest import toy_run
from ganzoo.registry.discovery import get_zoo
from ganzoo.run import rundir
from ganzoo.run.config import resolve_config
from ganzoo.training.trainer import Trainer

EXPECTED = {"minimax", "nonsaturating", "wgan", "wgan-gp", "hinge", "lsgan", "lsgan-pearson"} | {
    f"fgan-{d}" for d in ("kl", "reverse-kl", "pearson", "neyman", "hellinger", "jeffrey", "js", "gan", "tv")}
LOGS_DIVERGENCE = {n for n in EXPECTED if n.startswith(("fgan-", "wgan"))} | {"minimax", "nonsaturating"}


def test_every_objective_trains_on_both_toy_data_sets_with_any_gan(tmp_path):
    zoo = get_zoo()
    assert EXPECTED <= set(zoo.objectives.names())
    for objective in sorted(EXPECTED):
        for gan, dataset in (("gan", "ring8"), ("wgan-gp", "grid25")):
            raw = toy_run(tmp_path / objective / dataset, gan=gan, objective=objective, dataset=dataset, steps=4,
                          log_every=2, gan_options={"hidden": 32} if gan == "wgan-gp" else {"g_hidden": 32})
            trainer = Trainer(resolve_config(raw, zoo), zoo, progress=False)
            (record,) = trainer.fit()
            assert record["metrics"]["num_modes"] == (8 if dataset == "ring8" else 25)
            stats = rundir.read_jsonl(trainer.run_dir / rundir.STATS)
            assert [s["step"] for s in stats] == [2, 4]
            assert all(math.isfinite(v) for s in stats for v in s.values())
            assert ("divergence" in stats[-1]) == (objective in LOGS_DIVERGENCE), objective
            assert ("penalty" in stats[-1]) == (objective == "wgan-gp"), objective


def test_fgan_gan_and_js_with_the_practical_step_are_the_nonsaturating_gan(tmp_path):
    # GAN divergence: g_f(v) = -softplus(-v) = log sigmoid(v) and f*(g_f(v)) = softplus(v) = -log(1 - sigmoid(v)),
    # so -F is the discriminator's cross-entropy and -E_Q[g_f] the non-saturating generator loss;
    # the JS row differs from it by the constant log 2 alone. Same seeds, same updates, same networks.
    zoo = get_zoo()
    trained = {}
    for objective in ("nonsaturating", "fgan-gan", "fgan-js"):
        trainer = Trainer(resolve_config(toy_run(tmp_path / objective, objective=objective, steps=25), zoo), zoo,
                          progress=False)
        trainer.fit()
        trained[objective] = (trainer.generator.state_dict(), rundir.read_jsonl(trainer.run_dir / rundir.STATS))
    weights, stats = trained["nonsaturating"]
    for objective in ("fgan-gan", "fgan-js"):
        other_weights, other_stats = trained[objective]
        assert all(torch.allclose(weights[k], other_weights[k], atol=1e-5) for k in weights), objective
        # and the logged estimates are the same quantity on three scales: JS, 2 JS - log 4, 2 JS
        for mine, theirs in zip(stats, other_stats):
            js = mine["divergence"]
            expected = 2 * js - math.log(4) if objective == "fgan-gan" else 2 * js
            assert theirs["divergence"] == pytest.approx(expected, abs=1e-4)
