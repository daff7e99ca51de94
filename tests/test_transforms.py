"""Exact transforms: DFT of any length, DCT/DST types 2 and 3, circulants.

Each is compared with an independent implementation: numpy.fft, scipy.fft
and scipy.linalg.circulant, in norm, with a tolerance from the dtype and the
number of stages.
"""

import numpy as np
import pytest
import scipy.fft
import scipy.linalg

import kmatrix as km
from _helpers import assert_close_in_norm, rtol_for

LENGTHS = [1, 2, 3, 5, 7, 8, 12, 16, 31, 100, 256, 1000, 1024]
NORMS = [None, "backward", "ortho", "forward"]


def _is_pow2(n):
    return n >= 2 and n & (n - 1) == 0


@pytest.mark.parametrize("n", LENGTHS)
@pytest.mark.parametrize("dtype", [np.complex128, np.complex64])
def test_dft_any_length(n, dtype):
    K = km.KMatrix.dft(n, dtype=dtype)
    assert K.shape == (n, n) and K.dtype == dtype
    assert K.width == (1 if n & (n - 1) == 0 else 2)
    ref = np.fft.fft(np.eye(n), axis=0)
    assert_close_in_norm(K.todense(), ref, rtol_for(dtype, K))
    X = np.random.default_rng(n).standard_normal((4, n))
    assert_close_in_norm(K.apply(X), np.fft.fft(X, axis=-1), rtol_for(dtype, K))


@pytest.mark.parametrize("norm", NORMS)
def test_dft_norms_any_length(norm):
    K = km.KMatrix.dft(12, norm=norm)
    assert_close_in_norm(K.todense(), np.fft.fft(np.eye(12), axis=0, norm=norm),
                         rtol_for(np.complex128, K))


@pytest.mark.parametrize("kind", ["dct", "dst"])
@pytest.mark.parametrize("type_", [2, 3])
@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("n", [1, 2, 3, 8, 31, 64])
def test_dct_dst_match_scipy(kind, type_, norm, n):
    K = getattr(km.KMatrix, kind)(n, type=type_, norm=norm)
    ref = getattr(scipy.fft, kind)(np.eye(n), type=type_, norm=norm, axis=0)
    assert K.dtype == np.float64 and K.real_part and K.shape == (n, n)
    D = K.todense()
    assert D.dtype == np.float64
    assert_close_in_norm(D, ref, rtol_for(np.float64, K))


@pytest.mark.parametrize("kind", ["dct", "dst"])
@pytest.mark.parametrize("n", [256, 1000, 1024])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_dct_dst_on_batches(kind, n, dtype):
    K = getattr(km.KMatrix, kind)(n, dtype=dtype)
    assert K.width == (2 if _is_pow2(n) else 3)
    X = np.random.default_rng(n).standard_normal((16, n)).astype(dtype)
    Y = K.apply(X)
    assert Y.dtype == dtype
    ref = getattr(scipy.fft, kind)(X.astype(np.float64), norm="ortho", axis=-1)
    assert_close_in_norm(Y, ref, rtol_for(dtype, K))
    # type 3 ortho inverts type 2 ortho
    K3 = getattr(km.KMatrix, kind)(n, type=3, dtype=dtype)
    assert_close_in_norm(K3.apply(Y), X, 2 * rtol_for(dtype, K))


@pytest.mark.parametrize("n", LENGTHS)
@pytest.mark.parametrize("complex_c", [False, True])
def test_circulant_matches_scipy(n, complex_c):
    rng = np.random.default_rng(n)
    c = rng.standard_normal(n) + (1j * rng.standard_normal(n) if complex_c else 0)
    K = km.KMatrix.circulant(c)
    assert K.width == 2 and K.shape == (n, n)
    assert K.dtype == (np.complex128 if complex_c else np.float64)
    assert K.real_part == (not complex_c)
    assert_close_in_norm(K.todense(), scipy.linalg.circulant(c), rtol_for(np.float64, K))
    # circular convolution, computed independently by numpy.fft
    x = rng.standard_normal(n)
    conv = np.fft.ifft(np.fft.fft(c) * np.fft.fft(x))
    assert_close_in_norm(K @ x, conv if complex_c else conv.real, rtol_for(np.float64, K))


def test_circulant_float32():
    c = np.arange(1, 11, dtype=np.float32)
    K = km.KMatrix.circulant(c)
    assert K.dtype == np.float32 and K.twiddles.dtype == np.complex64
    assert_close_in_norm(K.todense(), scipy.linalg.circulant(c), rtol_for(np.float32, K))
