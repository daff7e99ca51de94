"""Tests of kmatrix._core.algebra, the twiddle-level operations behind
KMatrix's arithmetic, on raw twiddle arrays: each result's expanded matrix
(the stage-by-stage reference) against the dense operation on the operands'
expanded matrices, in double precision. (Through KMatrix, with dtypes and
kernels: test_properties.py.)
"""

import numpy as np
import pytest

from kmatrix._core import algebra
from _reference import expanded_matrix


def random_twiddles(rng, L, width=1, complex_=False):
    shape = (width, 2, L, 1 << (L - 1), 2, 2)
    tw = rng.standard_normal(shape)
    return tw + 1j * rng.standard_normal(shape) if complex_ else tw


def close(A, B):
    np.testing.assert_allclose(A, B, rtol=1e-12, atol=1e-12 * np.abs(B).max())


@pytest.mark.parametrize("L, new", [(1, 1), (1, 3), (2, 5), (3, 4)])
def test_embed_keeps_the_top_left_block(L, new):
    rng = np.random.default_rng(L + new)
    tw = random_twiddles(rng, L, width=2)
    E = expanded_matrix(tw)
    big = algebra.embed(tw, new)
    assert big.shape == (2, 2, new, 1 << (new - 1), 2, 2)
    B = expanded_matrix(big)
    n = 1 << L
    close(B[:n, :n], E)
    # and nothing leaks between the old block and the rest
    assert np.all(B[:n, n:] == 0) and np.all(B[n:, :n] == 0)
    if new == L:
        assert big is tw


def test_pad_width_appends_identity_blocks():
    tw = random_twiddles(np.random.default_rng(1), 3, width=2)
    padded = algebra.pad_width(tw, 5)
    assert padded.shape[0] == 5
    np.testing.assert_array_equal(padded[:2], tw)
    close(expanded_matrix(padded), expanded_matrix(tw))
    assert algebra.pad_width(tw, 2) is tw


@pytest.mark.parametrize("conj", [False, True])
def test_transpose_and_conjugate(conj):
    tw = random_twiddles(np.random.default_rng(2), 4, width=2, complex_=True)
    E = expanded_matrix(tw)
    T = algebra.transpose(tw, conjugate=conj)
    assert T.shape == tw.shape and T.flags.c_contiguous
    close(expanded_matrix(T), E.conj().T if conj else E.T)
    close(expanded_matrix(algebra.conjugate(tw)), E.conj())
    assert not np.shares_memory(T, tw)


def test_scalings_fold_into_one_stage():
    rng = np.random.default_rng(3)
    tw = random_twiddles(rng, 3, width=2)
    E = expanded_matrix(tw)
    d = rng.standard_normal(5)            # shorter than N = 8: the rest are 1
    full = np.r_[d, np.ones(3)]
    left = algebra.scale_inputs(tw.copy(), d)
    close(expanded_matrix(left), E @ np.diag(full))
    right = algebra.scale_outputs(tw.copy(), d)
    close(expanded_matrix(right), np.diag(full) @ E)
    # only one stage changed
    assert np.sum(np.any(left != tw, axis=(-3, -2, -1))) == 1
    assert np.sum(np.any(right != tw, axis=(-3, -2, -1))) == 1


@pytest.mark.parametrize("value", [2.5, -3, 1 - 2j], ids=["float", "int", "complex"])
def test_multiply_and_divide(value):
    tw = random_twiddles(np.random.default_rng(4), 3).astype(np.float32)
    E = expanded_matrix(tw.astype(np.float64))
    before = tw.copy()
    out = algebra.multiply(tw, value)
    assert out.dtype == (np.complex64 if isinstance(value, complex) else np.float32)
    np.testing.assert_allclose(expanded_matrix(out.astype(np.complex128)), value * E,
                               rtol=1e-5, atol=1e-5 * np.abs(E).max() * abs(value))
    div = algebra.divide(tw, value)
    np.testing.assert_allclose(expanded_matrix(div.astype(np.complex128)), E / value,
                               rtol=1e-5, atol=1e-5 * np.abs(E).max() / abs(value))
    np.testing.assert_array_equal(tw, before)   # the operand is not touched
    if isinstance(value, complex):
        with pytest.raises(ValueError, match="complex multiple of a real part"):
            algebra.multiply(tw.astype(np.complex64), value, real_part=True)


@pytest.mark.parametrize("L1, L2, n_mid", [(3, 3, 8), (3, 3, 5), (2, 4, 3), (4, 2, 4)])
def test_product_is_the_product_of_the_corners(L1, L2, n_mid):
    # K1 (n_out x n_mid) @ K2 (n_mid x n_in): corners of the expanded matrices
    rng = np.random.default_rng(L1 * 10 + L2)
    t1 = random_twiddles(rng, L1, width=2)
    t2 = random_twiddles(rng, L2, complex_=True)
    n_out, n_in = 3, 4
    K1 = expanded_matrix(t1)[:n_out, :n_mid]
    K2 = expanded_matrix(t2)[:n_mid, :n_in]
    out = algebra.product(t1, t2, n_mid)
    assert out.shape[0] == 3 and out.shape[2] == max(L1, L2) and out.dtype == np.complex128
    close(expanded_matrix(out)[:n_out, :n_in], K1 @ K2)


def test_sum_through_expansion():
    rng = np.random.default_rng(5)
    t1 = random_twiddles(rng, 3, width=2)
    t2 = random_twiddles(rng, 2, width=1, complex_=True)
    out = algebra.add(t1, t2)
    assert out.shape[:3] == (2, 2, 4) and out.dtype == np.complex128
    n = 4   # the common corner of the two operators
    close(expanded_matrix(out)[:n, :n], expanded_matrix(t1)[:n, :n] + expanded_matrix(t2)[:n, :n])


@pytest.mark.parametrize("what", ["product", "sum"])
def test_real_part_of_combination(what):
    f = algebra.real_part_of_combination
    assert f(what, False, True, False, True) is False
    # Re(A) with a real B: Re(A op B)
    assert f(what, True, True, False, False) is True
    assert f(what, False, False, True, True) is True
    # Re(A) with a complex B: no real part
    with pytest.raises(ValueError, match="a complex KMatrix"):
        f(what, True, True, False, True)
    # two real parts: a sum is Re(A + B), a product is not
    if what == "sum":
        assert f(what, True, True, True, True) is True
    else:
        with pytest.raises(ValueError, match="another real part"):
            f(what, True, True, True, True)


def test_sizes():
    assert algebra.size_for(5, 3, 1) == 8 and algebra.size_for(1, 1, 1) == 2
    assert algebra.size_for(5, 3, 2) == 16 and algebra.size_for(8, 8, 1) == 8
    assert algebra.default_expansion(32, 5, 3) == 4 and algebra.default_expansion(8, 5, 3) == 1
