"""K.real: the real part of a complex K-matrix as a real operator."""

import numpy as np
import pytest

import kmatrix as km
from _helpers import assert_close_in_norm, random_input, rtol_for

CDTYPES = [np.complex64, np.complex128]
SHAPES = [(16, 16), (5, 12), (12, 5)]


def _case(dtype, shape, width=2, seed=0):
    n_out, n_in = shape
    K = km.KMatrix.random(n_out, n_in, width=width, dtype=dtype, init="normal",
                          random_state=seed)
    return K, K.real


@pytest.mark.parametrize("dtype", CDTYPES)
@pytest.mark.parametrize("shape", SHAPES)
def test_dense_apply_and_transposes_match_the_real_part(dtype, shape):
    K, R = _case(dtype, shape)
    rdtype = np.finfo(dtype).dtype
    assert R.dtype == rdtype and R.real_part and R.twiddles.dtype == dtype
    assert R.shape == K.shape and R.n_params == K.n_params
    D = np.real(K.todense().astype(np.complex128))
    rtol = rtol_for(dtype, K)
    Rd = R.todense()
    assert Rd.dtype == rdtype
    assert_close_in_norm(Rd, D, rtol)
    rng = np.random.default_rng(1)
    X = random_input(rng, (7, K.n_in), rdtype)
    Y = R.apply(X)
    assert Y.dtype == rdtype
    assert_close_in_norm(Y, X @ D.T, rtol)
    Z = random_input(rng, (7, K.n_in), dtype)
    Yc = R.apply(Z)
    assert Yc.dtype == dtype
    assert_close_in_norm(Yc, Z @ D.T, rtol)
    V = random_input(rng, (3, K.n_out), rdtype)
    for trans in ("T", "H"):
        assert_close_in_norm(R.apply(V, trans=trans), V @ D, rtol)
    assert_close_in_norm(R.T.todense(), D.T, rtol)
    assert_close_in_norm(R.H.todense(), D.T, rtol)
    assert R.T.real_part and R.H.real_part and R.conj().real_part
    assert_close_in_norm(R.conj().todense(), D, rtol)
    assert_close_in_norm(R @ X[0], D @ X[0], rtol)
    out = np.empty((7, K.n_out), dtype=rdtype)
    assert R.apply(X, out=out) is out
    assert_close_in_norm(out, X @ D.T, rtol)


def test_real_of_a_real_kmatrix_is_itself_and_twiddles_are_shared():
    K = km.KMatrix.random(8, random_state=0)
    assert K.real is K and not K.real_part
    C = km.KMatrix.random(8, dtype=np.complex128, random_state=0)
    R = C.real
    assert np.shares_memory(R.twiddles, C.twiddles) and R.real is R
    before = R.todense()
    C.twiddles[0, 0, 0] *= 2
    assert not np.allclose(R.todense(), before)
    assert "real part" in repr(R)


def _loss(R, X, G):
    return np.real(np.sum(np.conjugate(G) * (X @ np.real(R._complex_network().todense()).T)))


@pytest.mark.parametrize("complex_data", [False, True])
def test_vjp_matches_finite_differences(complex_data):
    K, R = _case(np.complex128, (6, 9), width=1, seed=3)
    rng = np.random.default_rng(4)
    dt = np.complex128 if complex_data else np.float64
    X = random_input(rng, (5, 9), dt)
    G = random_input(rng, (5, 6), dt)
    dX, dtw = R.vjp(X, G)
    assert dtw.dtype == np.complex128 and dtw.shape == K.twiddles.shape
    D = np.real(K.todense())
    np.testing.assert_allclose(dX, G @ D, rtol=1e-12, atol=1e-12)
    assert dX.dtype == dt
    h = 1e-6
    flat = R.twiddles.reshape(-1)
    for e in rng.choice(flat.size, 12, replace=False):
        for step, part in ((h, "real"), (1j * h, "imag")):
            old = flat[e]
            flat[e] = old + step
            lp = _loss(R, X, G)
            flat[e] = old - step
            lm = _loss(R, X, G)
            flat[e] = old
            want = (lp - lm) / (2 * h)
            got = dtw.reshape(-1)[e].real if part == "real" else dtw.reshape(-1)[e].imag
            assert got == pytest.approx(want, rel=1e-6, abs=1e-9)


def test_arithmetic_keeps_the_real_part_where_it_is_one():
    A = km.KMatrix.random(6, 8, dtype=np.complex128, init="normal", random_state=0)
    B = km.KMatrix.random(8, 6, dtype=np.float64, init="normal", random_state=1)
    C = km.KMatrix.random(6, 8, dtype=np.complex128, init="normal", random_state=2)
    RA, RC = A.real, C.real
    DA, DB, DC = np.real(A.todense()), B.todense(), np.real(C.todense())
    np.testing.assert_allclose((RA @ B).todense(), DA @ DB, atol=1e-12)
    np.testing.assert_allclose((B @ RA).todense(), DB @ DA, atol=1e-12)
    np.testing.assert_allclose((RA + RC).todense(), DA + DC, atol=1e-12)
    np.testing.assert_allclose((RA - RC).todense(), DA - DC, atol=1e-12)
    np.testing.assert_allclose((2.5 * RA).todense(), 2.5 * DA, atol=1e-12)
    np.testing.assert_allclose((RA / 4).todense(), DA / 4, atol=1e-12)
    np.testing.assert_allclose((-RA).todense(), -DA, atol=1e-12)
    assert (RA @ B).real_part and (RA + RC).real_part and (2 * RA).real_part
    with pytest.raises(ValueError, match="real part"):
        RA @ RC.T
    with pytest.raises(ValueError, match="complex KMatrix"):
        RA + C
    with pytest.raises(ValueError, match="complex multiple"):
        1j * RA


def test_linear_operator_of_a_real_part():
    from scipy.sparse.linalg import lsqr

    K = km.KMatrix.random(32, dtype=np.complex128, random_state=0)
    R = K.real
    A = km.aslinearoperator(R)
    assert A.dtype == np.float64
    rng = np.random.default_rng(0)
    u, v = rng.standard_normal(32), rng.standard_normal(32)
    assert np.dot(A @ u, v) == pytest.approx(np.dot(u, A.H @ v), rel=1e-12)
    assert np.dot(A @ u, v) == pytest.approx(np.dot(u, A.T @ v), rel=1e-12)
    b = R @ u
    x = lsqr(A, b, atol=1e-14, btol=1e-14, iter_lim=500)[0]
    np.testing.assert_allclose(R @ x, b, atol=1e-8)
