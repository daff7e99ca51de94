"""Tests of kmatrix._builders.zoo's exact twiddles (DFT, Hadamard) against
independent references: ``np.fft.fft`` and ``scipy.linalg.hadamard``, through
the stage-by-stage reference ``_reference.expanded_matrix`` / ``apply_stages``.
"""

import numpy as np
import pytest
import scipy.linalg

from _reference import apply_stages, expanded_matrix

from kmatrix._builders.zoo import dft_twiddles, hadamard_twiddles


def rel_err(actual, expected):
    return np.linalg.norm(actual - expected) / np.linalg.norm(expected)


# -- DFT ----------------------------------------------------------------------

@pytest.mark.parametrize("L", range(1, 9))
def test_dft_dense(L):
    N = 1 << L
    tw = dft_twiddles(L)
    assert tw.shape == (1, 2, L, N // 2, 2, 2)
    assert tw.dtype == np.complex128
    F = np.fft.fft(np.eye(N), axis=0)
    assert rel_err(expanded_matrix(tw), F) < 1e-12 * L


@pytest.mark.parametrize("L", [12, 16])
def test_dft_large_on_vectors(L):
    N = 1 << L
    rng = np.random.default_rng(L)
    x = rng.standard_normal((N, 2)) + 1j * rng.standard_normal((N, 2))
    y = apply_stages(dft_twiddles(L), x)
    assert rel_err(y, np.fft.fft(x, axis=0)) < 1e-12 * L


@pytest.mark.parametrize("L", [1, 2, 3])
def test_dft_quarter_turn_entries_exact(L):
    # Entries of F equal to 1, -i, -1 or i come out exactly: the twiddles
    # use exact quarter turns.
    N = 1 << L
    jk = np.outer(np.arange(N), np.arange(N)) % N
    quarter = (4 * jk) % N == 0
    expected = (-1j) ** ((4 * jk // N) % 4)
    E = expanded_matrix(dft_twiddles(L))
    np.testing.assert_array_equal(E[quarter], expected[quarter])


def test_dft_twiddles_are_unit_modulus():
    # Every entry of every block is 0 or of modulus 1 (no scaling hidden).
    mod = np.abs(dft_twiddles(7))
    assert np.all((mod == 0) | (np.abs(mod - 1) < 1e-15))


# -- Hadamard -----------------------------------------------------------------

@pytest.mark.parametrize("L", range(1, 9))
def test_hadamard_dense_exact(L):
    tw = hadamard_twiddles(L)
    assert tw.shape == (1, 2, L, (1 << L) // 2, 2, 2)
    assert tw.dtype == np.float64
    np.testing.assert_array_equal(expanded_matrix(tw),
                                  scipy.linalg.hadamard(1 << L))


def test_hadamard_on_vectors_exact():
    L = 11
    x = np.random.default_rng(0).integers(-5, 5, size=(1 << L, 2))
    np.testing.assert_array_equal(
        apply_stages(hadamard_twiddles(L), x.astype(np.float64)),
        scipy.linalg.hadamard(1 << L) @ x)
