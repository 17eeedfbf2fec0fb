"""Training algorithms as plugins: any networks, optimizers per name, their state in checkpoints, statistics.

The default algorithm is checked against Algorithm 1 of Goodfellow et al. 2014
written out by hand, for an objective with a gradient penalty and one with
weight clipping, so the refactoring into a plugin changed nothing.
"""

from __future__ import annotations

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file
from torch import nn

from ganzoo import Algorithm, AlgorithmSpec, GanSpec, hookimpl
from ganzoo.api.prior import forward
from ganzoo.errors import ConfigError, GanzooError
from ganzoo.registry.discovery import Zoo
from ganzoo.registry.registry import Source
from ganzoo.run import rundir
from ganzoo.testing import trainer
from ganzoo.training.checkpoint import load_checkpoint


class Reconstructing(Algorithm):
    """A small algorithm with a third network: an encoder trained to invert G, beside the usual GAN step.
    Its state counts the encoder's updates, so resuming must restore it."""

    optimizers = {"g": ("generator",), "d": ("discriminator",), "e": ("encoder",)}

    def __init__(self, weight: float):
        self.weight = weight
        self.updates = torch.zeros((), dtype=torch.long)

    def build_networks(self, gan, info, z_dim):
        networks = gan()
        networks["encoder"] = nn.Linear(info.shape[0], z_dim)
        return networks

    def step(self, step):
        real = step.real()
        with torch.no_grad():
            fake = step.generate()
        loss_d = (nn.functional.softplus(-step.discriminate(real.samples)).mean()
                  + nn.functional.softplus(step.discriminate(fake.samples)).mean())
        step.optimize("d", loss_d)
        fake = step.generate()
        step.optimize("g", nn.functional.softplus(-step.discriminate(fake.samples)).mean())
        codes = step.latents()
        with torch.no_grad():
            samples = step.networks["generator"](codes.latents)
        loss_e = self.weight * ((step.networks["encoder"](samples) - codes.latents) ** 2).mean()
        step.optimize("e", loss_e)
        self.updates += 1
        step.report("loss_e", loss_e)
        step.report("updates", self.updates.float())

    def state_dict(self):
        return {"updates": self.updates.clone()}

    def load_state_dict(self, state):
        self.updates = state["updates"].clone()


class AlgorithmPlugin:
    ganzoo_plugin_api = "2.0"

    @hookimpl
    def register_algorithms(self, register):
        register(AlgorithmSpec(name="reconstructing", build=lambda options: Reconstructing(2.0), citation="-",
                               defaults={"optimizers": {"e": {"lr": 0.01}}}))
        register(AlgorithmSpec(name="missing-network", build=lambda options: Missing(), citation="-"))
        register(AlgorithmSpec(name="greedy", build=lambda options: Greedy(), citation="-"))
        register(AlgorithmSpec(name="bad-name", build=lambda options: BadName(), citation="-"))
        register(AlgorithmSpec(name="peeking", build=lambda options: Peeking(), citation="-"))
        register(AlgorithmSpec(name="refusing", build=lambda options: Refusing(), citation="-"))
        for name, declared in MALFORMED.items():
            register(AlgorithmSpec(name=name, build=lambda options, d=declared: Declaring(d), citation="-"))

    @hookimpl
    def register_gans(self, register):
        register(GanSpec(name="tiny", build=lambda info, z, o: (nn.Linear(z, 2), nn.Linear(2, 1)),
                         default_objective="nonsaturating", citation="-"))


class Missing(Reconstructing):
    optimizers = {"g": ("generator",), "d": ("critic",)}

    def __init__(self):
        super().__init__(1.0)


class Greedy(Reconstructing):
    optimizers = {"g": ("generator", "encoder"), "d": ("discriminator",), "e": ("encoder",)}

    def __init__(self):
        super().__init__(1.0)


class Peeking(Reconstructing):
    """Reads its optimizers between updates, as an algorithm that unrolls one does."""

    def __init__(self):
        super().__init__(1.0)
        self.rates = []

    def step(self, step):
        super().step(step)
        self.rates.append(step.optimizer("e").param_groups[0]["lr"])
        if len(self.rates) == 3:
            step.optimizer("x")


