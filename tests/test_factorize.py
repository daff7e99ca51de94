"""Hierarchical butterfly factorization (the exact core of the approximator)."""

import numpy as np
import pytest
import scipy.linalg

import kmatrix as km
from kmatrix._core.layout import identity_twiddles
from kmatrix._fitting.factorize import (analytic_completion, bit_reversed_twiddles, factor_butterfly,
                               half_butterfly_twiddles)


def _bit_reversal(L):
    i = np.arange(1 << L)
    r = np.zeros_like(i)
    for b in range(L):
        r |= ((i >> b) & 1) << (L - 1 - b)
    return r


@pytest.mark.parametrize("L", [1, 2, 3, 6, 9])
@pytest.mark.parametrize("half", [0, 1])
@pytest.mark.parametrize("dtype", [np.float64, np.complex128])
def test_recovers_a_random_half_butterfly(L, half, dtype):
    N = 1 << L
    K = km.KMatrix.random(N, init="normal", dtype=dtype, random_state=L)
    K.twiddles[0, 1 - half] = identity_twiddles(L, 1, dtype)[0, 0]
    M = K.todense()
    tw = half_butterfly_twiddles(M, half)
    assert tw.dtype == dtype
    K2 = km.KMatrix(tw)
    err = np.linalg.norm(K2.todense() - M) / np.linalg.norm(M)
    assert err < 50 * L * np.finfo(dtype).eps


@pytest.mark.parametrize("N", [256, 1024])
def test_dft_with_bit_reversed_columns_to_machine_precision(N):
    L = N.bit_length() - 1
    F = np.fft.fft(np.eye(N), axis=0)
    br = _bit_reversal(L)
    # F P_br^T is a butterfly in the B order (decimation in time)
    K = km.KMatrix(half_butterfly_twiddles(F[:, br], 1))
    P = km.KMatrix.from_permutation(np.argsort(br), dtype=np.complex128)
    err = np.linalg.norm((K @ P).todense() - F) / np.linalg.norm(F)
    assert err < 1e-12


@pytest.mark.parametrize("half", [0, 1])
def test_hadamard_in_either_order(half):
    H = scipy.linalg.hadamard(512).astype(float)
    K = km.KMatrix(half_butterfly_twiddles(H, half))
    np.testing.assert_allclose(K.todense(), H, atol=1e-11)


def test_non_butterfly_gets_a_greedy_approximation():
    rng = np.random.default_rng(0)
    M = rng.standard_normal((64, 64))
    K = km.KMatrix(half_butterfly_twiddles(M, 1))
    err = np.linalg.norm(K.todense() - M) / np.linalg.norm(M)
    # a Gaussian matrix is far from every butterfly, but each split keeps the
    # best rank-one part: better than the zero matrix, worse than exact
    assert 0.5 < err < 1.0
    # one stage (N = 2) holds every 2 x 2 matrix
    A = rng.standard_normal((2, 2))
    np.testing.assert_allclose(km.KMatrix(half_butterfly_twiddles(A, 1)).todense(), A,
                               atol=1e-14)


@pytest.mark.parametrize("M, bits, match", [
    (np.ones((3, 3)), [0, 1], "power-of-two"), (np.ones((4, 2)), [0, 1], "square"),
    (np.ones((4, 4)), [0, 0], "permutation"), (np.ones((4, 4)), [0], "permutation"),
])
def test_bad_arguments(M, bits, match):
    with pytest.raises(ValueError, match=match):
        factor_butterfly(M, bits)


def _dense_of_stages(stages, bits):
    """S_{L-1} ... S_0 with stage s on bits[s], by explicit 2x2 mixing of rows."""
    L, half_n = stages.shape[:2]
    N = 2 * half_n
    X = np.eye(N, dtype=stages.dtype)
    for s, b in enumerate(bits):
        lo = np.flatnonzero(((np.arange(N) >> b) & 1) == 0)
        blocks = stages[s, ((lo >> (b + 1)) << b) | (lo & ((1 << b) - 1))]
        x0, x1 = X[lo].copy(), X[lo + (1 << b)].copy()
        X[lo] = blocks[:, 0, 0, None] * x0 + blocks[:, 0, 1, None] * x1
        X[lo + (1 << b)] = blocks[:, 1, 0, None] * x0 + blocks[:, 1, 1, None] * x1
    return X


