"""The approximator's displacement route: targets of low displacement rank.

For the down-shift Z (``Z[i + 1, i] = 1``) the displacement of an n x n
target M is ``E = M - Z M Z^T`` (``E[i, j] = M[i, j] - M[i - 1, j - 1]``),
O(n^2) to form. When E vanishes outside its first row and column, M is
Toeplitz and :meth:`KMatrix.toeplitz` builds it exactly (width 2); when
the same holds with M's columns reversed (``M[i, j] = M[i - 1, j + 1]``),
M is Hankel and :meth:`KMatrix.hankel` builds it (width 2); when E
has a small rank r (at most 32 and n / 4), ``E = G H^T`` from a randomized
range finder and
:meth:`KMatrix.toeplitz_like` builds it (width 4, ``O(r n log n)``
parameters). Generic mathematics: nothing is recognised by name, and a
target of no such structure costs one O(n^2 k) pass (k = 40 probes).
"""

import numpy as np

from .._core.validation import frobenius
from .._operator import KMatrix
from .search import Candidate, Representation

__all__ = ["displacement_fit"]

# the largest displacement rank tried, and the probes of the range finder
_MAX_RANK = 32
_OVERSAMPLING = 8


def displacement_fit(M, width, tol, rng):
    """The Candidate of the displacement route, or None.

    ``M`` is the dense target, ``width`` the largest width allowed (2 for a
    Toeplitz matrix, 4 for a Toeplitz-like one); the fit is returned only
    when its relative error is at most ``tol``.
    """
    n = M.shape[0]
    if M.shape != (n, n) or n < 2 or width < 2:
        return None
    norm = frobenius(M)
    if norm == 0:
        return None
    E = M.copy()
    E[1:, 1:] -= M[:-1, :-1]
    if frobenius(E[1:, 1:]) <= tol * norm:
        return _judged(KMatrix.toeplitz(M[:, 0], M[0], dtype=M.dtype), M, norm, tol,
                       "displacement: Toeplitz")
    # a Hankel matrix is a Toeplitz one with its columns reversed
    if frobenius(M[1:, :-1] - M[:-1, 1:]) <= tol * norm:
        return _judged(KMatrix.hankel(M[:, 0], M[-1], dtype=M.dtype), M, norm, tol,
                       "displacement: Hankel")
    if width < 4:
        return None
    k = min(n, _MAX_RANK + _OVERSAMPLING)
    probes = rng.standard_normal((n, k))
    if np.iscomplexobj(E):
        probes = probes + 1j * rng.standard_normal((n, k))
    Q, _ = np.linalg.qr(E @ probes)
    U, s, Vh = np.linalg.svd(Q.conj().T @ E, full_matrices=False)
    rank = int(np.sum(s > tol * norm / 10))
    # a low rank only: every n x n matrix has displacement rank <= n, and
    # generators of a rank near n are no structure (a random 32 x 32 matrix
    # would become four blocks, 2.5x the dense matrix's parameters)
    if rank == 0 or rank > min(_MAX_RANK, n // 4):
        return None
    G = (Q @ U[:, :rank]) * s[:rank]
    H = Vh[:rank].T
    return _judged(KMatrix.toeplitz_like(G, H, dtype=M.dtype), M, norm, tol,
                   f"displacement: Toeplitz-like, rank {rank}")


def _judged(K, M, norm, tol, name):
    error = frobenius(K.todense() - M) / norm
    if error > tol:
        return None
    return Candidate(K, error, name, Representation(K.expansion, K.size, K.twiddles.dtype))
