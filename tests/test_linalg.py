"""Exact inverses, solves, determinants, diagonals, dtype conversion and sums
of K-matrices, against NumPy's dense results; scipy.sparse.linalg's functions
one by one on a KMatrix."""

import warnings

import numpy as np
import pytest
import scipy.linalg
import scipy.sparse
import scipy.sparse.linalg as sla
from hypothesis import given, settings
from hypothesis import strategies as st

import kmatrix as km
from _helpers import assert_close_in_norm, rel_error, rtol_for

DTYPES = [np.float32, np.float64, np.complex64, np.complex128]


def _random(n, width, dtype, seed):
    """A random square K-matrix of moderate condition: orthogonal blocks
    (the default start) plus 20% Gaussian noise in every entry (Gaussian
    blocks alone multiply into condition numbers of 1e10 at width 3,
    where NumPy's dense inverse, the reference, loses 6 digits)."""
    K = km.KMatrix.random(n, width=width, dtype=dtype, random_state=seed)
    rng = np.random.default_rng(seed)
    noise = rng.standard_normal(K.twiddles.shape)
    if np.dtype(dtype).kind == "c":
        noise = noise + 1j * rng.standard_normal(K.twiddles.shape)
    K.twiddles += (0.2 * noise).astype(dtype)
    return K


def _operators(n, dtype=np.float64):
    """(name, K) of the issue's kinds at size n: random of widths 1..3, the
    DFT, Hadamard and a permutation."""
    out = [(f"random w{w}", _random(n, w, dtype, seed=w)) for w in (1, 2, 3)]
    if np.dtype(dtype).kind == "c":
        out.append(("dft", km.KMatrix.dft(n, dtype=dtype)))
    out.append(("hadamard", km.KMatrix.hadamard(n, dtype=dtype)))
    out.append(("permutation", km.KMatrix.from_permutation(
        np.random.default_rng(n).permutation(n), dtype=dtype)))
    return out


@pytest.mark.parametrize("n", [2, 4, 16, 128, 1024, 4096])
def test_inv_solve_and_slogdet_equal_numpys_dense_results(n):
    # the dense references from one LAPACK LU of each matrix (getrf/getrs,
    # what np.linalg.inv, solve and slogdet run)
    rng = np.random.default_rng(n)
    for name, K in _operators(n, np.complex128 if n in (16, 1024) else np.float64):
        D = K.todense()
        lu = scipy.linalg.lu_factor(D)
        # the inverse whole up to n = 1024, on 16 random columns beyond
        probe = np.eye(n) if n <= 1024 else rng.standard_normal((n, 16))
        assert rel_error(K.inv() @ probe, scipy.linalg.lu_solve(lu, probe)) < 1e-10, name
        b = rng.standard_normal(n)
        B = rng.standard_normal((n, 3))
        assert rel_error(K.solve(b), scipy.linalg.lu_solve(lu, b)) < 1e-10, name
        assert rel_error(K.solve(B), scipy.linalg.lu_solve(lu, B)) < 1e-10, name
        assert rel_error(K.solve(b, trans="T"), scipy.linalg.lu_solve(lu, b, trans=1)) < 1e-10
        assert rel_error(K.solve(B, trans="H"), scipy.linalg.lu_solve(lu, B, trans=2)) < 1e-10
        sign, logdet = K.slogdet()
        diag = np.diag(lu[0])
        swaps = np.count_nonzero(lu[1] != np.arange(n))
        ref_logdet = np.sum(np.log(np.abs(diag)))
        ref_sign = (-1) ** swaps * np.prod(diag / np.abs(diag))
        assert abs(sign - ref_sign) < 1e-10, name
        assert abs(logdet - ref_logdet) <= 1e-10 * max(1.0, abs(ref_logdet)), name


