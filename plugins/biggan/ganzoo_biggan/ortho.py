"""``biggan-hinge``: the hinge loss with BigGAN's off-diagonal orthogonal regularisation of the generator.

The paper (section 3.1, eq. 3) regularises each weight W of G with

    R_beta(W) = beta * || W^T W ⊙ (1 - I) ||_F^2,

the squared pairwise inner products of W's filters, not their norms ("minimize
the pairwise cosine similarity between filters but does not constrain their
norm"), and selects beta = 1e-4. The release (ajbrock/BigGAN-PyTorch,
utils.ortho, applied in train_fns.py after G's backward pass) writes W as the
matrix (out, in * kh * kw), one filter a row, and adds straight to the
gradient

    strength * 2 (W W^T ⊙ (1 - I)) W,

which is the gradient of ``strength / 2 * ||W W^T ⊙ (1 - I)||_F^2``: half the
gradient eq. 3 gives for beta = strength (the derivative of the squared norm
is 4 (W W^T ⊙ (1 - I)) W). This objective adds the term whose gradient is the
release's, so ``beta = 1e-4`` here trains exactly as ``--G_ortho 1e-4`` there
(the parser's comment calls 1e-4 "default for BigGAN"); eq. 3 taken literally
is ``beta = 2e-4`` here. The value is reported as ``penalty_g``.

Which weights: every parameter of G with two axes or more (dense and conv
weights, including the gain and bias projections of the conditional batch
norms and the self-attention convs), except embedding tables. For spectrally
normalised layers it is the raw weight, before division by sigma (the release
keeps the raw weight as the parameter too). The release skips
one-dimensional parameters (biases, batch-norm gains, attention's gamma:
there is no matrix to orthogonalise) and blacklists G's shared embedding
("Don't ortho reg shared, it makes no sense. Really we should blacklist any
embeddings for this", train_fns.py): its rows are class vectors, and making
them orthogonal would forbid similar classes similar embeddings. In BigGAN
the shared table is G's only embedding, so "every embedding" is exactly the
release's set; for other generators it follows that comment.

``||W W^T ⊙ (1 - I)||_F^2 = ||W W^T||_F^2 - sum_i ||w_i||^4``, and
``||W W^T||_F = ||W^T W||_F``: for a matrix with more rows than columns (G's
first dense layer, 32 -> 4096 outputs at 32x32) the Gram matrix of the
columns gives the same value without the rows x rows one.

Defaults. The paper uses beta = 1e-4 (Table 1, row 8, and the CIFAR-10 run
of Appendix C); the release's launch scripts pass ``--G_ortho 0.0`` and its
README says the released models were trained without it ("training without
ortho reg seems to increase the probability that models will not be amenable
to truncation"). ganzoo follows the paper: on by default. ``beta = 0`` turns
it off (plain hinge, no penalty computed).

Hinge loss (Lim and Ye 2017; Miyato et al. 2018, as the paper's section 3):
``ganzoo-losses``' ``hinge``, whose formulas are the release's
losses.loss_hinge_dis and loss_hinge_gen.
"""

from __future__ import annotations

import torch
from pydantic import Field
from torch import nn

from ganzoo import Options, StepContext
from ganzoo_losses import Hinge

CITATION = ("Brock, Donahue and Simonyan 2019, Large Scale GAN Training for High Fidelity Natural Image Synthesis, "
            "ICLR (arXiv:1809.11096), section 3.1; hinge loss: Lim and Ye 2017, Geometric GAN (arXiv:1705.02894)")


class OrthogonalHingeOptions(Options):
    beta: float = Field(1e-4, ge=0, le=1, description=(
        "strength of the off-diagonal orthogonal penalty on G, as BigGAN-PyTorch's --G_ortho: the term "
        "beta/2 sum_W ||W W^T ⊙ (1-I)||_F^2 (paper: 1e-4; 0 turns it off)"))


def off_diagonal_energy(weight: torch.Tensor) -> torch.Tensor:
    """``||W W^T ⊙ (1 - I)||_F^2`` for ``W = weight`` read as (rows = first axis, everything else)."""
    matrix = weight.flatten(1)
    rows, columns = matrix.shape
    if rows <= columns:
        gram = matrix @ matrix.T
        return (gram * (1 - torch.eye(rows, dtype=gram.dtype, device=gram.device))).square().sum()
    norms = matrix.square().sum(dim=1)
    return (matrix.T @ matrix).square().sum() - norms.square().sum()


def regularised_weights(network: nn.Module) -> list[tuple[str, nn.Parameter]]:
    """The parameters the penalty covers: every one with two axes or more, except embedding tables."""
    tables = {id(p) for module in network.modules() if isinstance(module, nn.Embedding) for p in module.parameters()}
    return [(name, p) for name, p in network.named_parameters() if p.dim() >= 2 and id(p) not in tables]


def orthogonal_penalty(network: nn.Module, beta: float) -> torch.Tensor:
    """``beta / 2 * sum ||W W^T ⊙ (1 - I)||_F^2`` over :func:`regularised_weights`; its gradient for each W is
    the release's ``beta * 2 (W W^T ⊙ (1 - I)) W``."""
    weights = regularised_weights(network)
    if not weights:
        raise ValueError("the orthogonal penalty found no weight matrix in the generator")
    return beta / 2 * torch.stack([off_diagonal_energy(weight) for _, weight in weights]).sum()


class OrthogonalHinge(Hinge):
    """Hinge losses; the generator's step adds :func:`orthogonal_penalty` of the generator."""

    def __init__(self, beta: float):
        if beta < 0:
            raise ValueError(f"the orthogonal penalty's beta must be at least 0, got {beta}")
        self.beta = beta

    def g_penalty(self, ctx: StepContext) -> torch.Tensor | None:
        if self.beta == 0:
            return None
        generator = ctx.step.networks.get("generator")
        if generator is None:
            raise ValueError("biggan-hinge regularises the network named 'generator', and this algorithm has none; "
                             "use the hinge objective")
        return orthogonal_penalty(generator, self.beta)
