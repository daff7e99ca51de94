"""Algebraic properties of KMatrix and its exact constructors.

Every check compares with something computed without kmatrix's kernels: the
stage-by-stage reference ``_reference.reference_matrix`` (the stages
applied to the identity with plain NumPy), NumPy/SciPy's own
transforms, or an identity the operator must satisfy (adjoint dot test,
orthogonality, norm preservation).
"""

import numpy as np
import pytest
import scipy.linalg
from hypothesis import given, settings
from hypothesis import strategies as st

import kmatrix as km
from _reference import dense_operator, expanded_matrix, reference_dtype, reference_matrix
from _helpers import assert_close_in_norm, random_input, rtol_for

DTYPES = [np.float32, np.float64, np.complex64, np.complex128]
DTYPE_IDS = ["float32", "float64", "complex64", "complex128"]


# --------------------------------------------------------------- helpers --
def abs_reference_matrix(K):
    """The product of the stages with |twiddles|: |E_n| ... |E_1|, truncated.

    A product of matrices computed stage by stage in precision eps has a
    forward error of at most about eps * n_stages * (|E_n| ... |E_1|) |x|
    (componentwise), so norms of this matrix times |x| are the scale the
    errors are measured against when the stages are not orthogonal.
    """
    return reference_matrix(K, np.abs(K.twiddles))


def adjoint_gap(Ku, v, u, KHv):
    """|<K u, v> - <u, K^H v>| and the scale it must be small against."""
    lhs = np.vdot(v, Ku)   # <K u, v> = v^H K u
    rhs = np.vdot(KHv, u)  # <u, K^H v> = (K^H v)^H u
    scale = np.linalg.norm(Ku) * np.linalg.norm(v) + np.linalg.norm(u) * np.linalg.norm(KHv)
    return abs(lhs - rhs), scale


# ------------------------------------------------------------ adjoint test --
@pytest.mark.parametrize("expansion", [1, 2])
@pytest.mark.parametrize("width", [1, 3])
@pytest.mark.parametrize("n_in, n_out", [(1, 1), (7, 7), (5, 3), (3, 5), (100, 37), (64, 64)])
@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_adjoint_dot_test(dtype, n_in, n_out, width, expansion):
    K = km.KMatrix.random(n_out, n_in, width=width, expansion=expansion, dtype=dtype,
                          random_state=1)
    rng = np.random.default_rng(1)
    u = random_input(rng, (n_in,), dtype)
    v = random_input(rng, (n_out,), dtype)
    rtol = rtol_for(dtype, K)
    Ku = K.apply(u)
    # <K u, v> == <u, K^H v>, K^H through apply(trans="H"), K.H and v^H K
    for name, KHv in [("apply_H", K.apply(v, trans="H")), ("K.H", K.H.apply(v)),
                      ("K.H @ v", K.H @ v), ("conj(v^H K)", np.conj(v.conj() @ K))]:
        gap, scale = adjoint_gap(Ku, v, u, KHv)
        assert gap <= rtol * scale, (name, gap, scale)
    # the bilinear form: v^T (K u) == (K^T v)^T u, K^T through trans="T" and K.T
    for name, KTv in [("apply_T", K.apply(v, trans="T")), ("K.T", K.T.apply(v)),
                      ("v @ K", v @ K)]:
        gap = abs(np.dot(v, Ku) - np.dot(KTv, u))
        scale = np.linalg.norm(Ku) * np.linalg.norm(v) + np.linalg.norm(u) * np.linalg.norm(KTv)
        assert gap <= rtol * scale, (name, gap, scale)


# ---------------------------------------------------- orthogonal/unitary --
@pytest.mark.parametrize("width", [1, 2, 3])
@pytest.mark.parametrize("n", [2, 4, 16, 128, 512])
@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_ortho_init_is_orthogonal_for_power_of_two(dtype, n, width):
    K = km.KMatrix.random(n, width=width, dtype=dtype, init="ortho", random_state=n + width)
    assert K.size == n
    D = K.todense().astype(reference_dtype(dtype))
    rtol = rtol_for(dtype, K)
    # K^H K = I and K K^H = I, in norm relative to ||I||_F = sqrt(n)
    assert_close_in_norm(D.conj().T @ D, np.eye(n), rtol)
    assert_close_in_norm(D @ D.conj().T, np.eye(n), rtol)
    # the twiddles themselves make an orthogonal network (reference, not kernel)
    if n <= 128:
        R = reference_matrix(K)
        assert_close_in_norm(R.conj().T @ R, np.eye(n), rtol)
    # norm preservation on a batch and through the adjoint
    X = random_input(np.random.default_rng(n), (9, n), dtype)
    for trans in ("N", "T", "H"):
        Y = K.apply(X, trans=trans)
        np.testing.assert_allclose(np.linalg.norm(Y, axis=1), np.linalg.norm(X, axis=1),
                                   rtol=rtol)


