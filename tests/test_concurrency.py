"""Concurrent calls from several Python threads.

The kernels release the GIL, and kmatrix's thread team runs one job at a
time: a call made while another thread's job runs works on its own thread,
with its own scratch buffers. So several Python threads calling ``apply``,
``vjp`` and ``@`` on one shared KMatrix, or on operators of their own, or
running SciPy solvers, must get exactly the results of the same calls made
one after another. Every worker starts at a barrier and repeats its calls, so
that they overlap; the inputs mix calls large enough for the team (two
threads planned) with small ones that run on the caller alone.
"""

import threading

import numpy as np
import pytest
import scipy.sparse
import scipy.sparse.linalg as spla
from threadpoolctl import threadpool_limits

import kmatrix as km
from kmatrix._core import _kernels
from _helpers import assert_close_in_norm, random_input
from _reference import reference_matrix

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