class Refusing(Reconstructing):
    def __init__(self):
        super().__init__(1.0)

    def build_networks(self, gan, info, z_dim):
        raise ValueError("it trains only GANs with an encoder; use gan = \"ali-mlp\"")


class Declaring(Reconstructing):
    """Declarations set per instance, as a plugin author might get them wrong."""

    def __init__(self, declared):
        super().__init__(1.0)
        for key, value in declared.items():
            setattr(self, key, value)


MALFORMED = {
    "listed": {"optimizers": [("g", ("generator",)), ("d", ("discriminator",))]},
    "slashed": {"optimizers": {"g": ("generator",), "d": ("discriminator",), "e/x": ("encoder",)}},
    "unpacked": {"optimizers": {"g": ("generator",), "d": ("discriminator",), "e": "encoder"}},
    "numbered": {"generator": 0},
    "stringly": {"discriminators": "discriminator"},
    "stateful": {"state_dict": lambda: {"updates": 3}},
    "mistranslating": {"translators": {"A to B": "generator"}},
    "untranslatable": {"translators": {"a2b": "translator"}},
}


class BadName(Reconstructing):
    def build_networks(self, gan, info, z_dim):
        return {**gan(), "encoder": nn.Linear(2, z_dim), "rng": nn.Linear(1, 1)}

    def __init__(self):
        super().__init__(1.0)


@pytest.fixture
def zoo():
    return Zoo(plugins=[(AlgorithmPlugin(), Source("algos", "ganzoo-algos", "1.0"))])


def trainer_for(zoo, tmp_path, **overrides):
    return trainer(tmp_path / "run", zoo=zoo, **{"gan": "gan", **overrides})


def test_an_algorithm_trains_its_own_networks_with_their_own_optimizers(zoo, tmp_path):
    trainer = trainer_for(zoo, tmp_path, gan="tiny", algorithm="reconstructing", steps=10, log_every=5)
    assert set(trainer.networks) == {"generator", "discriminator", "encoder"}
    assert trainer.optimizers["e"].param_groups[0]["lr"] == 0.01  # the algorithm's default for its optimizer
    before = trainer.networks["encoder"].weight.detach().clone()
    trainer.fit()
    assert not torch.equal(before, trainer.networks["encoder"].weight)
    stats = rundir.read_jsonl(tmp_path / "run" / rundir.STATS)
    assert [s["step"] for s in stats] == [5, 10]
    assert stats[0]["updates"] == pytest.approx(3.0)  # the mean of 1..5
    assert stats[1]["updates"] == pytest.approx(8.0)  # the mean of 6..10
    checkpoint = load_checkpoint(tmp_path / "run" / rundir.LAST_CHECKPOINT)
    assert {"generator", "discriminator", "encoder", "optimizer_e", "algorithm"} <= set(checkpoint.tensors)
    assert checkpoint.state_dict("algorithm")["updates"].item() == 10
    assert checkpoint.provenance["algorithm"] == {"name": "reconstructing", "distribution": "ganzoo-algos",
                                                  "version": "1.0"}


def test_an_algorithm_s_networks_and_state_resume_bit_for_bit(zoo, tmp_path):
    straight = trainer_for(zoo, tmp_path / "a", gan="tiny", algorithm="reconstructing", steps=12)
    straight.fit()
    trainer_for(zoo, tmp_path / "b", gan="tiny", algorithm="reconstructing", steps=5).fit()
    resumed = trainer_for(zoo, tmp_path / "b", gan="tiny", algorithm="reconstructing", steps=12)
    resumed.prepare(resume=True)
    assert resumed.algorithm.updates.item() == 5
    resumed.fit()
    for name in straight.networks:
        for a, b in zip(straight.networks[name].state_dict().values(), resumed.networks[name].state_dict().values()):
            assert torch.equal(a, b)
    assert resumed.algorithm.updates.item() == 12