@pytest.mark.parametrize("n_in, n_out, expansion", [(3, 3, 1), (5, 3, 1), (3, 5, 2), (37, 100, 1)])
@pytest.mark.parametrize("dtype", [np.float64, np.complex128], ids=["float64", "complex128"])
def test_ortho_init_is_a_contraction_when_truncated(dtype, n_in, n_out, expansion):
    # a corner of an orthogonal matrix has singular values <= 1: the corner
    # of the reference's orthogonal network, and K's own matrix, which must
    # be that corner (a contraction alone would hold for a zero matrix)
    K = km.KMatrix.random(n_out, n_in, expansion=expansion, dtype=dtype, random_state=2)
    rtol = rtol_for(dtype, K)
    E = expanded_matrix(K.twiddles.astype(reference_dtype(dtype)))
    assert_close_in_norm(E.conj().T @ E, np.eye(K.size), rtol)
    R = E[:n_out, :n_in]
    D = K.todense()
    assert_close_in_norm(D, R, rtol)
    s_ref = np.linalg.svd(R, compute_uv=False)
    s = np.linalg.svd(D, compute_uv=False)
    assert s_ref.max() <= 1 + rtol and s.max() <= 1 + rtol
    np.testing.assert_allclose(s, s_ref, rtol=0, atol=rtol)


# ------------------------------------------------------------- transposes --
@pytest.mark.parametrize("width", [1, 3])
@pytest.mark.parametrize("n_in, n_out, expansion", [(8, 8, 1), (5, 3, 2), (3, 5, 1), (100, 37, 1)])
@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_transpose_and_adjoint(dtype, n_in, n_out, expansion, width):
    K = km.KMatrix.random(n_out, n_in, width=width, expansion=expansion, dtype=dtype,
                          random_state=3)
    R = reference_matrix(K)
    rtol = rtol_for(dtype, K)
    for op, ref in [(K.T, R.T), (K.H, R.conj().T), (K.T.T, R), (K.H.H, R), (K.T.H, R.conj()),
                    (K.conj(), R.conj())]:
        assert op.shape == ref.shape
        assert op.dtype == K.dtype
        assert op.width == K.width and op.size == K.size and op.expansion == K.expansion
        assert_close_in_norm(op.todense(), ref, rtol)
    # transposing twice is exactly the identity on the parameters
    np.testing.assert_array_equal(K.T.T.twiddles, K.twiddles)
    np.testing.assert_array_equal(K.H.H.twiddles, K.twiddles)
    X = random_input(np.random.default_rng(3), (5, n_in), dtype)
    np.testing.assert_array_equal(K.T.T.apply(X), K.apply(X))


# --------------------------------------------------------------- products --
PRODUCT_CASES = [
    # (K1 n_in, n_out, expansion), (K2 n_in, n_out, expansion): K1 @ K2
    pytest.param((8, 8, 1), (8, 8, 1), id="square_same_size"),
    pytest.param((5, 7, 1), (3, 5, 1), id="middle_smaller_than_N"),
    pytest.param((3, 100, 1), (4, 3, 1), id="K1_larger_N"),
    pytest.param((16, 2, 1), (64, 16, 1), id="K2_larger_N"),
    pytest.param((5, 5, 2), (6, 5, 1), id="expansion_middle_smaller"),
    pytest.param((1, 1, 1), (1, 1, 1), id="one_by_one"),
    pytest.param((37, 20, 1), (60, 37, 2), id="rectangular_both_expansion"),
]


@pytest.mark.parametrize("dtypes", [(np.float64, np.float64), (np.float32, np.float32),
                                    (np.complex128, np.complex128), (np.float32, np.complex64),
                                    (np.complex64, np.float64), (np.float32, np.float64)],
                         ids=lambda d: f"{np.dtype(d[0]).name}@{np.dtype(d[1]).name}")
