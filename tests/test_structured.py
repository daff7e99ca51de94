"""The survey's Section 4 classes as exact K-matrices (Toeplitz, Hankel, low
rank, sparse plus low rank, Toeplitz-like), against dense references
(scipy.linalg.toeplitz/hankel, U @ V.T, the displacement equation)."""

import numpy as np
import pytest
import scipy.linalg
import scipy.sparse
from hypothesis import given, settings
from hypothesis import strategies as st

import kmatrix as km
from _helpers import assert_close_in_norm, rtol_for

DTYPES = [np.float32, np.float64, np.complex64, np.complex128]


def _data(rng, shape, dtype):
    a = rng.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        a = a + 1j * rng.standard_normal(shape)
    return a.astype(dtype)


def _check(K, D):
    """K's products against the dense D, both ways, in norm."""
    rng = np.random.default_rng(1)
    X = _data(rng, (5, D.shape[1]), K.dtype)
    Y = _data(rng, (5, D.shape[0]), K.dtype)
    rtol = rtol_for(K.dtype, K)
    assert_close_in_norm(K.apply(X), X.astype(np.complex128) @ D.T, rtol)
    assert_close_in_norm(K.apply(Y, trans="H"), Y.astype(np.complex128) @ D.conj(), rtol)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("m, p", [(1, 1), (5, 5), (7, 3), (3, 9), (64, 64), (1000, 1000)])
def test_toeplitz_and_hankel_equal_scipys(dtype, m, p):
    rng = np.random.default_rng(m * 31 + p)
    c, r = _data(rng, m, dtype), _data(rng, p, dtype)
    T = km.KMatrix.toeplitz(c, r)
    H = km.KMatrix.hankel(c, r)
    assert T.dtype == H.dtype == np.dtype(dtype) and T.shape == H.shape == (m, p)
    assert T.width == 2 and T.size == max(2, 1 << (m + p - 2).bit_length())
    _check(T, scipy.linalg.toeplitz(c.astype(np.complex128), r.astype(np.complex128)))
    _check(H, scipy.linalg.hankel(c.astype(np.complex128), r.astype(np.complex128)))


def test_toeplitz_defaults_follow_scipy():
    c = np.array([1.0, 2 + 1j, -0.5j, 3.0])
    np.testing.assert_allclose(km.KMatrix.toeplitz(c).todense(), scipy.linalg.toeplitz(c),
                               atol=1e-14)
    np.testing.assert_allclose(km.KMatrix.hankel(c).todense(), scipy.linalg.hankel(c),
                               atol=1e-14)
    assert km.KMatrix.toeplitz(np.ones(3, np.float32)).dtype == np.float32
    assert km.KMatrix.toeplitz([1, 2, 3]).dtype == np.float64


def test_large_toeplitz_is_exact_in_float64():
    # the bar: n = 4096, < 1e-12 against the dense product
    rng = np.random.default_rng(2)
    c, r = rng.standard_normal(4096), rng.standard_normal(4096)
    T = km.KMatrix.toeplitz(c, r)
    X = rng.standard_normal((3, 4096))
    ref = X @ scipy.linalg.toeplitz(c, r).T
    assert np.linalg.norm(T.apply(X) - ref) / np.linalg.norm(ref) < 1e-12


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 40), st.integers(1, 40), st.integers(1, 9), st.data())
def test_low_rank_is_exact_for_any_shape_and_rank(n_out, n_in, rank, data):
    seed = data.draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    U, V = rng.standard_normal((n_out, rank)), rng.standard_normal((n_in, rank))
    K = km.KMatrix.low_rank(U, V)
    assert K.width == 1 and K.shape == (n_out, n_in)
    np.testing.assert_allclose(K.todense(), U @ V.T, atol=1e-12 * np.abs(U @ V.T).max() + 1e-300)