@pytest.mark.parametrize("dtype", DTYPES)
def test_the_inverse_is_the_identity_to_rounding_in_every_dtype(dtype):
    K = km.KMatrix.random(256, width=2, dtype=dtype, random_state=0)
    Kinv = K.inv()
    assert Kinv.dtype == np.dtype(dtype) and Kinv.width == 2 and Kinv.shape == K.shape
    X = np.random.default_rng(0).standard_normal((4, 256)).astype(dtype)
    # the orthogonal start: K^-1 K is the identity to rounding, the other way too
    assert_close_in_norm(Kinv.apply(K.apply(X)), X, 4 * rtol_for(dtype, K))
    assert_close_in_norm((K @ Kinv).apply(X), X, 4 * rtol_for(dtype, K))
    # inverting twice gives K back
    assert_close_in_norm(Kinv.inv().twiddles, K.twiddles, 4 * rtol_for(dtype, K))


@settings(max_examples=25, deadline=None)
@given(L=st.integers(1, 7), width=st.integers(1, 3), dtype=st.sampled_from(DTYPES),
       seed=st.integers(0, 2**16))
def test_solve_inverts_apply_for_any_size_width_and_dtype(L, width, dtype, seed):
    # the factors' blocks moderately conditioned: the solve runs through
    # each factor's inverse, so its error grows with the factors' condition
    # (Gaussian blocks: 1e9 relative error in float32 at n = 16, width 3,
    # where K's condition number is 3e11 and float32 has no digit left)
    n = 1 << L
    K = _random(n, width, dtype, seed)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(n).astype(dtype)
    cond = np.linalg.cond(K.todense().astype(np.complex128))
    for trans in ("N", "T", "H"):
        b = K.apply(x, trans=trans)
        # the error of a solve: rounding times the condition number
        assert_close_in_norm(K.solve(b, trans=trans), x, 10 * cond * rtol_for(dtype, K))


def test_determinants_of_known_matrices():
    # Hadamard n: |det| = n^(n/2); a permutation: its sign; the DFT:
    # |det| = n^(n/2) too (F F^H = n I)
    n = 64
    sign, logdet = km.KMatrix.hadamard(n).slogdet()
    assert np.isclose(logdet, n / 2 * np.log(n))
    perm = np.random.default_rng(0).permutation(n)
    P = km.KMatrix.from_permutation(perm)
    parity = np.linalg.det(np.eye(n)[perm])
    assert P.det() == pytest.approx(parity) and P.slogdet()[1] == pytest.approx(0, abs=1e-12)
    F = km.KMatrix.dft(n)
    sign, logdet = F.slogdet()
    ref = np.linalg.slogdet(np.fft.fft(np.eye(n), axis=0))
    assert abs(sign - ref[0]) < 1e-10 and np.isclose(logdet, ref[1])
    assert isinstance(sign, np.complexfloating) and abs(abs(sign) - 1) < 1e-12
    # no overflow: det of 2 I at n = 2^12 is 2^4096
    big = 2.0 * km.KMatrix.identity(1 << 12)
    assert big.slogdet()[1] == pytest.approx(4096 * np.log(2))
    assert big.det() == np.inf


def test_numpys_linalg_functions_take_the_exact_route():
    K = _random(32, 2, np.float64, seed=1)
    D = K.todense()
    Kinv = np.linalg.inv(K)
    assert isinstance(Kinv, km.KMatrix) and rel_error(Kinv.todense(), np.linalg.inv(D)) < 1e-10
    b = np.arange(32.0)
    assert rel_error(np.linalg.solve(K, b), np.linalg.solve(D, b)) < 1e-10
    assert np.allclose(np.linalg.slogdet(K), np.linalg.slogdet(D))
    assert np.isclose(np.linalg.det(K), np.linalg.det(D))
    assert np.isclose(np.trace(K), np.trace(D)) and np.allclose(np.diagonal(K), np.diagonal(D))
    for ord in (None, "fro", 1, -1, np.inf, -np.inf, 2):
        assert np.isclose(np.linalg.norm(K, ord), np.linalg.norm(D, ord)), ord
    assert np.shape(K) == (32, 32) and np.ndim(K) == 2 and np.size(K) == 32 * 32
    # every other function sees the dense matrix, as before
    assert np.allclose(K, D) and np.isclose(np.trace(K, offset=1), np.trace(D, offset=1))