@pytest.mark.parametrize("spec1, spec2", PRODUCT_CASES)
def test_product_matches_dense_product(spec1, spec2, dtypes):
    (a_in, a_out, a_e), (b_in, b_out, b_e) = spec1, spec2
    K1 = km.KMatrix.random(a_out, a_in, width=2, expansion=a_e, dtype=dtypes[0], random_state=4)
    K2 = km.KMatrix.random(b_out, b_in, width=1, expansion=b_e, dtype=dtypes[1], random_state=5)
    P = K1 @ K2
    assert isinstance(P, km.KMatrix)
    assert P.shape == (a_out, b_in)
    assert P.width == 3
    expected_dtype = np.result_type(np.dtype(dtypes[0]), np.dtype(dtypes[1]))
    assert P.dtype == expected_dtype
    ref = reference_matrix(K1) @ reference_matrix(K2)
    rtol = rtol_for(expected_dtype, P)
    scale = np.linalg.norm(reference_matrix(K1), 2) * np.linalg.norm(reference_matrix(K2))
    assert_close_in_norm(P.todense(), ref, rtol, scale=scale)
    assert_close_in_norm(P.T.todense(), ref.T, rtol, scale=scale)


def test_triple_product_matches_dense():
    K1 = km.KMatrix.random(3, 6, random_state=6)
    K2 = km.KMatrix.random(6, 10, width=2, random_state=7)
    K3 = km.KMatrix.random(10, 4, dtype=np.complex128, random_state=8)
    P = (K1 @ K2) @ K3
    Q = K1 @ (K2 @ K3)
    ref = reference_matrix(K1) @ reference_matrix(K2) @ reference_matrix(K3)
    assert P.width == Q.width == 4
    assert_close_in_norm(P.todense(), ref, rtol_for(np.complex128, P))
    assert_close_in_norm(Q.todense(), ref, rtol_for(np.complex128, Q))


# ------------------------------------------------------ sums and scalars --
SUM_CASES = [
    pytest.param((8, 8, 1, 1), (8, 8, 1, 1), id="same"),
    pytest.param((5, 3, 1, 2), (5, 3, 3, 1), id="different_sizes_and_widths"),
    pytest.param((37, 100, 1, 3), (37, 100, 2, 1), id="rectangular"),
    pytest.param((1, 1, 1, 1), (1, 1, 1, 2), id="one_by_one"),
]


@pytest.mark.parametrize("dtypes", [(np.float64, np.float64), (np.float32, np.float32),
                                    (np.complex64, np.complex64), (np.float64, np.complex128),
                                    (np.float32, np.complex64)],
                         ids=lambda d: f"{np.dtype(d[0]).name}+{np.dtype(d[1]).name}")
@pytest.mark.parametrize("spec1, spec2", SUM_CASES)
def test_sum_and_difference_match_dense(spec1, spec2, dtypes):
    n_in, n_out, e1, w1 = spec1
    _, _, e2, w2 = spec2
    K1 = km.KMatrix.random(n_out, n_in, width=w1, expansion=e1, dtype=dtypes[0], random_state=9)
    K2 = km.KMatrix.random(n_out, n_in, width=w2, expansion=e2, dtype=dtypes[1], random_state=10)
    R1, R2 = reference_matrix(K1), reference_matrix(K2)
    expected_dtype = np.result_type(np.dtype(dtypes[0]), np.dtype(dtypes[1]))
    scale = np.linalg.norm(R1) + np.linalg.norm(R2)
    for S, ref in [(K1 + K2, R1 + R2), (K1 - K2, R1 - R2), (K2 - K1, R2 - R1)]:
        assert isinstance(S, km.KMatrix)
        assert S.shape == (n_out, n_in)
        assert S.dtype == expected_dtype
        assert S.width == max(w1, w2)
        assert_close_in_norm(S.todense(), ref, rtol_for(expected_dtype, S), scale=scale)


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_difference_with_itself_is_zero(dtype):
    K = km.KMatrix.random(5, 7, width=2, dtype=dtype, random_state=11)
    D = (K - K.copy()).todense()
    assert np.linalg.norm(D) <= rtol_for(dtype, K) * np.linalg.norm(reference_matrix(K))


