"""Thread control: results must not depend on the number of threads.

The kernels hand out fixed tasks (chunks of rows, or units of one long row's
phases) whose arithmetic does not depend on which thread runs them, and sum
twiddle gradients in fixed slots, so 1 and 2 threads must give bit-identical
results (``np.array_equal``, not allclose). A call with little work runs on
one thread, so every case here is sized for the kernel to plan two threads,
and ``two_threads`` (``run_two_threads``) repeats the two-thread call until
a second thread really ran part of it (``_kernels.last_threads()``); batch
sizes are not multiples of a chunk. Two-thread results are written into NaN-filled ``out=``
arrays (``nan_like``): a task that stored nothing cannot hide behind a new
array that reuses the memory of an earlier, correct result.
"""

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

import kmatrix as km
from kmatrix._core import _kernels
from _helpers import SharedCalls, nan_like, random_input, run_two_threads

DTYPES = [np.float32, np.float64, np.complex64, np.complex128]
DTYPE_IDS = ["float32", "float64", "complex64", "complex128"]
BATCH_SIZES = [1, 17, 100, 1001]  # none a multiple of 16 (or of 8)


def two_threads(fn):
    """run_two_threads with patience: the shortest calls here (100 rows of
    N = 256, tens of microseconds) may end before a sleeping helper is
    scheduled on a loaded machine, so they are tried up to 1000 times (each
    try is well under a millisecond; the first few usually do)."""
    return run_two_threads(fn, tries=1000)


@pytest.fixture(scope="module")
def kmatrices():
    # Few rows need long ones for two threads to pay: size 8192 for 1 and 17
    # rows (the row and tile paths), 256 for 100 and 1001 (the small path
    # for real types, tiles for complex ones); width 2.
    return {(np.dtype(d), big): km.KMatrix.random(7000 if big else 150, 8000 if big else 200,
                                                  width=2, dtype=d, init="normal",
                                                  random_state=0)
            for d in DTYPES for big in (False, True)}


def _case(kmatrices, dtype, n_samples, trans="N"):
    K = kmatrices[(np.dtype(dtype), n_samples < 100)]
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
        assert _kernels.last_threads() == (1, 1)
    with threadpool_limits(limits=2):
        Y2 = two_threads(lambda: K.apply(X, trans=trans, out=nan_like(Y1)))
    assert np.array_equal(Y1, Y2)
    # and the default (all cores, a new output array) agrees too
    assert np.array_equal(Y1, K.apply(X, trans=trans))


@pytest.mark.parametrize("trans", ["N", "T"])
@pytest.mark.parametrize("n_samples", BATCH_SIZES)
@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_workers_argument_gives_identical_results(kmatrices, dtype, n_samples, trans):
    K, X = _case(kmatrices, dtype, n_samples, trans)
    Y1 = K.apply(X, trans=trans, workers=1)
    Y2 = two_threads(lambda: K.apply(X, trans=trans, workers=2, out=nan_like(Y1)))
    Y_all = K.apply(X, trans=trans, workers=-1, out=nan_like(Y1))
    # more threads than cores is allowed (capped)
    Y4 = K.apply(X, trans=trans, workers=4, out=nan_like(Y1))
    assert np.array_equal(Y1, Y2)
    assert np.array_equal(Y1, Y_all)
    assert np.array_equal(Y1, Y4)


@pytest.mark.parametrize("n_samples", BATCH_SIZES)
@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_set_workers_gives_identical_results(kmatrices, dtype, n_samples):
    K, X = _case(kmatrices, dtype, n_samples)
    with km.set_workers(1):
        Y1 = K.apply(X)
    with km.set_workers(2):
        Y2 = two_threads(lambda: K.apply(X, out=nan_like(Y1)))
    assert np.array_equal(Y1, Y2)


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_threaded_result_is_correct(kmatrices, dtype):
    # identical is not enough: every row must be the serial result of that
    # row alone (a row's result does not depend on its batch)
    K, X = _case(kmatrices, dtype, 333)
    rows = np.stack([K.apply(X[r], workers=1) for r in range(X.shape[0])])
    Y2 = two_threads(lambda: K.apply(X, workers=2, out=nan_like(rows)))
    assert np.array_equal(Y2, rows)


