"""Tests of kmatrix._builders.permutations (Benes routing of a permutation
into twiddles), against the permutation matrix through the stage-by-stage
reference ``_reference.expanded_matrix`` / ``apply_stages``.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from _reference import apply_stages, expanded_matrix

from kmatrix._builders.permutations import route_permutation


def assert_permutation_blocks(tw):
    """Every block is exactly [[1, 0], [0, 1]] or [[0, 1], [1, 0]]."""
    identity = np.all(tw == np.eye(2), axis=(-2, -1))
    swap = np.all(tw == np.array([[0.0, 1.0], [1.0, 0.0]]), axis=(-2, -1))
    assert np.all(identity | swap)


# -- route_permutation --------------------------------------------------------

def check_route(perm):
    perm = np.asarray(perm)
    N = perm.size
    L = N.bit_length() - 1
    tw = route_permutation(perm)
    assert tw.shape == (1, 2, L, N // 2, 2, 2)
    assert tw.dtype == np.float64
    assert_permutation_blocks(tw)
    np.testing.assert_array_equal(expanded_matrix(tw), np.eye(N)[perm])


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
        expanded_matrix(route_permutation(perm.astype(dtype))), expected)
    np.testing.assert_array_equal(
        expanded_matrix(route_permutation(perm.tolist())), expected)


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