SCALARS = [2.5, -1.0, 0.0, 3, -2, 1 + 0.5j, 2j, np.float32(1.5), np.float64(-0.25),
           np.complex64(0.5 - 1j), np.int64(4)]


@pytest.mark.parametrize("a", SCALARS, ids=lambda a: f"{type(a).__name__}({a})")
@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_scalar_multiple_matches_dense(dtype, a):
    K = km.KMatrix.random(6, 9, width=2, dtype=dtype, random_state=12)
    R = reference_matrix(K)
    # the dtype NumPy gives an array of K's dtype times the scalar
    expected = (np.ones(1, dtype=dtype) * a).dtype
    for aK in (a * K, K * a):
        assert isinstance(aK, km.KMatrix)
        assert aK.dtype == expected
        assert aK.shape == K.shape and aK.width == K.width
        assert_close_in_norm(aK.todense(), a * R, rtol_for(expected, aK),
                             scale=abs(a) * np.linalg.norm(R))
    # K itself is unchanged
    np.testing.assert_array_equal(reference_matrix(K), R)


@pytest.mark.parametrize("dtype, a", [
    *[(d, a) for d in DTYPES for a in (2.5, -1.0, 3, 1 + 0.5j, np.float64(-0.25), np.int64(4))],
    (np.float32, np.float32(1.5)),
    (np.complex64, np.complex64(0.5 - 1j)),
    (np.float64, np.float32(1.5)),
    (np.complex128, np.float32(1.5)),
    (np.float64, np.complex64(0.5 - 1j)),
    (np.complex128, np.complex64(0.5 - 1j)),
], ids=lambda v: f"{type(v).__name__}({v})" if not isinstance(v, type) else np.dtype(v).name)
def test_division_by_scalar_matches_dense(dtype, a):
    K = km.KMatrix.random(6, 9, width=2, dtype=dtype, random_state=12)
    R = reference_matrix(K)
    expected = (np.ones(1, dtype=dtype) / a).dtype
    Kd = K / a
    assert isinstance(Kd, km.KMatrix)
    assert Kd.dtype == expected
    assert_close_in_norm(Kd.todense(), R / a, rtol_for(expected, Kd),
                         scale=np.linalg.norm(R) / abs(a))


def test_scalar_multiple_dtypes_follow_numpy():
    K32 = km.KMatrix.random(4, dtype=np.float32, random_state=0)
    assert (2.0 * K32).dtype == np.float32
    assert (K32 * 2).dtype == np.float32
    assert (1j * K32).dtype == np.complex64
    assert (np.float64(2.0) * K32).dtype == np.float64
    assert (K32 / 4).dtype == np.float32
    K64 = km.KMatrix.random(4, dtype=np.float64, random_state=0)
    assert (np.complex64(1j) * K64).dtype == np.complex128


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_negation_and_unary_plus(dtype):
    K = km.KMatrix.random(8, 5, width=2, dtype=dtype, random_state=13)
    R = reference_matrix(K)
    assert (-K).dtype == K.dtype
    assert_close_in_norm((-K).todense(), -R, rtol_for(dtype, K))
    P = +K
    assert P is not K
    np.testing.assert_array_equal(P.twiddles, K.twiddles)


def test_zero_times_k_is_exactly_zero():
    K = km.KMatrix.random(6, 6, width=2, random_state=0)
    np.testing.assert_array_equal((0 * K).todense(), np.zeros((6, 6)))


