"""What kmatrix promises at the edge of its API: finite operators, sizes
judged before allocation, sparse inputs, estimators that survive pickling,
constructors that stay near the size of their result, clear messages."""

import copy
import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest
import scipy.sparse
from sklearn.exceptions import ConvergenceWarning

import kmatrix as km


# ------------------------------------------------ estimators and pickling --
@pytest.mark.parametrize("field", ["real", "complex"])
@pytest.mark.parametrize("clone", ["pickle", "deepcopy"])
def test_partial_fit_after_a_copy_trains_as_the_original(field, clone):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((120, 16))
    y = X @ rng.standard_normal((16, 3))
    reg = km.KMatrixRegressor(field=field, random_state=0)
    for _ in range(3):
        reg.partial_fit(X, y)
    twin = pickle.loads(pickle.dumps(reg)) if clone == "pickle" else copy.deepcopy(reg)
    before = twin.kmatrix_.twiddles.copy()
    for est in (reg, twin):
        for _ in range(2):
            est.partial_fit(X, y)
    # the copy learned (its optimizer trains its own model) ...
    assert not np.array_equal(twin.kmatrix_.twiddles, before)
    # ... exactly as the original did: Adam's moments and step count came along
    np.testing.assert_array_equal(twin.kmatrix_.twiddles, reg.kmatrix_.twiddles)
    np.testing.assert_array_equal(twin.intercept_, reg.intercept_)
    assert twin.loss_curve_ == reg.loss_curve_
    assert not np.shares_memory(twin.kmatrix_.twiddles, reg.kmatrix_.twiddles)


