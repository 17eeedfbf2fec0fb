"""The cyclegan algorithm: its losses against the paper's formulas, the released code's order of updates and
routing of images, the pools' seeding and state across a resume, and its settings."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import ganzoo
from ganzoo.errors import GanzooError
from ganzoo.testing import resolved_config, trainer
from ganzoo.testing.kit import DATA, kit_zoo
from ganzoo_cyclegan.algorithm import CycleOptions, discriminator_loss, generator_terms

NARROW = {"ngf": 4, "ndf": 4, "blocks": 1}


def cyclegan_trainer(folder, **config):
    """A cyclegan run at narrow widths on the kit's synthetic unpaired 28x28 data, batches of 2."""
    settings = {"gan": "cyclegan", "dataset": DATA, "dataset_options": {"shape": [2, 1, 28, 28]},
                "gan_options": NARROW, "batch_size": 2, **config}
    return trainer(folder, zoo=kit_zoo(), **settings)


def l1(x: torch.Tensor, y: torch.Tensor) -> float:
    return (x - y).abs().mean().item()


def test_cycle_and_identity_losses_follow_the_paper_with_each_domains_weight():
    a, b = torch.randn(3, 1, 8, 8), 5 * torch.randn(3, 1, 8, 8)  # domains of different scales tell the terms apart
    options = CycleOptions(lambda_a=10.0, lambda_b=3.0, lambda_identity=0.5)
    terms = generator_terms(lambda x: 2 * x, lambda x: x, a, b, options)  # G_AB doubles, G_BA keeps
    assert torch.equal(terms.fake_b, 2 * a) and torch.equal(terms.fake_a, b)
    # lambda_A |G_BA(G_AB(a)) - a| + lambda_B |G_AB(G_BA(b)) - b|
    assert terms.cycle.item() == pytest.approx(10.0 * l1(2 * a, a) + 3.0 * l1(2 * b, b), rel=1e-5)
    # lambda_identity (lambda_B |G_AB(b) - b| + lambda_A |G_BA(a) - a|)
    assert terms.identity.item() == pytest.approx(0.5 * 3.0 * l1(2 * b, b), rel=1e-5)


def test_translators_that_invert_each_other_have_no_cycle_loss():
    a, b = torch.randn(2, 3, 8, 8), torch.randn(2, 3, 8, 8)
    options = CycleOptions()
    inverse_pair = generator_terms(lambda x: -x, lambda x: -x, a, b, options)
    assert inverse_pair.cycle.item() == 0.0 and inverse_pair.identity.item() > 0  # negation is no identity
    identities = generator_terms(nn.Identity(), nn.Identity(), a, b, options)
    assert identities.cycle.item() == 0.0 and identities.identity.item() == 0.0


def test_identity_loss_off_skips_its_two_translations():
    calls = []

    def generator(x):
        calls.append(x)
        return x + 1

    a, b = torch.zeros(1, 1, 4, 4), torch.zeros(1, 1, 4, 4)
    terms = generator_terms(generator, generator, a, b, CycleOptions(lambda_identity=0.0))
    assert terms.identity.item() == 0.0 and len(calls) == 4
    generator_terms(generator, generator, a, b, CycleOptions())
    assert len(calls) == 4 + 6


def test_least_squares_and_halved_discriminator_loss_are_the_released_ganloss():
    torch.manual_seed(0)
    critic = nn.Conv2d(1, 1, 3)  # any network giving a map of patch scores
    real, fake = torch.randn(2, 1, 8, 8), torch.randn(2, 1, 8, 8)
    real_map, fake_map = critic(real), critic(fake)
    lsgan = ganzoo.build_objective("cyclegan-lsgan")
    # backward_D_basic with GANLoss('lsgan'): (MSE(D(real), 1) + MSE(D(fake), 0)) * 0.5
    released_d = 0.5 * (F.mse_loss(real_map, torch.ones_like(real_map)) + F.mse_loss(fake_map, torch.zeros_like(fake_map)))
    assert discriminator_loss(lsgan, critic, real, fake).item() == pytest.approx(released_d.item(), rel=1e-6)
    # backward_G: MSE(D(G(x)), 1), no factor
    released_g = F.mse_loss(fake_map, torch.ones_like(fake_map))
    assert lsgan.generator_loss(fake_map.flatten()).item() == pytest.approx(released_g.item(), rel=1e-6)
    # --gan_mode vanilla (BCEWithLogitsLoss) is the nonsaturating objective under the same halving
    bce = F.binary_cross_entropy_with_logits
    vanilla_d = 0.5 * (bce(real_map, torch.ones_like(real_map)) + bce(fake_map, torch.zeros_like(fake_map)))
    nonsaturating = ganzoo.build_objective("nonsaturating")
    assert discriminator_loss(nonsaturating, critic, real, fake).item() == pytest.approx(vanilla_d.item(), rel=1e-5)
    assert nonsaturating.generator_loss(fake_map.flatten()).item() == pytest.approx(
        bce(fake_map, torch.ones_like(fake_map)).item(), rel=1e-5)


