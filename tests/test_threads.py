"""Threads: results must not depend on the number of threads, thread-count
selection (``workers``, ``set_workers``, threadpoolctl), the serial threshold,
and concurrent calls from Python threads: the thread tests of every module.

The kernels hand out fixed tasks (chunks of rows, or units of one long row's
phases) whose arithmetic does not depend on which thread runs them, and sum
twiddle gradients in fixed slots, so 1 and 2 threads must give bit-identical
results (``np.array_equal``, not allclose). A call with little work runs on
one thread, so every case here is sized for the kernel to plan two threads,
and ``two_threads`` (``run_two_threads``) repeats the two-thread call until
a second thread really ran part of it (``_kernels.last_threads()``; whole
fits: ``until_shared``); batch sizes are not multiples of a chunk. Two-thread
results are written into NaN-filled ``out=`` arrays (``nan_like``): a task
that stored nothing cannot hide behind a new array that reuses the memory of
an earlier, correct result.
"""

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import scipy.sparse
import scipy.sparse.linalg as spla
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_info, threadpool_limits

import kmatrix as km
from kmatrix._core import _kernels
from _helpers import (SharedCalls, assert_close_in_norm, nan_like, random_input, rel_error,
                      rtol_for, run_two_threads, until_shared, vjp_rtol)
from _reference import reference_apply, reference_matrix

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


# ---------------------------- long rows shared by threads (N = 2**15) --
@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_long_rows_shared_by_threads(dtype):
    # N = 2**15: both threads work on each chunk (tiles) or row (rows)
    n = 2 ** 15
    K = km.KMatrix.random(n - 5, n, dtype=dtype, random_state=5)
    rng = np.random.default_rng(5)
    for rows, path in [(1, "rows"), (20, "tiles-shared")]:
        X = random_input(rng, (rows, n), dtype)
        Y1 = K.apply(X, workers=1)
        Y = run_two_threads(lambda: K.apply(X, workers=2, out=nan_like(Y1)))
        assert _kernels.last_path() == path
        assert_close_in_norm(Y, reference_apply(K, X), 4 * rtol_for(np.finfo(dtype).dtype, K))
        np.testing.assert_array_equal(Y, Y1)


# ---------------------------------------------------------------- vjp --
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_vjp_bit_identical_for_1_and_2_threads(dtype):
    rng = np.random.default_rng(8)
    K = km.KMatrix.random(200, 300, width=2, dtype=dtype, random_state=5)
    rows = 16 * 37 + 5   # many chunks, several reduction slots, a partial chunk
    X = random_input(rng, (rows, 300), dtype)
    G = random_input(rng, (rows, 200), dtype)
    # two threads first: the serial call's freed buffers hold no right
    # answer for a lost task of the threaded call to hide behind
    dX2, dtw2 = run_two_threads(lambda: K.vjp(X, G, workers=2))
    assert _kernels.last_path() == "vjp"
    with threadpool_limits(limits=1):
        dX1, dtw1 = K.vjp(X, G)
    assert np.array_equal(dX1, dX2)
    assert np.array_equal(dtw1, dtw2)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_vjp_of_one_row_identical_for_1_and_2_threads(dtype):
    # the row path splits every stage's pairs between the threads; a pair's
    # gradient is summed by one thread over the rows in order (N = 2**15:
    # each stage is long enough for two threads to pay)
    rng = np.random.default_rng(11)
    K = km.KMatrix.random(2 ** 15 - 3, 2 ** 15, dtype=dtype, random_state=7)
    X = random_input(rng, (1, K.n_in), dtype)
    G = random_input(rng, (1, K.n_out), dtype)
    dX2, dtw2 = run_two_threads(lambda: K.vjp(X, G, workers=2))
    assert _kernels.last_path() == "vjp-rows"
    dX1, dtw1 = K.vjp(X, G, workers=1)
    assert np.array_equal(dX1, dX2) and np.array_equal(dtw1, dtw2)
    # and the batch path on the same row among zero rows (which add nothing)
    pad = np.zeros((63, K.n_in), dtype), np.zeros((63, K.n_out), dtype)
    dXb, dtwb = K.vjp(np.vstack([X, pad[0]]), np.vstack([G, pad[1]]), workers=1)
    assert _kernels.last_path() in ("vjp", "vjp-shared")
    tol = vjp_rtol(dtype, K)
    assert rel_error(dX1, dXb[:1]) <= tol and rel_error(dtw1, dtwb) <= tol


