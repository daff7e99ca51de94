"""Tests of kmatrix._fitting.descent, the approximator's gradient fits.

Errors are measured independently: the reference matrix of the fitted
twiddles against the target, in Frobenius norm.
"""

import numpy as np
import pytest
import scipy.sparse.linalg as spla

import kmatrix as km
from kmatrix._fitting.descent import Trace, gradient_fit, probe_error, scaled_to
from _reference import reference_matrix


def frob_rel(K, M):
    return np.linalg.norm(reference_matrix(K) - M) / np.linalg.norm(M)


def fit(model, M, op=None, *, solver="adam", max_iter=60, tol=0.0, grow=False,
        learning_rate=0.01, seed=0):
    trace = Trace(None, max_iter)
    err = gradient_fit(model, M, op, grow=grow, max_iter=max_iter, tol=tol, solver=solver,
                       learning_rate=learning_rate, rng=np.random.RandomState(seed), trace=trace)
    return err, trace


def target(n=16, width=1, dtype=np.float64, seed=1):
    return km.KMatrix.random(n, width=width, dtype=dtype, init="normal", random_state=seed)


@pytest.mark.parametrize("solver", ["adam", "lbfgs", "adam+lbfgs"])
def test_gradient_fit_lowers_the_error(solver):
    T = target()
    M = reference_matrix(T)
    model = km.KMatrix.random(16, init="normal", random_state=2)
    start = frob_rel(model, M)
    err, trace = fit(model, M, solver=solver, max_iter=40)
    assert err < 0.7 * start
    # the error returned is the model's, which is the best iterate (Adam's
    # curve holds single-precision estimates while the error is large)
    assert err == pytest.approx(frob_rel(model, M), rel=1e-9)
    assert err == pytest.approx(min(trace.loss_curve), rel=1e-5) or err <= min(trace.loss_curve)
    assert trace.n_iter > 0


@pytest.mark.parametrize("dtype", [np.float64, np.complex128])
def test_gradient_fit_reaches_an_exact_target_from_a_near_start(dtype):
    T = target(dtype=dtype, width=2)
    M = reference_matrix(T)
    rng = np.random.default_rng(3)
    tw = T.twiddles.copy()
    noise = 1e-3 * rng.standard_normal(tw.shape)
    model = km.KMatrix(tw + (noise if tw.dtype.kind != "c" else noise * (1 + 1j)))
    start = frob_rel(model, M)
    assert start > 1e-3
    # the blocks' free scalings (a gauge) make the loss ill-conditioned:
    # L-BFGS closes in slowly (3e-5 after 300 steps), but it closes in
    err, trace = fit(model, M, solver="lbfgs", max_iter=300, tol=1e-9)
    assert err <= 1e-4 and err <= start / 30
    assert err == pytest.approx(frob_rel(model, M), rel=1e-6)
    # and stops as soon as it is within tol
    model = km.KMatrix(T.twiddles + 1e-7 * (1 + (tw.dtype.kind == "c") * 1j))
    err, trace = fit(model, M, solver="lbfgs", max_iter=300, tol=1e-5)
    assert err <= 1e-5 and trace.n_iter < 300


def test_gradient_fit_on_probes_of_an_operator_is_deterministic():
    T = target(n=32, width=1, seed=4)
    M = reference_matrix(T)
    op = spla.aslinearoperator(M)
    results = []
    for _ in range(2):
        model = km.KMatrix.random(32, init="normal", random_state=5)
        start = frob_rel(model, M)
        err, trace = fit(model, None, op, max_iter=30, seed=7)
        results.append((model.twiddles.copy(), err, trace.loss_curve))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    assert results[0][1:] == results[1][1:]
    assert frob_rel(model, M) < start
    # another seed draws other probes: another path
    model = km.KMatrix.random(32, init="normal", random_state=5)
    fit(model, None, op, max_iter=30, seed=8)
    assert not np.array_equal(model.twiddles, results[0][0])