def test_singular_and_nearly_singular_blocks_are_named():
    K = km.KMatrix.random(16, width=2, random_state=0)
    K.twiddles[1, 0, 2, 5] = [[1.0, 2.0], [2.0, 4.0]]     # determinant 0
    for call in (K.inv, lambda: K.solve(np.ones(16))):
        with pytest.raises(np.linalg.LinAlgError,
                           match=r"block 5 of stage 2 of the B\* half of BB\* block 1 .*"
                                 "determinant 0"):
            call()
    assert K.slogdet() == (0.0, -np.inf) and K.det() == 0.0
    K.twiddles[1, 0, 2, 5] = [[1.0, 2.0], [2.0, 4.0 + 1e-17]]
    K.twiddles[0, 1, 3, 1] = [[1.0, 1.0], [1.0, 1.0 + 1e-17]]   # rounds to singular
    with pytest.raises(np.linalg.LinAlgError, match="block 1 of stage 3 of the B half"):
        K.inv()
    K.twiddles[0, 1, 3, 1] = [[1.0, 1.0], [1.0, 1.0 + 2.0 ** -51]]   # nearly: cond 9e15
    K.twiddles[1, 0, 2, 5] = np.eye(2)
    with pytest.warns(scipy.linalg.LinAlgWarning,
                      match=r"block 1 of stage 3 of the B half of BB\* block 0.*condition"):
        K.inv()
    K.twiddles[0, 1, 3, 1] = np.eye(2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        K.inv()


def test_a_real_circulant_is_the_real_part_of_a_real_network_and_inverts():
    # KMatrix.circulant is the real part of F^-1 diag(F c) F, a real network
    n = 256
    c = np.random.default_rng(0).standard_normal(n)
    C = km.KMatrix.circulant(c)
    D = scipy.linalg.circulant(c)
    assert C.real_part and C.shape == (C.size, C.size)
    Cinv = C.inv()
    assert Cinv.real_part and Cinv.dtype == np.float64
    assert rel_error(Cinv.todense(), np.linalg.inv(D)) < 1e-12
    b = np.arange(n, dtype=float)
    for trans, A in (("N", D), ("T", D.T), ("H", D.T)):
        x = C.solve(b, trans=trans)
        assert x.dtype == np.float64 and rel_error(x, np.linalg.solve(A, b)) < 1e-12
    sign, logdet = C.slogdet()
    ref = np.linalg.slogdet(D)
    assert sign == ref[0] and isinstance(sign, np.floating)
    assert abs(logdet - ref[1]) < 1e-10 * abs(ref[1])


@pytest.mark.parametrize("K, match", [
    (km.KMatrix.random(100, random_state=0), "square network.*size 128"),
    (km.KMatrix.random(64, 32, random_state=0), "square network"),
    (km.KMatrix.random(64, expansion=2, random_state=0), "expansion 2"),
    (km.KMatrix.dct(64), "real part"),
])
def test_operators_without_an_exact_inverse_say_what_to_use(K, match):
    for call in (K.inv, K.slogdet, K.det, lambda: K.solve(np.ones(K.shape[0]))):
        with pytest.raises(ValueError, match=match) as err:
            call()
        assert "scipy.sparse.linalg.gmres" in str(err.value)


def test_solve_checks_its_arguments():
    K = km.KMatrix.random(8, random_state=0)
    for B, match in ((np.ones(7), "shape"), (np.ones((8, 2, 2)), "shape"),
                     (np.ones(8) * np.nan, "NaN")):
        with pytest.raises(ValueError, match=match):
            K.solve(B)
    with pytest.raises(ValueError, match="trans"):
        K.solve(np.ones(8), trans="X")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(1, 1), (5, 5), (100, 70), (30, 300), (4096, 4096)])
def test_diagonal_and_trace_equal_the_dense_ones(shape, dtype):
    K = km.KMatrix.random(*shape, width=2, dtype=dtype, random_state=0)
    D = np.asarray(K.todense() if max(shape) <= 300 else None)
    d = K.diagonal()
    assert d.shape == (min(shape),) and d.dtype == np.dtype(dtype)
    if max(shape) > 300:
        # blocks of the identity at a time; checked on sampled entries
        rng = np.random.default_rng(0)
        idx = rng.integers(0, shape[0], 20)
        E = np.zeros((20, shape[1]), dtype=dtype)
        E[np.arange(20), idx] = 1
        assert_close_in_norm(d[idx], K.apply(E)[np.arange(20), idx], rtol_for(dtype, K))
        return
    assert_close_in_norm(d, np.diagonal(D), rtol_for(dtype, K), np.linalg.norm(D))
    assert abs(K.trace() - np.trace(D)) <= rtol_for(dtype, K) * np.linalg.norm(D)