def test_vjp_of_short_stages_stays_on_one_thread():
    # every stage of the row path is a barrier: thousands of short stages
    # (width 3000 at N = 32) would spend more on them than on the work
    K = km.KMatrix.random(32, width=3000, dtype=np.float32, random_state=8)
    x = np.ones((1, 32), dtype=np.float32)
    dx, dtw = K.vjp(x, x, workers=2)
    assert _kernels.last_path() == "vjp-rows" and _kernels.last_threads() == (1, 1)
    assert np.all(np.isfinite(dtw)) and dtw.shape == K.twiddles.shape


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_vjp_long_rows_shared_by_threads(dtype):
    # N = 2**15: both threads work on each chunk (one gradient slot)
    rng = np.random.default_rng(9)
    K = km.KMatrix.random(2 ** 15 - 7, 2 ** 15, dtype=dtype, random_state=6)
    X = random_input(rng, (19, K.n_in), dtype)
    G = random_input(rng, (19, K.n_out), dtype)
    dX2, dtw2 = run_two_threads(lambda: K.vjp(X, G, workers=2))
    assert _kernels.last_path() == "vjp-shared"
    dX1, dtw1 = K.vjp(X, G, workers=1)
    assert np.array_equal(dX1, dX2)
    assert np.array_equal(dtw1, dtw2)
    # dX is K^H applied to G; the twiddle gradient against the exact change
    # of L along a direction D confined to one stage (L is linear in each
    # stage's twiddles, so the difference quotient is exact), in double
    tol = 200 * np.finfo(dtype).eps * 30
    np.testing.assert_allclose(dX1, K.apply(G, trans="H"), rtol=tol, atol=tol * np.abs(dX1).max())
    ref = np.complex128 if np.dtype(dtype).kind == "c" else np.float64
    Kd = km.KMatrix(K.twiddles.astype(ref), K.shape)
    D = np.zeros(K.twiddles.shape, dtype=ref)
    D[0, 1, 7] = random_input(rng, D[0, 1, 7].shape, ref)
    Kp = km.KMatrix(Kd.twiddles + D, K.shape)
    Xd, Gd = X.astype(ref), G.astype(ref)
    change = np.real(np.vdot(Gd, Kp.apply(Xd))) - np.real(np.vdot(Gd, Kd.apply(Xd)))
    predicted = np.real(np.vdot(dtw1.astype(ref), D))
    assert abs(predicted - change) <= tol * 10 * abs(change)


# --------------------------------------------------------- estimators --
@pytest.mark.parametrize("dtype, field", [(np.float32, "real"), (np.float64, "real"),
                                          (np.float32, "complex")])
def test_regressor_same_model_for_one_and_two_threads(dtype, field):
    # n = 512 and 400 rows: large enough that the kernels really use 2 threads
    rng = np.random.default_rng(5)
    X = rng.standard_normal((400, 512)).astype(dtype)
    y = rng.standard_normal((400, 300)).astype(dtype)
    def fit():
        with pytest.warns(ConvergenceWarning):
            return km.KMatrixRegressor(width=2, out_activation="tanh", max_iter=3, batch_size=128,
                                       alpha=1e-3, field=field, random_state=0).fit(X, y)

    with threadpool_limits(1, user_api="openmp"), SharedCalls() as shared:
        a = fit()
    assert shared.count == 0
    with threadpool_limits(2, user_api="openmp"):
        b = until_shared(fit)   # two threads really ran
    assert np.array_equal(a.kmatrix_.twiddles, b.kmatrix_.twiddles)
    assert np.array_equal(a.intercept_, b.intercept_)
    assert a.loss_curve_ == b.loss_curve_


def test_regressor_losses_do_not_depend_on_threads_with_many_parameters():
    # 196,608 twiddles: long enough sums that BLAS would split them
    rng = np.random.default_rng(9)
    X = rng.standard_normal((64, 4096))
    y = rng.standard_normal(64)
    w = rng.uniform(0.5, 2, 64)
    def curve():
        with pytest.warns(ConvergenceWarning):
            reg = km.KMatrixRegressor(alpha=1e-3, max_iter=3, random_state=0)
            return reg.fit(X, y, sample_weight=w).loss_curve_

    with threadpool_limits(1), SharedCalls() as shared:
        one = curve()
    assert shared.count == 0
    with threadpool_limits(2):
        assert until_shared(curve) == one


