"""Tests of kmatrix._core.layout: the identity twiddles, the bit reversal,
the log-size checks every constructor shares."""

import numpy as np
import pytest

from _reference import expanded_matrix

from kmatrix._builders.zoo import dft_twiddles, hadamard_twiddles
from kmatrix._core.layout import bit_reversal, identity_twiddles, lower_positions, pair_index


# -- identity -----------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex64,
                                   np.complex128])
@pytest.mark.parametrize("width", [1, 3])
def test_identity(width, dtype):
    L = 4
    tw = identity_twiddles(L, width=width, dtype=dtype)
    assert tw.shape == (width, 2, L, 8, 2, 2)
    assert tw.dtype == dtype
    np.testing.assert_array_equal(expanded_matrix(tw), np.eye(16))


def test_identity_bad_width():
    with pytest.raises(ValueError, match="width must be >= 1"):
        identity_twiddles(3, width=0)
    with pytest.raises(TypeError):
        identity_twiddles(3, width=1.5)


@pytest.mark.parametrize("func", [dft_twiddles, hadamard_twiddles,
                                  identity_twiddles])
def test_bad_log_size(func):
    for L in (0, -1):
        with pytest.raises(ValueError, match="L must be >= 1"):
            func(L)
    for L in (2.0, "3", None, True):
        with pytest.raises(TypeError, match="L must be an integer"):
            func(L)


# -- pair positions and the bit reversal ----------------------------------------

@pytest.mark.parametrize("L", [1, 2, 3, 6])
def test_lower_positions_and_pair_index(L):
    # the pairs of a stage on `bit`, enumerated independently: every u with
    # that bit clear, in increasing order, is the lower position of pair p
    for bit in range(L):
        expected = [u for u in range(1 << L) if not u >> bit & 1]
        u = lower_positions(L, bit)
        np.testing.assert_array_equal(u, expected)
        np.testing.assert_array_equal(pair_index(u, bit), np.arange(1 << (L - 1)))


@pytest.mark.parametrize("L", [1, 2, 3, 5, 8])
def test_bit_reversal(L):
    expected = [int(format(i, f"0{L}b")[::-1], 2) for i in range(1 << L)]
    r = bit_reversal(L)
    np.testing.assert_array_equal(r, expected)
    np.testing.assert_array_equal(r[r], np.arange(1 << L))