def test_the_diagonal_of_a_real_part_and_a_padded_operator():
    C = km.KMatrix.dct(100)
    assert np.allclose(C.diagonal(), np.diagonal(scipy.fft.dct(np.eye(100), norm="ortho",
                                                                axis=0)))


@pytest.mark.parametrize("source, target", [
    (np.float64, np.float32), (np.float32, np.float64), (np.float64, np.complex128),
    (np.float32, np.complex64), (np.complex128, np.complex64), (np.complex64, np.complex128),
])
def test_astype_converts_the_operator(source, target):
    K = km.KMatrix.random(32, width=2, dtype=source, random_state=0)
    K2 = K.astype(target)
    assert K2.dtype == np.dtype(target) and K2.twiddles is not K.twiddles
    tol = max(rtol_for(source, K), rtol_for(target, K))
    assert_close_in_norm(K2.todense(), K.todense().astype(target), tol)


def test_astype_of_real_parts_and_complex_operators():
    C = km.KMatrix.dct(16)                    # the real part of a complex network
    ref = C.todense()
    C32 = C.astype(np.float32)
    assert C32.dtype == np.float32 and C32.real_part
    assert np.allclose(C32.todense(), ref, atol=1e-6)
    Cc = C.astype(np.complex128)               # (N + conj N) / 2
    assert Cc.dtype == np.complex128 and not Cc.real_part
    assert np.allclose(Cc.todense(), ref)
    with pytest.raises(ValueError, match="imaginary part"):
        km.KMatrix.dft(8).astype(np.float64)
    # complex twiddles that are all real: a real operator
    H = km.KMatrix.hadamard(8, dtype=np.complex128)
    assert np.array_equal(H.astype(np.float64).todense(), scipy.linalg.hadamard(8))
    K = km.KMatrix.random(8, random_state=0)
    assert K.astype(np.float64, copy=False) is K and K.astype(np.float64) is not K
    with pytest.raises(ValueError, match="dtype"):
        K.astype(np.int32)


def test_sums_with_arrays_sparse_matrices_and_operators():
    n = 64
    rng = np.random.default_rng(0)
    K = km.KMatrix.random(n, width=2, random_state=0)
    D = K.todense()
    x = rng.standard_normal(n)
    A = rng.standard_normal((n, n))
    S = scipy.sparse.random(n, n, density=0.1, random_state=0)
    L = sla.aslinearoperator(A)
    # a diagonal (NumPy or sparse): a KMatrix, exact
    for other, dense in ((2.5 * np.eye(n), 2.5 * np.eye(n)),
                         (scipy.sparse.diags(np.arange(n, dtype=float)), np.diag(np.arange(n))),
                         (np.diag(rng.standard_normal(n) + 1j), None)):
        dense = other if dense is None else dense
        for result, ref in ((K + other, D + dense), (K - other, D - dense),
                            (other + K, dense + D), (other - K, dense - D)):
            assert isinstance(result, km.KMatrix)
            assert np.allclose(result.todense(), ref)
    # anything else: scipy's lazy sum of LinearOperators
    for other, dense in ((A, A), (S, S.toarray()), (L, A)):
        for result, ref in ((K + other, D + dense), (K - other, D - dense),
                            (other + K, dense + D), (other - K, dense - D)):
            assert isinstance(result, sla.LinearOperator)
            assert np.allclose(result @ x, ref @ x)
    with pytest.raises(ValueError, match="shape"):
        K + np.eye(n + 1)
    with pytest.raises(ValueError, match="NaN"):
        K + np.diag(np.full(n, np.nan))
    with pytest.raises(TypeError):
        K + 1.0
    # a real part with a complex diagonal is no real part of one K-matrix
    with pytest.raises(ValueError, match="real part"):
        km.KMatrix.dct(n) + 1j * np.eye(n)


