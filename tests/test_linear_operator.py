"""KMatrixOperator / km.aslinearoperator against dense references, and inside
scipy.sparse.linalg solvers."""

import numpy as np
import pytest
import scipy.sparse.linalg as spla
from scipy.sparse.linalg import LinearOperator

import kmatrix as km
from _helpers import assert_close_in_norm, random_input, rtol_for
from _reference import reference_matrix

DTYPES = [np.float32, np.float64, np.complex64, np.complex128]
DTYPE_IDS = ["float32", "float64", "complex64", "complex128"]
SHAPES = [(1, 1), (8, 8), (5, 3), (3, 5), (100, 37), (37, 100)]  # (n_in, n_out)


# ------------------------------------------------------------- products --
@pytest.mark.parametrize("n_in, n_out", SHAPES)
@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_operator_products_match_dense(dtype, n_in, n_out):
    K = km.KMatrix.random(n_out, n_in, width=2, dtype=dtype, random_state=0)
    M = reference_matrix(K)
    A = km.aslinearoperator(K)
    assert isinstance(A, km.KMatrixOperator)
    assert isinstance(A, LinearOperator)
    assert A.shape == (n_out, n_in)
    assert A.dtype == np.dtype(dtype)
    assert A.kmatrix is K
    rng = np.random.default_rng(0)
    rtol = rtol_for(dtype, K)
    x = random_input(rng, (n_in,), dtype)
    y = random_input(rng, (n_out,), dtype)
    X = random_input(rng, (n_in, 4), dtype)
    Y = random_input(rng, (n_out, 3), dtype)
    assert A.matvec(x).dtype == np.dtype(dtype)
    assert_close_in_norm(A.matvec(x), M @ x, rtol)
    assert_close_in_norm(A.matvec(x[:, None]), (M @ x)[:, None], rtol)
    assert_close_in_norm(A @ x, M @ x, rtol)
    assert_close_in_norm(A.rmatvec(y), M.conj().T @ y, rtol)
    assert_close_in_norm(A.matmat(X), M @ X, rtol)
    assert_close_in_norm(A @ X, M @ X, rtol)
    assert_close_in_norm(A.rmatmat(Y), M.conj().T @ Y, rtol)
    assert_close_in_norm(A.dot(X), M @ X, rtol)


# every derived operator and its dense counterpart, as functions of M
DERIVED = {
    "H": (lambda A: A.H, lambda M: M.conj().T),
    "T": (lambda A: A.T, lambda M: M.T),
    "adjoint()": (lambda A: A.adjoint(), lambda M: M.conj().T),
    "transpose()": (lambda A: A.transpose(), lambda M: M.T),
    "H.H": (lambda A: A.H.H, lambda M: M),
    "T.T": (lambda A: A.T.T, lambda M: M),
    "T.H": (lambda A: A.T.H, lambda M: M.conj()),
    "H.T": (lambda A: A.H.T, lambda M: M.conj()),
    "T.H.T": (lambda A: A.T.H.T, lambda M: M.conj().T),
    "H.T.H": (lambda A: A.H.T.H, lambda M: M.T),
}


@pytest.mark.parametrize("derived", list(DERIVED))
@pytest.mark.parametrize("n_in, n_out", [(5, 3), (37, 100)])
@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_derived_operators_match_dense(dtype, n_in, n_out, derived):
    K = km.KMatrix.random(n_out, n_in, width=2, dtype=dtype, random_state=1)
    op_of, dense_of = DERIVED[derived]
    B = op_of(km.aslinearoperator(K))
    D = dense_of(reference_matrix(K))
    assert B.shape == D.shape
    assert B.dtype == np.dtype(dtype)
    rng = np.random.default_rng(1)
    rtol = rtol_for(dtype, K)
    x = random_input(rng, (D.shape[1],), dtype)
    y = random_input(rng, (D.shape[0],), dtype)
    X = random_input(rng, (D.shape[1], 3), dtype)
    Y = random_input(rng, (D.shape[0], 2), dtype)
    assert_close_in_norm(B.matvec(x), D @ x, rtol)
    assert_close_in_norm(B.rmatvec(y), D.conj().T @ y, rtol)
    assert_close_in_norm(B.matmat(X), D @ X, rtol)
    assert_close_in_norm(B.rmatmat(Y), D.conj().T @ Y, rtol)