@pytest.mark.parametrize("dtype", DTYPES)
def test_low_rank_and_sparse_plus_low_rank(dtype):
    rng = np.random.default_rng(3)
    U, V = _data(rng, (300, 4), dtype), _data(rng, (200, 4), dtype)
    K = km.KMatrix.low_rank(U, V)
    assert K.dtype == np.dtype(dtype)
    D = U.astype(np.complex128) @ V.T.astype(np.complex128)
    _check(K, D)
    S = scipy.sparse.random(300, 200, density=0.02, random_state=0, dtype=np.float64)
    SL = km.KMatrix.from_sparse(S, dtype=dtype) + K
    _check(SL, S.toarray() + D)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n, rank", [(1, 1), (16, 1), (64, 4), (100, 3), (1024, 4)])
def test_toeplitz_like_satisfies_its_displacement_equation(dtype, n, rank):
    rng = np.random.default_rng(n + rank)
    G, H = _data(rng, (n, rank), dtype), _data(rng, (n, rank), dtype)
    K = km.KMatrix.toeplitz_like(G, H)
    assert K.dtype == np.dtype(dtype) and K.width == 4
    # the dense reference: M - Z M Z^T = G H^T solved by substitution
    # (M[i, j] = M[i-1, j-1] + (G H^T)[i, j]), independent of the construction
    E = G.astype(np.complex128) @ H.T.astype(np.complex128)
    M = E.copy()
    for d in range(1, n):
        M[d:, d:] += E[:n - d, :n - d]
    _check(K, M)


def test_a_toeplitz_matrix_is_toeplitz_like_of_rank_two():
    rng = np.random.default_rng(4)
    c, r = rng.standard_normal(50), rng.standard_normal(50)
    r[0] = c[0]
    T = scipy.linalg.toeplitz(c, r)
    Z = np.eye(50, k=-1)
    E = T - Z @ T @ Z.T                     # nonzero in row 0 and column 0 only
    G = np.stack([E[:, 0], np.eye(50)[0]], axis=1)
    H = np.stack([np.eye(50)[0], E[0] - np.eye(50)[0] * E[0, 0]], axis=1)
    np.testing.assert_allclose(G @ H.T, E, atol=1e-14)
    np.testing.assert_allclose(km.KMatrix.toeplitz_like(G, H).todense(), T, atol=1e-12)


@pytest.mark.parametrize("call, match", [
    (lambda: km.KMatrix.toeplitz([]), "non-empty"),
    (lambda: km.KMatrix.toeplitz([[1.0]]), "1-D"),
    (lambda: km.KMatrix.toeplitz([1.0, np.nan]), "NaN"),
    (lambda: km.KMatrix.hankel([1.0], [1j], dtype=np.float32), "complex"),
    (lambda: km.KMatrix.toeplitz([1j, 2.0], dtype=np.float64), "complex"),
    (lambda: km.KMatrix.low_rank(np.ones((3, 2)), np.ones((4, 3))), "number of columns"),
    (lambda: km.KMatrix.low_rank(np.ones(3), np.ones((4, 1))), "2-D"),
    (lambda: km.KMatrix.toeplitz_like(np.ones((4, 2)), np.ones((4, 3))), "same shape"),
    # a column of 2**28 (a read-only broadcast view: no memory) needs a
    # network of 2**30 positions: judged before any allocation
    (lambda: km.KMatrix.toeplitz(np.broadcast_to(1.0, (2**28,))), "memory"),
    (lambda: km.KMatrix.low_rank(np.broadcast_to(1.0, (2**28, 64)),
                                 np.broadcast_to(1.0, (2**28, 64))), "memory|2\\*\\*"),
])
def test_bad_arguments_are_value_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# ------------------------------------------------------------- Vandermonde --
@pytest.mark.parametrize("dtype", [np.complex64, np.complex128])
@pytest.mark.parametrize("m, p", [(1, 1), (2, 5), (7, 3), (64, 64), (300, 200)])
def test_vandermonde_on_an_arc_equals_the_powers(dtype, m, p):
    # nodes a w^j on a circle of radius 0.97 (|w| = 1), against a^k w^(jk)
    # in extended precision (the nodes' own rounding, amplified k times,
    # is the data's error: 1e-15 here in float64)
    a = np.clongdouble(0.97) * np.exp(np.clongdouble(0.4j))
    w = np.exp(2j * np.pi * np.longdouble("0.0123"))
    j, k = np.arange(m), np.arange(p)
    V = km.KMatrix.vandermonde((a * w ** j).astype(dtype), p)
    assert V.shape == (m, p) and V.dtype == dtype
    exact = (a ** k)[None, :] * w ** (j[:, None] * k[None, :])
    _check(V, exact.astype(np.complex128))


