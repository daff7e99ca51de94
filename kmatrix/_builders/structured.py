"""Twiddles of the survey's classical structured classes (Section 4) as exact
K-matrices: Toeplitz and Hankel matrices, Vandermonde and Cauchy matrices on
stable nodes, low rank, and the Toeplitz-like matrices of low displacement
rank.

Toeplitz (m x p, ``T[i, j] = t(i - j)``). T is the top-left corner of the
circulant C of size ``M = next_pow2(m + p - 1)`` whose first column holds
the first column of T, zeros, then the first row of T backwards:
``C[i, j] = h[(i - j) mod M]`` with ``h[k] = c[k]`` (k < m) and
``h[M - k] = r[k]`` (0 < k < p), and no index is used twice because
``m + p - 1 <= M``. ``C = F^-1 diag(F h) F`` is a K-matrix of width 2 on
size M (:func:`~kmatrix._builders.transforms.circular_twiddles`):
``8 M log2 M`` parameters, ``O(M log M)`` per product.

Hankel (``H[i, j] = v(i + j)``). Reversing the first m rows of C gives
``A = R C``, ``(R y)[i] = y[(m - 1 - i) mod M]``, with
``A[i, j] = h[(m - 1 - i - j) mod M]``: a Hankel corner for ``h[k] =
v(m - 1 - k)`` (k < m) and ``h[M - t] = v(m - 1 + t)`` (0 < t < p). And
``R conj(F) = F diag(w)``, ``w[k] = exp(2i pi k (m - 1) / M)``, so
``A = F diag(w F h / M) F``: width 2 again, no permutation.

Low rank (``U V^T``, rank r). On ``N 2^h`` positions (``2^h >= r``): the
first h stages copy the input into 2^h blocks; block k scales it by column
k of V and sums it into its first position (a fan-in: the B* stages on the
low bits, each adding the upper half into the lower); the B stages on the
low bits fan that sum out again, scaled by column k of U; the last h
stages add the blocks. Width 1, ``4 N 2^h log2(N 2^h)`` parameters, about
``4 n r log(n r)``; O(n r log(n r)) per product, against n^2 dense.

Vandermonde (``V[j, k] = x_j^k``) on nodes in a geometric progression
``x_j = a w^j``: the chirp-z transform (Rabiner, Schafer and Rader 1969).
With ``jk = (j^2 + k^2 - (k - j)^2) / 2``,
``V = diag(w^(j^2/2)) T diag(a^k w^(k^2/2))``, T the symmetric Toeplitz
matrix ``T[j, k] = w^(-(k - j)^2 / 2)``: width 2 on
``next_pow2(m + p - 1)`` positions, the diagonals folded into the first and
last stages. On the unit circle (``|w| = 1``) every factor is unitary up to
the diagonal ``a^k``, and when ``w`` is a root of unity ``exp(2 pi i p/q)``
the chirp's angles are reduced exactly in integers (``p t^2 mod 2q``).

Cauchy (``C[i, j] = 1 / (x_i - y_j)``) on two circles at the n-th roots of
unity, ``x_i = a w^i``, ``y_j = b w^j``, ``w^n = 1``: since ``x^n = a^n``
and ``y^n = b^n``, ``1 / (x - y) = sum_k x^(n-1-k) y^k / (a^n - b^n)``, and
``x_i^(n-1-k) y_j^k = a^(n-1-k) b^k w^-i w^-ik w^jk``, so
``C = diag(w^-i) V(1/w) D V(w)``, ``D_k = a^(n-1-k) b^k / (a^n - b^n)``:
two DFT-like Vandermonde factors (width 4), the nodes' moduli all in D.
Cauchy-like (``diag(x) M - M diag(y) = G H^T``): ``M = sum_k diag(g_k) C
diag(h_k)``, the terms added through expansion. Vandermonde-like
(``diag(x) M - M Z = G H^T``): ``diag(x) V - V Z = x^p e_(p-1)^T`` and
lower triangular Toeplitz ``L(u)`` commute with Z, so
``M = sum_k diag(g_k / x^p) V(x) L(J h_k)``.

Toeplitz-like (displacement rank r). If ``M - Z M Z^T = G H^T`` for the
down-shift Z and n x r generators G, H, then
``M = sum_j L(g_j) L(h_j)^T`` with ``L(v)`` the lower triangular Toeplitz
matrix of first column v, the Krylov matrix ``[v, Z v, Z^2 v, ...]``
(Kailath, Kung and Morf 1979): ``L(g) L(h)^T - Z L(g) L(h)^T Z^T =
L(g) (I - Z Z^T) L(h)^T = g h^T`` since L(g) commutes with Z. Each term is
the product of two Toeplitz K-matrices (width 4); the r terms are added
through expansion (width 4 on ``2^ceil(log2 r)`` times the size):
``O(r n log n)`` parameters and cost.
"""

