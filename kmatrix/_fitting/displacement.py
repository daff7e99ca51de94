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
parameters); when M with its columns reversed is such a matrix,
:meth:`KMatrix.hankel_like` builds M (Hankel-like, width 4). Generic
mathematics: nothing is recognised by name, and a target of no such
structure costs one O(n^2 k) pass (k = 40 probes).
"""

import numpy as np
import scipy.linalg

from .._builders.structured import exact_powers, vandermonde_network
from .._core.algebra import scale_outputs
from .._core.layout import Network
from .._core.validation import frobenius
from .._operator import KMatrix
from .factorize import recurrence_fit
from .search import Candidate, Representation

__all__ = ["cauchy_fit", "cauchy_like_fit", "displacement_fit", "vandermonde_fit",
           "vandermonde_like_fit"]


# the largest displacement rank tried, and the probes of the range finder
_MAX_RANK = 32
_OVERSAMPLING = 8


def displacement_fit(M, width, tol, rng):
    """The Candidate of the displacement route, or None.

    ``M`` is the dense target, ``width`` the largest width allowed (2 for a
    Toeplitz or Hankel matrix, 4 for a Toeplitz-like or Hankel-like one);
    the fit is returned only when its relative error is at most ``tol``.
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
    # Toeplitz-like, then Hankel-like (M with its columns reversed Toeplitz-like)
    for hankel in (False, True):
        T = M[:, ::-1] if hankel else M
        E = T.copy()
        E[1:, 1:] -= T[:-1, :-1]
        generators = _low_rank_generators(E, norm, tol, rng)
        if generators is None:
            continue
        G, H = generators
        build = KMatrix.hankel_like if hankel else KMatrix.toeplitz_like
        kind = "Hankel-like" if hankel else "Toeplitz-like"
        fit = _judged(build(G, H, dtype=M.dtype), M, norm, tol,
                      f"displacement: {kind}, rank {G.shape[1]}")
        if fit is not None:
            return fit
    return None