def test_a_warm_fit_after_unpickling_keeps_training():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((200, 8))
    y = X @ rng.standard_normal(8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg = km.KMatrixRegressor(field="complex", max_iter=5, warm_start=True,
                                  random_state=0).fit(X, y)
        twin = pickle.loads(pickle.dumps(reg))
        reg.fit(X, y)
        twin.fit(X, y)
    np.testing.assert_array_equal(twin.predict(X), reg.predict(X))


# ------------------------------------------------------- finite operators --
def test_non_finite_operators_are_refused():
    K = km.KMatrix.random(16, random_state=0)
    bad = K.twiddles.copy()
    bad[0, 1, 2, 3, 1, 0] = np.nan
    with pytest.raises(ValueError, match="NaN or infinity"):
        km.KMatrix(bad)
    with pytest.raises(ValueError, match="NaN or infinity"):
        K.twiddles = bad
    bad[0, 1, 2, 3, 1, 0] = np.inf
    with pytest.raises(ValueError, match="NaN or infinity"):
        km.KMatrix(bad.astype(np.complex64))
    for scalar in (np.inf, -np.inf, np.nan, complex(1, np.inf)):
        with pytest.raises(ValueError, match="finite"):
            K * scalar
        with pytest.raises(ValueError, match="finite"):
            K / scalar
    with pytest.raises(ValueError, match="zero"):
        K / 0
    with pytest.raises(ValueError, match="NaN or infinity"):
        (K * 1e300) * 1e300                      # overflow
    with pytest.raises(ValueError, match="NaN or infinity"):
        km.KMatrix.random(16, dtype=np.float32, random_state=0) * 1e39
    # the operator is untouched by the refused assignment
    np.testing.assert_array_equal(K.twiddles, km.KMatrix.random(16, random_state=0).twiddles)
    # and sums and products of finite operators are finite
    S = (K + 2.0 * K) @ K.T
    assert np.all(np.isfinite(S.twiddles))


@pytest.mark.parametrize("make, limit", [
    (lambda: km.KMatrix.random(2 ** 40), "memory"),
    (lambda: km.KMatrix.random(8, expansion=2 ** 40), "limit of 2\\*\\*40"),
    (lambda: km.KMatrix.random(2 ** 20, width=10 ** 6), "memory"),
    (lambda: km.KMatrix.identity(2 ** 41), "limit"),
    (lambda: km.KMatrix.hadamard(2 ** 36), "memory"),
    (lambda: km.KMatrix.dft(2 ** 40), "memory"),
    (lambda: km.KMatrix.dft(2 ** 36 + 1), "memory"),
    (lambda: km.KMatrix.dct(2 ** 36), "memory"),
    (lambda: km.KMatrix.dst(2 ** 36), "memory"),
    (lambda: km.KMatrix.from_sparse(scipy.sparse.coo_matrix(
        (np.ones(1), ([0], [0])), shape=(2 ** 36, 2 ** 36))), "memory"),
])
def test_absurd_sizes_are_value_errors_that_say_the_limit(make, limit):
    with pytest.raises(ValueError, match=limit):
        make()


def test_asarray_of_an_operator_is_its_dense_matrix():
    K = km.KMatrix.random(6, 8, dtype=np.complex64, random_state=0)
    D = np.asarray(K)
    assert D.shape == (6, 8) and D.dtype == np.complex64
    np.testing.assert_array_equal(D, K.todense())
    assert np.asarray(K, dtype=np.complex128).dtype == np.complex128
    with pytest.raises(ValueError, match="todense"):
        np.asarray(K, copy=False)


def test_the_nan_message_names_check_finite():
    K = km.KMatrix.random(8, random_state=0)
    X = np.ones((2, 8))
    X[1, 3] = np.nan
    with pytest.raises(ValueError, match="check_finite=False"):
        K.apply(X)
    assert np.all(np.isfinite(K.apply(X, check_finite=False)[0]))


def test_a_junk_file_is_named_as_such(tmp_path):
    path = tmp_path / "junk.npz"
    path.write_bytes(b"this is not an archive" * 10)
    with pytest.raises(ValueError, match="junk.npz.*not an .npz") as info:
        km.load(path)
    assert "pickle" not in str(info.value)


# ------------------------------------------------------------ sparse input --
def _sparse(shape, fmt, dtype, seed):
    S = scipy.sparse.random(*shape, density=0.1, format=fmt, random_state=seed)
    if np.dtype(dtype).kind == "c":
        S = S + 1j * scipy.sparse.random(*shape, density=0.1, format=fmt, random_state=seed + 1)
    return S.astype(dtype).asformat(fmt)


@pytest.mark.parametrize("fmt", ["csr", "csc", "coo"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex128])
def test_sparse_rows_and_columns_give_the_dense_results(fmt, dtype):
    K = km.KMatrix.random(24, 40, width=2, random_state=0)     # shape (24, 40)
    S = _sparse((30, 40), fmt, dtype, 4)                        # rows of 40
    R = _sparse((30, 24), fmt, dtype, 6)                        # rows of 24
    D, E = S.toarray(), R.toarray()
    # rows: identical to the dense rows (a row's result never depends on its batch)
    np.testing.assert_array_equal(K.apply(S), K.apply(D))
    np.testing.assert_array_equal(K.apply(R, trans="T"), K.apply(E, trans="T"))
    Y = np.empty((30, 24), dtype=np.result_type(K.dtype, dtype))
    assert K.apply(S, out=Y) is Y
    np.testing.assert_array_equal(Y, K.apply(D))
    # columns, and from the left, against the dense reference
    W = K.todense()
    atol = 1e-5 * max(np.abs(D).max(), np.abs(E).max()) * np.abs(W).max() * 40
    np.testing.assert_allclose(K @ S.T, W @ D.T, atol=atol)
    np.testing.assert_allclose(R @ K, E @ W, atol=atol)
    np.testing.assert_allclose(K.matmat(S.T), W @ D.T, atol=atol)
    np.testing.assert_allclose(K.rmatmat(R.T), W.conj().T @ E.T, atol=atol)
    assert not scipy.sparse.issparse(K @ S.T)


def test_sparse_input_errors():
    K = km.KMatrix.random(8, random_state=0)
    with pytest.raises(ValueError, match="features"):
        K.apply(scipy.sparse.csr_matrix(np.ones((2, 5))))
    with pytest.raises(ValueError, match="matmul"):
        K @ scipy.sparse.csr_matrix(np.ones((5, 2)))
    with pytest.raises(ValueError, match="matmul"):
        scipy.sparse.csr_matrix(np.ones((2, 5))) @ K
    with pytest.raises(ValueError, match="NaN"):
        K.apply(scipy.sparse.csr_matrix(np.full((2, 8), np.nan)))


# ------------------------------------------------- constructors' memory --
_PEAK = """
import resource, numpy as np, kmatrix as km
{setup}
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
K = {expr}
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print((peak - base) * 1024 / K.twiddles.nbytes)
"""


# a circuit of 12 random layers over 2048 wires (each wire of a layer
# combines two of the layer before), built before the peak is measured
_LAYERS = """
rng = np.random.default_rng(0)
c = km.Circuit(2048)
wires = list(c.inputs)
for _ in range(12):
    pick, w = rng.integers(0, 2048, (2048, 2)), rng.standard_normal((2048, 2))
    wires = [c.gate(w[k, 0], wires[pick[k, 0]], w[k, 1], wires[pick[k, 1]])
             for k in range(2048)]
c.set_outputs(wires)
"""


@pytest.mark.parametrize("expr, bound", [
    ("km.KMatrix.random(2 ** 19, dtype=np.float32, random_state=0)", 2.0),
    # complex draws were 2.75x, from_circuit 5.7-10x (one full network per
    # candidate construction, products concatenated pairwise)
    ("km.KMatrix.random(2 ** 18, dtype=np.complex128, random_state=0)", 1.6),
    ("km.KMatrix.random(2 ** 18, dtype=np.complex64, init='normal', random_state=0)", 1.6),
    ("km.KMatrix.from_circuit(c)", 2.0),
    ("km.KMatrix.dft(2 ** 17)", 3.0),
    ("km.KMatrix.dft(100003)", 3.0),
    ("km.KMatrix.dct(2 ** 16)", 3.0),
    ("km.KMatrix.from_permutation(np.random.default_rng(0).permutation(2 ** 17))", 3.0),
    ("km.KMatrix.hadamard(2 ** 18)", 3.0),
])
def test_constructors_peak_near_the_size_of_their_result(expr, bound, tmp_path):
    # twiddles of 20-80 MB: large against the interpreter's own growth; run
    # away from the source tree, so that the installed package is imported
    setup = _LAYERS if "from_circuit" in expr else ""
    done = subprocess.run([sys.executable, "-c", _PEAK.format(setup=setup, expr=expr)],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    ratio = float(done.stdout)
    print(f"{expr}: {ratio:.2f}x")
    assert ratio <= bound, f"{expr}: peak growth {ratio:.2f}x its twiddles"


# ------------------------------------------- twiddles converted for a call --
def _mixed_rows(K, dtype, n_rows=3):
    return np.random.default_rng(5).standard_normal((n_rows, K.n_in)).astype(dtype)


def _assert_current(K, X):
    """K.apply(X) (a converting call) against the dense matrix of K's
    current twiddles, built in K's own dtype (no conversion)."""
    dense = K.todense().astype(np.result_type(K.dtype, X.dtype))
    np.testing.assert_allclose(K.apply(X), X @ dense.T, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("op_dtype, x_dtype, converted", [
    (np.float32, np.float64, np.float64),
    (np.float32, np.complex128, np.float64),     # real and imaginary parts, in float64
    (np.complex64, np.complex128, np.complex128),
])
def test_a_conversion_of_the_twiddles_is_reused_and_never_stale(op_dtype, x_dtype, converted):
    K = km.KMatrix.random(48, 64, width=2, dtype=op_dtype, random_state=0)
    X = _mixed_rows(K, x_dtype)
    Y = K.apply(X)
    assert K.__dict__["_converted"].dtype == converted
    assert np.array_equal(K.apply(X), Y)
    # an edit through a view held across calls is seen by the next call
    view = K.twiddles
    view[0, 0, 0] *= -3
    _assert_current(K, X)
    del view
    # through a view made and dropped in one statement, after a fresh conversion
    K.apply(X)
    K.twiddles[0, 1, 0] *= 0.5
    _assert_current(K, X)
    # and through assignment (of an array made before the conversion)
    flipped = np.flip(K.twiddles, axis=-1).copy()
    K.apply(X)
    K.twiddles = flipped
    _assert_current(K, X)
    assert not np.allclose(K.apply(X), Y)


def test_shared_twiddles_are_never_served_from_a_conversion():
    C = km.KMatrix.random(32, dtype=np.complex64, random_state=1)
    R = C.real                            # shares C's twiddles
    X = _mixed_rows(R, np.float64)
    first = R.apply(X)
    assert "_converted" not in R.__dict__
    C.twiddles[0, 0, 0] = [[0, 1], [1, 0]]
    assert not np.allclose(R.apply(X), first)


def test_pickles_carry_no_conversion():
    K = km.KMatrix.random(16, dtype=np.float32, random_state=2)
    K.apply(_mixed_rows(K, np.float64))
    assert "_converted" in K.__dict__
    assert "_converted" not in pickle.loads(pickle.dumps(K)).__dict__


# --------------------------------------------- estimator sizes judged early --
@pytest.mark.parametrize("make, match", [
    (lambda: km.KMatrixRandomProjection(n_components=2 ** 26),
     r"KMatrixRandomProjection\(n_components=67108864\).*more than this machine"),
    (lambda: km.KMatrixRandomFeatures(n_components=2 ** 33),
     r"KMatrixRandomFeatures\(n_components=8589934592\).*more than this machine"),
])
def test_random_transformers_judge_n_components_before_allocating(make, match):
    X = np.ones((3, 8))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # n_components > n_features
        with pytest.raises(ValueError, match=match):
            make().fit(X)


@pytest.mark.parametrize("expansion, match", [
    (10 ** 6, r"KMatrixApproximator\(expansion=1000000\).*working matrix.*more than this machine"),
    (2 ** 40, r"KMatrixApproximator\(expansion=1099511627776\).*beyond kmatrix's limit"),
])
def test_the_approximator_judges_its_expansion_before_allocating(expansion, match):
    M = np.random.default_rng(0).standard_normal((4, 4))
    with pytest.raises(ValueError, match=match):
        km.KMatrixApproximator(expansion=expansion).fit(M)