@pytest.mark.parametrize("n", [3, 100, 1000, 1024])
def test_vandermonde_of_the_roots_of_unity_is_the_dft(n):
    F = np.fft.fft(np.eye(n), axis=0)
    V = km.KMatrix.vandermonde(np.exp(-2j * np.pi * np.arange(n) / n))
    assert np.linalg.norm(V.todense() - F) / np.linalg.norm(F) < 1e-14
    assert V.width == 2 and V.size == max(2, 1 << (2 * n - 2).bit_length())


def test_vandermonde_of_real_geometric_nodes_is_real():
    x = 0.5 * 1.01 ** np.arange(40)
    V = km.KMatrix.vandermonde(x, 30)
    assert V.dtype == np.float64
    exact = np.asarray(x, dtype=np.longdouble)[:, None] ** np.arange(30)
    assert np.linalg.norm(V.todense() - exact) / np.linalg.norm(exact) < 1e-12


@pytest.mark.parametrize("x, n_cols, match", [
    ([1.0, 2.0, 3.5], None, "geometric progression"),
    ([0.0, 0.0], None, "geometric progression"),
    ([1.0, np.nan], None, "NaN"),
    ([], None, "non-empty"),
    ([1.0, 2.0], 0, "n_cols"),
    ([1.0, 2.0], 2.5, "n_cols"),
    (1.5 ** np.arange(200), None, "overflow"),
])
def test_vandermonde_refuses_what_it_cannot_build(x, n_cols, match):
    with pytest.raises(ValueError, match=match):
        km.KMatrix.vandermonde(x, n_cols)


@pytest.mark.parametrize("dtype", [np.complex64, np.complex128])
@pytest.mark.parametrize("n, b", [(1, 2.0), (2, 1.5), (7, 1.3j), (256, 1.01), (256, 0.6j),
                                  (300, -2.0)])
def test_cauchy_on_two_circles_equals_one_over_the_differences(n, b, dtype):
    # exact nodes in extended precision; the operator is given them rounded
    w = np.exp(2j * np.pi * np.longdouble(1) / n)
    x, y = w ** np.arange(n), np.clongdouble(b) * w ** np.arange(n)
    C = 1 / (x[:, None] - y[None, :])
    K = km.KMatrix.cauchy(x.astype(dtype), y.astype(dtype))
    assert K.shape == (n, n) and K.width == 4 and K.dtype == dtype
    _check(K, C.astype(np.complex128))
    # double precision: rounding, whatever the moduli (no intermediate overflow)
    bound = 1e-13 if dtype == np.complex128 else 5e-6
    assert np.linalg.norm(K.todense() - C) / np.linalg.norm(C) < bound


@pytest.mark.parametrize("dtype", [np.complex64, np.complex128])
@pytest.mark.parametrize("n, rank", [(2, 1), (16, 2), (100, 3), (256, 5)])
def test_cauchy_like_equals_its_formula(dtype, n, rank):
    rng = np.random.default_rng(n + rank)
    w = np.exp(2j * np.pi * np.longdouble(1) / n)
    x, y = w ** np.arange(n), np.clongdouble(0.6j) * w ** np.arange(n)
    G, H = _data(rng, (n, rank), dtype), _data(rng, (n, rank), dtype)
    C = (G.astype(np.clongdouble) @ H.T) / (x[:, None] - y[None, :])
    K = km.KMatrix.cauchy_like(x.astype(dtype), y.astype(dtype), G, H)
    assert K.shape == (n, n) and K.width == 4 and K.dtype == dtype
    _check(K, C.astype(np.complex128))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("m, p, rank", [(1, 1, 1), (8, 8, 1), (50, 30, 2), (64, 100, 4)])