@pytest.mark.parametrize("kind", ["features", "projection"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_random_features_do_not_depend_on_the_thread_count(kind, dtype):
    # 1001 rows of 1000 features (padded to 1024): the kernel plans two
    # threads; the features' cosine is fused into that kernel's store, so
    # it runs on the same two threads
    X = np.random.default_rng(11).standard_normal((1001, 1000)).astype(dtype)
    if kind == "features":
        est = km.KMatrixRandomFeatures(1500, gamma=1e-3, random_state=0).fit(X)
    else:
        est = km.KMatrixRandomProjection(700, random_state=0).fit(X)
    with km.set_workers(1):
        Y1 = est.transform(X)
        assert _kernels.last_threads()[0] == 1

    def two():
        with km.set_workers(2):
            return est.transform(X)

    Y2 = run_two_threads(two)
    assert np.array_equal(Y1, Y2)
    assert np.array_equal(Y1, est.transform(X))      # the default thread count


@pytest.mark.parametrize("params", [
    dict(width=2, method="gradient", max_iter=30),
    dict(field="complex", expansion=2, method="gradient", max_iter=15, solver="adam+lbfgs"),
    dict(width=1, max_iter=30),   # a poor hierarchical fit: Adam from a random start
    dict(width=2, max_iter=30),   # near-exact hierarchical fit (noisy K): Adam from it
    dict(max_iter=30),   # the default width: single-precision Adam, a second block's trial
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


# ------------------------------------- several Python threads at once --
# The kernels release the GIL, and kmatrix's thread team runs one job at a
# time: a call made while another thread's job runs works on its own thread,
# with its own scratch buffers. So several Python threads calling ``apply``,
# ``vjp`` and ``@`` on one shared KMatrix, or on operators of their own, or
# running SciPy solvers, must get exactly the results of the same calls made
# one after another. Every worker starts at a barrier and repeats its calls, so
# that they overlap; the inputs mix calls large enough for the team (two
# threads planned) with small ones that run on the caller alone.

N_THREADS = 4
ROUNDS = 3


def run_concurrently(jobs, rounds=ROUNDS):
    """Runs jobs[i]() ``rounds`` times on Python thread i, all started at a
    barrier; returns every result per thread (exceptions are re-raised)."""
    barrier = threading.Barrier(len(jobs))
    results = [[] for _ in jobs]
    errors = []

    def worker(i):
        try:
            barrier.wait(timeout=30)
            for _ in range(rounds):
                results[i].append(jobs[i]())
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a worker thread hung"
    if errors:
        raise errors[0]
    return results


def assert_identical(got, expected):
    """Nested tuples/lists of arrays, equal bit for bit."""
    if isinstance(expected, (tuple, list)):
        assert len(got) == len(expected)
        for g, e in zip(got, expected):
            assert_identical(g, e)
    else:
        assert got.dtype == expected.dtype and got.shape == expected.shape
        np.testing.assert_array_equal(got, expected)


def _calls_on(K, seed):
    """The calls one worker makes on K: a batch big enough for two threads,
    a few rows, one vector (K @ v), the adjoint of a batch, and a gradient."""
    rng = np.random.default_rng(seed)
    dtype = K.dtype
    big = random_input(rng, (300 + seed, K.n_in), dtype)
    few = random_input(rng, (3, K.n_in), dtype)
    v = random_input(rng, (K.n_in,), dtype)
    W = random_input(rng, (40, K.n_out), dtype)
    X = random_input(rng, (70, K.n_in), dtype)
    G = random_input(rng, (70, K.n_out), dtype)

    def call():
        return (K.apply(big), K.apply(few), K @ v, K.apply(W, trans="H"), K.H @ W.T,
                *K.vjp(X, G))

    return call


@pytest.mark.parametrize("dtype", [np.float32, np.complex128], ids=["float32", "complex128"])
def test_shared_kmatrix_from_python_threads(dtype):
    K = km.KMatrix.random(1500, 2048, width=2, dtype=dtype, random_state=0)
    jobs = [_calls_on(K, seed) for seed in range(N_THREADS)]
    expected = [job() for job in jobs]
    # the batches are large enough for the team when called alone
    K.apply(random_input(np.random.default_rng(0), (300, K.n_in), dtype), workers=2)
    assert _kernels.last_threads()[0] == 2
    results = run_concurrently(jobs)
    for per_thread, exp in zip(results, expected):
        for got in per_thread:
            assert_identical(got, exp)


def test_separate_kmatrices_in_separate_threads():
    # one operator per thread: different dtypes, sizes, widths and paths,
    # K.real among them
    kmatrices = [
        km.KMatrix.random(4096, width=1, dtype=np.float64, random_state=1),
        km.KMatrix.random(700, 1000, width=2, dtype=np.complex64, random_state=2),
        km.KMatrix.random(64, width=3, dtype=np.float32, random_state=3),
        km.KMatrix.random(2048, width=2, dtype=np.complex128, random_state=4).real,
    ]
    jobs = [_calls_on(K, seed) for seed, K in enumerate(kmatrices)]
    expected = [job() for job in jobs]
    results = run_concurrently(jobs)
    for per_thread, exp in zip(results, expected):
        for got in per_thread:
            assert_identical(got, exp)


def test_edits_of_one_operator_do_not_reach_another_threads():
    # each thread edits its own copy's twiddles between calls (as training
    # does); the other threads' results never change
    base = km.KMatrix.random(1024, width=2, random_state=5)
    X = random_input(np.random.default_rng(5), (200, 1024), np.float64)
    scales = [1.0, 0.5, 2.0, -1.0]
    copies = [base.copy() for _ in scales]
    expected = [base.apply(X) * s for s in scales]

    def job(i):
        K = copies[i]

        def call():
            # powers of two: every edit is undone exactly
            K.twiddles[0, 0, 0, 0] *= 4.0  # one block: another operator
            edited = K.apply(X)
            K.twiddles[0, 0, 0, 0] /= 4.0
            K.twiddles[0, 0, 0] *= scales[i]  # the first stage: scales K exactly
            Y = K.apply(X)
            K.twiddles[0, 0, 0] /= scales[i]
            return Y, edited

        return call

    results = run_concurrently([job(i) for i in range(len(scales))])
    edited0 = None
    for i, per_thread in enumerate(results):
        for Y, edited in per_thread:
            np.testing.assert_array_equal(Y, expected[i])
            if i == 0:
                edited0 = edited if edited0 is None else edited0
                np.testing.assert_array_equal(edited, edited0)
    assert not np.array_equal(edited0, expected[0])


def _solve_all(A, b_sym, b):
    """cg on A^H A + I, gmres on A + 3 I and lsqr on A: three solver runs."""
    n = A.shape[1]
    S = A.H @ A + spla.aslinearoperator(np.eye(n, dtype=A.dtype))
    x_cg, info_cg = spla.cg(S, b_sym, rtol=1e-11, atol=0, maxiter=500)
    # A + 3 I: its spectrum sits in a disc about 3 of radius 1 (A is
    # orthogonal), where GMRES converges in a few tens of steps
    shifted = A + 3 * spla.aslinearoperator(scipy.sparse.identity(n, dtype=A.dtype))
    x_gm, info_gm = spla.gmres(shifted, b, rtol=1e-11, atol=0, restart=40, maxiter=20)
    x_ls = spla.lsqr(A, b, atol=1e-13, btol=1e-13, iter_lim=500)[0]
    assert info_cg == 0 and info_gm == 0
    return x_cg, x_gm, x_ls


@pytest.mark.parametrize("shared", [True, False], ids=["one_operator", "one_per_thread"])
def test_scipy_solvers_from_python_threads(shared):
    # KMatrixOperator in cg, gmres and lsqr (products of one vector) from four
    # threads at once, on one shared operator or one each: every solve is the
    # serial one exactly (the solvers are deterministic once each product is,
    # with BLAS on one thread)
    n = 256
    rng = np.random.default_rng(6)
    dtypes = [np.float64, np.complex128, np.float64, np.complex128]
    if shared:
        K = km.KMatrix.random(n, width=2, dtype=np.complex128, random_state=6)
        operators = [km.aslinearoperator(K) for _ in dtypes]
        dtypes = [np.complex128] * len(dtypes)
    else:
        operators = [km.aslinearoperator(km.KMatrix.random(n, width=2, dtype=d,
                                                           random_state=7 + i))
                     for i, d in enumerate(dtypes)]
    rhs = [(random_input(rng, (n,), d), random_input(rng, (n,), d)) for d in dtypes]
    jobs = [lambda A=A, b=b: _solve_all(A, *b) for A, b in zip(operators, rhs)]
    with threadpool_limits(limits=1, user_api="blas"):
        expected = [job() for job in jobs]
        results = run_concurrently(jobs, rounds=2)
    for A, (b_sym, b), per_thread, exp in zip(operators, rhs, results, expected):
        for got in per_thread:
            assert_identical(got, exp)
        # and the serial solutions solve the systems
        M = reference_matrix(A.kmatrix)
        rtol = 1e-8
        assert_close_in_norm(M @ exp[1] + 3 * exp[1], b, rtol)
        assert_close_in_norm(M @ exp[2], b, rtol)
        assert_close_in_norm(M.conj().T @ (M @ exp[0]) + exp[0], b_sym, rtol)


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