@pytest.mark.parametrize("k_dtype", [np.float32, np.float64])
def test_real_kmatrix_complex_input_identical_across_threads(k_dtype):
    K = km.KMatrix.random(300, width=2, dtype=k_dtype, random_state=1)
    X = random_input(np.random.default_rng(1), (517, 300), np.complex128)
    Y1 = K.apply(X, workers=1)
    assert np.array_equal(Y1, two_threads(lambda: K.apply(X, workers=2, out=nan_like(Y1))))


@pytest.mark.parametrize("c_dtype", [np.complex64, np.complex128])
@pytest.mark.parametrize("n_samples", [1, 700])
def test_real_part_identical_across_threads(c_dtype, n_samples):
    # real rows through K.real (the kernels' real-I/O mode), both paths; a
    # single row's gradient runs along the row (the threads split every
    # stage's pairs), a batch's through the gradient slots
    n = 8192 if n_samples == 1 else 512
    K = km.KMatrix.random(n, width=2, dtype=c_dtype, random_state=2).real
    X = random_input(np.random.default_rng(2), (n_samples, n), K.dtype)
    Y1 = K.apply(X, workers=1)
    assert np.array_equal(Y1, two_threads(lambda: K.apply(X, workers=2, out=nan_like(Y1))))
    G = random_input(np.random.default_rng(3), (n_samples, n), K.dtype)
    d2 = two_threads(lambda: K.vjp(X, G, workers=2))
    assert _kernels.last_path() == ("vjp-rows" if n_samples == 1 else "vjp")
    d1 = K.vjp(X, G, workers=1)
    assert np.array_equal(d1[0], d2[0]) and np.array_equal(d1[1], d2[1])


def test_products_and_operators_identical_across_threads():
    K1 = km.KMatrix.random(90, 120, width=2, random_state=2)
    K2 = km.KMatrix.random(120, 200, width=1, random_state=3)
    P = K1 @ K2
    S = K1 + km.KMatrix.random(90, 120, random_state=4)
    V = np.random.default_rng(2).standard_normal((200, 3001))
    calls = [lambda: P @ V, S.todense, lambda: km.aslinearoperator(P).matmat(V)]
    with threadpool_limits(limits=2):   # each one kernel call, two threads
        results2 = [two_threads(call) for call in calls]
    with threadpool_limits(limits=1):
        results1 = [call() for call in calls]
    for a, b in zip(results1, results2):
        assert np.array_equal(a, b)


def test_operator_workers_argument_identical():
    K = km.KMatrix.random(256, dtype=np.complex128, width=2, random_state=5)
    V = random_input(np.random.default_rng(5), (256, 199), np.complex128)
    A1 = km.aslinearoperator(K, workers=1)
    A2 = km.KMatrixOperator(K, workers=2)
    Y2 = two_threads(lambda: A2.matmat(V))
    Z2 = two_threads(lambda: A2.rmatmat(V))
    assert np.array_equal(A1.matmat(V), Y2)
    assert np.array_equal(A1.rmatmat(V), Z2)


# ----------------------------------------------------- workers semantics --
def test_workers_zero_raises():
    K = km.KMatrix.random(8, random_state=0)
    with pytest.raises(ValueError, match="workers"):
        K.apply(np.ones((2, 8)), workers=0)
    with pytest.raises(ValueError, match="workers"):
        with km.set_workers(0):
            pass  # pragma: no cover


@pytest.mark.parametrize("bad", [1.5, "2", -1000])
def test_workers_bad_values_raise(bad):
    K = km.KMatrix.random(8, random_state=0)
    with pytest.raises(ValueError, match="workers"):
        K.apply(np.ones((2, 8)), workers=bad)


def test_workers_minus_one_works(kmatrices):
    # -1 is every usable CPU: two threads or more where there are two CPUs
    K, X = _case(kmatrices, np.float64, 100)
    Y1 = K.apply(X, workers=1)
    several = _kernels.cpu_count() >= 2
    run = two_threads if several and _kernels.cpu_count() == 2 else (lambda f: f())
    assert np.array_equal(run(lambda: K.apply(X, workers=-1, out=nan_like(Y1))), Y1)
    if several:
        assert _kernels.last_threads()[0] >= 2
    with km.set_workers(-1):
        assert km.get_workers() == _kernels.cpu_count()
        assert np.array_equal(run(lambda: K.apply(X, out=nan_like(Y1))), Y1)