import numpy as np

from .._core.algebra import (
    add,
    product,
    scale_inputs,
    scale_outputs,
    scale_stage_inputs,
    scale_stage_outputs,
)
from .._core.layout import Network, identity_twiddles
from .._core.validation import (
    as_numeric_array,
    check_dtype,
    check_network_size,
    complex_dtype_of,
    next_pow2,
)
from .transforms import circular_twiddles
from .zoo import dft_twiddles

__all__ = ["as_nodes", "cauchy_network", "exact_powers", "geometric_ratio", "hankel_network",
           "low_rank_network", "toeplitz_like_network", "toeplitz_network",
           "vandermonde_network"]

# 2 pi to the extended precision of np.longdouble (where it has any)
_TWO_PI = np.longdouble("6.283185307179586476925286766559005768")

_COPY = ((1, 0), (1, 0))    # (x_u, x_v) -> (x_u, x_u)
_ADD = ((1, 1), (0, 0))     # (x_u, x_v) -> (x_u + x_v, 0)


def _checked(a, name, ndim):
    """``a`` as a numeric array of ``ndim`` dimensions (its values are
    judged by :func:`_finite`, once the network's size has been)."""
    a = as_numeric_array(a, name)
    if a.ndim != ndim or a.size == 0:
        what = "1-D array" if ndim == 1 else "2-D array"
        raise ValueError(f"{name} must be a non-empty {what}, got shape {a.shape}")
    return a


def _finite(**arrays):
    for name, a in arrays.items():
        if not np.all(np.isfinite(a)):
            raise ValueError(f"{name} contains NaN or infinity")


def _operator_dtype(arrays, dtype):
    """float64 (float32 if every array is) or its complex kind for complex
    data; a given dtype must hold complex data."""
    complex_ = any(a.dtype.kind == "c" for a in arrays)
    if dtype is None:
        single = all(a.dtype in (np.float32, np.complex64) for a in arrays)
        dtype = np.float32 if single else np.float64
        if complex_:
            dtype = complex_dtype_of(dtype)
    dtype = check_dtype(dtype)
    if complex_ and dtype.kind != "c":
        raise ValueError(f"complex data need a complex dtype, got {dtype}")
    return dtype


def _embedded(h_first, r, m, p):
    """h of size M = next_pow2(m + p - 1): ``h_first`` at 0..m-1 and
    ``h[M - k] = r[k]`` for 0 < k < p."""
    M = max(2, next_pow2(m + p - 1))
    h = np.zeros(M, dtype=np.complex128)
    h[:m] = h_first
    if p > 1:
        h[M - p + 1:] = r[1:][::-1]
    return h


def _network(tw, shape, dtype):
    """The (real part of the) complex network, in the operator's dtype."""
    return Network(tw.astype(complex_dtype_of(dtype), copy=False), shape,
                   real_part=dtype.kind != "c")


def _column_and_row(c, r, default_r, dtype, what):
    """(c, r, dtype) of a Toeplitz or Hankel matrix, checked, its network's
    size judged before its entries are scanned."""
    c = _checked(c, "c", 1)
    r = default_r(c) if r is None else _checked(r, "r", 1)
    dtype = _operator_dtype([c, r], dtype)
    check_network_size(c.size + r.size - 1, 2, complex_dtype_of(dtype),
                       f"{what} of shape {(c.size, r.size)}")
    _finite(c=c, r=r)
    return c, r, dtype


