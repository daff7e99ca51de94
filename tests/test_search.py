"""Tests of kmatrix._fitting.search, the approximator's hierarchical search.

Each closed-form fit of ``butterfly_fits`` is run on a target of exactly its
form (built from random blocks with the stage-by-stage reference) and must
reproduce it to rounding, measured on the fit's reference matrix (never
through the kernels); the representations, the error measure, the width
padding, ``preferred`` and ``search``'s stopping rule against their
definitions.
"""

import numpy as np
import pytest

import kmatrix as km
from kmatrix._fitting.search import (Candidate, Representation, butterfly_fits, pad_to_width,
                                     preferred, relative_error, representations, search)
from _reference import expanded_matrix, reference_matrix


def rel(A, B):
    return np.linalg.norm(A - B) / np.linalg.norm(B)


def random_network(rng, L, halves=(0, 1), width=1, complex_=False):
    """Twiddles with random blocks in ``halves`` of every block (others identity)."""
    N = 1 << L
    shape = (width, 2, L, N // 2, 2, 2)
    tw = np.broadcast_to(np.eye(2), shape).copy()
    for h in halves:
        tw[:, h] = rng.standard_normal(tw[:, h].shape)
    if complex_:
        tw = tw + 0j
        for h in halves:
            tw[:, h] += 1j * rng.standard_normal(tw[:, h].shape)
    return tw


def bit_reversal(L):
    return np.array([int(format(i, f"0{L}b")[::-1], 2) for i in range(1 << L)])


def fits_by_name(T, width, **kw):
    N = T.shape[0]
    return {name: fit for _, name, fit in butterfly_fits(lambda: T, N, T.dtype, width, **kw)}


# ------------------------------------------------------------ exact fits --
@pytest.mark.parametrize("complex_", [False, True], ids=["real", "complex"])
@pytest.mark.parametrize("half", [0, 1])
@pytest.mark.parametrize("L", [1, 3, 5])
def test_half_fits_a_butterfly_exactly(L, half, complex_):
    rng = np.random.default_rng(L + 10 * half)
    T = expanded_matrix(random_network(rng, L, halves=(half,), complex_=complex_))
    levels = []
    fits = {name: fit for _, name, fit in butterfly_fits(lambda: T, 1 << L, T.dtype, 1,
                                                          levels=levels)}
    K = fits[f"identity, half {half}"]()
    assert K.shape == T.shape and K.width == 1 and K.dtype == T.dtype
    assert rel(reference_matrix(K), T) < 1e-10
    # every level held exactly (each error is a square root of a difference
    # of squared norms: sqrt(eps) is its rounding floor)
    assert len(levels) == L and max(levels) < 1e-6
    # the other half has the wrong bit order: no exact fit there (L >= 2)
    if L >= 3:
        other = fits[f"identity, half {1 - half}"]()
        assert other is None or rel(reference_matrix(other), T) > 1e-3


@pytest.mark.parametrize("L", [2, 4, 6])
def test_bit_reversal_fits_an_fft(L):
    # the DFT is a bit-reversed butterfly: width 1
    N = 1 << L
    F = np.fft.fft(np.eye(N), axis=0)
    K = fits_by_name(F, 1)["bit reversal"]()
    assert K.width == 1
    assert rel(reference_matrix(K), F) < 1e-12 * L
    # and a random butterfly with bit-reversed rows too
    rng = np.random.default_rng(L)
    B = expanded_matrix(random_network(rng, L, halves=(0,)))[bit_reversal(L)]
    assert rel(reference_matrix(fits_by_name(B, 1)["bit reversal"]()), B) < 1e-10


@pytest.mark.parametrize("complex_", [False, True], ids=["real", "complex"])
@pytest.mark.parametrize("L", [2, 4])
def test_both_halves_fit_a_width_one_kmatrix(L, complex_):
    rng = np.random.default_rng(L)
    T = expanded_matrix(random_network(rng, L, complex_=complex_))
    fits = fits_by_name(T, 1)
    K = fits["both halves"]()
    assert K.width == 1
    assert rel(reference_matrix(K), T) < 1e-8
    assert "both halves" not in fits_by_name(T, 1, general=False)


@pytest.mark.parametrize("side", ["input", "output"])
def test_bit_order_fits_a_butterfly_with_shuffled_index_bits(side):
    # a butterfly whose rows (output) or columns (input) are reordered by the
    # perfect shuffle: one Benes-routed block more, width 2
    L, N = 4, 16
    rng = np.random.default_rng(5)
    B = expanded_matrix(random_network(rng, L, halves=(1,)))
    i = np.arange(N)
    shuffle = ((i << 1) | (i >> (L - 1))) & (N - 1)
    T = B[:, shuffle] if side == "input" else B[shuffle]
    assert rel(reference_matrix(fits_by_name(T, 1)["identity, half 1"]()), T) > 1e-3
    fits = fits_by_name(T, 2)
    results = [fits[f"{side} bit order, half {h}"]() for h in (1, 0)]
    errors = [rel(reference_matrix(K), T) for K in results if K is not None]
    assert min(errors) < 1e-10
    assert all(K.width <= 2 for K in results if K is not None)
    # width 1 offers no such fit
    assert not any("bit order" in name for name in fits_by_name(T, 1))


def test_discovered_permutations_fit_a_scrambled_butterfly():
    L, N = 4, 16
    rng = np.random.default_rng(6)
    B = expanded_matrix(random_network(rng, L, halves=(1,)))
    T = B[rng.permutation(N)][:, rng.permutation(N)]
    fits = fits_by_name(T, 3, discover=True)
    K = fits["discovered row and column permutations"]()
    assert K.width == 3
    assert rel(reference_matrix(K), T) < 1e-9
    assert "discovered row and column permutations" not in fits_by_name(T, 3)


# ---------------------------------------------------- the small helpers --
def test_relative_error():
    rng = np.random.default_rng(7)
    K = km.KMatrix.random(5, 7, random_state=1)
    M = rng.standard_normal((5, 7))
    D = reference_matrix(K)
    norm_M = np.linalg.norm(M)
    assert relative_error(K, M, norm_M) == pytest.approx(np.linalg.norm(D - M) / norm_M,
                                                         rel=1e-12)
    # a zero target: the absolute error
    assert relative_error(K, np.zeros((5, 7)), 0.0) == pytest.approx(np.linalg.norm(D),
                                                                     rel=1e-12)


@pytest.mark.parametrize("real_part", [False, True])
def test_pad_to_width_keeps_the_operator(real_part):
    K = km.KMatrix.random(6, 5, width=2, dtype=np.complex128, init="normal", random_state=2)
    K = K.real if real_part else K
    P = pad_to_width(K, 4)
    assert P.width == 4 and P.shape == K.shape and P.real_part == K.real_part
    assert P.expansion == K.expansion
    np.testing.assert_array_equal(P.twiddles[:2], K.twiddles)
    np.testing.assert_allclose(reference_matrix(P), reference_matrix(K), rtol=0, atol=0)
    assert pad_to_width(K, 2) is K and pad_to_width(K, 1) is K


def test_representations():
    f32, f64, c64 = np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.complex64)
    # a complex target: one complex form
    assert representations(8, 8, c64, "auto", None) == [Representation(1, 8, c64)]
    with pytest.raises(ValueError, match="complex"):
        representations(8, 8, c64, "real", None)
    # a real one: the real form, then a complex one with room for completions
    real, cplx = representations(12, 10, f32, "auto", None)
    assert real == Representation(1, 16, f32)
    assert cplx.dtype == c64 and cplx.completions and not cplx.plain
    assert (cplx.expansion, cplx.size) == (2, 32)   # the smallest size >= 2 * 12
    assert representations(12, 10, f64, "real", None) == [Representation(1, 16, f64)]
    (only,) = representations(12, 10, f64, "complex", 1)
    assert only.size == 16 and only.plain and only.dtype == np.complex128
    assert not only.completions   # 2 * min(12, 10) > 16: no room
    # parameters: a complex form counts twice
    assert real.n_real_params(2) == 2 * 2 * 4 * 16 * 2
    assert cplx.n_real_params(1) == 2 * (2 * 5 * 32 * 2)


