"""KMatrix.vjp: gradients against an independent NumPy backpropagation
through the stages one at a time (``_reference.apply_stage``), against
central finite differences (thread-count independence: test_threads.py).

For L = Re(sum(conj(G) * K.apply(X))): dX = G @ conj(K) and, for the 2x2
block of pair p of a stage whose input rows are a and output gradient rows
are g, dL/dblock = sum over rows of g[(u, v)] conj(a[(u, v)])^T.
"""

import numpy as np
import pytest

import kmatrix as km
from kmatrix._core import _kernels
from _helpers import rel_error as rel, vjp_rtol as rtol
from _reference import apply_stage, reference_matrix, stage_bit

DTYPES = [np.float32, np.float64, np.complex64, np.complex128]
CASES = [(1, 1, 1, 1), (8, 8, 1, 1), (5, 3, 2, 2), (3, 7, 1, 1), (16, 16, 2, 1),
         (33, 20, 3, 1), (20, 33, 1, 2)]


def random_rows(rng, shape, dtype):
    X = rng.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        X = X + 1j * rng.standard_normal(shape)
    return X.astype(dtype)


def reference_vjp(K, X, G):
    """Backpropagation through the stages one at a time, in double precision."""
    ref = np.complex128
    tw = K.twiddles.astype(ref)
    width, _, L, half = tw.shape[:4]
    N = 2 * half
    stages = [(i, h, k) for i in range(width) for h in range(2) for k in range(L)]
    A = np.zeros((N, X.shape[0]), dtype=ref)
    A[:K.n_in] = X.T
    acts = []
    for s in stages:
        acts.append(A.copy())
        apply_stage(stage_bit(L, s[1], s[2]), tw[s], A)
    g = np.zeros((N, X.shape[0]), dtype=ref)
    g[:K.n_out] = G.T
    dtw = np.zeros_like(tw)
    for s, a in zip(reversed(stages), reversed(acts)):
        bit = stage_bit(L, s[1], s[2])
        p = np.arange(half)
        u = ((p >> bit) << (bit + 1)) | (p & ((1 << bit) - 1))
        v = u + (1 << bit)
        for r, rows_g in enumerate((g[u], g[v])):
            for c, rows_a in enumerate((a[u], a[v])):
                dtw[s][:, r, c] = np.sum(rows_g * np.conj(rows_a), axis=1)
        apply_stage(bit, tw[s].conj().swapaxes(-1, -2), g)   # the stage's adjoint
    dX = g[:K.n_in].T
    if K.dtype.kind != "c":
        dtw = dtw.real
    return dX, dtw


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("n_in, n_out, width, expansion", CASES)
def test_vjp_matches_reference_backpropagation(dtype, n_in, n_out, width, expansion):
    rng = np.random.default_rng(n_in * 100 + n_out)
    K = km.KMatrix.random(n_out, n_in, width=width, expansion=expansion, dtype=dtype,
                          init="normal", random_state=3)
    X = random_rows(rng, (37, n_in), dtype)
    G = random_rows(rng, (37, n_out), dtype)
    dX, dtw = K.vjp(X, G)
    ref_dX, ref_dtw = reference_vjp(K, X, G)
    assert dX.dtype == np.dtype(dtype) and dtw.dtype == np.dtype(dtype)
    assert dtw.shape == K.twiddles.shape
    assert rel(dX, ref_dX) <= rtol(dtype, K)
    assert rel(dtw, ref_dtw) <= rtol(dtype, K)
    # dX is K^H applied to G, through the reference matrix too
    D = reference_matrix(K)
    assert rel(dX, G @ D.conj()) <= rtol(dtype, K)


@pytest.mark.parametrize("dtype", [np.float64, np.complex128], ids=["float64", "complex128"])
def test_vjp_matches_finite_differences(dtype):
    rng = np.random.default_rng(5)
    K = km.KMatrix.random(5, 6, width=2, dtype=dtype, init="normal", random_state=4)
    X = random_rows(rng, (9, 6), dtype)
    G = random_rows(rng, (9, 5), dtype)
    _, dtw = K.vjp(X, G)

    def loss():
        return np.real(np.sum(np.conj(G) * K.apply(X)))

    flat = K.twiddles.reshape(-1)
    num = np.zeros(flat.shape, dtype=dtype)
    h = 1e-6
    units = (1.0, 1j) if np.dtype(dtype).kind == "c" else (1.0,)
    for e in range(flat.size):
        for unit in units:
            old = flat[e]
            flat[e] = old + h * unit
            up = loss()
            flat[e] = old - h * unit
            down = loss()
            flat[e] = old
            num[e] += unit * (up - down) / (2 * h)
    assert rel(dtw.reshape(-1), num) < 1e-7