# ------------------------------------------------- copies and live params --
@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_copy_is_independent(dtype):
    K = km.KMatrix.random(5, 9, width=2, expansion=2, dtype=dtype, random_state=14)
    R = reference_matrix(K)
    C = K.copy()
    assert C is not K
    assert not np.shares_memory(C.twiddles, K.twiddles)
    assert (C.shape, C.dtype, C.width, C.expansion, C.size) == \
        (K.shape, K.dtype, K.width, K.expansion, K.size)
    np.testing.assert_array_equal(C.twiddles, K.twiddles)
    twiddles_before, dense_before = K.twiddles.copy(), K.todense()
    C.twiddles[...] = 0
    # zeroing the copy leaves K's parameters and operator as they were
    np.testing.assert_array_equal(K.twiddles, twiddles_before)
    np.testing.assert_array_equal(K.todense(), dense_before)
    assert_close_in_norm(K.todense(), R, rtol_for(dtype, K))
    np.testing.assert_array_equal(C.todense(), np.zeros((5, 9)))
    K.twiddles[0, 0, 0] *= 3
    np.testing.assert_array_equal(C.todense(), np.zeros((5, 9)))


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_twiddles_are_live(dtype):
    K = km.KMatrix.random(5, 6, width=2, dtype=dtype, random_state=15)
    tw = K.twiddles
    assert np.shares_memory(tw, K.twiddles)
    assert tw.flags.writeable and tw.flags.c_contiguous
    assert tw.shape == (2, 2, 3, 4, 2, 2)
    assert tw.dtype == K.dtype
    before = K.todense()
    tw[1, 0, 2, 3] = [[2.0, 1.0], [0.5, -3.0]]
    tw[0, 1, 0] *= 1.5
    expected = dense_operator(tw.astype(reference_dtype(dtype)), 6, 5)
    after = K.todense()
    assert not np.allclose(after, before)
    assert_close_in_norm(after, expected, rtol_for(dtype, K))
    # products see the edit too
    x = random_input(np.random.default_rng(15), (6,), dtype)
    assert_close_in_norm(K @ x, expected @ x, rtol_for(dtype, K))


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_twiddles_setter(dtype):
    K = km.KMatrix.random(5, 6, width=2, dtype=dtype, random_state=16)
    new = km.KMatrix.random(5, 6, width=2, dtype=dtype, init="normal", random_state=17).twiddles
    K.twiddles = new.copy()
    np.testing.assert_array_equal(K.twiddles, new)
    assert K.twiddles.dtype == K.dtype
    assert_close_in_norm(K.todense(), dense_operator(new.astype(reference_dtype(dtype)), 6, 5),
                         rtol_for(dtype, K))
    # a list of the right shape is fine; the setter copies its argument
    arr = np.zeros(K.twiddles.shape)
    K.twiddles = arr
    arr[...] = 1
    np.testing.assert_array_equal(K.todense(), np.zeros((5, 6)))


@pytest.mark.parametrize("bad", [
    pytest.param(np.zeros((2, 2, 3, 4, 2)), id="wrong_ndim"),
    pytest.param(np.zeros((1, 2, 3, 4, 2, 2)), id="wrong_width"),
    pytest.param(np.zeros((2, 2, 4, 8, 2, 2)), id="wrong_size"),
    pytest.param(np.full((2, 2, 3, 4, 2, 2), "a"), id="strings"),
    pytest.param(np.zeros((2, 2, 3, 4, 2, 2), dtype=object), id="object"),
    pytest.param(1.0, id="scalar"),
])
def test_twiddles_setter_rejects_bad_values(bad):
    K = km.KMatrix.random(5, 6, width=2, random_state=18)
    before = K.twiddles.copy()
    with pytest.raises(ValueError, match="twiddles"):
        K.twiddles = bad
    np.testing.assert_array_equal(K.twiddles, before)


def test_twiddles_setter_rejects_complex_into_real():
    K = km.KMatrix.random(4, random_state=19)
    with pytest.raises(ValueError, match="complex"):
        K.twiddles = K.twiddles + 1j


# -------------------------------------------------------------- attributes --
@pytest.mark.parametrize("expansion", [1, 2, 3])
@pytest.mark.parametrize("width", [1, 2, 3])
@pytest.mark.parametrize("n_in, n_out", [(1, 1), (1, 5), (2, 2), (3, 3), (5, 3), (3, 5), (8, 8),
                                         (9, 2), (100, 37), (37, 100), (1024, 1024)])
