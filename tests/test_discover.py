"""Tests of kmatrix._fitting.discover: unknown row and column permutations
of a butterfly half found again, and None where there is no such structure.

A butterfly half B = S_{L-1} ... S_0 (stage k mixing bit k) is built from
random blocks with the stage-by-stage reference; the found orders are
checked with ``is_butterfly_half`` below, an independent statement of the
structure: rows u and u + m/2 are rank one on each column half, and each
column half of the top rows is a butterfly half of size m/2 again.
"""

import numpy as np
import pytest

from kmatrix._fitting.discover import discover_permutations
from _reference import expanded_matrix


def butterfly_half(rng, L, complex_=False):
    """A dense random B half (the B* half identity): N x N, stage k on bit k."""
    N = 1 << L
    tw = np.zeros((1, 2, L, N // 2, 2, 2))
    tw[0, 0] = np.eye(2)
    tw[0, 1] = rng.standard_normal((L, N // 2, 2, 2))
    if complex_:
        tw = tw + 0j
        tw[0, 1] += 1j * rng.standard_normal((L, N // 2, 2, 2))
    return expanded_matrix(tw)


def rank_one(A, tol):
    if min(A.shape) < 2:
        return True
    s = np.linalg.svd(A, compute_uv=False)
    return s[1] <= tol * s[0]


def is_butterfly_half(T, tol=1e-9):
    m = T.shape[0]
    if m == 1:
        return True
    h = m // 2
    for u in range(h):
        pair = T[[u, u + h]]
        if not (rank_one(pair[:, :h], tol) and rank_one(pair[:, h:], tol)):
            return False
    return is_butterfly_half(T[:h, :h], tol) and is_butterfly_half(T[:h, h:], tol)


def check_orders(found, N):
    assert found is not None
    rows, cols = found
    for order in (rows, cols):
        np.testing.assert_array_equal(np.sort(order), np.arange(N))
    return rows, cols


def test_checker_accepts_butterflies_and_rejects_scrambled_ones():
    # the checker itself can fail: a butterfly with its rows scrambled is no butterfly
    rng = np.random.default_rng(0)
    B = butterfly_half(rng, 4)
    assert is_butterfly_half(B)
    assert not is_butterfly_half(B[rng.permutation(16)])
    assert not is_butterfly_half(B[:, rng.permutation(16)])


@pytest.mark.parametrize("complex_", [False, True], ids=["real", "complex"])
@pytest.mark.parametrize("L", [1, 2, 3, 5, 6])
def test_recovers_scrambled_rows_and_columns(L, complex_):
    rng = np.random.default_rng(10 * L + complex_)
    N = 1 << L
    B = butterfly_half(rng, L, complex_)
    pr, pc = rng.permutation(N), rng.permutation(N)
    M = B[pr][:, pc]
    if L >= 3:   # (at N = 4 many scrambles keep the structure)
        assert not is_butterfly_half(M)
    rows, cols = check_orders(discover_permutations(M), N)
    assert is_butterfly_half(M[rows][:, cols])


def test_unscrambled_butterfly_is_found_too():
    rng = np.random.default_rng(2)
    B = butterfly_half(rng, 4)
    rows, cols = check_orders(discover_permutations(B), 16)
    assert is_butterfly_half(B[rows][:, cols])


@pytest.mark.parametrize("L", [3, 5])
def test_unstructured_input_gives_none(L):
    # (N >= 8: at N = 4 the pairing test is weak, and a few random 4 x 4
    # matrices get orders that are no butterfly: the search measures every
    # fit anyway)
    rng = np.random.default_rng(L)
    N = 1 << L
    assert discover_permutations(rng.standard_normal((N, N))) is None
    assert discover_permutations(rng.standard_normal((N, N))
                                 + 1j * rng.standard_normal((N, N))) is None


def test_a_butterfly_of_the_other_half_is_not_mistaken():
    # a full width-1 K-matrix (both halves random) has no such structure
    rng = np.random.default_rng(7)
    L, N = 4, 16
    tw = rng.standard_normal((1, 2, L, N // 2, 2, 2))
    assert discover_permutations(expanded_matrix(tw)) is None


@pytest.mark.parametrize("M", [np.ones((4, 8)), np.ones((6, 6)), np.ones((1, 1)),
                               np.ones(4)], ids=["rectangular", "not-power-of-two", "1x1", "1-D"])
def test_shapes_without_a_butterfly_give_none(M):
    assert discover_permutations(M) is None
