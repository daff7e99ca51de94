"""The structured random networks of the random features and projections.

Features: every block of ``N = next_pow2(n_features)`` outputs is
``S H D2 H D1``, ``S`` a diagonal of row norms. The network (see
:mod:`kmatrix._core.layout`) has size ``M = N * 2**c`` for
``2**c`` stacked blocks: the first ``c`` stages of the B* half copy the input
into every block (blocks ``[[1, 0], [1, 0]]``), the next ``log2 N`` stages are
one Hadamard transform per block with the signs ``D1`` folded into its first
stage, and the B half is a second Hadamard per block with the signs ``D2``
folded into its first stage and the row norms ``S`` into its last; its
stages on the copy bits are the identity (which the kernels skip).

Random features (Rahimi and Recht): ``exp(-gamma ||x - y||^2) = E[cos(w.x +
b) cos(w.y + b)] * 2`` for ``w ~ N(0, 2 gamma I)`` and ``b ~ U[0, 2 pi)``.
Here the rows of ``H D2 H D1`` are orthonormal directions spread like a
Gaussian's (the structured orthogonal random features of Yu et al.) and the
row norms are drawn from the chi distribution with ``N`` degrees of freedom,
the norms of ``N``-dimensional Gaussian vectors, so that every row has the
second moments of a Gaussian row and rows of one block are orthogonal, which
lowers the variance of the kernel estimate (orthogonal random features).

Projections: ``sqrt(N / k)`` times the first ``k`` rows of ``H D2 H D1`` on
``N = next_pow2(max(n_features, k))`` is an unbiased norm estimator
(``E ||R x||^2 = ||x||^2`` for every x); the first ``H D1`` spreads any input
over all coordinates, the second mixes them into the kept rows, as in the
subsampled randomized Hadamard transform (a fixed subset of the rows of a
single ``H D1`` would not do: for ``x = e_j - e_{j + N/2}`` half of the
Hadamard rows see nothing or twice the norm, depending on D1's signs). For a
power-of-two ``k`` the second H needs only its stages on the bits above
``log2 k`` (see :func:`projection_twiddles`).

Every function returns float64 twiddles in the layout of
:mod:`kmatrix._core.layout`; the estimators of
:mod:`kmatrix._learning.random_features` judge the sizes and wrap them.
"""

import numpy as np

from .._core.algebra import scale_stage_inputs, scale_stage_outputs
from .._core.layout import identity_twiddles
from .._core.validation import next_pow2

__all__ = ["feature_twiddles", "network_size", "projection_twiddles", "random_signs"]

_HADAMARD = np.array([[1.0, 1.0], [1.0, -1.0]]) / np.sqrt(2.0)


def random_signs(rng, n):
    return rng.randint(0, 2, size=n) * 2.0 - 1.0


def feature_twiddles(n_out, block, scale, rng):
    """Twiddles (float64, width 1) of ``diag(scale)`` times the stack of
    ``ceil(n_out / block)`` (rounded up to a power of two) independent
    blocks ``H D2 H D1`` of size ``block`` (a power of two >= 2) on
    zero-padded inputs; ``scale`` has one entry per output of the network.
    The signs are drawn from ``rng``, D1 then D2.
    """
    M = network_size(n_out, block)
    L = M.bit_length() - 1
    l = block.bit_length() - 1
    c = L - l                          # copy stages: bits L-1 .. l
    tw = identity_twiddles(L)
    tw[0, 0, :c] = np.array([[1.0, 0.0], [1.0, 0.0]])   # (x_u, x_v) -> (x_u, x_u)
    tw[0, 0, c:] = _HADAMARD           # bits l-1 .. 0: H of every block
    tw[0, 1, :l] = _HADAMARD           # bits 0 .. l-1: H of every block
    scale_stage_inputs(tw[0, 0, c], l - 1, random_signs(rng, M))    # D1
    scale_stage_inputs(tw[0, 1, 0], 0, random_signs(rng, M))        # D2
    scale_stage_outputs(tw[0, 1, l - 1], l - 1, scale)
    return tw


def projection_twiddles(n_out, N, rng):
    """Twiddles (float64, width 1) of ``sqrt(N / n_out) H D2 H D1`` on size N
    (a power of two >= 2 and >= n_out), of which the first ``n_out`` rows
    are kept. The signs are drawn from ``rng``, D1 then D2.

    When ``n_out = 2**c`` the second H runs on the bits >= c only: its
    stages on the low bits map the kept outputs onto themselves, an
    orthogonal map that changes no norm or distance, so each kept output is
    a random-sign sum of ``N / n_out`` entries of the spread vector
    ``H D1 x``. (For other ``n_out`` the kept outputs are not closed under
    those stages, and they stay.) ``n_out = N`` needs no second H: ``H D1``
    is an isometry.
    """
    L = N.bit_length() - 1
    low = n_out.bit_length() - 1 if n_out & (n_out - 1) == 0 else 0
    tw = identity_twiddles(L)
    tw[0, 0, :] = _HADAMARD            # bits L-1 .. 0
    scale_stage_inputs(tw[0, 0, 0], L - 1, random_signs(rng, N))      # D1
    if low < L:
        tw[0, 1, low:] = _HADAMARD     # bits low .. L-1
        scale_stage_inputs(tw[0, 1, low], low, random_signs(rng, N))  # D2
        scale_stage_outputs(tw[0, 1, L - 1], L - 1, np.full(N, np.sqrt(N / n_out)))
    return tw


def network_size(n_out, block):
    return block * next_pow2(-(-n_out // block))