def toeplitz_network(c, r, dtype, what="KMatrix.toeplitz"):
    """``KMatrix.toeplitz``: scipy.linalg.toeplitz(c, r) (r defaults to conj(c))."""
    c, r, dtype = _column_and_row(c, r, np.conjugate, dtype, what)
    m, p = c.size, r.size
    return _network(circular_twiddles(_embedded(c, r, m, p)), (m, p), dtype)


def hankel_network(c, r, dtype):
    """``KMatrix.hankel``: scipy.linalg.hankel(c, r) (r defaults to zeros)."""
    c, r, dtype = _column_and_row(c, r, np.zeros_like, dtype, "KMatrix.hankel")
    m, p = c.size, r.size
    h = _embedded(c[::-1], r, m, p)
    M = h.size
    L = M.bit_length() - 1
    w = np.exp(2j * np.pi * ((np.arange(M) * (m - 1)) % M) / M)
    inner = scale_outputs(dft_twiddles(L), w * np.fft.fft(h) / M)
    return _network(product(dft_twiddles(L), inner, M), (m, p), dtype)


def low_rank_network(U, V, dtype):
    """``KMatrix.low_rank``: U @ V.T, width 1 (module docstring)."""
    U, V = _checked(U, "U", 2), _checked(V, "V", 2)
    if U.shape[1] != V.shape[1]:
        raise ValueError(f"U and V must have the same number of columns (the rank), got "
                         f"shapes {U.shape} and {V.shape}")
    dtype = _operator_dtype([U, V], dtype)
    (n_out, rank), n_in = U.shape, V.shape[0]
    N = max(2, next_pow2(max(n_out, n_in)))
    L, h = N.bit_length() - 1, (rank - 1).bit_length()
    check_network_size(N << h, 1, dtype, f"KMatrix.low_rank of shape {(n_out, n_in)} and "
                                         f"rank {rank}")
    _finite(U=U, V=V)
    tw = identity_twiddles(L + h, 1, dtype)
    tw[0, 0, :h] = _COPY          # B* half: the high bits first
    tw[0, 0, h:] = _ADD           # then the fan-in on bits L-1 .. 0
    tw[0, 1, :L] = _COPY          # B half: the fan-out on bits 0 .. L-1
    tw[0, 1, L:] = _ADD           # then the blocks are added
    half = N // 2
    for k in range(1 << h):
        block = slice(k * half, (k + 1) * half)   # the pairs whose high bits are k
        v = np.zeros(N, dtype=dtype)
        u = np.zeros(N, dtype=dtype)
        if k < rank:
            v[:n_in], u[:n_out] = V[:, k], U[:, k]
        scale_stage_inputs(tw[0, 0, h, block], L - 1, v)
        scale_stage_outputs(tw[0, 1, L - 1, block], L - 1, u)
    return Network(tw, (n_out, n_in))


def toeplitz_like_network(G, H, dtype, hankel=False):
    """``KMatrix.toeplitz_like``: the M with ``M - Z M Z^T = G H^T`` (module
    docstring); with ``hankel`` (``KMatrix.hankel_like``) that M with its
    columns reversed, ``sum_j L(g_j) (L(h_j)^T J)``: each ``L(h)^T J`` is the
    Hankel matrix of first column ``h`` reversed and last row ``(h_0, 0, ...)``."""
    what = "KMatrix.hankel_like" if hankel else "KMatrix.toeplitz_like"
    G, H = _checked(G, "G", 2), _checked(H, "H", 2)
    if G.shape != H.shape:
        raise ValueError(f"G and H must have the same shape (n, r), got {G.shape} and "
                         f"{H.shape}")
    dtype = _operator_dtype([G, H], dtype)
    n, rank = G.shape
    M = max(2, next_pow2(2 * n - 1))
    check_network_size(M << (rank - 1).bit_length(), 4, complex_dtype_of(dtype),
                       f"{what} of size {n} and displacement rank {rank}")
    _finite(G=G, H=H)
    zeros = np.zeros(n, dtype=G.dtype)
    terms = []
    for j in range(rank):
        lower = toeplitz_network(G[:, j], zeros, dtype, what)
        first = np.zeros(n, dtype=H.dtype)
        first[0] = H[0, j]
        upper = (hankel_network(H[::-1, j], first, dtype) if hankel
                 else toeplitz_network(first, H[:, j], dtype, what))
        terms.append(product(lower.twiddles, upper.twiddles, n))
    return Network(_sum_of_terms(terms), (n, n), real_part=dtype.kind != "c")