def _candidate(rep, error):
    return Candidate(model=None, error=error, name="", representation=rep)


def test_preferred_spends_parameters_only_for_accuracy():
    cheap = Representation(1, 8, np.dtype(np.float64))
    costly = Representation(2, 16, np.dtype(np.complex128), plain=False, completions=True)
    reps = [cheap, costly]
    a, b, c = _candidate(cheap, 0.4), _candidate(cheap, 0.3), _candidate(costly, 0.2)
    assert preferred([a, b, c], reps) is b   # 0.2 does not halve 0.3
    d = _candidate(costly, 0.15)
    assert preferred([a, b, c, d], reps) is d   # 0.15 <= 0.3 / 2
    assert preferred([None, _candidate(cheap, np.nan), c], reps) is c
    assert preferred([None], reps) is None


def test_search_stops_at_the_first_fit_within_tolerance():
    L, N = 4, 16
    rng = np.random.default_rng(8)
    B = expanded_matrix(random_network(rng, L, halves=(1,)))
    reps = representations(N, N, B.dtype, "real", None)
    lines = []
    bests, tried = search(B, reps, 2, 1e-8, report=lines.append)
    assert len(tried) == len(lines) == 1   # half 1, the first fit tried, is exact
    assert "identity, half 1" in tried[-1][0] and tried[-1][1] <= 1e-8
    best = bests[0]
    assert best.error <= 1e-8 and best.model.shape == (N, N)
    assert rel(reference_matrix(best.model), B) < 1e-8
    # on a rectangle of it: the fits are measured on the corner
    bests, tried = search(B[:11, :13], representations(11, 13, B.dtype, "real", None), 2, 1e-8)
    assert bests[0].model.shape == (11, 13)
    assert relative_error(bests[0].model, B[:11, :13], np.linalg.norm(B[:11, :13])) == (
        pytest.approx(bests[0].error))


def test_search_without_a_fit_keeps_the_most_accurate():
    rng = np.random.default_rng(9)
    M = rng.standard_normal((8, 8))
    reps = representations(8, 8, M.dtype, "real", None)
    bests, tried = search(M, reps, 2, 1e-8)
    errors = [e for _, e in tried]
    assert bests[0].error == min(errors) and bests[0].error > 0.1
    assert rel(reference_matrix(bests[0].model), M) == pytest.approx(bests[0].error, rel=1e-9)