def test_vjp_of_real_kmatrix_with_complex_data_is_real_gradient():
    rng = np.random.default_rng(6)
    K = km.KMatrix.random(9, 12, width=2, random_state=1)
    X = random_rows(rng, (7, 12), np.complex128)
    G = random_rows(rng, (7, 9), np.complex128)
    dX, dtw = K.vjp(X, G)
    assert dX.dtype == np.complex128 and dtw.dtype == np.float64
    ref_dX, ref_dtw = reference_vjp(K, X, G)
    assert rel(dX, ref_dX) < 1e-13
    assert rel(dtw, ref_dtw) < 1e-13


def test_vjp_single_row_and_linear_in_g():
    rng = np.random.default_rng(7)
    K = km.KMatrix.random(6, 10, width=1, random_state=2)
    x, g = rng.standard_normal(10), rng.standard_normal(6)
    dx, dtw = K.vjp(x, g)
    assert dx.shape == (10,) and dtw.shape == K.twiddles.shape
    # a 1-D call is the one-row batch, against the reference backpropagation
    ref_dX, ref_dtw = reference_vjp(K, x[None], g[None])
    assert rel(dx, ref_dX[0]) <= rtol(np.float64, K)
    assert rel(dtw, ref_dtw) <= rtol(np.float64, K)
    dX2, dtw2 = K.vjp(x[None], 2 * g[None])
    np.testing.assert_allclose(dX2[0], 2 * dx, rtol=1e-14)
    np.testing.assert_allclose(dtw2, 2 * dtw, rtol=1e-14)


@pytest.mark.parametrize("isa", _kernels.available_isas())
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_vjp_of_few_rows_runs_along_the_rows(isa, dtype):
    # fewer rows than a chunk has lanes: the row path (no padding lanes),
    # against the reference backpropagation; padded sizes, both I/O modes
    previous = _kernels._set_isa(isa)
    try:
        rng = np.random.default_rng(10)
        for n_in, n_out, width, expansion in [(40, 33, 1, 1), (64, 64, 2, 1), (100, 120, 1, 2),
                                              (300, 257, 2, 1)]:
            K = km.KMatrix.random(n_out, n_in, width=width, expansion=expansion, dtype=dtype,
                                  init="normal", random_state=n_in)
            for rows in (1, 2, 3):
                X = random_rows(rng, (rows, n_in), dtype)
                G = random_rows(rng, (rows, n_out), dtype)
                dX, dtw = K.vjp(X, G)
                if rows == 1:
                    assert _kernels.last_path() == "vjp-rows"
                ref_dX, ref_dtw = reference_vjp(K, X, G)
                assert rel(dX, ref_dX) <= rtol(dtype, K)
                assert rel(dtw, ref_dtw) <= rtol(dtype, K)
            if np.dtype(dtype).kind == "c":
                # K.real on real rows (the kernels' real-I/O mode): the
                # gradient of Re(K) x is that of K on the same real rows
                real = np.finfo(dtype).dtype
                x, g = random_rows(rng, (1, n_in), real), random_rows(rng, (1, n_out), real)
                dx, dtw = K.real.vjp(x, g)
                assert _kernels.last_path() == "vjp-rows" and dx.dtype == real
                ref_dX, ref_dtw = reference_vjp(K, x.astype(dtype), g.astype(dtype))
                assert rel(dx, ref_dX.real) <= rtol(dtype, K)
                assert rel(dtw, ref_dtw) <= rtol(dtype, K)
    finally:
        _kernels._set_isa(previous)


