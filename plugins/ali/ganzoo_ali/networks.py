"""The three networks of ALI / BiGAN: a generator G(z), an encoder E(x) and a joint discriminator D(x, z).

Two triples, each following a released experiment of ALI (github.com/IshmaelBelghazi/ALI):

- :func:`mlp_triple`, ``experiments/ali_mixture.py`` (the 2D Gaussian mixture): G and E are MLPs of two hidden
  layers with batch norm and ReLU and no hidden biases, D is two maxout layers (2 pieces) on the concatenation
  ``[x, z]``, with dropout 0.2 on its input and 0.5 on its hidden layers; weights from N(0, 0.02).
- :func:`cnn_triple`, ``experiments/ali_svhn.py`` (32x32 SVHN, ALI paper Appendix A, Table 4): E is five strided
  convolutions and two 1x1 ones with batch norm and leaky ReLU (leak 0.01, Blocks' default), G their transpose;
  D is D(x) (the encoder's convolutions, batch norm from the second layer on), D(z) (two 1x1 layers of 16 times
  the base width) and D(x, z) (two of 32 times it, then the score), with dropout 0.2 before every layer of D;
  weights from N(0, 0.01). ``channels`` is the base width (paper: 32, so 32-64-128-256-512).
"""

from __future__ import annotations

import torch
from torch import nn

from ganzoo.layers import Maxout

LEAK = 0.01  # Blocks' LeakyRectifier, which the ALI experiments use unchanged