def test_get_workers_default_is_none():
    assert km.get_workers() is None


def test_set_workers_nests_and_restores():
    assert km.get_workers() is None
    with km.set_workers(2):
        assert km.get_workers() == 2
        with km.set_workers(1):
            assert km.get_workers() == 1
        assert km.get_workers() == 2
        with km.set_workers(None):
            assert km.get_workers() is None
        assert km.get_workers() == 2
    assert km.get_workers() is None


def test_set_workers_restores_on_exception():
    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        with km.set_workers(1):
            raise Boom
    assert km.get_workers() is None
    with km.set_workers(2):
        with pytest.raises(Boom):
            with km.set_workers(1):
                raise Boom
        assert km.get_workers() == 2
    assert km.get_workers() is None


def test_set_workers_is_thread_local():
    seen = {}

    def record(name):
        seen[name] = km.get_workers()

    with km.set_workers(1):
        t = threading.Thread(target=record, args=("inside",))
        t.start()
        t.join()
        assert km.get_workers() == 1
    assert seen["inside"] is None

    # a thread's own setting does not leak into the main thread
    started, release = threading.Event(), threading.Event()

    def hold():
        with km.set_workers(2):
            started.set()
            release.wait(10)

    t = threading.Thread(target=hold)
    t.start()
    assert started.wait(10)
    try:
        assert km.get_workers() is None
    finally:
        release.set()
        t.join()


def test_threadpoolctl_sees_openmp():
    if not km.openmp_enabled():
        pytest.skip("kmatrix was built without OpenMP")
    apis = {info["user_api"] for info in threadpool_info()}
    assert "openmp" in apis
    # the OpenMP runtime the kernels use is the one threadpoolctl limits
    # (private helper: the kernels' default thread count)
    from kmatrix._core._kernels import default_threads
    with threadpool_limits(limits=1, user_api="openmp"):
        assert default_threads() == 1
    with threadpool_limits(limits=2, user_api="openmp"):
        assert default_threads() == 2


# ------------------------------------------------ concurrent Python calls --
@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_concurrent_calls_from_python_threads(kmatrices, dtype):
    # the kernels release the GIL; concurrent calls must not interfere
    K = kmatrices[(np.dtype(dtype), False)]
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
        M = km.KMatrix.random(256, random_state=3).todense() + 1e-5 * rng.standard_normal((256, 256))
    fits = []
    for threads in (1, 2):
        with threadpool_limits(threads), SharedCalls() as shared:
            est = km.KMatrixApproximator(random_state=0, **params).fit(M)
        fits.append(est)
        assert (shared.count > 0) == (threads == 2)   # the gradient ran on two threads
    assert np.array_equal(fits[0].kmatrix_.twiddles, fits[1].kmatrix_.twiddles)
    assert fits[0].loss_curve_ == fits[1].loss_curve_
    assert fits[0].method_ == fits[1].method_
    if near_exact:   # the path this case is for: Adam started from the hierarchical fit
        # (its trial of 20 steps, at least; it stops there if they do not pay)
        assert fits[0].n_iter_ >= 20 and fits[0].loss_curve_[0] < 0.1


def test_huge_worker_counts_are_capped():
    # the team never grows past the usable CPUs (at least 2): no thread
    # explosion, no overflow, the same result
    K = km.KMatrix.random(4096, random_state=0)
    X = np.ones((300, 4096))
    Y1 = K.apply(X, workers=1)
    cap = max(2, _kernels.cpu_count())
    python_threads = threading.active_count()
    for workers in (40000, 2 ** 31, 10 ** 30):
        assert np.array_equal(K.apply(X, workers=workers, out=nan_like(Y1)), Y1)
        assert 2 <= _kernels.last_threads()[0] <= cap
    assert threading.active_count() == python_threads   # the team is not Python threads
    try:
        import os
        n_threads = len(os.listdir("/proc/self/task"))
    except OSError:  # pragma: no cover - not Linux
        return
    assert n_threads <= cap + 16   # the team, BLAS's threads, Python's own
