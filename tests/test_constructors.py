"""Tests of kmatrix._constructors against independent references.

Small sizes are checked densely with ``_reference.dense_expanded``; large
sizes by applying the stages to vectors with ``_reference.apply_stages``
(itself checked against ``dense_expanded`` here).
"""

import numpy as np
import pytest
import scipy.linalg
from hypothesis import given, settings
from hypothesis import strategies as st

from _reference import apply_stages, dense_expanded

from kmatrix._builders.permutations import route_permutation
from kmatrix._builders.zoo import dft_twiddles, hadamard_twiddles
from kmatrix._core.layout import identity_twiddles


def rel_err(actual, expected):
    return np.linalg.norm(actual - expected) / np.linalg.norm(expected)


def assert_permutation_blocks(tw):
    """Every block is exactly [[1, 0], [0, 1]] or [[0, 1], [1, 0]]."""
    identity = np.all(tw == np.eye(2), axis=(-2, -1))
    swap = np.all(tw == np.array([[0.0, 1.0], [1.0, 0.0]]), axis=(-2, -1))
    assert np.all(identity | swap)


# -- the test helper itself ---------------------------------------------------

@pytest.mark.parametrize("L", [1, 2, 3, 5])
def test_apply_stages_matches_dense_reference(L):
    rng = np.random.default_rng(L)
    N = 1 << L
    shape = (2, 2, L, N // 2, 2, 2)
    tw = rng.standard_normal(shape) + 1j * rng.standard_normal(shape)
    x = rng.standard_normal((N, 3)) + 1j * rng.standard_normal((N, 3))
    expected = dense_expanded(tw) @ x
    assert rel_err(apply_stages(tw, x), expected) < 1e-13
    assert rel_err(apply_stages(tw, x[:, 0]), expected[:, 0]) < 1e-13


# -- DFT ----------------------------------------------------------------------

@pytest.mark.parametrize("L", range(1, 9))
def test_dft_dense(L):
    N = 1 << L
    tw = dft_twiddles(L)
    assert tw.shape == (1, 2, L, N // 2, 2, 2)
    assert tw.dtype == np.complex128
    F = np.fft.fft(np.eye(N), axis=0)
    assert rel_err(dense_expanded(tw), F) < 1e-12 * L


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
    E = dense_expanded(dft_twiddles(L))
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
    np.testing.assert_array_equal(dense_expanded(tw),
                                  scipy.linalg.hadamard(1 << L))


def test_hadamard_on_vectors_exact():
    L = 11
    x = np.random.default_rng(0).integers(-5, 5, size=(1 << L, 2))
    np.testing.assert_array_equal(
        apply_stages(hadamard_twiddles(L), x.astype(np.float64)),
        scipy.linalg.hadamard(1 << L) @ x)


# -- identity -----------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex64,
                                   np.complex128])
@pytest.mark.parametrize("width", [1, 3])
def test_identity(width, dtype):
    L = 4
    tw = identity_twiddles(L, width=width, dtype=dtype)
    assert tw.shape == (width, 2, L, 8, 2, 2)
    assert tw.dtype == dtype
    np.testing.assert_array_equal(dense_expanded(tw), np.eye(16))


@pytest.mark.parametrize("func", [dft_twiddles, hadamard_twiddles,
                                  identity_twiddles])
def test_bad_log_size(func):
    for L in (0, -1):
        with pytest.raises(ValueError, match="L must be >= 1"):
            func(L)
    for L in (2.0, "3", None, True):
        with pytest.raises(TypeError, match="L must be an integer"):
            func(L)


def test_identity_bad_width():
    with pytest.raises(ValueError, match="width must be >= 1"):
        identity_twiddles(3, width=0)
    with pytest.raises(TypeError):
        identity_twiddles(3, width=1.5)


# -- route_permutation --------------------------------------------------------

def check_route(perm):
    perm = np.asarray(perm)
    N = perm.size
    L = N.bit_length() - 1
    tw = route_permutation(perm)
    assert tw.shape == (1, 2, L, N // 2, 2, 2)
    assert tw.dtype == np.float64
    assert_permutation_blocks(tw)
    np.testing.assert_array_equal(dense_expanded(tw), np.eye(N)[perm])


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 8).flatmap(
    lambda L: st.permutations(list(range(1 << L)))))
def test_route_random_permutations(perm):
    check_route(perm)


def bit_reversal(L):
    i = np.arange(1 << L)
    return np.array([int(format(v, f"0{L}b")[::-1], 2) for v in i])


@pytest.mark.parametrize("L", [1, 2, 3, 4, 5, 6])
@pytest.mark.parametrize("kind", ["identity", "reverse", "shift",
                                  "bit_reversal", "perfect_shuffle",
                                  "top_bit_flip"])
def test_route_structured_permutations(kind, L):
    N = 1 << L
    i = np.arange(N)
    perm = {
        "identity": i,
        "reverse": i[::-1],
        "shift": np.roll(i, 1),
        "bit_reversal": bit_reversal(L),
        "perfect_shuffle": ((i << 1) | (i >> (L - 1))) & (N - 1),
        "top_bit_flip": i ^ (N // 2),
    }[kind]
    check_route(perm)


@pytest.mark.parametrize("dtype", [np.int8, np.uint16, np.int32, np.uint64])
def test_route_integer_dtypes_and_lists(dtype):
    perm = np.random.default_rng(1).permutation(16)
    expected = np.eye(16)[perm]
    np.testing.assert_array_equal(
        dense_expanded(route_permutation(perm.astype(dtype))), expected)
    np.testing.assert_array_equal(
        dense_expanded(route_permutation(perm.tolist())), expected)


def test_route_large_on_vectors():
    L = 16
    N = 1 << L
    rng = np.random.default_rng(2024)
    perm = rng.permutation(N)
    tw = route_permutation(perm)
    assert_permutation_blocks(tw)
    # x = arange is exactly representable, so E @ x must equal perm exactly.
    x = np.stack([np.arange(N, dtype=np.float64), rng.standard_normal(N)],
                 axis=1)
    y = apply_stages(tw, x)
    np.testing.assert_array_equal(y[:, 0], perm)
    np.testing.assert_array_equal(y, x[perm])


def test_route_does_not_modify_input():
    perm = np.random.default_rng(3).permutation(32)
    before = perm.copy()
    route_permutation(perm)
    np.testing.assert_array_equal(perm, before)


@pytest.mark.parametrize("perm, match", [
    (np.arange(4).reshape(2, 2), "1-D"),
    (np.int64(0), "1-D"),
    (np.arange(4, dtype=np.float64), "integer dtype"),
    (np.array([True, False]), "integer dtype"),
    ([], "integer dtype"),
    (np.array([], dtype=np.intp), "power of two"),
    (np.array([0]), "power of two"),
    (np.arange(6), "power of two"),
    (np.array([0, 1, 2, 4]), "contains 4"),
    (np.array([0, -1, 2, 3]), "contains -1"),
    (np.array([0, 1, 1, 3]), "1 is repeated and 2 is missing"),
    (np.array([0, 1, 2, 2**64 - 1], dtype=np.uint64), "not a permutation"),
])
def test_route_bad_input(perm, match):
    with pytest.raises(ValueError, match=match):
        route_permutation(perm)
