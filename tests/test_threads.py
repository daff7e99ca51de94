"""Thread control: results must not depend on the number of threads.

The kernel splits a batch into chunks of a cache line of rows and runs them
with a static OpenMP schedule; each row's arithmetic is the same whichever
thread runs it, so 1 and 2 threads must give bit-identical results
(``np.array_equal``, not allclose). The sizes below are large enough for the
kernel to actually use a second thread (it stays serial below ~64k butterfly
operations), with batch sizes that are not multiples of a chunk.
"""

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

import kaleido as kd
from _helpers import random_input

DTYPES = [np.float32, np.float64, np.complex64, np.complex128]
DTYPE_IDS = ["float32", "float64", "complex64", "complex128"]
BATCH_SIZES = [1, 17, 100, 1001]  # none a multiple of 16 (or of 8)


@pytest.fixture(scope="module")
def kmatrices():
    # size 256, width 2: a batch of 1001 rows is ~10^6 butterflies
    return {np.dtype(d): kd.KMatrix.random(200, 150, width=2, dtype=d, init="normal",
                                           random_state=0) for d in DTYPES}


def _case(kmatrices, dtype, n_samples, trans="N"):
    K = kmatrices[np.dtype(dtype)]
    in_len = K.n_in if trans == "N" else K.n_out
    X = random_input(np.random.default_rng(n_samples), (n_samples, in_len), dtype)
    return K, X


@pytest.mark.parametrize("trans", ["N", "H"])
@pytest.mark.parametrize("n_samples", BATCH_SIZES)
@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_threadpool_limits_give_identical_results(kmatrices, dtype, n_samples, trans):
    K, X = _case(kmatrices, dtype, n_samples, trans)
    with threadpool_limits(limits=1):
        Y1 = K.apply(X, trans=trans)
    with threadpool_limits(limits=2):
        Y2 = K.apply(X, trans=trans)
    assert np.array_equal(Y1, Y2)
    # and the default (all cores) agrees too
    assert np.array_equal(Y1, K.apply(X, trans=trans))


@pytest.mark.parametrize("trans", ["N", "T"])
@pytest.mark.parametrize("n_samples", BATCH_SIZES)
@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_workers_argument_gives_identical_results(kmatrices, dtype, n_samples, trans):
    K, X = _case(kmatrices, dtype, n_samples, trans)
    Y1 = K.apply(X, trans=trans, workers=1)
    Y2 = K.apply(X, trans=trans, workers=2)
    Y_all = K.apply(X, trans=trans, workers=-1)
    Y4 = K.apply(X, trans=trans, workers=4)  # more threads than cores is allowed
    assert np.array_equal(Y1, Y2)
    assert np.array_equal(Y1, Y_all)
    assert np.array_equal(Y1, Y4)


@pytest.mark.parametrize("n_samples", BATCH_SIZES)
@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_set_workers_gives_identical_results(kmatrices, dtype, n_samples):
    K, X = _case(kmatrices, dtype, n_samples)
    with kd.set_workers(1):
        Y1 = K.apply(X)
    with kd.set_workers(2):
        Y2 = K.apply(X)
    assert np.array_equal(Y1, Y2)


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_threaded_result_is_correct(kmatrices, dtype):
    # identical is not enough: both must be the serial, row-by-row result
    K, X = _case(kmatrices, dtype, 333)
    Y2 = K.apply(X, workers=2)
    rows = np.stack([K.apply(X[r], workers=1) for r in (0, 1, 15, 16, 17, 200, 332)])
    assert np.array_equal(Y2[[0, 1, 15, 16, 17, 200, 332]], rows)


@pytest.mark.parametrize("k_dtype", [np.float32, np.float64])
def test_real_kmatrix_complex_input_identical_across_threads(k_dtype):
    K = kd.KMatrix.random(300, width=2, dtype=k_dtype, random_state=1)
    X = random_input(np.random.default_rng(1), (517, 300), np.complex128)
    assert np.array_equal(K.apply(X, workers=1), K.apply(X, workers=2))


def test_products_and_operators_identical_across_threads():
    K1 = kd.KMatrix.random(120, 90, width=2, random_state=2)
    K2 = kd.KMatrix.random(200, 120, width=1, random_state=3)
    P = K1 @ K2
    S = K1 + kd.KMatrix.random(120, 90, random_state=4)
    V = np.random.default_rng(2).standard_normal((200, 301))
    with threadpool_limits(limits=1):
        results1 = (P @ V, S.todense(), kd.aslinearoperator(P).matmat(V))
    with threadpool_limits(limits=2):
        results2 = (P @ V, S.todense(), kd.aslinearoperator(P).matmat(V))
    for a, b in zip(results1, results2):
        assert np.array_equal(a, b)


def test_operator_workers_argument_identical():
    K = kd.KMatrix.random(256, dtype=np.complex128, width=2, random_state=5)
    V = random_input(np.random.default_rng(5), (256, 99), np.complex128)
    A1 = kd.aslinearoperator(K, workers=1)
    A2 = kd.KMatrixOperator(K, workers=2)
    assert np.array_equal(A1.matmat(V), A2.matmat(V))
    assert np.array_equal(A1.rmatmat(V), A2.rmatmat(V))