def geometric_ratio(x, rtol=None):
    """w with ``x[j] = x[0] w^j`` (relative error ``rtol``: by default 1e-12,
    or 50 float32 roundings for single-precision nodes), or None."""
    single = np.asarray(x).dtype in (np.float32, np.complex64)
    rtol = (50 * float(np.finfo(np.float32).eps) if single else 1e-12) if rtol is None else rtol
    x = np.asarray(x, dtype=np.complex128)
    if x.size < 2:
        return 1.0 + 0j
    if x[0] == 0:
        return None
    w = x[1] / x[0]
    if w == 0:
        return None
    # the ratio from the whole progression: the mean step of the angles and
    # of the log-moduli, anchored at x[0]
    j = np.arange(x.size)
    steps = x[1:] / x[:-1]
    if not np.all(np.isfinite(steps)):
        return None
    angle = np.angle(w) + np.mean(np.angle(steps / w))
    modulus = np.exp(np.mean(np.log(np.abs(steps))))
    w = modulus * np.exp(1j * angle)
    fitted = x[0] * exact_powers(w, j)
    if np.linalg.norm(fitted - x) > rtol * np.linalg.norm(x):
        return None
    return w


def _root_of_unity(w):
    """(p, d) with ``w = exp(2 pi i p / d)`` exactly to rounding (d <= 2^20),
    or None: the angles of its powers are then reduced in integers."""
    from fractions import Fraction

    if abs(abs(w) - 1) >= 1e-15:
        return None
    turn = np.angle(w) / (2 * np.pi)
    q = Fraction(turn).limit_denominator(1 << 20)
    return (q.numerator, q.denominator) if abs(float(q) - turn) < 1e-15 else None


def exact_powers(w, t):
    """``w^t`` for integer arrays t; exactly reduced angles when w is a root of
    unity of a modest order (to rounding, order <= 2^20)."""
    t = np.asarray(t, dtype=np.int64)
    root = _root_of_unity(w)
    if root is not None:
        p, d = root
        return np.exp(2j * np.pi * ((p * (t % d)) % d) / d)
    return np.exp(t * np.log(complex(w)))


def _half_square_powers(w, t):
    """``w^(t^2 / 2)`` for integer arrays t (``exp(t^2 log(w) / 2)``),
    exactly reduced for a root of unity: ``exp(pi i p t^2 / q)``."""
    t = np.asarray(t, dtype=np.int64)
    root = _root_of_unity(w)
    if root is not None:
        p, d = root
        return np.exp(1j * np.pi * ((p * ((t * t) % (2 * d))) % (2 * d)) / d)
    # t^2 times the angle in extended precision, reduced modulo 2 pi there:
    # in float64 the phase of t = 300 was off by 3e-11
    log_w = np.log(complex(w))
    t2 = t.astype(np.longdouble) ** 2 / 2
    turns = np.mod(t2 * (np.longdouble(log_w.imag) / _TWO_PI), 1).astype(np.float64)
    return np.exp((t2 * np.longdouble(log_w.real)).astype(np.float64)) * np.exp(2j * np.pi * turns)


def as_nodes(x):
    """The nodes of KMatrix.vandermonde as a checked 1-D array."""
    return _checked(x, "x", 1)