def test_a_checkpoint_with_parts_the_run_does_not_have_is_refused(zoo, tmp_path):
    trainer_for(zoo, tmp_path, gan="tiny", steps=4).fit()
    path = tmp_path / "run" / rundir.LAST_CHECKPOINT
    with safe_open(str(path), framework="pt") as handle:
        metadata, tensors = handle.metadata(), {key: handle.get_tensor(key) for key in handle.keys()}
    save_file({**tensors, "encoder/weight": torch.zeros(3, 2)}, str(path), metadata=metadata)
    with pytest.raises(GanzooError, match=r"holds parts this run does not have \(encoder\); it was written by "
                                          "another algorithm or GAN"):
        trainer_for(zoo, tmp_path, gan="tiny", steps=4).restore(path)


@pytest.mark.parametrize(("algorithm", "extra", "message"), [
    ("missing-network", {}, "uses networks critic, but the run has only discriminator, encoder, generator"),
    ("greedy", {}, "puts networks encoder in more than one optimizer"),
    ("bad-name", {}, "names a network 'rng'; names are lowercase identifiers, not rng"),
    ("reconstructing", {"optimizers": {"x": {"lr": 1.0}}}, "optimizers.x is set, but algorithm 'reconstructing' "
                                                           "has optimizers d, e, g"),
    ("listed", {}, "declares optimizers = .*; it must map lowercase names to non-empty tuples of network names"),
    ("slashed", {}, "declares optimizers = .*'e/x'"),
    ("unpacked", {}, "declares optimizers = .*'e': 'encoder'"),
    ("numbered", {}, "declares generator = 0 .*the generator is a network name or None"),
    ("stringly", {}, "discriminators = 'discriminator'; .*a tuple of network names"),
    ("mistranslating", {}, "declares translators = .*'A to B'.*; it must map lowercase direction names"),
    ("untranslatable", {}, "uses networks translator, but the run has only"),
    ("stateful", {}, r"state_dict\(\) must return a dict of names to tensors .*got \{'updates': int\}"),
    ("alternating", {"ema": {"enabled": True}, "gan": "tiny", "batch_size": 7}, None),
])
def test_what_an_algorithm_declares_is_checked_before_training(zoo, tmp_path, algorithm, extra, message):
    raw = {"gan": "tiny", "algorithm": algorithm, **extra}
    if message is None:  # the control: a well-formed run builds
        assert trainer_for(zoo, tmp_path, **raw).generator_ema is not None
        return
    with pytest.raises(GanzooError, match=message):
        trainer_for(zoo, tmp_path, **raw)
    assert not (tmp_path / "run").exists()


def hand_written_step(G, D, objective, opt_g, opt_d, batches, prior, noise, batch_size, d_steps):
    """Algorithm 1 of Goodfellow et al. 2014 with the objective's hooks, as the runner of ganzoo 0.1 ran it."""
    for _ in range(d_steps):
        real, _ = batches.next(batch_size)
        with torch.no_grad():
            fake = forward(G, prior.sample(batch_size, noise), prior.sample_labels(batch_size, noise))
        loss = objective.discriminator_loss(D(real).reshape(-1), D(fake).reshape(-1))
        penalty = objective.penalty(D, real, fake)
        opt_d.zero_grad(set_to_none=True)
        (loss if penalty is None else loss + penalty).backward()
        opt_d.step()
        objective.after_discriminator_step(D)
    fake = forward(G, prior.sample(batch_size, noise), prior.sample_labels(batch_size, noise))
    loss = objective.generator_loss(D(fake).reshape(-1))
    opt_g.zero_grad(set_to_none=True)
    loss.backward()
    opt_g.step()


