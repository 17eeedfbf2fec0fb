"""ALI / BiGAN: the encoder, the joint discriminator's pairs, and where the encoder's gradient comes from."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import ganzoo
from ganzoo.errors import GanzooError
from ganzoo.testing import trainer
from ganzoo_ali import LatentEncoder, encoder_of

SMALL = {"hidden": 16, "d_hidden": 16}


def ali_trainer(tmp_path, **config):
    return trainer(tmp_path / "run", gan="ali-mlp", gan_options={**SMALL, **config.pop("gan_options", {})},
                   **config)


def test_reparameterised_samples_follow_the_encoders_mean_and_deviation():
    torch.manual_seed(0)
    body = nn.Linear(3, 4)  # z_dim 2: mean and log deviation
    encoder = LatentEncoder(body, z_dim=2, stochastic=True)
    x = torch.randn(1, 3)
    mu, log_sigma = body(x).detach().split(2, dim=1)
    samples = encoder(x.expand(20000, 3)).detach()
    assert samples.mean(0) == pytest.approx(mu[0], abs=0.05)
    assert samples.std(0) == pytest.approx(log_sigma.exp()[0], rel=0.03)
    # reparameterised: a loss on the samples reaches the log deviation's weights
    encoder(x).square().sum().backward()
    assert body.weight.grad[2:].abs().sum() > 0
    encoder.eval()  # eval mode: the mean, the same at every call
    assert torch.equal(encoder(x), mu) and torch.equal(encoder(x), encoder(x))


def test_deterministic_encoder_is_its_body():
    body = nn.Linear(3, 2)
    encoder = LatentEncoder(body, z_dim=2, stochastic=False)
    x = torch.randn(5, 3)
    assert torch.equal(encoder(x), body(x))
    assert torch.equal(encoder.posterior(x)[1], torch.zeros(5, 2))


@pytest.mark.parametrize("kind", ["gaussian", "deterministic"])
def test_cnn_triple_shapes_and_refusals(kind):
    torch.manual_seed(0)
    nets = ganzoo.build_gan("ali-cnn", ganzoo.DataInfo((1, 32, 32)), z_dim=8, channels=2, encoder=kind)
    G, E, D = nets["generator"], nets["encoder"], nets["joint_discriminator"]
    images = G(torch.randn(4, 8))
    assert images.shape == (4, 1, 32, 32) and images.abs().max() <= 1
    assert E.eval()(images).shape == (4, 8)  # the shape `ganzoo invert` reads
    assert D(images, torch.randn(4, 8)).shape == (4,)
    with pytest.raises(ValueError, match=r"ali-cnn serves 32x32 images only.*dataset_options.resolution = 32"):
        ganzoo.build_gan("ali-cnn", ganzoo.DataInfo((1, 28, 28)))
    with pytest.raises(ValueError, match="ali-mlp takes points"):
        ganzoo.build_gan("ali-mlp", ganzoo.DataInfo((1, 32, 32)))


def test_discriminator_sees_encoder_pairs_as_real_and_generator_pairs_as_fake(tmp_path):
    run = ali_trainer(tmp_path)
    run.prepare()
    nets = run.networks
    seen: dict[str, list] = {"encoder": [], "generator": [], "joint_discriminator": []}
    for name, record in seen.items():
        nets[name].register_forward_hook(lambda module, args, out, record=record: record.append((args, out)))
    run.train_step()
    # first D call of the step (the D update): real half (x, E(x)), fake half (G(z), z)
    (x_in,), codes = seen["encoder"][0]
    (z_in,), samples = seen["generator"][0]
    (pair_x, pair_z), _ = seen["joint_discriminator"][0]
    n = len(x_in)
    assert torch.equal(pair_x[:n], x_in) and torch.equal(pair_z[:n], codes)
    assert torch.equal(pair_x[n:], samples) and torch.equal(pair_z[n:], z_in)
    assert len(seen["joint_discriminator"]) == 2  # one D step (d_steps = 1), one step of G and E


def test_encoder_learns_only_through_the_discriminators_score(tmp_path):
    run = ali_trainer(tmp_path, gan_options={"input_dropout": 0.0, "dropout": 0.0})
    run.prepare()
    algorithm, step, objective = run.algorithm, run.services, run.objective
    encoder, generator = run.networks["encoder"], run.networks["generator"]

    def grads() -> tuple[float, float]:
        encoder.zero_grad(), generator.zero_grad()
        real, fake = algorithm.pair_scores(step, train_players=True)
        (objective.generator_loss(fake) + objective.generator_loss(-real)).backward()
        return (sum(p.grad.abs().sum().item() for p in encoder.parameters()),
                sum(p.grad.abs().sum().item() for p in generator.parameters()))

    assert all(g > 0 for g in grads())
    with torch.no_grad():  # a D whose score ignores its input: no other loss term can move E or G
        run.networks["joint_discriminator"].joint[-1].weight.zero_()
    assert grads() == (0.0, 0.0)


def test_encoder_is_reachable_after_training_and_encodes_points(tmp_path):
    run = ali_trainer(tmp_path, steps=4)
    run.fit()
    encoder = encoder_of(run.networks).eval()
    with torch.no_grad():
        codes = encoder(torch.randn(6, 2))
    assert codes.shape == (6, run.config.z_dim) and torch.isfinite(codes).all()
    with pytest.raises(ValueError, match="no encoder"):
        encoder_of({"generator": nn.Linear(2, 2)})


@pytest.mark.parametrize("objective", ["lsgan", "wgan-gp"])
def test_refuses_objectives_without_a_label_swap_or_with_penalties_on_d_of_x(tmp_path, objective):
    with pytest.raises(GanzooError, match="label swap|score-level objective"):
        ali_trainer(tmp_path, objective=objective)


def test_minimax_objective_gives_the_papers_value_function(tmp_path):
    # G and E minimise V = E log D(x, E(x)) + E log(1 - D(G(z), z)) (ALI eq. 1, BiGAN eq. 3), D maximises it
    run = ali_trainer(tmp_path, objective="minimax")
    real, fake = torch.randn(5), torch.randn(5)
    value = torch.log(torch.sigmoid(real)).mean() + torch.log(1 - torch.sigmoid(fake)).mean()
    objective = run.objective
    players = objective.generator_loss(fake) + objective.generator_loss(-real)
    assert players == pytest.approx(value.item(), abs=1e-5)
    assert objective.discriminator_loss(real, fake) == pytest.approx(-value.item(), abs=1e-5)