def test_grown_fit_starts_its_new_blocks_at_the_identity():
    # grow: block 1 alone, then blocks 1 and 2; the second block starts as
    # the identity, so the error never jumps up between the phases
    T = target(width=2, seed=6)
    M = reference_matrix(T)
    model = km.KMatrix.random(16, width=2, init="identity", random_state=0)
    err, trace = fit(model, M, grow=True, max_iter=60)
    curve = trace.loss_curve
    assert err < curve[0]
    assert curve[30] <= curve[29] * 1.05


def test_a_grown_fit_wider_than_its_steps_runs_one_phase_per_step(monkeypatch):
    # a phase per block built an optimizer (and a wrapped model) for every
    # width: O(width^2) work and memory before any step; W = 10^6 took over
    # 3 minutes on a 4 x 4 matrix with max_iter=2
    import kmatrix._fitting.descent as descent

    made = []

    class Counting(descent.AdamOptimizer):
        def __init__(self, params, **kwargs):
            made.append(params[0].shape[0])
            super().__init__(params, **kwargs)

    monkeypatch.setattr(descent, "AdamOptimizer", Counting)
    M = np.random.default_rng(0).standard_normal((4, 4))
    model = km.KMatrix.random(4, width=5000, init="identity", random_state=0)
    err, trace = fit(model, M, grow=True, max_iter=3)
    assert made == [1667, 3334, 5000]
    assert np.isfinite(err) and trace.n_iter == 3


def test_a_diverging_fit_steps_back_to_its_best_iterate():
    # a product of 10^5 blocks amplifies a step's change e^(10^5 * lr):
    # the residual overflows, and the fit keeps its best iterate rather
    # than failing on a NaN inside the kernels
    M = np.random.default_rng(0).standard_normal((4, 4))
    est = km.KMatrixApproximator(width=100_000, method="gradient", max_iter=2).fit(M)
    assert est.kmatrix_.width == 100_000
    assert np.isfinite(est.relative_error_)
    assert np.all(np.isfinite(est.kmatrix_.twiddles))


@pytest.mark.parametrize("dtype", [np.float64, np.complex128])
def test_probe_error_estimates_the_frobenius_error(dtype):
    M = reference_matrix(target(n=32, dtype=dtype, seed=8))
    K = km.KMatrix.random(32, dtype=dtype, init="normal", random_state=9)
    exact = frob_rel(K, M)
    est = probe_error(K, spla.aslinearoperator(M), np.random.RandomState(0), n_probes=4000)
    assert est == pytest.approx(exact, rel=0.05)
    # the same rng state: the same estimate
    again = probe_error(K, spla.aslinearoperator(M), np.random.RandomState(0), n_probes=4000)
    assert again == est
    # exact model: zero
    T = target(n=32, dtype=dtype, seed=8)
    assert probe_error(T, spla.aslinearoperator(M), np.random.RandomState(1)) < 1e-12


def test_probe_error_rejects_a_non_finite_operator():
    M = np.eye(8)
    M[2, 3] = np.nan
    with pytest.raises(ValueError, match="NaN or infinity"):
        probe_error(km.KMatrix.random(8, random_state=0), spla.aslinearoperator(M),
                    np.random.RandomState(0))


def test_scaled_to_is_the_least_squares_scale():
    rng = np.random.default_rng(10)
    K = km.KMatrix.random(8, 6, init="normal", random_state=3)
    D = reference_matrix(K)
    M = rng.standard_normal((8, 6))
    c = np.sum(D * M) / np.sum(D * D)
    scaled_to(K, M)
    np.testing.assert_allclose(reference_matrix(K), c * D, rtol=1e-12)


def test_adam_finishes_in_double_precision_what_it_starts_in_single():
    # a float64 fit runs Adam in float32 while the error is large: from a
    # near start it must still end far below float32's resolution (~1e-7)
    T = km.KMatrix.random(16, init="ortho", random_state=1)
    M = T.todense()
    model = T.copy()
    model.twiddles[...] += 1e-3 * np.random.default_rng(0).standard_normal(model.twiddles.shape)
    err, trace = fit(model, M, solver="adam", max_iter=2000, tol=1e-10, learning_rate=1e-3)
    assert err <= 1e-10 and trace.n_iter < 2000
    assert model.twiddles.dtype == np.float64
    assert err == pytest.approx(frob_rel(model, M), rel=1e-6)