@pytest.mark.parametrize("derived", list(DERIVED) + ["N"])
@pytest.mark.parametrize("k_dtype, x_dtype", [(np.float64, np.complex128),
                                              (np.complex128, np.float64),
                                              (np.float32, np.complex64)])
def test_mixed_real_complex_operands(k_dtype, x_dtype, derived):
    # real operator on complex vectors and complex operator on real vectors,
    # through every derived operator (covers the conj(K) path)
    K = km.KMatrix.random(5, 7, width=2, dtype=k_dtype, random_state=2)
    M = reference_matrix(K)
    op_of, dense_of = DERIVED.get(derived, (lambda A: A, lambda M: M))
    B = op_of(km.aslinearoperator(K))
    D = dense_of(M)
    rng = np.random.default_rng(2)
    out = np.result_type(k_dtype, x_dtype)
    rtol = rtol_for(out, K)
    x = random_input(rng, (D.shape[1],), x_dtype)
    y = random_input(rng, (D.shape[0],), x_dtype)
    assert_close_in_norm(B.matvec(x), D @ x, rtol)
    assert_close_in_norm(B.rmatvec(y), D.conj().T @ y, rtol)
    assert_close_in_norm(B.matmat(np.stack([x, 2 * x], axis=1)),
                         D @ np.stack([x, 2 * x], axis=1), rtol)


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_operator_adjoint_dot_test(dtype):
    K = km.KMatrix.random(45, 60, width=3, dtype=dtype, init="normal", random_state=3)
    rng = np.random.default_rng(3)
    for A in (km.aslinearoperator(K), km.aslinearoperator(K).T, km.aslinearoperator(K).H):
        u = random_input(rng, (A.shape[1],), dtype)
        v = random_input(rng, (A.shape[0],), dtype)
        Au, AHv = A.matvec(u), A.rmatvec(v)
        gap = abs(np.vdot(v, Au) - np.vdot(AHv, u))
        scale = (np.linalg.norm(Au) * np.linalg.norm(v) + np.linalg.norm(u) * np.linalg.norm(AHv)
                 + np.linalg.norm(u) * np.linalg.norm(v))
        assert gap <= 4 * rtol_for(dtype, K) * scale


def test_operator_shares_the_kmatrix():
    K = km.KMatrix.random(6, random_state=4)
    A = km.aslinearoperator(K)
    K.twiddles[...] = km.KMatrix.identity(6).twiddles
    x = np.arange(6.0)
    np.testing.assert_array_equal(A.matvec(x), x)


def test_aslinearoperator_passes_other_objects_to_scipy():
    M = np.arange(6.0).reshape(2, 3)
    A = km.aslinearoperator(M)
    assert not isinstance(A, km.KMatrixOperator)
    np.testing.assert_array_equal(A.matvec(np.ones(3)), M @ np.ones(3))


def test_kmatrix_operator_rejects_non_kmatrix():
    with pytest.raises(ValueError, match="KMatrix"):
        km.KMatrixOperator(np.eye(3))


def test_operator_algebra_with_scipy_operators():
    K = km.KMatrix.random(12, 20, width=2, random_state=5)
    M = reference_matrix(K)
    A = km.aslinearoperator(K)
    x = np.random.default_rng(5).standard_normal(20)
    B = A.H @ A + 2 * spla.aslinearoperator(np.eye(20))
    assert_close_in_norm(B.matvec(x), (M.T @ M + 2 * np.eye(20)) @ x, rtol_for(np.float64, K))
    C = A - spla.aslinearoperator(np.ones((12, 20)))
    assert_close_in_norm(C.matvec(x), (M - 1) @ x, rtol_for(np.float64, K))