class LatentEncoder(nn.Module):
    """E(x): a body mapping x to ``z_dim`` numbers (deterministic, BiGAN) or to ``2 * z_dim`` (stochastic, ALI:
    the mean and log standard deviation of a Gaussian q(z | x), ALI section 2.2 and ``ali/bricks.py``).

    A stochastic encoder draws ``z = mu + sigma * eps`` (the reparameterisation trick, so G and E learn through
    D's score of the drawn code) in training mode, and returns the mean ``mu`` in eval mode: inverting an image
    then gives its most likely code, the same on every call. Either way ``encoder(x)`` has shape
    ``(n, z_dim)``, what ``ganzoo invert`` reads.
    """

    def __init__(self, body: nn.Module, z_dim: int, stochastic: bool):
        super().__init__()
        self.body, self.z_dim, self.stochastic = body, z_dim, stochastic

    def posterior(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The mean and standard deviation of q(z | x); the deviation is 0 for a deterministic encoder."""
        out = self.body(x).flatten(1)
        if not self.stochastic:
            return out, torch.zeros_like(out)
        mu, log_sigma = out.split(self.z_dim, dim=1)
        return mu, log_sigma.exp()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mu, sigma = self.posterior(x)
        if not (self.stochastic and self.training):
            return mu
        return mu + sigma * torch.randn_like(mu)


class JointDiscriminator(nn.Module):
    """D(x, z): features of x and of z, concatenated, then a joint network to one logit per (x, z) pair."""

    def __init__(self, x_part: nn.Module, z_part: nn.Module, joint: nn.Module):
        super().__init__()
        self.x_part, self.z_part, self.joint = x_part, z_part, joint

    def forward(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        if len(x) != len(z):
            raise ValueError(f"D(x, z) pairs samples with codes: got {len(x)} samples and {len(z)} codes")
        features = torch.cat([self.x_part(x).flatten(1), self.z_part(z).flatten(1)], dim=1)
        return self.joint(features).view(-1)


def _init_normal(module: nn.Module, std: float) -> None:
    """Weights from N(0, std) and zero biases, as the ALI experiments initialise every layer."""
    for layer in module.modules():
        if isinstance(layer, nn.Linear | nn.Conv2d | nn.ConvTranspose2d):
            nn.init.normal_(layer.weight, 0.0, std)
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)


# -- MLP triple (2D points) ----------------------------------------------------


def _mlp(fan_in: int, hidden: int, fan_out: int) -> nn.Sequential:
    # batch norm follows each hidden linear map, so its bias would be cancelled: ali_mixture.py drops it
    return nn.Sequential(nn.Linear(fan_in, hidden, bias=False), nn.BatchNorm1d(hidden), nn.ReLU(),
                         nn.Linear(hidden, hidden, bias=False), nn.BatchNorm1d(hidden), nn.ReLU(),
                         nn.Linear(hidden, fan_out))


def mlp_triple(width: int, z_dim: int, hidden: int, d_hidden: int, pieces: int, stochastic: bool,
               input_dropout: float, dropout: float) -> dict[str, nn.Module]:
    """G, E and D for points of ``width`` coordinates (see the module docstring)."""
    generator = _mlp(z_dim, hidden, width)
    encoder = LatentEncoder(_mlp(width, hidden, 2 * z_dim if stochastic else z_dim), z_dim, stochastic)
    joint = nn.Sequential(nn.Dropout(input_dropout), Maxout(width + z_dim, d_hidden, pieces),
                          nn.Dropout(dropout), Maxout(d_hidden, d_hidden, pieces),
                          nn.Dropout(dropout), nn.Linear(d_hidden, 1))
    discriminator = JointDiscriminator(nn.Identity(), nn.Identity(), joint)
    for network in (generator, encoder, discriminator):
        _init_normal(network, 0.02)
    return {"generator": generator, "encoder": encoder, "joint_discriminator": discriminator}


# -- CNN triple (32x32 images) -------------------------------------------------

# (kernel, stride, width multiple) of E's and D(x)'s strided stack on 32x32 images: 32-28-13-10-4-1
DOWN = ((5, 1, 1), (4, 2, 2), (4, 1, 4), (4, 2, 8), (4, 1, 16))
# G's transposed stack from a 1x1 code: 1-4-10-13-28-32, then a 1x1 layer
UP = ((4, 1, 8), (4, 2, 4), (4, 1, 2), (4, 2, 1), (5, 1, 1))


def _down(channels: int, base: int, first_norm: bool, dropout: float) -> nn.Sequential:
    layers: list[nn.Module] = []
    fan_in = channels
    for i, (kernel, stride, mult) in enumerate(DOWN):
        layers += [nn.Dropout(dropout)] if dropout else []
        normed = first_norm or i > 0
        layers += [nn.Conv2d(fan_in, base * mult, kernel, stride, bias=not normed)]
        layers += [nn.BatchNorm2d(base * mult)] if normed else []
        layers += [nn.LeakyReLU(LEAK)]
        fan_in = base * mult
    return nn.Sequential(*layers)


def _one_by_one(fan_in: int, widths: tuple[int, ...], dropout: float) -> nn.Sequential:
    """D(z) and D(x, z): 1x1 convolutions on a 1x1 map are linear layers, written as such."""
    layers: list[nn.Module] = []
    for width in widths:
        layers += [nn.Dropout(dropout), nn.Linear(fan_in, width), nn.LeakyReLU(LEAK)]
        fan_in = width
    return nn.Sequential(*layers)


def cnn_triple(channels: int, z_dim: int, base: int, stochastic: bool, dropout: float) -> dict[str, nn.Module]:
    """G, E and D for 32x32 images of ``channels`` channels (see the module docstring)."""
    top = base * DOWN[-1][2]
    code = 2 * z_dim if stochastic else z_dim
    encoder_body = nn.Sequential(_down(channels, base, True, 0.0),
                                 nn.Conv2d(top, top, 1, bias=False), nn.BatchNorm2d(top), nn.LeakyReLU(LEAK),
                                 nn.Conv2d(top, code, 1))
    encoder = LatentEncoder(encoder_body, z_dim, stochastic)

    layers: list[nn.Module] = [nn.Unflatten(1, (z_dim, 1, 1))]
    fan_in = z_dim
    for kernel, stride, mult in UP:
        layers += [nn.ConvTranspose2d(fan_in, base * mult, kernel, stride, bias=False), nn.BatchNorm2d(base * mult),
                   nn.LeakyReLU(LEAK)]
        fan_in = base * mult
    # ALI ends G in a sigmoid for pixels in [0, 1]; ganzoo's images lie in [-1, 1], hence tanh
    layers += [nn.Conv2d(fan_in, base, 1, bias=False), nn.BatchNorm2d(base), nn.LeakyReLU(LEAK),
               nn.Conv2d(base, channels, 1), nn.Tanh()]
    generator = nn.Sequential(*layers)

    z_features = 16 * base
    joint = nn.Sequential(_one_by_one(top + z_features, (32 * base, 32 * base), dropout),
                          nn.Dropout(dropout), nn.Linear(32 * base, 1))
    discriminator = JointDiscriminator(_down(channels, base, False, dropout),
                                       _one_by_one(z_dim, (z_features, z_features), dropout), joint)
    for network in (generator, encoder, discriminator):
        _init_normal(network, 0.01)
    return {"generator": generator, "encoder": encoder, "joint_discriminator": discriminator}