@pytest.mark.parametrize("gan", ["gan", "wgan-gp", "wgan"])  # plain, gradient penalty, weight clipping
def test_the_default_algorithm_is_algorithm_1_written_by_hand(tmp_path, gan):
    runner = trainer(tmp_path / "a", gan=gan, steps=6)
    by_hand = trainer(tmp_path / "b", gan=gan, steps=6)
    assert runner.config.d_steps == (1 if gan == "gan" else 5)
    for _ in range(6):
        shared = torch.get_rng_state()  # the gradient penalty draws from torch's global generator
        runner.train_step()
        torch.set_rng_state(shared)
        hand_written_step(by_hand.generator, by_hand.discriminator, by_hand.objective, by_hand.optimizers["g"],
                          by_hand.optimizers["d"], by_hand.batches, by_hand.prior, by_hand.noise_rng,
                          by_hand.config.batch_size, by_hand.config.d_steps)
    for name in ("generator", "discriminator"):
        for a, b in zip(runner.networks[name].state_dict().values(), by_hand.networks[name].state_dict().values()):
            assert torch.equal(a, b)


def test_an_algorithm_without_a_generator_has_no_pictures_or_average(zoo, tmp_path):
    class Critic(Algorithm):
        generator = None
        optimizers = {"d": ("discriminator",)}

        def build_networks(self, gan, info, z_dim):
            return {"discriminator": gan()["discriminator"]}

        def step(self, step):
            step.optimize("d", -step.discriminate(step.real().samples).mean())

    class CriticPlugin:
        ganzoo_plugin_api = "2.0"

        @hookimpl
        def register_algorithms(self, register):
            register(AlgorithmSpec(name="critic-only", build=lambda options: Critic(), citation="-"))

    zoo = Zoo(plugins=[(AlgorithmPlugin(), Source("algos", "ganzoo-algos", "1.0")),
                       (CriticPlugin(), Source("critic", "ganzoo-critic", "1.0"))])
    with pytest.raises(ConfigError, match="algorithm 'critic-only' has no generator; set ema.enabled = false"):
        trainer_for(zoo, tmp_path, gan="tiny", algorithm="critic-only", ema={"enabled": True})
    trainer = trainer_for(zoo, tmp_path, gan="tiny", algorithm="critic-only", eval_every=2, steps=3)
    trainer.fit()
    assert trainer.step == 3 and not (tmp_path / "run" / "samples").exists()
    assert not (tmp_path / "run" / rundir.METRICS).exists()  # nothing to measure without a generator


def test_a_step_wrapper_hands_everything_to_the_step_it_wraps_but_what_it_changes(tmp_path):
    from ganzoo import Alternating, Batch, StepWrapper
    from ganzoo.testing import trainer as make_trainer

    class Doubled(StepWrapper):
        def real(self, n=None):
            batch = self.inner.real(n)
            return Batch(batch.samples * 2, batch.labels)

    run = make_trainer(tmp_path / "run", gan="gan", steps=3, batch_size=8)
    inner = run.services
    wrapped = Doubled(inner)
    assert (wrapped.index, wrapped.steps, wrapped.batch_size, wrapped.world_size) == (0, 3, 8, 1)
    assert wrapped.networks is inner.networks and wrapped.objective is inner.objective
    inner.index = 2
    assert wrapped.index == 2 and wrapped.progress == pytest.approx(2 / 3)  # read through, not copied
    torch.manual_seed(0)
    doubled = wrapped.real().samples
    assert doubled.abs().max() > 1  # ring8's points lie within about 1.1 of the centre: doubled, they leave it
    Alternating().step(wrapped)  # an algorithm takes it as any step


def test_an_algorithm_reads_the_run_s_optimizers_and_a_wrong_name_is_one_line(zoo, tmp_path):
    peeking = trainer_for(zoo, tmp_path, gan="tiny", algorithm="peeking", steps=4, lr_decay="linear",
                          optimizers={"e": {"lr": 0.4}})
    with pytest.raises(GanzooError, match="training step 3: the algorithm asked for optimizer 'x'; it declares "
                                          "g, d, e"):
        peeking.fit()
    assert peeking.algorithm.rates == pytest.approx([0.4, 0.3, 0.2])  # the rates as decayed for each step


def test_an_algorithm_refusing_the_gan_is_a_config_error_naming_both(zoo, tmp_path):
    with pytest.raises(ConfigError, match="algorithm 'refusing' cannot train GAN 'tiny': it trains only GANs with "
                                          "an encoder; use gan"):
        trainer_for(zoo, tmp_path, gan="tiny", algorithm="refusing")