def test_vjp_rejects_bad_input():
    K = km.KMatrix.random(4, 6, random_state=0)
    X = np.ones((3, 6))
    with pytest.raises(ValueError, match="G must have shape"):
        K.vjp(X, np.ones((3, 5)))
    with pytest.raises(ValueError, match="features"):
        K.vjp(np.ones((3, 5)), np.ones((3, 4)))
    G = np.ones((3, 4))
    G[1, 2] = np.inf
    with pytest.raises(ValueError, match="NaN or infinity"):
        K.vjp(X, G)
    with pytest.raises(ValueError, match="1-D or 2-D"):
        K.vjp(np.ones((2, 3, 6)), np.ones((2, 3, 4)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("gate", ["relu", "tanh", "logistic"])
@pytest.mark.parametrize("n, n_rows, path", [(1024, 3, "vjp-rows"), (1000, 37, "vjp"),
                                             (2**15, 17, "vjp-shared")])
def test_the_gate_multiplies_dx_by_the_activation_derivative(n, n_rows, path, gate, dtype):
    # the layer's backward step fused into the store of dx: dx * g'(a), a
    # the activations of the rows (the vjp's own input, as in a network);
    # the twiddle gradient does not change
    K = km.KMatrix.random(n, dtype=dtype, random_state=0)
    rng = np.random.default_rng(2)
    Z = rng.standard_normal((n_rows, n)).astype(dtype)
    A = {"relu": np.maximum(Z, 0), "tanh": np.tanh(Z), "logistic": 0.5 + 0.5 * np.tanh(Z / 2)}
    A = A[gate].astype(dtype)
    G = rng.standard_normal((n_rows, n)).astype(dtype)
    dtw0, dtw1 = np.empty_like(K._twiddles), np.empty_like(K._twiddles)
    dX0, dX1 = np.empty_like(A), np.full_like(A, np.nan)
    assert not K._twiddle_gradient_into(A, G, dtw0, 0, dX0)
    assert K._twiddle_gradient_into(A, G, dtw1, 0, dX1, gate)
    # the long rows are shared when two threads run
    assert _kernels.last_path() in ((path, "vjp") if path == "vjp-shared" else (path,))
    np.testing.assert_array_equal(dtw1, dtw0)
    derivative = {"relu": (A > 0).astype(dtype), "tanh": 1 - A * A, "logistic": A - A * A}
    expected = dX0 * derivative[gate]
    if gate == "relu":
        np.testing.assert_array_equal(dX1, expected)
        assert (dX1 == 0).mean() > 0.3
    else:   # 1 - a^2 may be one fused multiply-add in the kernel
        eps = np.finfo(dtype).eps
        assert np.all(np.abs(dX1 - expected) <= 4 * eps * np.abs(dX0))


def test_the_gate_is_checked():
    K = km.KMatrix.random(64, dtype=np.float32, random_state=0)
    X = np.ones((20, 64), np.float32)
    dtw, dX = np.empty_like(K._twiddles), np.empty_like(X)
    with pytest.raises(ValueError, match="unknown gate"):
        _kernels.vjp(K._twiddles, K.log_size, X, X, dX, dtw, 0, True, X, "gelu")
    with pytest.raises(ValueError, match="needs real twiddles and dx"):
        _kernels.vjp(K._twiddles, K.log_size, X, X, None, dtw, 0, True, X, "relu")
    with pytest.raises(ValueError, match="of dx's shape"):
        _kernels.vjp(K._twiddles, K.log_size, X, X, dX, dtw, 0, True, X[:, :10], "relu")
    with pytest.raises(ValueError, match="apart from dx"):
        _kernels.vjp(K._twiddles, K.log_size, X, X, dX, dtw, 0, True, dX, "relu")
    with pytest.raises(ValueError, match="both its activations and its kind"):
        _kernels.vjp(K._twiddles, K.log_size, X, X, dX, dtw, 0, True, None, "relu")
    with pytest.raises(ValueError, match="of dx's shape"):
        _kernels.vjp(K._twiddles, K.log_size, X, X, dX, dtw, 0, True, X[0], "relu")
    with pytest.raises(ValueError, match="rows must be contiguous"):
        _kernels.vjp(K._twiddles, K.log_size, X, X, dX, dtw, 0, True,
                     np.ones((20, 128), np.float32)[:, ::2], "relu")
    Kc = km.KMatrix.random(64, dtype=np.complex64, random_state=0)
    Xc = X.astype(np.complex64)
    with pytest.raises(ValueError, match="needs real twiddles"):
        _kernels.vjp(Kc._twiddles, Kc.log_size, Xc, Xc, Xc.copy(), np.empty_like(Kc._twiddles),
                     0, True, X, "relu")
