"""The three networks of VEEGAN for points: a generator G(z), a reconstructor F(x) and a joint discriminator D(z, x).

Following the released 2D notebook (akashgit/VEEGAN ``VEEGAN_2D_RING.ipynb``) as its TF2/Keras adaptation by
Stephen Sinclair shows it (the adaptation states it is one and keeps its ``params``; the notebook itself was not
readable here):

- G: z -> two ReLU layers of 128 -> a linear map to the data's coordinates (the notebook's ``inference_network``:
  the notebook names its networks by the autoencoder of the noise, in which the data are the "latent" side);
- F: x -> two ReLU layers of 128 -> a linear map to the code's coordinates, the mean of the reconstructor's
  Gaussian p(z | x) = N(F(x), I) (the notebook's ``generative_network``; the unit noise is the algorithm's,
  see :mod:`ganzoo_veegan.algorithm`);
- D: the concatenation [z, x] -> ReLU layers of 128 -> one logit (the notebook's ``data_network``,
  ``n_layer_disc = 2``, ``n_hidden_disc = 128``; the adaptation's Keras ``data_network`` builds one hidden layer
  whatever ``n_layers`` says, so the count follows the ``params``, and is the option ``d_layers``).

Weights are Glorot-uniform with zero biases, the default of the Keras ``Dense`` layers the adaptation builds.
"""

from __future__ import annotations

import torch
from torch import nn

GENERATOR, RECONSTRUCTOR, DISCRIMINATOR = "generator", "encoder", "joint_discriminator"


def relu_mlp(fan_in: int, hidden: int, layers: int, fan_out: int) -> nn.Sequential:
    """``layers`` ReLU layers of ``hidden`` units, then a linear map to ``fan_out``; Glorot-uniform weights."""
    widths = [fan_in] + [hidden] * layers
    modules: list[nn.Module] = []
    for width_in, width_out in zip(widths, widths[1:]):
        modules += [nn.Linear(width_in, width_out), nn.ReLU()]
    modules.append(nn.Linear(widths[-1], fan_out))
    for module in modules:
        if isinstance(module, nn.Linear):
            nn.init.xavier_uniform_(module.weight)
            nn.init.zeros_(module.bias)
    return nn.Sequential(*modules)


class Reconstructor(nn.Module):
    """F(x): the code a sample came from, ``(n, z_dim)``. It is deterministic (the mean of p(z | x)), so
    ``ganzoo invert`` gets the same code at every call; ``z_dim`` says the code size."""

    def __init__(self, width: int, z_dim: int, hidden: int, layers: int):
        super().__init__()
        self.z_dim = z_dim
        self.net = relu_mlp(width, hidden, layers, z_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.flatten(1))


class JointDiscriminator(nn.Module):
    """D(z, x): one logit per (code, sample) pair, from the concatenation [z, x] (the paper's argument order)."""

    def __init__(self, z_dim: int, width: int, hidden: int, layers: int):
        super().__init__()
        self.net = relu_mlp(z_dim + width, hidden, layers, 1)

    def forward(self, z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        if len(z) != len(x):
            raise ValueError(f"D(z, x) pairs codes with samples: got {len(z)} codes and {len(x)} samples")
        return self.net(torch.cat([z.flatten(1), x.flatten(1)], dim=1)).view(-1)


class PointGenerator(nn.Module):
    def __init__(self, z_dim: int, width: int, hidden: int, layers: int):
        super().__init__()
        self.net = relu_mlp(z_dim, hidden, layers, width)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)


def mlp_triple(width: int, z_dim: int, hidden: int, layers: int, d_hidden: int,
               d_layers: int) -> dict[str, nn.Module]:
    """G, F and D for points of ``width`` coordinates and codes of ``z_dim`` (see the module docstring)."""
    return {GENERATOR: PointGenerator(z_dim, width, hidden, layers),
            RECONSTRUCTOR: Reconstructor(width, z_dim, hidden, layers),
            DISCRIMINATOR: JointDiscriminator(z_dim, width, d_hidden, d_layers)}