def _spd(n, shift):
    """A symmetric positive definite K-matrix A = K K^T + shift I (an
    operator for the symmetric solvers; condition 165 at n = 128 for shift
    1, 1.6e4 for 0.01) and K K^T (a square network: exactly invertible, a
    preconditioner)."""
    K = _random(n, 2, np.float64, seed=3)
    KKT = K @ K.T
    return KKT + shift * km.KMatrix.identity(n), KKT


def test_every_scipy_sparse_linalg_function_takes_a_kmatrix():
    n = 128
    rng = np.random.default_rng(0)
    b = rng.standard_normal(n)
    A, KKT = _spd(n, 1.0)
    D = A.todense()
    x_ref = np.linalg.solve(D, b)
    for solver in (sla.cg, sla.cgs, sla.bicg, sla.bicgstab, sla.gmres, sla.lgmres,
                   sla.minres, sla.qmr, sla.gcrotmk, sla.tfqmr):
        x, info = solver(A, b, rtol=1e-10, maxiter=2000)
        assert info == 0 and rel_error(x, x_ref) < 1e-6, solver.__name__
    # an exact inverse as the preconditioner, (K K^T)^-1 for K K^T + I / 100:
    # fewer steps (38 against 454 here)
    A2, KKT = _spd(n, 0.01)
    x_ref = np.linalg.solve(A2.todense(), b)
    steps = []
    for M in (None, KKT.inv()):
        count = [0]
        x, info = sla.cg(A2, b, M=M, rtol=1e-10, maxiter=2000,
                         callback=lambda _: count.__setitem__(0, count[0] + 1))
        assert info == 0 and rel_error(x, x_ref) < 1e-6
        steps.append(count[0])
    assert steps[1] < steps[0] / 5
    x_ref = np.linalg.solve(D, b)
    x = sla.lsqr(A, b, atol=1e-12, btol=1e-12, iter_lim=2000)[0]
    assert rel_error(x, x_ref) < 1e-6
    x = sla.lsmr(A, b, atol=1e-12, btol=1e-12, maxiter=2000)[0]
    assert rel_error(x, x_ref) < 1e-6
    w_ref = np.linalg.eigvalsh(D)
    w = sla.eigsh(A, k=3, return_eigenvectors=False)
    assert np.allclose(np.sort(w), w_ref[-3:])
    w = sla.eigs(A, k=3, return_eigenvectors=False)
    assert np.allclose(np.sort(w.real), w_ref[-3:])
    w, _ = sla.lobpcg(A, rng.standard_normal((n, 3)), tol=1e-9, maxiter=500)
    assert np.allclose(np.sort(w), w_ref[-3:], rtol=1e-6)
    s = sla.svds(A, k=3, return_singular_vectors=False)
    assert np.allclose(np.sort(s), w_ref[-3:])
    assert sla.onenormest(A) <= np.linalg.norm(D, 1) * (1 + 1e-12)
    assert sla.onenormest(A) >= 0.3 * np.linalg.norm(D, 1)
    assert isinstance(sla.aslinearoperator(A), sla.LinearOperator)


@pytest.mark.parametrize("dtype", [np.float64, np.complex128])
def test_expm_multiply_equals_the_dense_exponential(dtype):
    n = 256
    K = km.KMatrix.random(n, width=2, init="normal", dtype=dtype, random_state=0) * 0.1
    b = np.random.default_rng(0).standard_normal((n, 2))
    ref = scipy.linalg.expm(K.todense()) @ b
    assert rel_error(sla.expm_multiply(K, b), ref) < 1e-10
    # several time points
    ts = sla.expm_multiply(K, b[:, 0], start=0, stop=1, num=3, endpoint=True)
    assert rel_error(ts[-1], ref[:, 0]) < 1e-10 and rel_error(ts[0], b[:, 0]) < 1e-14