def test_attributes(n_in, n_out, width, expansion):
    K = km.KMatrix.random(n_out, n_in, width=width, expansion=expansion, random_state=0)
    N = 2
    while N < expansion * max(n_in, n_out):
        N *= 2
    L = N.bit_length() - 1
    assert K.shape == (n_out, n_in)
    assert K.width == width
    assert K.expansion == expansion
    assert K.size == N
    assert K.n_params == 4 * width * N * L
    assert K.twiddles.shape == (width, 2, L, N // 2, 2, 2)
    assert K.twiddles.size == K.n_params
    assert K.dtype == np.float64
    assert all(type(v) is int for v in (K.width, K.expansion, K.size, K.n_params, *K.shape))


def test_default_expansion_is_the_size_scale():
    # documented: N // next_pow2(max(shape)), and size >= expansion * max(shape)
    tw = km.KMatrix.random(16, random_state=0).twiddles
    for shape, expected in [((3, 3), 4), ((16, 16), 1), ((9, 2), 1), ((5, 8), 2), ((1, 1), 16)]:
        K = km.KMatrix(tw, shape)
        assert K.expansion == expected
        assert K.size >= K.expansion * max(shape)


# ----------------------------------------------------- hypothesis tests --
@st.composite
def kmatrix_cases(draw):
    n_in = draw(st.integers(1, 70))
    n_out = draw(st.integers(1, 70))
    width = draw(st.integers(1, 3))
    expansion = draw(st.integers(1, 3))
    dtype = draw(st.sampled_from(DTYPES))
    init = draw(st.sampled_from(["ortho", "normal"]))
    seed = draw(st.integers(0, 2**32 - 1))
    n_samples = draw(st.integers(1, 20))
    return n_in, n_out, width, expansion, dtype, init, seed, n_samples


@settings(max_examples=40, deadline=None, database=None)
@given(kmatrix_cases())
def test_hypothesis_apply_matches_reference(case):
    n_in, n_out, width, expansion, dtype, init, seed, n_samples = case
    K = km.KMatrix.random(n_out, n_in, width=width, expansion=expansion, dtype=dtype,
                          init=init, random_state=seed)
    assert K.shape == (n_out, n_in)
    R = reference_matrix(K)
    rng = np.random.default_rng(seed)
    X = random_input(rng, (n_samples, n_in), dtype)
    rtol = rtol_for(dtype, K)
    # errors scale with |E_n|...|E_1| |X|, not with ||X R^T||: "normal"
    # twiddles need not be orthogonal and the output may have cancellations
    A = abs_reference_matrix(K)
    assert_close_in_norm(K.apply(X), X @ R.T, rtol, scale=np.linalg.norm(np.abs(X) @ A.T))
    W = random_input(rng, (n_samples, n_out), dtype)
    scale = np.linalg.norm(np.abs(W) @ A)
    assert_close_in_norm(K.apply(W, trans="T"), W @ R, rtol, scale=scale)
    assert_close_in_norm(K.apply(W, trans="H"), W @ R.conj(), rtol, scale=scale)


@settings(max_examples=40, deadline=None, database=None)
@given(kmatrix_cases())
def test_hypothesis_adjoint_identity(case):
    n_in, n_out, width, expansion, dtype, init, seed, _ = case
    K = km.KMatrix.random(n_out, n_in, width=width, expansion=expansion, dtype=dtype,
                          init=init, random_state=seed)
    rng = np.random.default_rng(seed)
    u = random_input(rng, (n_in,), dtype)
    v = random_input(rng, (n_out,), dtype)
    Ku, KHv = K @ u, K.apply(v, trans="H")
    assert Ku.shape == (n_out,) and KHv.shape == (n_in,)
    gap, _ = adjoint_gap(Ku, v, u, KHv)
    # |<K u, v>| and its rounding errors are bounded by |v|^T |E|...|E| |u|
    A = abs_reference_matrix(K)
    scale = np.abs(v) @ A @ np.abs(u)
    assert gap <= 2 * rtol_for(dtype, K) * scale


# ---------------------------------------------------- exact constructors --
@pytest.mark.parametrize("n", [1, 2, 3, 5, 8, 100, 1024])
@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_identity_constructor(dtype, n):
    K = km.KMatrix.identity(n, dtype=dtype)
    assert K.shape == (n, n)
    assert K.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(K.todense(), np.eye(n))
    x = random_input(np.random.default_rng(n), (n,), dtype)
    np.testing.assert_array_equal(K @ x, x)


POW2 = [2**k for k in range(11)]


@pytest.mark.parametrize("n", POW2)
def test_hadamard_constructor(n):
    K = km.KMatrix.hadamard(n)
    assert K.shape == (n, n)
    assert K.width == 1
    # +-1 entries and sums of them are exact in floating point
    np.testing.assert_array_equal(K.todense(), scipy.linalg.hadamard(n))
    x = np.random.default_rng(n).integers(-5, 5, size=n).astype(float)
    np.testing.assert_array_equal(K @ x, scipy.linalg.hadamard(n) @ x)


@pytest.mark.parametrize("dtype", [np.float32, np.complex64, np.complex128])
def test_hadamard_constructor_dtypes(dtype):
    K = km.KMatrix.hadamard(16, dtype=dtype)
    assert K.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(K.todense(), scipy.linalg.hadamard(16))


@pytest.mark.parametrize("norm", [None, "backward", "ortho", "forward"])
@pytest.mark.parametrize("n", POW2)
def test_dft_constructor(n, norm):
    K = km.KMatrix.dft(n, norm=norm)
    assert K.shape == (n, n)
    assert K.width == 1
    assert K.dtype == np.complex128
    ref = np.fft.fft(np.eye(n), axis=0, norm=norm)
    assert_close_in_norm(K.todense(), ref, rtol_for(np.complex128, K))


@pytest.mark.parametrize("norm", [None, "ortho"])
@pytest.mark.parametrize("n", [1, 2, 16, 256])
def test_dft_constructor_complex64(n, norm):
    K = km.KMatrix.dft(n, norm=norm, dtype=np.complex64)
    assert K.dtype == np.complex64
    ref = np.fft.fft(np.eye(n), axis=0, norm=norm)
    assert_close_in_norm(K.todense(), ref, rtol_for(np.complex64, K))


@pytest.mark.parametrize("norm", [None, "ortho", "forward"])
def test_dft_large_applied_to_vectors(norm):
    n = 2**14
    K = km.KMatrix.dft(n, norm=norm)
    assert K.width == 1
    rng = np.random.default_rng(21)
    X = random_input(rng, (3, n), np.complex128)
    rtol = rtol_for(np.complex128, K)
    assert_close_in_norm(K.apply(X), np.fft.fft(X, axis=1, norm=norm), rtol)
    assert_close_in_norm(K @ X[0], np.fft.fft(X[0], norm=norm), rtol)
    xr = rng.standard_normal(n)
    assert_close_in_norm(K @ xr, np.fft.fft(xr, norm=norm), rtol)
    # the adjoint of the DFT is the unnormalized inverse
    inv_norm = {None: "forward", "ortho": "ortho", "forward": None}[norm]
    assert_close_in_norm(K.apply(X, trans="H"), np.fft.ifft(X, axis=1, norm=inv_norm), rtol)


PERM_LENGTHS = [1, 2, 3, 5, 8, 100, 1000]


@pytest.mark.parametrize("n", PERM_LENGTHS)
def test_from_permutation_random(n):
    rng = np.random.default_rng(n)
    for _ in range(3):
        perm = rng.permutation(n)
        P = km.KMatrix.from_permutation(perm)
        assert P.shape == (n, n)
        assert P.width == 1
        x = rng.standard_normal(n)
        # 0/1 blocks: the routing is exact
        np.testing.assert_array_equal(P @ x, x[perm])
        X = rng.standard_normal((4, n))
        np.testing.assert_array_equal(P.apply(X), X[:, perm])
        # the transpose is the inverse permutation
        inverse = np.argsort(perm)
        np.testing.assert_array_equal(P.T @ x, x[inverse])
        if n <= 100:
            np.testing.assert_array_equal(P.todense(), np.eye(n)[perm])


@pytest.mark.parametrize("n", [4, 8, 64, 1000])
def test_from_permutation_special_permutations(n):
    x = np.arange(n, dtype=float) + 0.5
    for perm in (np.arange(n), np.arange(n)[::-1], np.roll(np.arange(n), 1),
                 np.concatenate([np.arange(0, n, 2), np.arange(1, n, 2)])):
        P = km.KMatrix.from_permutation(perm)
        assert P.width == 1
        np.testing.assert_array_equal(P @ x, x[perm])


def test_from_permutation_accepts_lists_integer_floats_and_dtypes():
    perm = [2, 0, 1, 4, 3]
    x = np.arange(5.0) + 1
    np.testing.assert_array_equal(km.KMatrix.from_permutation(perm) @ x, x[perm])
    np.testing.assert_array_equal(
        km.KMatrix.from_permutation(np.array(perm, dtype=float)) @ x, x[perm])
    np.testing.assert_array_equal(
        km.KMatrix.from_permutation(np.array(perm, dtype=np.uint8)) @ x, x[perm])
    P = km.KMatrix.from_permutation(perm, dtype=np.complex64)
    assert P.dtype == np.complex64
    np.testing.assert_array_equal(P @ x, x[perm])
