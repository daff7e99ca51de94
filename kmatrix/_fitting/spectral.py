"""The approximator's spectral route: normal matrices whose eigenvectors
are a butterfly.

A normal M (``M M^H = M^H M``) is ``U diag(lambda) U^H`` with U unitary.
When its eigenvalues are distinct, U is determined up to the order and
the phases of its columns; when U is then a butterfly half with its rows
and columns in unknown orders (found from U's rank-one block structure by
:func:`~kmatrix._fitting.discover.discover_permutations`), ``K = P B``
holds U's columns (permuted, scaled), and since ``M K = K Lambda'``,
``M = K diag(d) K^H`` with ``d_i = k_i^H M k_i / (k_i^H k_i)^2``: the
column order and the phases fold into the diagonal. The fit is two
butterfly halves around a diagonal, plus a permutation block on each side
when the rows were scrambled: width 2 or 4. (Without the scramble,
``B diag B^H`` is one BB* block, which the hierarchical search finds at
width 1 first.) O(N^3) (the eigendecomposition, the discovery), so it runs
on square power-of-two targets up to 256 only, after the other routes
(on any symmetric M it runs the eigendecomposition and the discovery:
1.3 s at n = 256 for a random one, 84 s at n = 1024, which no target
should pay for nothing).
Generic mathematics: nothing is recognised by name.
"""

import numpy as np

from .._builders.permutations import route_permutation
from .._core.algebra import scale_outputs, transpose
from .._core.validation import frobenius
from .._operator import wrap
from .discover import discover_permutations
from .factorize import half_butterfly_twiddles
from .search import Candidate, Representation

__all__ = ["spectral_fit"]

_LARGEST = 256        # O(N^3): the largest size tried
_GAP = 1e-8           # eigenvalues closer than this (relative) are not distinct


def spectral_fit(M, width, tol):
    """The Candidate ``K diag(d) K^H`` of the dense square target M within
    ``tol`` and of width at most ``width``, or None (M not normal, a
    repeated eigenvalue, eigenvectors no butterfly)."""
    n = M.shape[0]
    if M.shape != (n, n) or n < 4 or n & (n - 1) or n > _LARGEST or width < 2:
        return None
    norm = frobenius(M)
    if norm == 0:
        return None
    MH = M.conj().T
    if frobenius(M @ MH - MH @ M) > tol * norm * norm:
        return None
    if frobenius(M - MH) <= tol * norm:
        lam, U = np.linalg.eigh(M)
    else:
        lam, U = np.linalg.eig(M)
    order = np.argsort(lam.real + 1e-3 * lam.imag)
    if np.min(np.abs(np.diff(lam[order]))) <= _GAP * np.max(np.abs(lam)):
        return None     # a repeated eigenvalue: the eigenvectors are not determined
    found = discover_permutations(U)
    if found is None:
        return None
    rows, cols = found
    T = U[rows][:, cols]
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        tw = half_butterfly_twiddles(T, 1)
    if not np.all(np.isfinite(tw)):
        return None
    B = wrap(tw, (n, n))
    if frobenius(B.todense() - T) > np.sqrt(tol) * frobenius(T):
        return None
    # K = P B holds U's columns (in the order cols): U[rows] = B, so
    # U = P(rows^-1) B with (P x)[i] = x[perm[i]]
    identity = np.arange(n)
    back = np.argsort(rows)
    K = B if np.array_equal(back, identity) else (
        wrap(route_permutation(back).astype(tw.dtype), (n, n)) @ B)
    Kd = K.todense()
    weight = np.einsum("ij,ij->j", Kd.conj(), Kd).real
    d = np.einsum("ij,ij->j", Kd.conj(), M @ Kd) / weight ** 2
    if M.dtype.kind != "c" and frobenius(M - MH) <= tol * norm:
        d = d.real      # a real symmetric M: real eigenvalues
    KH = transpose(K.twiddles, conjugate=True)
    scale_outputs(KH, d)
    model = K @ wrap(KH, (n, n))
    if M.dtype.kind != "c" and model.dtype.kind == "c":
        model = model.real
    error = frobenius(model.todense() - M) / norm
    if error > tol or model.width > width:
        return None
    return Candidate(model, error, "spectral: K diag K^H",
                     Representation(model.expansion, model.size, model.twiddles.dtype))