def vandermonde_network(x, n_cols, dtype):
    """``KMatrix.vandermonde``: ``V[j, k] = x[j]^k`` (k < n_cols), nodes in a
    geometric progression (the chirp-z transform)."""
    x = _checked(x, "x", 1)
    if isinstance(n_cols, bool) or not isinstance(n_cols, (int, np.integer)) or n_cols < 1:
        raise ValueError(f"n_cols must be a positive integer, got {n_cols!r}")
    n_cols = int(n_cols)
    dtype = _operator_dtype([x], dtype)
    m = x.size
    check_network_size(m + n_cols - 1, 2, complex_dtype_of(dtype),
                       f"KMatrix.vandermonde of shape {(m, n_cols)}")
    _finite(x=x)
    w = geometric_ratio(x)
    if w is None:
        raise ValueError("the nodes x must form a geometric progression x[j] = x[0] w^j with "
                         "x[0] and w nonzero (the chirp-z transform); other nodes have no "
                         "exact fast construction here")
    t = np.arange(max(m, n_cols))
    with np.errstate(over="ignore", under="ignore", invalid="ignore", divide="ignore"):
        chirp = _half_square_powers(w, t)           # w^(t^2/2)
        h = np.conjugate(chirp) if abs(abs(w) - 1) < 1e-15 else 1 / chirp
        d_in = exact_powers(complex(x[0]), np.arange(n_cols)) * chirp[:n_cols]
    if not all(np.all(np.isfinite(v)) and np.all(v != 0) for v in (h, chirp, d_in)):
        raise ValueError(f"the nodes' ratio |w| = {abs(w):.6g} makes the chirp w^(t^2/2) "
                         "overflow or underflow at this size: nodes on a circle (|w| = 1) "
                         "are built exactly, others only while |w|^(n^2/2) is finite")
    tw = circular_twiddles(_embedded(h[:m], h[:n_cols], m, n_cols))
    scale_inputs(tw, d_in)
    scale_outputs(tw, chirp[:m])
    return _network(tw, (m, n_cols), dtype)


def cauchy_network(x, y, dtype):
    """``KMatrix.cauchy``: ``1 / (x[i] - y[j])`` for ``x = a w^i``,
    ``y = b w^j``, ``w^n = 1``."""
    x, y = _checked(x, "x", 1), _checked(y, "y", 1)
    dtype = _operator_dtype([x, y, np.ones(1, np.complex64)], dtype)
    n = x.size
    if y.size != n:
        raise ValueError(f"x and y must have the same length, got {n} and {y.size}")
    check_network_size(2 * n - 1, 4, complex_dtype_of(dtype), f"KMatrix.cauchy of size {n}")
    _finite(x=x, y=y)
    # single-precision nodes are progressions to their own rounding
    single = any(v.dtype in (np.float32, np.complex64) for v in (x, y))
    rtol = 50 * float(np.finfo(np.float32).eps) if single else 1e-12
    wx, wy = geometric_ratio(x), geometric_ratio(y)
    what = ("the nodes must be x[i] = a w^i and y[j] = b w^j with the same w, w^n = 1 "
            "(n = len(x)), and a^n != b^n")
    if wx is None or wy is None or (n > 1 and abs(wx - wy) > rtol):
        raise ValueError(what + ": they are not such progressions")
    root = np.exp(2j * np.pi * round(np.angle(wx) * n / (2 * np.pi)) / n)
    if abs(wx - root) > 10 * rtol / n:
        raise ValueError(what + f": w^n = {complex(wx) ** n:.6g}, not 1")
    a, b = complex(x[0]), complex(y[0])
    m = max(abs(a), abs(b))
    if not (m > 0 and abs((a / m) ** n - (b / m) ** n) > 1e-12):
        raise ValueError(what + ": the circles coincide (a^n == b^n), so x[i] == y[j] "
                         "for some i, j")
    return _network(_cauchy_twiddles(a, b, root, n), (n, n), dtype)


def _cauchy_twiddles(a, b, w, n):
    """Complex twiddles of the Cauchy matrix of ``x = a w^i``, ``y = b w^j``
    (w an n-th root of unity): ``diag(w^-i) V(1/w) D V(w)`` with
    ``D_k = a^(n-1-k) b^k / (a^n - b^n)``, both Vandermonde factors unitary
    up to sqrt(n) and the nodes' moduli all in D, scaled by the larger
    one first (no intermediate overflows: with the moduli inside the
    Vandermonde factors, complex64 overflowed at n = 256, b = 0.6)."""
    m = max(abs(a), abs(b))
    a1, b1 = a / m, b / m
    k = np.arange(n)
    with np.errstate(under="ignore"):
        d = a1 ** (n - 1 - k) * b1 ** k / (m * (a1 ** n - b1 ** n))
    roots = exact_powers(w, k)
    right = vandermonde_network(roots, n, np.complex128).twiddles
    scale_outputs(right, d)
    tw = product(vandermonde_network(np.conjugate(roots), n, np.complex128).twiddles, right, n)
    scale_outputs(tw, np.conjugate(roots))
    return tw


