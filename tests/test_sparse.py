"""KMatrix.from_sparse: any sparse matrix, exactly, and the edge colouring under it."""

import numpy as np
import pytest
import scipy.sparse
from hypothesis import given, settings
from hypothesis import strategies as st

import kaleido as kd
from kaleido._sparse import edge_colouring
from _helpers import assert_close_in_norm, rtol_for


@pytest.mark.parametrize("shape, density", [((50, 40), 0.05), ((64, 64), 0.1), ((1, 1), 1.0),
                                            ((7, 300), 0.02), ((300, 7), 0.02),
                                            ((1000, 1000), 0.005), ((33, 65), 0.3)])
@pytest.mark.parametrize("fmt", ["csr", "csc", "coo"])
def test_random_sparse_matrices_exactly(shape, density, fmt):
    S = scipy.sparse.random(*shape, density=density, random_state=0, format=fmt)
    K = kd.KMatrix.from_sparse(S)
    assert K.shape == shape and K.width == 1 and K.dtype == np.float64
    D = S.toarray()
    # every entry is one product of a value with 0/1 blocks: exact
    np.testing.assert_array_equal(K.todense(), D)
    x = np.random.default_rng(1).standard_normal((3, shape[1]))
    assert_close_in_norm(K.apply(x), x @ D.T, rtol_for(np.float64, K))
    # size: next_pow2(n) times next_pow2(Delta)
    A = (D != 0)
    delta = max(A.sum(axis=0).max(), A.sum(axis=1).max())
    n = 1 << max(1, (max(shape) - 1).bit_length())
    assert K.size == n * (1 << int(delta - 1).bit_length())


@pytest.mark.parametrize("dtype", [np.complex128, np.complex64, np.float32])
def test_dtypes_and_dense_input(dtype):
    rng = np.random.default_rng(2)
    D = rng.standard_normal((20, 30)) * (rng.random((20, 30)) < 0.1)
    if np.dtype(dtype).kind == "c":
        D = D * (1 + 2j)
    D = D.astype(dtype)
    K = kd.KMatrix.from_sparse(D)
    assert K.dtype == dtype
    assert_close_in_norm(K.todense(), D, rtol_for(dtype, K))
    K64 = kd.KMatrix.from_sparse(scipy.sparse.csr_array(D), dtype=np.complex128)
    assert K64.dtype == np.complex128


def test_special_matrices():
    Z = kd.KMatrix.from_sparse(np.zeros((3, 4)))
    assert Z.shape == (3, 4)
    np.testing.assert_array_equal(Z.todense(), np.zeros((3, 4)))
    row = np.zeros((8, 8))
    row[2] = np.arange(1, 9)       # one dense row: Delta = 8
    K = kd.KMatrix.from_sparse(row)
    np.testing.assert_array_equal(K.todense(), row)
    assert K.size == 8 * 8
    ints = scipy.sparse.coo_array(([1, 2, 3], ([0, 0, 1], [1, 1, 0])), shape=(2, 2))
    # duplicates are summed, integers become float64
    K = kd.KMatrix.from_sparse(ints)
    assert K.dtype == np.float64
    np.testing.assert_array_equal(K.todense(), [[0, 3], [3, 0]])
    explicit_zero = scipy.sparse.csr_array(([0.0, 5.0], ([0, 1], [0, 1])), shape=(2, 2))
    np.testing.assert_array_equal(kd.KMatrix.from_sparse(explicit_zero).todense(),
                                  [[0, 0], [0, 5]])
    P = np.eye(5)[[3, 0, 4, 1, 2]]
    Kp = kd.KMatrix.from_sparse(P)
    assert Kp.size == 8  # a permutation is one colour: no expansion
    np.testing.assert_array_equal(Kp.todense(), P)


@pytest.mark.parametrize("bad, match", [
    (np.array([[1.0, np.nan]]), "NaN"), (np.ones((2, 2, 2)), "2-D"), (np.ones(3), "2-D"),
    (np.zeros((0, 3)), "at least one"), (np.array([["a"]]), "numbers"),
    (np.array([[1j]]), "complex"),
])
def test_bad_input(bad, match):
    kwargs = {"dtype": np.float64} if match == "complex" else {}
    with pytest.raises(ValueError, match=match):
        kd.KMatrix.from_sparse(bad, **kwargs)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 12), st.integers(1, 12), st.data())
def test_edge_colouring_is_proper_with_delta_colours(n_rows, n_cols, data):
    cells = data.draw(st.sets(st.tuples(st.integers(0, n_rows - 1), st.integers(0, n_cols - 1))))
    rows = np.array([c[0] for c in cells], dtype=np.intp)
    cols = np.array([c[1] for c in cells], dtype=np.intp)
    colour, delta = edge_colouring(rows, cols, n_rows, n_cols)
    if not cells:
        assert delta == 0
        return
    deg = max(np.bincount(rows).max(), np.bincount(cols).max())
    assert delta == deg
    assert colour.min() >= 0 and colour.max() < delta
    # no two edges of one colour share a row or a column
    assert len(set(zip(rows, colour))) == rows.size
    assert len(set(zip(cols, colour))) == cols.size


def test_refuses_constructions_far_larger_than_the_dense_matrix():
    D = np.zeros((4096, 4096))
    D[7] = 1.0   # one dense row: the network would have size 4096^2
    with pytest.raises(ValueError, match="row 7 holds 4096 nonzeros"):
        kd.KMatrix.from_sparse(scipy.sparse.csr_array(D))
    D2 = np.eye(256)
    D2[:, 3] = 1.0
    with pytest.raises(ValueError, match="column 3"):
        kd.KMatrix.from_sparse(D2)