def test_a_fitted_square_network_preconditions_cg():
    # A = B diag(d) B^T (a width-1 K-matrix, condition 1e3) plus symmetric
    # noise: the approximator at expansion=1 finds its structure, and the
    # fit's exact inverse makes cg converge in a few steps
    n = 256
    rng = np.random.default_rng(0)
    tw = km.KMatrix.random(n, random_state=3).twiddles.copy()
    tw[0, 0] = km.KMatrix.identity(n).twiddles[0, 0]
    B = km.KMatrix(tw).todense()
    d = np.geomspace(1e-3, 1, n)
    rng.shuffle(d)
    E = 1e-5 * rng.standard_normal((n, n))
    A = B @ np.diag(d) @ B.T + (E + E.T) / 2
    b = rng.standard_normal(n)
    K = km.KMatrixApproximator(expansion=1, random_state=0).fit(A).kmatrix_
    assert K.shape == (K.size, K.size) and K.expansion == 1
    steps = []
    for M in (None, K.inv()):
        count = [0]
        x, info = sla.cg(A, b, M=M, rtol=1e-10, maxiter=5000,
                         callback=lambda _: count.__setitem__(0, count[0] + 1))
        assert info == 0 and rel_error(A @ x, b) < 1e-9
        steps.append(count[0])
    assert steps[1] <= 10 < 100 <= steps[0]
    # from the operator alone (probes): a square network too
    op = sla.aslinearoperator(A)
    Kop = km.KMatrixApproximator(expansion=1, width=1, max_iter=5, random_state=0).fit(op)
    assert Kop.kmatrix_.shape == (n, n) and Kop.kmatrix_.size == n
    Kop.kmatrix_.inv()


@pytest.mark.parametrize("dtype", DTYPES)
def test_solve_runs_every_kernel_path_in_every_dtype(dtype):
    # n = 1024: one vector takes the row path (blocks inverted as loaded),
    # 40 right-hand sides the tiles (blocks inverted while packed); a stage
    # scaled by 1e10 keeps its blocks well conditioned but their
    # determinants past float32's square root (|det|^2 would overflow)
    from kmatrix._core import _kernels

    n = 1024
    K = _random(n, 2, dtype, seed=4)
    K.twiddles[0, 0, 3] *= 1e10
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, 40)).astype(dtype)
    cond = np.linalg.cond(K.todense().astype(np.complex128))
    tol = 10 * cond * rtol_for(dtype, K)
    for trans in ("N", "T", "H"):
        B = K.apply(X.T, trans=trans).T
        assert_close_in_norm(K.solve(B[:, 0], trans=trans), X[:, 0], tol)
        assert _kernels.last_path() == "rows"
        assert_close_in_norm(K.solve(B, trans=trans), X, tol)
        assert _kernels.last_path().startswith("tiles")


def test_sums_and_expm_multiply_with_a_real_part():
    # a real circulant (the real part of a real network) plus a real
    # diagonal is a real part again; expm_multiply forms exactly that
    n = 64
    c = np.random.default_rng(2).standard_normal(n)
    C = km.KMatrix.circulant(c)
    S = C - 2.0 * np.eye(n)
    assert isinstance(S, km.KMatrix) and S.real_part and S.dtype == np.float64
    assert np.allclose(S.todense(), scipy.linalg.circulant(c) - 2 * np.eye(n))
    assert isinstance(C + np.eye(n, dtype=np.uint8), km.KMatrix)
    b = np.ones(n)
    ref = scipy.linalg.expm(0.1 * scipy.linalg.circulant(c)) @ b
    assert rel_error(sla.expm_multiply(0.1 * C, b), ref) < 1e-10


def test_numpys_other_functions_read_the_operator_as_before(monkeypatch):
    # functions the exact routes do not cover run NumPy's own code: those
    # that read .dtype or .shape do not build the dense matrix
    K = km.KMatrix.random(64, dtype=np.complex64, random_state=0)
    D = K.todense()

    def refuse(*args, **kwargs):
        raise AssertionError("the dense matrix was built")

    monkeypatch.setattr(km.KMatrix, "__array__", refuse)
    assert np.iscomplexobj(K) and not np.isrealobj(K)
    assert np.shape(K) == (64, 64) and np.ndim(K) == 2
    monkeypatch.undo()
    assert np.allclose(K, D)      # the dense matrix, as before
    # a corner of a larger network: a clear error naming the dense route
    with pytest.raises(ValueError, match=r"np\.linalg\.inv\(K\.todense\(\)\)"):
        np.linalg.inv(km.KMatrix.random(100, random_state=0))