def test_vandermonde_like_satisfies_its_displacement_equation(dtype, m, p, rank):
    rng = np.random.default_rng(m + p + rank)
    real = np.dtype(dtype).kind == "f"
    # nodes on the unit circle (the stable case): real ones alternate in sign
    x = (0.9 * (-1.0) ** np.arange(m) if real
         else np.exp(0.2j) * np.exp(2j * np.pi * np.arange(m) / m)).astype(dtype)
    G, H = _data(rng, (m, rank), dtype), _data(rng, (p, rank), dtype)
    K = km.KMatrix.vandermonde_like(x, G, H)
    assert K.shape == (m, p) and K.width == 4 and K.dtype == dtype
    # diag(x) M - M Z = E solved from the last column: M[:, k] = (E[:, k] + M[:, k + 1]) / x
    E = G.astype(np.complex128) @ H.T.astype(np.complex128)
    xd = x.astype(np.complex128)
    M = np.zeros((m, p), complex)
    M[:, -1] = E[:, -1] / xd
    for k in range(p - 2, -1, -1):
        M[:, k] = (E[:, k] + M[:, k + 1]) / xd
    _check(K, M)


@pytest.mark.parametrize("args, match", [
    ((np.exp(2j * np.pi * np.arange(4) / 4), 2 * np.exp(2j * np.pi * np.arange(4) / 4),
      np.ones((4, 2)), np.ones((4, 3))), "G of shape"),
    ((np.arange(1.0, 5.0), np.arange(6.0, 10.0), np.ones((4, 1)), np.ones((4, 1))),
     "not such progressions"),
    ((np.exp(2j * np.pi * np.arange(4) / 4), 2 * np.exp(2j * np.pi * np.arange(4) / 4),
      np.full((4, 1), np.nan), np.ones((4, 1))), "NaN"),
])
def test_cauchy_like_refuses_bad_input(args, match):
    with pytest.raises(ValueError, match=match):
        km.KMatrix.cauchy_like(*args)


@pytest.mark.parametrize("x, G, H, match", [
    ([1.0, 2.0, 3.5], np.ones((3, 1)), np.ones((3, 1)), "geometric progression"),
    ([0.0, 0.0], np.ones((2, 1)), np.ones((2, 1)), "nonzero"),
    ([1.0, 2.0], np.ones((3, 1)), np.ones((2, 1)), "G of shape"),
    ([1.0, 2.0], np.ones((2, 1)), np.ones((2, 2)), "G of shape"),
    (1.5 ** np.arange(200), np.ones((200, 1)), np.ones((200, 1)), "overflow"),
])
def test_vandermonde_like_refuses_bad_input(x, G, H, match):
    with pytest.raises(ValueError, match=match):
        km.KMatrix.vandermonde_like(x, G, H)


@pytest.mark.parametrize("x, y, match", [
    (np.arange(1.0, 4.0), np.arange(5.0, 8.0), "not such progressions"),
    (np.exp(2j * np.pi * np.arange(4) / 4), np.exp(2j * np.pi * np.arange(4) / 4), "coincide"),
    (np.exp(2j * np.pi * np.arange(4) / 5), 2 * np.exp(2j * np.pi * np.arange(4) / 5), "w\\^n"),
    (np.ones(3), np.ones(2), "same length"),
    ([1.0, np.inf], [2.0, 3.0], "NaN or infinity"),
])
def test_cauchy_refuses_other_nodes(x, y, match):
    with pytest.raises(ValueError, match=match):
        km.KMatrix.cauchy(x, y)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n, rank", [(1, 1), (6, 2), (64, 3)])
def test_hankel_like_is_toeplitz_like_with_its_columns_reversed(dtype, n, rank):
    rng = np.random.default_rng(n + rank)
    G, H = _data(rng, (n, rank), dtype), _data(rng, (n, rank), dtype)
    K = km.KMatrix.hankel_like(G, H)
    assert K.shape == (n, n) and K.dtype == dtype and K.width == 4
    # the dense reference from the displacement equation of its reversal
    T = np.zeros((n, n), dtype=np.complex128)
    E = G.astype(np.complex128) @ H.T.astype(np.complex128)
    for i in range(n):
        for j in range(n):
            T[i, j] = E[i, j] + (T[i - 1, j - 1] if i and j else 0)
    _check(K, T[:, ::-1])
