"""The approximator's spectral route: normal matrices whose eigenvectors
are a butterfly, and matrices whose singular vectors are.

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
width 1 first.) A matrix that is not normal goes through its SVD
``M = U diag(s) V^H`` the same way when its singular values are distinct:
U gives the left factor and its column order; V's columns, taken in that
order, need only their rows found (:func:`discover_rows`), so
``M = K1 diag(d) K2^H`` with no permutation between the halves: width 2,
or 4 with both sides scrambled. O(N^3) (the decompositions, the discovery), so it runs
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
from .discover import discover_permutations, discover_rows
from .factorize import half_butterfly_twiddles
from .search import Candidate, Representation

__all__ = ["spectral_fit"]

_LARGEST = 256        # O(N^3): the largest size tried
_GAP = 1e-8           # eigenvalues closer than this (relative) are not distinct
_MAX_SCORE = 1e-8     # a butterfly's row pairs, exactly (see discover_permutations)


def spectral_fit(M, width, tol):
    """The Candidate ``K diag(d) K^H`` (M normal) or ``K1 diag(d) K2^H``
    (through the SVD) of the dense square target M within ``tol`` and of
    width at most ``width``, or None (a repeated eigen- or singular value,
    vectors no butterfly)."""
    n = M.shape[0]
    if M.shape != (n, n) or n < 4 or n & (n - 1) or n > _LARGEST or width < 2:
        return None
    norm = frobenius(M)
    if norm == 0:
        return None
    MH = M.conj().T
    hermitian = frobenius(M - MH) <= tol * norm
    if frobenius(M @ MH - MH @ M) <= tol * norm * norm:
        lam, U = np.linalg.eigh(M) if hermitian else np.linalg.eig(M)
        order = np.argsort(lam.real + 1e-3 * lam.imag)
        if np.min(np.abs(np.diff(lam[order]))) <= _GAP * np.max(np.abs(lam)):
            return None     # a repeated eigenvalue: the eigenvectors are not determined
        left = _butterfly_of(U, tol)
        if left is None:
            return None
        right, name = left, "spectral: K diag K^H"
    else:
        U, sv, Vh = np.linalg.svd(M)
        if np.min(-np.diff(sv)) <= _GAP * sv[0] or sv[-1] <= _GAP * sv[0]:
            return None     # a repeated (or zero) singular value: no unique vectors
        left = _butterfly_of(U, tol)
        if left is None:
            return None
        # V's columns in the left factor's order: only its rows are sought
        right = _butterfly_of(Vh.conj().T, tol, left[1])
        if right is None:
            return None
        name = "spectral: K1 diag K2^H (SVD)"
    K, K2 = left[0], right[0]
    Kd, K2d = K.todense(), K2.todense()
    weight = (np.einsum("ij,ij->j", Kd.conj(), Kd).real
              * np.einsum("ij,ij->j", K2d.conj(), K2d).real)
    d = np.einsum("ij,ij->j", Kd.conj(), M @ K2d) / weight
    if M.dtype.kind != "c" and hermitian:
        d = d.real      # a real symmetric M: real eigenvalues
    KH = transpose(K2.twiddles, conjugate=True)
    scale_outputs(KH, d)
    model = K @ wrap(KH, (n, n))
    if M.dtype.kind != "c" and model.dtype.kind == "c":
        model = model.real
    error = frobenius(model.todense() - M) / norm
    if error > tol or model.width > width:
        return None
    return Candidate(model, error, name,
                     Representation(model.expansion, model.size, model.twiddles.dtype))


def _butterfly_of(U, tol, cols=None):
    """(K, cols): a butterfly half (times a row permutation when U's rows
    are scrambled) whose column a is U's column ``cols[a]`` times a scalar,
    or None when U's columns are no such butterfly. ``cols`` given: that
    column order, only the rows sought."""
    n = U.shape[0]
    if cols is None:
        found = discover_permutations(U, max_score=_MAX_SCORE)
        if found is None:
            return None
        rows, cols = found
    else:
        rows = discover_rows(U[:, cols], max_score=_MAX_SCORE)
        if rows is None:
            return None
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
    back = np.argsort(rows)
    K = B if np.array_equal(back, np.arange(n)) else (
        wrap(route_permutation(back).astype(tw.dtype), (n, n)) @ B)
    return K, cols
