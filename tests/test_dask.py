"""Dask arrays of rows: lazy results, bit for bit NumPy's, on threads and on
a real distributed cluster of two worker processes."""

import subprocess
import sys
import warnings

import numpy as np
import pytest

import kmatrix as km
from _helpers import random_input

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")


def _no_compute(*args, **kwargs):
    raise AssertionError("the graph was computed while it was being built")


@pytest.mark.parametrize("trans", ["N", "T", "H"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex64, np.complex128],
                         ids=["float32", "float64", "complex64", "complex128"])
def test_apply_on_a_dask_array_is_lazy_and_exact(dtype, trans):
    K = km.KMatrix.random(200, 300, width=2, dtype=dtype, random_state=0)
    in_len, out_len = (K.n_in, K.n_out) if trans == "N" else (K.n_out, K.n_in)
    X = random_input(np.random.default_rng(1), (1001, in_len), dtype)
    Xd = da.from_array(X, chunks=(97, 64))      # several blocks of columns too
    with dask.config.set(scheduler=_no_compute):
        Yd = K.apply(Xd, trans=trans)
    assert isinstance(Yd, da.Array)
    assert Yd.shape == (1001, out_len) and Yd.dtype == K.apply(X[:1], trans=trans).dtype
    assert Yd.numblocks == (Xd.numblocks[0], 1)   # one task per row block
    assert Yd._meta.dtype == Yd.dtype
    np.testing.assert_array_equal(Yd.compute(), K.apply(X, trans=trans))


def test_matmul_and_vectors_with_dask_arrays():
    K = km.KMatrix.dct(128, dtype=np.float32)
    rng = np.random.default_rng(2)
    V = rng.standard_normal((128, 50)).astype(np.float32)
    W = rng.standard_normal((30, 128)).astype(np.float32)
    x = rng.standard_normal(128).astype(np.float32)
    with dask.config.set(scheduler=_no_compute):
        KV = K @ da.from_array(V, chunks=(64, 20))
        WK = da.from_array(W, chunks=7) @ K
        Kx = K.apply(da.from_array(x, chunks=50))
        Kx2 = K @ da.from_array(x, chunks=50)
    np.testing.assert_array_equal(KV.compute(), K @ V)
    np.testing.assert_array_equal(WK.compute(), W @ K)
    np.testing.assert_array_equal(Kx.compute(), K @ x)
    np.testing.assert_array_equal(Kx2.compute(), K @ x)
    with pytest.raises(ValueError, match="features"):
        K.apply(da.ones((4, 127), chunks=2))
    with pytest.raises(ValueError, match="out="):
        K.apply(da.ones((4, 128), chunks=2), out=np.empty((4, 128)))


def test_estimators_predict_and_transform_dask_arrays():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((400, 64))
    y = np.maximum(X @ rng.standard_normal((64, 64)) / 8, 0)
    Xd = da.from_array(X, chunks=(90, 64))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reg = km.KMatrixRegressor(max_iter=3, random_state=0).fit(X, y)
        reg1 = km.KMatrixRegressor(max_iter=3, random_state=0).fit(X, y[:, 0])
    app = km.KMatrixApproximator().fit(np.fft.fft(np.eye(64)))
    with dask.config.set(scheduler=_no_compute):
        P, P1 = reg.predict(Xd), reg1.predict(Xd)
        T = app.transform(Xd)
        Tc = app.transform(Xd.astype(np.complex64))
    assert P.shape == (400, 64) and P1.shape == (400,) and T.shape == (400, 64)
    np.testing.assert_array_equal(P.compute(), reg.predict(X))
    np.testing.assert_array_equal(P1.compute(), reg1.predict(X))
    np.testing.assert_array_equal(T.compute(), app.transform(X))
    np.testing.assert_array_equal(Tc.compute(), app.transform(X.astype(np.complex64)))
    assert T.dtype == app.transform(X[:2]).dtype


def test_partial_fit_over_the_blocks_of_a_dask_array():
    # data larger than memory, in the small: one block in memory at a time
    rng = np.random.default_rng(4)
    X = rng.standard_normal((1200, 32))
    y = X @ (np.eye(32)[::-1]) + 0.01 * rng.standard_normal((1200, 32))
    Xd, yd = da.from_array(X, chunks=(200, 32)), da.from_array(y, chunks=(200, 32))
    reg = km.KMatrixRegressor(init="identity", learning_rate_init=1e-2, random_state=0)
    for _ in range(5):
        for Xb, yb in zip(Xd.blocks, yd.blocks):
            reg.partial_fit(Xb.compute(), yb.compute())
    reference = km.KMatrixRegressor(init="identity", learning_rate_init=1e-2, random_state=0)
    for _ in range(5):
        for r in range(0, 1200, 200):
            reference.partial_fit(X[r:r + 200], y[r:r + 200])
    np.testing.assert_array_equal(reg.kmatrix_.twiddles, reference.kmatrix_.twiddles)


def test_dask_ml_wrappers_where_they_work():
    dask_ml = pytest.importorskip("dask_ml.wrappers")
    rng = np.random.default_rng(5)
    X = rng.standard_normal((600, 32))
    y = X[:, 0] - X[:, 3]
    Xd, yd = da.from_array(X, chunks=150), da.from_array(y, chunks=150)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        inc = dask_ml.Incremental(km.KMatrixRegressor(random_state=0)).fit(Xd, yd)
        post = dask_ml.ParallelPostFit(km.KMatrixRegressor(max_iter=5, random_state=0)).fit(X, y)
    assert isinstance(inc.predict(Xd), da.Array)
    np.testing.assert_array_equal(post.predict(Xd).compute(), post.predict(X))


def _default_threads():
    from kmatrix._core import _kernels
    return _kernels.default_threads()


def test_local_cluster_of_two_worker_processes():
    distributed = pytest.importorskip("distributed")
    K = km.KMatrix.random(300, 512, width=2, dtype=np.float32, random_state=6)
    X = random_input(np.random.default_rng(7), (3000, 512), np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # distributed's own start-up notices
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                      dashboard_address=None) as cluster, \
                distributed.Client(cluster) as client:
            Yd = K.apply(da.from_array(X, chunks=(250, 512)))
            Y = Yd.compute()
            # each worker process bounds the kernels' default threads to its own
            threads = client.run(_default_threads)
            pids = client.run(lambda: __import__("os").getpid())
    assert len(set(pids.values())) == 2
    assert set(threads.values()) == {1}
    np.testing.assert_array_equal(Y, K.apply(X))


def test_kmatrix_imports_without_dask(tmp_path):
    code = ("import sys; sys.modules['dask'] = None; sys.modules['dask.array'] = None\n"
            "import numpy as np, kmatrix as km\n"
            "K = km.KMatrix.random(8, random_state=0)\n"
            "print(K.apply(np.ones((2, 8))).shape)")
    # (run outside the source tree, whose kmatrix/ is not the built package)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "(2, 8)" in done.stdout