@pytest.mark.parametrize("L", [1, 2, 3, 4, 5, 8])
@pytest.mark.parametrize("dtype", [np.float64, np.complex128])
def test_bit_reversed_butterfly_is_one_width_one_kmatrix(L, dtype):
    rng = np.random.default_rng(L)
    N = 1 << L
    stages = rng.standard_normal((L, N // 2, 2, 2))
    if dtype == np.complex128:
        stages = stages + 1j * rng.standard_normal(stages.shape)
    descending = list(range(L - 1, -1, -1))
    M = _dense_of_stages(stages, descending)[np.argsort(_bit_reversal(L))]  # P_br B
    tw = bit_reversed_twiddles(stages)
    assert tw.shape == (1, 2, L, N // 2, 2, 2) and tw.dtype == dtype
    err = np.linalg.norm(km.KMatrix(tw).todense() - M) / np.linalg.norm(M)
    assert err < 1e-13
    # and the factorization finds those stages back from P_br^-1 M
    again = km.KMatrix(bit_reversed_twiddles(factor_butterfly(M[_bit_reversal(L)], descending)))
    assert np.linalg.norm(again.todense() - M) / np.linalg.norm(M) < 1e-12


def test_analytic_completion_extends_the_rows():
    rng = np.random.default_rng(0)
    M = rng.standard_normal((5, 6))
    for sign in (1, -1):
        T = analytic_completion(M, 16, sign)
        assert T.shape == (16, 16) and T.dtype == np.complex128
        np.testing.assert_allclose(T.real[:5, :6], M, atol=1e-14)
        np.testing.assert_allclose(T.real[:5, 6:12], sign * M[:, ::-1], atol=1e-14)
        assert not np.any(T[5:]) and not np.any(T[:, 12:])
    # a cosine row with a periodic even extension becomes an exponential
    n = 8
    k = 3
    row = np.cos(np.pi * k * (2 * np.arange(n) + 1) / (2 * n))
    T = analytic_completion(row[None, :], 16, 1)
    np.testing.assert_allclose(T[0], np.exp(1j * np.pi * k * (2 * np.arange(2 * n) + 1) / (2 * n)),
                               atol=1e-14)
    assert analytic_completion(M, 8, 1) is None   # 2 * 6 > 8: no room


@pytest.mark.parametrize("N", [2, 4, 8, 64, 256])
@pytest.mark.parametrize("dtype, init", [(np.float64, "ortho"), (np.complex128, "ortho"),
                                         (np.complex128, "normal"), (np.float64, "normal")])
def test_factor_kmatrix_recovers_a_random_width_one_kmatrix(N, dtype, init):
    from kmatrix._fitting.factorize import factor_kmatrix

    M = km.KMatrix.random(N, init=init, dtype=dtype, random_state=N).todense()
    tw = factor_kmatrix(M)
    assert tw.shape == (1, 2, N.bit_length() - 1, N // 2, 2, 2) and tw.dtype == dtype
    err = np.linalg.norm(km.KMatrix(tw).todense() - M) / np.linalg.norm(M)
    # Gaussian blocks multiply into ill-conditioned matrices: the 2 x 2
    # eigenproblems lose digits level by level
    # (1e-8 for this seed; 3 seeds in 40 exceed it)
    assert err < (1e-6 if (init, dtype) == ("normal", np.float64) else 1e-12)


def test_factor_kmatrix_degrades_gracefully():
    from kmatrix._fitting.factorize import factor_kmatrix

    rng = np.random.default_rng(0)
    K = km.KMatrix.random(128, random_state=1).todense()
    for eps in (1e-6, 1e-3):
        noise = rng.standard_normal(K.shape)
        M = K + eps * noise * np.linalg.norm(K) / np.linalg.norm(noise)
        fit = km.KMatrix(factor_kmatrix(M)).todense()
        # about as close to M as K itself is
        assert np.linalg.norm(fit - M) / np.linalg.norm(M) < 1.5 * eps
    # no structure: a poor fit, which the approximator measures and passes over
    G = rng.standard_normal((64, 64))
    est = km.KMatrixApproximator(method="hierarchical").fit(G)
    assert est.method_ != "hierarchical: both halves" and est.relative_error_ < 1
    with pytest.raises(ValueError, match="power-of-two"):
        factor_kmatrix(np.ones((6, 6)))