def _low_rank_generators(E, norm, tol, rng):
    """(G, H) with ``E = G H^T`` from a randomized range finder, or None when
    E's rank is not low."""
    n = min(E.shape)
    k = min(n, _MAX_RANK + _OVERSAMPLING)
    probes = rng.standard_normal((E.shape[1], k))
    if np.iscomplexobj(E):
        probes = probes + 1j * rng.standard_normal((E.shape[1], k))
    Q, _ = np.linalg.qr(E @ probes)
    U, s, Vh = np.linalg.svd(Q.conj().T @ E, full_matrices=False)
    rank = int(np.sum(s > tol * norm / 10))
    # a low rank only: every n x n matrix has displacement rank <= n, and
    # generators of a rank near n are no structure (a random 32 x 32 matrix
    # would become four blocks, 2.5x the dense matrix's parameters)
    if rank == 0 or rank > min(_MAX_RANK, n // 4):
        return None
    return (Q @ U[:, :rank]) * s[:rank], Vh[:rank].T


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
    width 2 on ``next_pow2(n_out + n_in - 1)`` positions, any sizes): the
    DFT of any size. A real M is tried as the real part of one,
    ``M[j, k] = Re(s_j x_j^k)``: each row a (damped) sampled sinusoid, which
    obeys ``M[j, k + 1] = 2 Re(x_j) M[j, k] - |x_j|^2 M[j, k - 1]``, so the
    recurrence gives each node up to conjugation and the conjugates are
    chosen to make the nodes a progression (the DCT-II/III, DST-II/III and
    the Hartley matrix ``cos + sin`` of any size). The progression is fitted
    to all the nodes at once and its ratio and first node taken exactly
    when they are within rounding of a root of unity of order <= 8 n; the
    row scales ``s`` are then fitted to the rows in least squares. Tried on
    M and M^T; O(n^2) when it fails.
    """
    n_out, n_in = M.shape
    norm = frobenius(M)
    if norm == 0 or min(n_out, n_in) < 2:
        return None
    real = M.dtype.kind != "c"
    for T, transposed in ((M, False), (M.T, True)):
        x = _sinusoid_nodes(T) if real else _power_nodes(T, tol)
        progression = None if x is None else _progression(x, 8 * max(T.shape))
        if progression is None:
            continue
        K = _chirp_z(T, *progression, real)
        if K is None:
            continue
        K = K.T if transposed else K
        fit = _judged(K.real if real else K, M, norm, tol, "displacement: Vandermonde")
        if fit is not None:
            return fit
    return None


def _power_nodes(T, tol):
    """The nodes x of ``T[j, k] = s_j x_j^k``, or None."""
    s = T[:, 0]
    if np.any(s == 0):
        return None
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        x = T[:, 1] / s
        residual = T[:, 1:] - x[:, None] * T[:, :-1]
    if not frobenius(residual) <= tol * frobenius(T):
        return None
    return x


def _sinusoid_nodes(T):
    """The nodes x of ``T[j, k] = Re(s_j x_j^k)`` for the real T, their
    conjugates chosen to form a geometric progression, or None."""
    if T.shape[1] < 3:
        return None
    p, q, _ = recurrence_fit(T)
    disc = q - p * p / 4
    if not np.all(np.isfinite(disc)) or np.any(disc < -1e-9 * np.maximum(q, 1e-300)):
        return None     # two real nodes in a row: not one sinusoid
    theta = np.arctan2(np.sqrt(np.maximum(disc, 0.0)), p / 2)     # in [0, pi]
    signs = _progression_signs(theta)
    return None if signs is None else np.sqrt(np.maximum(q, 0.0)) * np.exp(1j * signs * theta)


def _progression_signs(theta, atol=1e-4):
    """Signs making ``sign_j theta_j`` an arithmetic progression modulo 2 pi
    (the angles of geometric nodes), walked row by row, or None."""
    n = theta.size
    for second in (1.0, -1.0):
        signs = np.ones(n)
        if n > 1:
            signs[1] = second
        ok = True
        for j in range(2, n):
            predicted = 2 * signs[j - 1] * theta[j - 1] - signs[j - 2] * theta[j - 2]
            plus, minus = (abs(np.angle(np.exp(1j * (v - predicted))))
                           for v in (theta[j], -theta[j]))
            signs[j] = 1.0 if plus <= minus else -1.0
            if min(plus, minus) > atol:
                ok = False
                break
        if ok:
            return signs
    return None


def _progression(x, order):
    """(a, w) with ``x[j] = a w^j``, fitted in least squares to every node
    (angles unwrapped step by step), a and w snapped to roots of unity of
    order <= ``order`` (times their moduli) when within 0.1 / order^2 of
    one, or None when the nodes are not such a progression."""
    n = x.size
    if np.any(x == 0) or not np.all(np.isfinite(x)):
        return None
    j = np.arange(n)
    steps = np.angle(x[1:] / x[:-1])
    angles = np.angle(x[0]) + np.concatenate([[0.0], np.cumsum(steps)])
    logs = np.log(np.abs(x))
    if n == 1:
        return x[0], 1.0 + 0j
    (phi, alpha), (rho, beta) = (np.polyfit(j, v, 1) for v in (angles, logs))
    if (np.max(np.abs(angles - (alpha + phi * j))) > 1e-6
            or np.max(np.abs(logs - (beta + rho * j))) > 1e-6):
        return None
    return _snapped(alpha, beta, order), _snapped(phi, rho, order)


def _snapped(angle, log_modulus, order):
    """``exp(log_modulus + i angle)`` as (turn as a Fraction or float,
    modulus): the angle a whole fraction of a turn when it is that close."""
    from fractions import Fraction

    turn = angle / (2 * np.pi)
    q = Fraction(float(turn)).limit_denominator(order)
    close = abs(float(q) - turn) <= 0.1 / order ** 2
    modulus = 1.0 if abs(log_modulus) <= 1e-9 else float(np.exp(log_modulus))
    return (q % 1 if close else turn % 1.0), modulus


def _powers(a, w, n_rows, n_cols):
    """``P[j, k] = (a w^j)^k = a^k w^(jk)`` for (turn, modulus) pairs, exact
    in the angle when both turns are fractions."""
    from fractions import Fraction

    (ta, ra), (tw, rw) = a, w
    j, k = np.arange(n_rows)[:, None], np.arange(n_cols)[None, :]
    if isinstance(ta, Fraction) and isinstance(tw, Fraction):
        d = ta.denominator * tw.denominator // np.gcd(ta.denominator, tw.denominator)
        pa, pw = int(ta * d), int(tw * d)
        turns = ((pa * k + pw * ((j * k) % d)) % d) / d
    else:
        turns = np.mod(float(ta) * k + float(tw) * (j * k), 1.0)
    return ra ** k * rw ** (j * k) * np.exp(2j * np.pi * turns)


def _chirp_z(T, a, w, real):
    """The complex KMatrix ``diag(s) V`` of the nodes ``a w^j`` with the row
    scales s fitted to T in least squares (T = Re(diag(s) V) when ``real``),
    or None when the chirp overflows."""
    n_rows, n_cols = T.shape
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        P = _powers(a, w, n_rows, n_cols)
    if not np.all(np.isfinite(P)):
        return None
    if real:
        # T[j] = Re(s) Re(P[j]) - Im(s) Im(P[j])
        u, v = P.real, -P.imag
        uu, uv, vv = (np.einsum("ij,ij->i", f, g) for f, g in ((u, u), (u, v), (v, v)))
        tu, tv = np.einsum("ij,ij->i", T, u), np.einsum("ij,ij->i", T, v)
        det = uu * vv - uv * uv
        complex_row = det > 1e-12 * uu * vv
        with np.errstate(invalid="ignore", divide="ignore"):
            re = np.where(complex_row, (tu * vv - tv * uv) / det, tu / uu)
            im = np.where(complex_row, (tv * uu - tu * uv) / det, 0.0)
        s = re + 1j * im
    else:
        s = np.einsum("ij,ij->i", T, P.conj()) / np.einsum("ij,ij->i", P, P.conj()).real
    nodes = P[:, 1] if n_cols > 1 else _powers(a, w, n_rows, 2)[:, 1]
    try:
        net = vandermonde_network(nodes, n_cols, np.complex128)
    except ValueError:      # the chirp overflows: no stable construction
        return None
    scale_outputs(net.twiddles, s)
    return KMatrix._from_network(Network(net.twiddles, net.shape))


def cauchy_fit(M, tol):
    """The Candidate of the Cauchy route, or None.

    A Cauchy matrix ``M[i, j] = 1 / (x_i - y_j)`` has displacement rank one
    for ``(diag(x), diag(y))``: ``x_i M - M y_j = 1``. Its reciprocal is then
    ``x 1^T - 1 y^T``: the nodes follow from the first row and column (up to
    one common shift), and when they lie on two circles at the n-th roots
    of unity, ``x_i = a w^i``, ``y_j = b w^j`` (which fixes the shift), it
    is built exactly by :meth:`KMatrix.cauchy` (width 4). O(n^2) when it
    fails.
    """
    n = M.shape[0]
    if M.shape != (n, n) or n < 3 or np.any(M == 0):
        return None
    norm = frobenius(M)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        R = 1 / M.astype(np.complex128)
        u = R[:, 0] - R[0, 0]           # x_i - x_0
        v = R[0, 0] - R[0, :]           # y_j - y_0
        if frobenius(R - R[0, 0] - u[:, None] + v[None, :]) > tol * frobenius(R):
            return None
        # x_i - x_0 = a (w^i - 1): w + 1 = u_2 / u_1, and the same w for y
        w = u[2] / u[1] - 1
        a, b = u[1] / (w - 1), v[1] / (w - 1)
    x, y = a * _root_series(w, n), b * _root_series(w, n)
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        return None
    # the shift the two circles fix: x_0 - y_0 = R[0, 0]
    if abs((a - b) - R[0, 0]) > 1e-8 * abs(R[0, 0]):
        return None
    try:
        K = KMatrix.cauchy(x, y)
    except ValueError:
        return None
    return _judged(K if M.dtype.kind == "c" else K.real, M, norm, tol, "displacement: Cauchy")


def _root_series(w, n):
    """w^j for j < n; w taken as the nearest n-th root of unity when within
    1e-9 of it (then the angles are exact)."""
    root = np.exp(2j * np.pi * round(np.angle(w) / (2 * np.pi) * n) / n)
    return exact_powers(root if abs(w - root) < 1e-9 else w, np.arange(n))


# eigenvalues of the sketched pencil this close (relatively) are one value
_CLUSTER = 1e-6


def _rank_dropping_value(S1, S2):
    """The lambda at which the k x k pencil ``S1 - lambda S2`` loses the
    most rank, or None. ``S = P^H A Q`` sketch two n x n matrices with k
    random probes each side: when ``A1 - lambda A2`` has rank r < k for one
    lambda, the sketch keeps that rank, so lambda is a generalized
    eigenvalue of multiplicity k - r; the other k - (k - r) eigenvalues are
    scattered. Taken only when repeated at least _OVERSAMPLING / 2 times."""
    with np.errstate(all="ignore"):
        lam = scipy.linalg.eigvals(S1, S2)
    lam = lam[np.isfinite(lam)]
    if lam.size == 0:
        return None
    close = np.abs(lam[:, None] - lam[None, :]) <= _CLUSTER * np.maximum(np.abs(lam), 1e-300)
    count = close.sum(axis=1)
    best = int(np.argmax(count))
    if count[best] < _OVERSAMPLING // 2:
        return None
    return complex(np.mean(lam[close[best]]))


def _refined(lam, A1Q, A2Q, steps=3):
    """lambda refined so that ``(A1 - lambda A2) Q`` (given A1 Q and A2 Q)
    has the lowest rank: the rank r at the largest gap of its singular
    values (at least 1e3), then lambda by least squares on what the top r
    directions leave out, ``steps`` times (the sketch's eigenvalue, a mean
    over a cluster, is off by ~1e-9: a rank-1 Cauchy-like target then
    looked like rank 13 at tol 1e-10)."""
    for _ in range(steps):
        U, sv, _ = np.linalg.svd(A1Q - lam * A2Q, full_matrices=False)
        with np.errstate(divide="ignore", invalid="ignore"):
            gaps = sv[:-1] / sv[1:]
        if not gaps.size or not np.nanmax(gaps) >= 1e3:
            return lam
        U = U[:, :int(np.nanargmax(gaps)) + 1]
        C, B = (A - U @ (U.conj().T @ A) for A in (A1Q, A2Q))
        den = np.vdot(B, B).real
        if not den > 0:
            return lam
        lam = complex(np.vdot(B, C) / den)
    return lam


def _unit_progressions(n):
    """The nodes' orders tried: ``w^j`` for the n-th root of unity w and its
    conjugate (the rows in the order of the roots, either way round)."""
    j = np.arange(n)
    return [np.exp(2j * np.pi * j / n), np.exp(-2j * np.pi * j / n)]


def _sketches(M, rng):
    """(P, Q, P^H M, M Q) with k complex Gaussian probes each side."""
    m, p = M.shape
    k = min(m, p, _MAX_RANK + _OVERSAMPLING)
    P, Q = ((rng.standard_normal((d, k)) + 1j * rng.standard_normal((d, k))) for d in (m, p))
    return P, Q, P.conj().T @ M, M @ Q


def cauchy_like_fit(M, tol, rng):
    """The Candidate of the Cauchy-like route, or None.

    M is Cauchy-like when ``diag(x) M - M diag(y) = G H^T`` has a small rank
    r: :meth:`KMatrix.cauchy_like` builds it exactly when the nodes lie on
    two circles at the n-th roots of unity, ``x_i = a w^i``, ``y_j = b w^j``.
    The displacement is ``a (D M - lambda M D)`` with ``D = diag(w^i)`` and
    ``lambda = b / a``; a common scale of the nodes only scales G, so
    a = 1, and lambda is where the pencil ``D M - lambda M D`` drops to rank
    r: the repeated eigenvalue of its k x k sketch
    (:func:`_rank_dropping_value`). Both orders of the roots are tried;
    O(n^2 k) in all (k = 40 probes), exact or nothing.
    """
    n = M.shape[0]
    if M.shape != (n, n) or n < 8 or M.dtype.kind != "c":
        return None
    norm = frobenius(M)
    if norm == 0:
        return None
    P, Q, PM, MQ = _sketches(M, rng)
    for x in _unit_progressions(n):
        found = _pencil_fit(
            ((np.conjugate(x)[:, None] * P).conj().T @ MQ, PM @ (x[:, None] * Q)),
            (x[:, None] * MQ, M @ (x[:, None] * Q)),
            lambda lam: x[:, None] * M - M * (lam * x)[None, :],
            lambda lam, G, H: KMatrix.cauchy_like(x, lam * x, G, H, dtype=M.dtype),
            norm, tol, rng)
        if found is not None:
            K, rank = found
            fit = _judged(K, M, norm, tol, f"displacement: Cauchy-like, rank {rank}")
            if fit is not None:
                return fit
    return None


def vandermonde_like_fit(M, tol, rng):
    """The Candidate of the Vandermonde-like route, or None.

    M (m x p) is Vandermonde-like when ``diag(x) M - M Z = G H^T`` (Z the
    down-shift) has a small rank r: :meth:`KMatrix.vandermonde_like` builds
    it exactly for nodes in a geometric progression; found here for nodes
    on a circle at the m-th roots of unity, ``x_j = a w^j``. The
    displacement is ``a (D M - lambda M Z)``, ``D = diag(w^j)``,
    ``lambda = 1 / a``: the repeated eigenvalue of the pencil's sketch, as
    in :func:`cauchy_like_fit`. Tried on M and M^T; O(m p k), exact or
    nothing.
    """
    if min(M.shape) < 8 or M.dtype.kind != "c":
        return None
    norm = frobenius(M)
    if norm == 0:
        return None
    for T, transposed in ((M, False), (M.T, True)):
        m = T.shape[0]
        P, Q, PT, TQ = _sketches(T, rng)
        ZQ = np.zeros_like(Q)
        ZQ[1:] = Q[:-1]
        for w in _unit_progressions(m):
            found = _pencil_fit(
                ((np.conjugate(w)[:, None] * P).conj().T @ TQ, PT @ ZQ),
                (w[:, None] * TQ, T @ ZQ),
                lambda lam: _shift_displacement(w / lam, T),
                lambda lam, G, H: KMatrix.vandermonde_like(w / lam, G, H, dtype=M.dtype),
                norm, tol, rng)
            if found is None:
                continue
            K, rank = found
            fit = _judged(K.T if transposed else K, M, norm, tol,
                          f"displacement: Vandermonde-like{' (transposed)' * transposed}, "
                          f"rank {rank}")
            if fit is not None:
                return fit
    return None


def _shift_displacement(x, T):
    """``diag(x) T - T Z`` for the down-shift Z."""
    E = x[:, None] * T
    E[:, :-1] -= T[:, 1:]
    return E


def _pencil_fit(sketches, sketched, displacement, build, norm, tol, rng):
    """(K, rank) of a node-displacement route, or None: lambda from the
    pencil's k x k ``sketches`` (S1, S2) (:func:`_rank_dropping_value`),
    refined on the ``sketched`` products (A1 Q, A2 Q) (:func:`_refined`),
    then the generators of ``displacement(lambda)`` and the KMatrix
    ``build(lambda, G, H)`` (a ValueError from it: None)."""
    lam = _rank_dropping_value(*sketches)
    if lam is None:
        return None
    lam = _refined(lam, *sketched)
    if lam == 0:
        return None
    generators = _low_rank_generators(displacement(lam), norm, tol, rng)
    if generators is None:
        return None
    G, H = generators
    try:
        return build(lam, G, H), G.shape[1]
    except ValueError:
        return None