# -------------------------------------------------------------- solvers --
def test_cg_on_normal_equations():
    K = km.KMatrix.random(80, 50, width=2, init="normal", random_state=6)
    M = reference_matrix(K)
    A = km.aslinearoperator(K)
    S = A.T @ A + spla.aslinearoperator(np.eye(50))
    b = np.random.default_rng(6).standard_normal(50)
    x, info = spla.cg(S, b, rtol=1e-12, atol=0, maxiter=1000)
    assert info == 0
    expected = np.linalg.solve(M.T @ M + np.eye(50), b)
    np.testing.assert_allclose(x, expected, rtol=1e-8, atol=1e-10)


def test_cg_complex_hermitian_operator():
    K = km.KMatrix.random(40, width=2, dtype=np.complex128, init="normal", random_state=7)
    M = reference_matrix(K)
    A = km.aslinearoperator(K)
    S = A.H @ A + spla.aslinearoperator(np.eye(40))
    rng = np.random.default_rng(7)
    b = rng.standard_normal(40) + 1j * rng.standard_normal(40)
    x, info = spla.cg(S, b, rtol=1e-12, atol=0, maxiter=1000)
    assert info == 0
    expected = np.linalg.solve(M.conj().T @ M + np.eye(40), b)
    np.testing.assert_allclose(x, expected, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("dtype", [np.float64, np.complex128])
def test_gmres_square(dtype):
    K = km.KMatrix.random(64, width=2, dtype=dtype, random_state=8)  # orthogonal/unitary
    M = reference_matrix(K)
    rng = np.random.default_rng(8)
    b = random_input(rng, (64,), dtype)
    x, info = spla.gmres(km.aslinearoperator(K), b, rtol=1e-12, atol=0, restart=64, maxiter=10)
    assert info == 0
    np.testing.assert_allclose(x, np.linalg.solve(M, b), rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("dtype", [np.float64, np.complex128])
@pytest.mark.parametrize("n_in, n_out", [(30, 70), (70, 30)])
def test_lsqr_rectangular(dtype, n_in, n_out):
    K = km.KMatrix.random(n_out, n_in, width=2, dtype=dtype, init="normal", random_state=9)
    M = reference_matrix(K)
    b = random_input(np.random.default_rng(9), (n_out,), dtype)
    result = spla.lsqr(km.aslinearoperator(K), b, atol=1e-14, btol=1e-14, iter_lim=5000)
    x = result[0]
    expected = np.linalg.lstsq(M, b, rcond=None)[0]
    np.testing.assert_allclose(x, expected, rtol=1e-6, atol=1e-8)


def test_eigsh_on_symmetrized_operator():
    K = km.KMatrix.random(80, width=2, init="normal", random_state=10)
    M = reference_matrix(K)
    A = km.aslinearoperator(K)
    S = A + A.T
    vals = spla.eigsh(S, k=4, which="LA", return_eigenvectors=False,
                      v0=np.ones(80), tol=1e-12)
    expected = np.linalg.eigvalsh(M + M.T)[-4:]
    np.testing.assert_allclose(np.sort(vals), expected, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("dtype", [np.float64, np.complex128])
@pytest.mark.parametrize("n_in, n_out", [(60, 40), (40, 60)])
def test_svds_matches_dense_svd(dtype, n_in, n_out):
    K = km.KMatrix.random(n_out, n_in, width=2, dtype=dtype, init="normal", random_state=11)
    M = reference_matrix(K)
    s = spla.svds(km.aslinearoperator(K), k=5, return_singular_vectors=False,
                  random_state=0, tol=1e-12)
    expected = np.linalg.svd(M, compute_uv=False)[:5]
    np.testing.assert_allclose(np.sort(s)[::-1], expected, rtol=1e-8, atol=1e-10)


def test_svds_singular_vectors():
    K = km.KMatrix.random(30, 50, width=2, init="normal", random_state=12)
    M = reference_matrix(K)
    U, s, Vh = spla.svds(km.aslinearoperator(K), k=3, random_state=0, tol=1e-12)
    # each triple satisfies M v = s u and M^T u = s v
    for j in range(3):
        np.testing.assert_allclose(M @ Vh[j], s[j] * U[:, j], atol=1e-8)
        np.testing.assert_allclose(M.T @ U[:, j], s[j] * Vh[j], atol=1e-8)


# ------------------------------------- a KMatrix straight into the solvers --
@pytest.mark.parametrize("n_in, n_out", [(37, 100), (100, 37), (64, 64)])
@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_kmatrix_speaks_the_linear_operator_protocol(dtype, n_in, n_out):
    K = km.KMatrix.random(n_out, n_in, width=2, dtype=dtype, init="normal", random_state=10)
    M = reference_matrix(K)
    rng = np.random.default_rng(10)
    x, y = random_input(rng, (n_in,), dtype), random_input(rng, (n_out,), dtype)
    X, Y = random_input(rng, (n_in, 5), dtype), random_input(rng, (n_out, 5), dtype)
    rtol = rtol_for(dtype, K)
    assert_close_in_norm(K.matvec(x), M @ x, rtol)
    assert K.matvec(x[:, None]).shape == (n_out, 1)
    assert_close_in_norm(K.matvec(x[:, None])[:, 0], M @ x, rtol)
    assert_close_in_norm(K.rmatvec(y), M.conj().T @ y, rtol)
    assert K.rmatvec(y[:, None]).shape == (n_in, 1)
    assert_close_in_norm(K.rmatvec(y[:, None])[:, 0], M.conj().T @ y, rtol)
    assert_close_in_norm(K.matmat(X), M @ X, rtol)
    assert_close_in_norm(K.rmatmat(Y), M.conj().T @ Y, rtol)
    # scipy's own aslinearoperator wraps it through these methods
    A = spla.aslinearoperator(K)
    assert A.shape == K.shape and A.dtype == K.dtype
    assert_close_in_norm(A.matvec(x), M @ x, rtol)
    assert_close_in_norm(A.rmatvec(y), M.conj().T @ y, rtol)
    with pytest.raises(ValueError, match="matvec"):
        K.matvec(np.ones(n_in + 1))
    with pytest.raises(ValueError, match="rmatvec"):
        K.rmatvec(np.ones((n_out, 2)))
    with pytest.raises(ValueError, match="matmat"):
        K.matmat(np.ones(n_in))


def test_solvers_take_a_kmatrix_as_it_is():
    rng = np.random.default_rng(11)
    Q = km.KMatrix.random(256, width=2, random_state=11)   # orthogonal
    S = Q.H @ Q + km.KMatrix.identity(256)                  # SPD, still a KMatrix
    b = rng.standard_normal(256)
    x, info = spla.cg(S, b, rtol=1e-12, atol=0, maxiter=500)
    assert info == 0
    np.testing.assert_allclose(S @ x, b, rtol=1e-9, atol=1e-9)
    x, info = spla.gmres(Q, b, rtol=1e-12, atol=0, restart=256, maxiter=5)
    assert info == 0
    np.testing.assert_allclose(Q @ x, b, rtol=1e-9, atol=1e-9)
    x = spla.lsqr(Q, b, atol=1e-14, btol=1e-14)[0]
    np.testing.assert_allclose(x, Q.H @ b, rtol=1e-9, atol=1e-9)
    # a real part (a DCT) too: its adjoint is its transpose
    C = km.KMatrix.dct(128)
    c = rng.standard_normal(128)
    x = spla.lsqr(C, c, atol=1e-14, btol=1e-14)[0]
    np.testing.assert_allclose(x, C.T @ c, rtol=1e-9, atol=1e-9)