def test_one_step_updates_generators_first_then_discriminators_on_the_pooled_translations(tmp_path):
    run = cyclegan_trainer(tmp_path / "run", algorithm_options={"pool_size": 0})
    run.prepare()
    nets, step = run.networks, run.services
    calls: list[tuple[str, torch.Tensor, torch.Tensor, bool]] = []
    for name, network in nets.items():
        network.register_forward_hook(lambda module, args, out, name=name: calls.append(
            (name, args[0].detach().clone(), out.detach().clone(), args[0].requires_grad)))
    drawn = []
    real = step.real
    step.real = lambda n=None: drawn.append(real(n)) or drawn[-1]  # type: ignore[method-assign]
    optimized = []
    optimize = step.optimize
    step.optimize = lambda name, loss: optimized.append(  # type: ignore[method-assign]
        (name, {k: [p.detach().clone() for p in v.parameters()] for k, v in nets.items()})) or optimize(name, loss)
    run.train_step()

    assert len(drawn) == 1 and [name for name, _ in optimized] == ["g", "d"]  # one batch; G first, then D
    real_a, real_b = drawn[0].samples[:, 0], drawn[0].samples[:, 1]
    by = {name: [(x, y, grad) for n, x, y, grad in calls if n == name] for name in nets}
    fake_b = next(y for x, y, _ in by["generator_ab"] if torch.equal(x, real_a))  # G_AB(a)
    fake_a = next(y for x, y, _ in by["generator_ba"] if torch.equal(x, real_b))  # G_BA(b)
    # G's step scores the translations with gradient; D's step scores its domain's real images and the same
    # translations (made before G's update), detached: discriminator_b judges B, discriminator_a judges A
    for critic, fake, real_images in (("discriminator_b", fake_b, real_b), ("discriminator_a", fake_a, real_a)):
        (g_in, _, g_grad), (r_in, _, _), (f_in, _, f_grad) = by[critic]
        assert torch.equal(g_in, fake) and g_grad
        assert torch.equal(r_in, real_images) and torch.equal(f_in, fake) and not f_grad
    # the generators' update left the discriminators as they were; the discriminators' update left the generators
    (_, before_g), (_, before_d) = optimized
    after = {k: list(v.parameters()) for k, v in nets.items()}
    for name in ("discriminator_a", "discriminator_b"):
        assert all(torch.equal(x, y) for x, y in zip(before_g[name], before_d[name]))
        assert any(not torch.equal(x, y) for x, y in zip(before_d[name], after[name]))
    for name in ("generator_ab", "generator_ba"):
        assert any(not torch.equal(x, y) for x, y in zip(before_g[name], before_d[name]))
        assert all(torch.equal(x, y) for x, y in zip(before_d[name], after[name]))


def test_reports_the_discriminator_adversarial_cycle_and_identity_losses(tmp_path):
    run = cyclegan_trainer(tmp_path / "run", steps=2, log_every=1)
    run.prepare()
    run.train_step()
    means = run.statistics.means()
    assert {"loss_d", "loss_g", "cycle", "identity"} <= set(means)
    assert all(means[key] > 0 for key in ("loss_d", "loss_g", "cycle", "identity"))


def test_pools_are_seeded_from_the_run_seed(tmp_path):
    def pool_rng(seed: int, folder: str) -> torch.Tensor:
        run = cyclegan_trainer(tmp_path / folder, seed=seed)
        run.prepare()
        assert run.algorithm.state_dict()["rng"].numel() == 0  # not seeded before the first step
        run.train_step()
        return run.algorithm.state_dict()["rng"]

    assert torch.equal(pool_rng(0, "a"), pool_rng(0, "b")) and not torch.equal(pool_rng(0, "c"), pool_rng(1, "d"))


def test_a_resumed_run_with_full_pools_goes_on_bit_for_bit(tmp_path):
    """Pools of 3 images fill in two steps of 2, so the swaps are drawn after the resume (the conformance check
    resumes before the default pools of 50 fill)."""
    options = {"algorithm_options": {"pool_size": 3}, "steps": 6}
    straight = cyclegan_trainer(tmp_path / "straight", **options)
    straight.prepare()
    for _ in range(6):
        straight.train_step()
    first = cyclegan_trainer(tmp_path / "first", **options)
    first.prepare()
    for _ in range(3):
        first.train_step()
    first.save()
    resumed = cyclegan_trainer(tmp_path / "first", **options)
    resumed.restore(tmp_path / "first" / "checkpoints" / "last.safetensors")
    for _ in range(3):
        resumed.train_step()
    assert int(resumed.algorithm.state_dict()["discriminator_a.count"]) == 3
    for name, network in straight.networks.items():
        for key, value in network.state_dict().items():
            assert torch.equal(value, resumed.networks[name].state_dict()[key]), f"{name}.{key}"
    for key, value in straight.algorithm.state_dict().items():
        assert torch.equal(value, resumed.algorithm.state_dict()[key]), key


def test_published_settings_arrive_in_the_resolved_config():
    config = resolved_config(gan="cyclegan")
    assert (config.algorithm, config.objective) == ("cyclegan", "cyclegan-lsgan")
    assert config.batch_size == 1 and config.d_steps == 1
    for optimizer in (config.optimizer_g, config.optimizer_d):
        assert optimizer.kind == "adam" and optimizer.lr == 2e-4 and tuple(optimizer.betas) == (0.5, 0.999)
    assert config.lr_decay == "linear" and config.lr_decay_start == 0.5
    assert config.lr_factor(config.steps // 2) == 1.0 and config.lr_factor(3 * config.steps // 4) == 0.5


@pytest.mark.parametrize(("config", "message"), [
    ({"objective": "wgan-gp"}, "score-level objective"),
    ({"algorithm": "alternating"}, "uses networks discriminator, generator"),
    ({"gan": "conformance-mlp", "gan_options": {}, "algorithm": "cyclegan"}, "cyclegan needs generator_ab, .*use gan = \"cyclegan\""),
])
def test_refuses_pairings_it_cannot_train(tmp_path, config, message):
    with pytest.raises(GanzooError, match=message):
        cyclegan_trainer(tmp_path / "run", **config).prepare()


def test_refuses_more_than_one_discriminator_step(tmp_path):
    run = cyclegan_trainer(tmp_path / "run", d_steps=2)
    run.prepare()
    with pytest.raises(GanzooError, match="set d_steps = 1"):
        run.train_step()