def _generators(G, H, rows, cols, what):
    """The checked generators (rows x r and cols x r, the same r)."""
    G, H = _checked(G, "G", 2), _checked(H, "H", 2)
    if G.shape[1] != H.shape[1] or (G.shape[0], H.shape[0]) != (rows, cols):
        raise ValueError(f"{what} needs G of shape ({rows}, r) and H of shape ({cols}, r), "
                         f"got {G.shape} and {H.shape}")
    _finite(G=G, H=H)
    return G, H


def _sum_of_terms(terms):
    """The sum of networks' twiddles, as a balanced tree (width kept, the
    size doubled per level)."""
    while len(terms) > 1:
        terms = [add(a, b) for a, b in zip(terms[::2], terms[1::2])] + terms[len(terms) & ~1:]
    return terms[0]


def cauchy_like_network(x, y, G, H, dtype):
    """``KMatrix.cauchy_like``: ``M[i, j] = (G H^T)[i, j] / (x[i] - y[j])``,
    ``sum_k diag(g_k) C diag(h_k)`` for the Cauchy matrix C of the nodes."""
    x, y = _checked(x, "x", 1), _checked(y, "y", 1)
    n = x.size
    G, H = _generators(G, H, n, y.size, f"KMatrix.cauchy_like of {n} x {y.size} nodes")
    dtype = _operator_dtype([x, y, G, H, np.ones(1, np.complex64)], dtype)
    rank = G.shape[1]
    check_network_size(max(2, next_pow2(2 * n - 1)) << (rank - 1).bit_length(), 4,
                       complex_dtype_of(dtype),
                       f"KMatrix.cauchy_like of size {n} and displacement rank {rank}")
    base = cauchy_network(x, y, np.complex128).twiddles   # checks the nodes
    terms = []
    for k in range(rank):
        tw = base.copy()
        scale_outputs(tw, G[:, k])
        scale_inputs(tw, H[:, k])
        terms.append(tw)
    return _network(_sum_of_terms(terms), (n, n), dtype)


def vandermonde_like_network(x, G, H, dtype):
    """``KMatrix.vandermonde_like``: the M with ``diag(x) M - M Z = G H^T``,
    ``sum_k diag(g_k / x^p) V(x) L(J h_k)`` (module docstring)."""
    x = _checked(x, "x", 1)
    m = x.size
    p = _checked(H, "H", 2).shape[0]
    G, H = _generators(G, H, m, p, f"KMatrix.vandermonde_like of {m} nodes")
    dtype = _operator_dtype([x, G, H], dtype)
    rank = G.shape[1]
    check_network_size(max(2, next_pow2(m + p - 1)) << (rank - 1).bit_length(), 4,
                       complex_dtype_of(dtype),
                       f"KMatrix.vandermonde_like of shape {(m, p)} and displacement rank "
                       f"{rank}")
    xs = np.asarray(x, dtype=np.complex128)
    if np.any(xs == 0):
        raise ValueError("the nodes x must be nonzero (diag(x) M - M Z = G H^T has no "
                         "unique solution otherwise)")
    V = vandermonde_network(x, p, np.complex128).twiddles     # checks the nodes
    with np.errstate(over="ignore", under="ignore", invalid="ignore", divide="ignore"):
        # x_j^p = a^p w^(jp), the angles exact on roots of unity
        xp = (exact_powers(complex(xs[0]), np.array([p]))[0]
              * exact_powers(complex(geometric_ratio(x)), np.arange(m) * p))
    if not (np.all(np.isfinite(xp)) and np.all(xp != 0)):
        raise ValueError(f"the nodes' powers x^{p} overflow or underflow at this size")
    zeros = np.zeros(p)
    terms = []
    for k in range(rank):
        lower = toeplitz_network(H[::-1, k], zeros, np.complex128,
                                 "KMatrix.vandermonde_like").twiddles
        tw = product(V, lower, p)
        scale_outputs(tw, G[:, k] / xp)
        terms.append(tw)
    return _network(_sum_of_terms(terms), (m, p), dtype)
