"""Spectral normalisation of a whole discriminator (Miyato et al. 2018, section 2.1 and Algorithm 1).

Each weight W is used as W / sigma(W), sigma(W) its largest singular value,
estimated by power iteration: one iteration per forward pass in training mode,
the vectors carried over between passes (Algorithm 1). A convolution's kernel
is read as the matrix (out channels) x (in channels * kernel height * kernel
width), as in the paper (section 2.1 and Appendix C.1). PyTorch's
``parametrizations.spectral_norm`` does exactly this.
"""

from __future__ import annotations

from torch import nn
from torch.nn.utils import parametrizations

NORMALISED = (nn.Conv2d, nn.Linear, nn.Embedding)


def spectral_normalize(network: nn.Module) -> nn.Module:
    """Spectrally normalise every convolution, dense layer and class embedding of ``network``, in place.

    Call it after initialising the weights: initialisers must write to the raw
    weight, which afterwards lives at ``module.parametrizations.weight.original``.
    """
    for module in list(network.modules()):
        if isinstance(module, NORMALISED) and not is_normalised(module):
            parametrizations.spectral_norm(module)
    return network


def is_normalised(module: nn.Module) -> bool:
    return "weight" in getattr(module, "parametrizations", {})


def normalised_layers(network: nn.Module) -> list[nn.Module]:
    """The spectrally normalised layers of ``network``."""
    return [module for module in network.modules() if isinstance(module, NORMALISED) and is_normalised(module)]
