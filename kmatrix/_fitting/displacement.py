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

from .._builders.structured import geometric_ratio, vandermonde_network
from .._core.algebra import scale_outputs
from .._core.layout import Network
from .._core.validation import frobenius
from .._operator import KMatrix
from .factorize import analytic_completion
from .search import Candidate, Representation

__all__ = ["displacement_fit", "vandermonde_fit"]

# the Vandermonde route forms a real target's completions (n x 2n complex
# each) up to this many entries of M
_COMPLETION_LIMIT = 1 << 22

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


def vandermonde_fit(M, tol):
    """The Candidate of the Vandermonde route, or None.

    A scaled Vandermonde matrix ``M[j, k] = s_j x_j^k`` has displacement
    rank one for ``(diag(x), Z)``: each column is the previous one times
    ``x``. When its nodes are a geometric progression ``x_j = a w^j`` it is
    built exactly by the chirp-z transform (:meth:`KMatrix.vandermonde`,
    width 2 on ``next_pow2(n_out + n_in - 1)`` positions, any sizes). Tried
    on M and M^T, and for a real M on the analytic signals of its rows and
    of its columns (even and odd extensions, as the hierarchical search
    forms them), whose real parts are M: the DFT of any size is such a
    matrix, and so are the DCT-II/III and DST-II/III after completion.
    O(n^2) per candidate when it fails (the first two columns give x).
    """
    n_out, n_in = M.shape
    norm = frobenius(M)
    if norm == 0 or min(n_out, n_in) < 2:
        return None
    real = M.dtype.kind != "c"
    targets = [(M, False), (M.T, True)]
    if real and n_out * n_in <= _COMPLETION_LIMIT:
        for A, transposed in ((M, False), (M.T, True)):
            for sign in (1, -1):
                targets.append((lambda A=A, sign=sign: analytic_completion(
                    A, 2 * A.shape[1], sign)[:A.shape[0], :A.shape[1]], transposed))
    for T, transposed in targets:
        T = T() if callable(T) else T
        K = _scaled_vandermonde(T, tol)
        if K is None:
            continue
        K = K.T if transposed else K
        found = _judged(K.real if real else K, M, norm, tol, "displacement: Vandermonde")
        if found is not None:
            return found
    return None


def _scaled_vandermonde(T, tol):
    """The complex KMatrix of ``T[j, k] = s_j x_j^k`` (x geometric), or None."""
    s = T[:, 0]
    if np.any(s == 0):
        return None
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        x = T[:, 1] / s
        residual = T[:, 1:] - x[:, None] * T[:, :-1]
    if frobenius(residual) > tol * frobenius(T):
        return None
    if geometric_ratio(x) is None:
        return None
    try:
        net = vandermonde_network(np.asarray(x, dtype=np.complex128), T.shape[1],
                                  np.complex128)
    except ValueError:      # the chirp overflows: no stable construction
        return None
    scale_outputs(net.twiddles, s)
    return KMatrix._from_network(Network(net.twiddles, net.shape))