# ----------------------------------------------------- workers semantics --
def test_workers_zero_raises():
    K = kd.KMatrix.random(8, random_state=0)
    with pytest.raises(ValueError, match="workers"):
        K.apply(np.ones((2, 8)), workers=0)
    with pytest.raises(ValueError, match="workers"):
        with kd.set_workers(0):
            pass  # pragma: no cover


@pytest.mark.parametrize("bad", [1.5, "2", -1000])
def test_workers_bad_values_raise(bad):
    K = kd.KMatrix.random(8, random_state=0)
    with pytest.raises(ValueError, match="workers"):
        K.apply(np.ones((2, 8)), workers=bad)


def test_workers_minus_one_works(kmatrices):
    K, X = _case(kmatrices, np.float64, 100)
    assert np.array_equal(K.apply(X, workers=-1), K.apply(X, workers=1))
    with kd.set_workers(-1):
        assert kd.get_workers() is not None and kd.get_workers() >= 1
        assert np.array_equal(K.apply(X), K.apply(X, workers=1))


def test_get_workers_default_is_none():
    assert kd.get_workers() is None


def test_set_workers_nests_and_restores():
    assert kd.get_workers() is None
    with kd.set_workers(2):
        assert kd.get_workers() == 2
        with kd.set_workers(1):
            assert kd.get_workers() == 1
        assert kd.get_workers() == 2
        with kd.set_workers(None):
            assert kd.get_workers() is None
        assert kd.get_workers() == 2
    assert kd.get_workers() is None


def test_set_workers_restores_on_exception():
    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        with kd.set_workers(1):
            raise Boom
    assert kd.get_workers() is None
    with kd.set_workers(2):
        with pytest.raises(Boom):
            with kd.set_workers(1):
                raise Boom
        assert kd.get_workers() == 2
    assert kd.get_workers() is None


def test_set_workers_is_thread_local():
    seen = {}

    def record(name):
        seen[name] = kd.get_workers()

    with kd.set_workers(1):
        t = threading.Thread(target=record, args=("inside",))
        t.start()
        t.join()
        assert kd.get_workers() == 1
    assert seen["inside"] is None

    # a thread's own setting does not leak into the main thread
    started, release = threading.Event(), threading.Event()

    def hold():
        with kd.set_workers(2):
            started.set()
            release.wait(10)

    t = threading.Thread(target=hold)
    t.start()
    assert started.wait(10)
    try:
        assert kd.get_workers() is None
    finally:
        release.set()
        t.join()


def test_threadpoolctl_sees_openmp():
    if not kd.openmp_enabled():
        pytest.skip("kaleido was built without OpenMP")
    apis = {info["user_api"] for info in threadpool_info()}
    assert "openmp" in apis
    # the OpenMP runtime the kernels use is the one threadpoolctl limits
    # (private helper: the kernels' default thread count)
    from kaleido._kernels import default_threads
    with threadpool_limits(limits=1, user_api="openmp"):
        assert default_threads() == 1
    with threadpool_limits(limits=2, user_api="openmp"):
        assert default_threads() == 2


# ------------------------------------------------ concurrent Python calls --
@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_concurrent_calls_from_python_threads(kmatrices, dtype):
    # the kernels release the GIL; concurrent calls must not interfere
    K = kmatrices[np.dtype(dtype)]
    rng = np.random.default_rng(7)
    inputs = [random_input(rng, (n, K.n_in), dtype) for n in (33, 64, 129, 250, 7, 401)]
    expected = [K.apply(X, workers=1) for X in inputs]
    with ThreadPoolExecutor(max_workers=4) as pool:
        for _ in range(3):
            got = list(pool.map(lambda X: K.apply(X, workers=2), inputs))
            for g, e in zip(got, expected):
                assert np.array_equal(g, e)


@pytest.mark.parametrize("params", [
    dict(width=2, method="gradient", max_iter=30),
    dict(field="complex", expansion=2, method="gradient", max_iter=15, solver="adam+lbfgs"),
    dict(width=1, max_iter=30),   # a poor hierarchical fit: Adam from a random start
    dict(width=2, max_iter=30),   # near-exact hierarchical fit (noisy K): Adam from it
])
def test_approximator_identical_across_threads(params):
    rng = np.random.default_rng(4)
    M = rng.standard_normal((200, 256))
    near_exact = params.get("width") == 2 and "method" not in params
    if near_exact:
        M = kd.KMatrix.random(256, random_state=3).todense() + 1e-5 * rng.standard_normal((256, 256))
    fits = []
    for threads in (1, 2):
        with threadpool_limits(threads):
            est = kd.KMatrixApproximator(random_state=0, **params).fit(M)
        fits.append(est)
    assert np.array_equal(fits[0].kmatrix_.twiddles, fits[1].kmatrix_.twiddles)
    assert fits[0].loss_curve_ == fits[1].loss_curve_
    assert fits[0].method_ == fits[1].method_
    if near_exact:   # the path this case is for: Adam started from the hierarchical fit
        assert fits[0].n_iter_ == 30 and fits[0].loss_curve_[0] < 0.1
