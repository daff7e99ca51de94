"""The approximator's gradient fits: Adam and L-BFGS on ||K - M||_F^2.

The loss is measured on the rows of the identity (the target M is known)
or on random probe vectors (M is only an operator), and its gradient with
respect to every twiddle comes from the compiled vector-Jacobian product, at
the cost of two products per step.
"""

import time

import numpy as np
import scipy.optimize

from .._core.config import single_blas_thread
from .._core.optimizers import AdamOptimizer, real_view
from .._core.validation import frobenius, sum_of_squares
from .._operator import wrap

__all__ = ["Trace", "gradient_fit", "probe_error", "probe_products", "scaled_to"]

# threadpoolctl's limits are process-wide and their save/restore is not
# thread-safe: fits in several Python threads take turns to hold one

# Adam's step size is halved after this many steps without improvement
_STALL_STEPS = 20

# A double-precision fit to a matrix runs Adam in single precision while its
# error is above this (float32 resolves relative errors to about 1e-6), then
# in double: the products cost half (a Gaussian n = 1024: 19 ms a step in
# float64, X ms in float32), and Adam's early steps need no more digits
_SINGLE_ABOVE = 1e-4
_SINGLE = {np.dtype(np.float64): np.dtype(np.float32),
           np.dtype(np.complex128): np.dtype(np.complex64)}


class Trace:
    """The loss curve of a gradient fit, with progress lines as it goes.

    Parameters
    ----------
    report : callable or None
        Called with a progress line about ten times per ``max_iter`` steps.
    max_iter : int
    max_time : float or None
        Seconds the gradient steps may run from the trace's creation: the
        loops stop at their first check past it (:meth:`expired`).
    """

    def __init__(self, report, max_iter, max_time=None):
        self.loss_curve = []
        self._report = report
        self._every = max(1, max_iter // 10)
        self._start = time.perf_counter()
        self._deadline = None if max_time is None else self._start + max_time
        self.timed_out = False

    def expired(self):
        """Whether the time budget is spent (then remembered in ``timed_out``)."""
        if self._deadline is not None and time.perf_counter() > self._deadline:
            self.timed_out = True
        return self.timed_out

    @property
    def n_iter(self):
        return len(self.loss_curve)

    def record(self, err, what, width):
        self.loss_curve.append(float(err))
        n = len(self.loss_curve)
        if self._report is not None and (n == 1 or n % self._every == 0):
            self._report(f"  {what} step {n} (width {width}): relative error {err:.3e} "
                         f"after {time.perf_counter() - self._start:.1f}s")


def probe_products(op, Z):
    """The rows of ``Z M^T`` for the operator M, checked."""
    T = np.asarray(op.matmat(Z.T)).T
    if not np.all(np.isfinite(T)):
        raise ValueError("the operator returned NaN or infinity")
    return T


def probe_error(model, op, rng, n_probes=32):
    """Hutchinson estimate of ||M - K||_F / ||M||_F with Gaussian probes."""
    Z = rng.standard_normal((n_probes, op.shape[1]))
    T = probe_products(op, Z)
    R = model.apply(Z) - T
    den = sum_of_squares(T) or float(n_probes)   # a zero operator: absolute
    return float(np.sqrt(sum_of_squares(R) / den))


def scaled_to(model, M):
    """Scale ``model`` in place by the least-squares scalar c minimizing
    ``||c model - M||_F`` (folded into its first stage)."""
    D = model.todense()
    nk = frobenius(D)
    c = np.sum(np.conjugate(D) * M) / nk ** 2 if nk > 0 else 1.0
    if M.dtype.kind != "c":
        c = float(np.real(c))
    model.twiddles[0, 0, 0] *= c
    return model


class _Samples:
    """(X, T, ||T||^2) the loss is measured on: the rows of I and M^T, or
    random probes Z and Z M^T (fresh ones at every ``draw``)."""

    def __init__(self, model, M, op, rng):
        self.model, self.M, self.op, self.rng = model, M, op, rng
        self.fixed = M is not None

    def draw(self):
        model, M = self.model, self.M
        n_in = model.n_in
        if M is not None:
            X = np.eye(n_in, dtype=model.dtype)
            # a zero M: the absolute error, as relative_error reports it
            return X, np.ascontiguousarray(M.T, dtype=model.dtype), frobenius(M) ** 2 or 1.0
        real_dtype = np.finfo(model.dtype).dtype
        X = self.rng.standard_normal((min(n_in, 256), n_in)).astype(real_dtype)
        if model.dtype.kind == "c":
            X = X + 1j * self.rng.standard_normal(X.shape).astype(real_dtype)
        T = probe_products(self.op, X)
        # a zero operator: absolute error (||K z|| estimates ||K||_F)
        return X, T, sum_of_squares(T) or float(X.shape[0])


def _squared_norm(R):
    """sum(|R|^2) of the residual rows: each row summed in R's precision, the
    row sums in float64 (no BLAS: independent of the thread count; four
    times faster than sum_of_squares' float64 cast at n = 1024)."""
    r = R.view(R.real.dtype) if R.dtype.kind == "c" else R
    r = r.reshape(r.shape[0], -1)
    return float(np.einsum("ij,ij->i", r, r).sum(dtype=np.float64))


def _adam(model, samples, n_iter, learning_rate, tol, best_err, best_tw, trace):
    """n_iter Adam steps on the model's twiddles (in place); ``best_tw``
    keeps the best iterate. Returns the best error and the steps taken
    (fewer than n_iter when ``tol`` was reached)."""
    opt = AdamOptimizer([model.twiddles], learning_rate=learning_rate)
    stall = 0
    if samples.fixed:
        X, T, scale2 = samples.draw()
    steps = 0
    for steps in range(1, n_iter + 1):
        if trace.expired():
            break
        if not samples.fixed:
            X, T, scale2 = samples.draw()
        R = model.apply(X, check_finite=False)
        R -= T
        err = np.sqrt(_squared_norm(R) / scale2)
        if not np.isfinite(err):
            # diverged (a very wide product amplifies every step): back to
            # the best iterate with half the step, or stop if there is none
            if not np.isfinite(best_err):
                break
            model.twiddles[...] = best_tw
            opt.learning_rate *= 0.5
            continue
        trace.record(err, "Adam", model.width)
        if err < best_err * (1 - 1e-6):
            best_err, stall = err, 0
            best_tw[...] = model.twiddles
        else:
            stall += 1
            if stall >= _STALL_STEPS:
                opt.learning_rate *= 0.5
                stall = 0
        if err <= tol:
            break
        R *= 2 / scale2
        _, g = model.vjp(X, R)
        with np.errstate(over="ignore"):
            # a gradient whose square overflows only freezes its entry (its
            # step is m / sqrt(inf) = 0): the error check above catches the rest
            opt.step([g])
    return best_err, steps


def _adam_mixed(model, M, samples, n_iter, learning_rate, tol, best_err, best_tw, trace, rng):
    """``_adam`` on a double-precision model fitted to the matrix M: in
    single precision until the error is below _SINGLE_ABOVE (or ``tol``),
    then in double for the steps left. Returns the best error (measured in
    the model's precision)."""
    single = _SINGLE.get(model.twiddles.dtype)
    if single is None or M is None:
        return _adam(model, samples, n_iter, learning_rate, tol, best_err, best_tw, trace)[0]
    low = wrap(model.twiddles.astype(single), model.shape, model.expansion,
               real_part=model.real_part)
    low_best = low.twiddles.copy()
    _, steps = _adam(low, _Samples(low, M, None, rng), n_iter, learning_rate,
                     max(tol, _SINGLE_ABOVE), np.inf, low_best, trace)
    n_left = n_iter - steps
    # the single-precision best, measured in double
    model.twiddles[...] = low_best
    X, T, scale2 = samples.draw()
    err = float(np.sqrt(sum_of_squares(model.apply(X, check_finite=False) - T) / scale2))
    if err < best_err:
        best_err = err
        best_tw[...] = model.twiddles
    else:
        model.twiddles[...] = best_tw
    if n_left > 0 and best_err > tol:
        best_err = _adam(model, samples, n_left, learning_rate, tol, best_err, best_tw,
                         trace)[0]
    return best_err


def _lbfgs(model, samples, n_iter, tol, best_err, best_tw, trace):
    """L-BFGS on the model's twiddles (in place) for n_iter iterations; on
    an operator the probes are drawn once. As ``_adam`` for the rest."""
    if n_iter == 0:
        return best_err
    X, T, scale2 = samples.draw()
    params = real_view(model.twiddles).reshape(-1)   # a view: x writes through
    state = {"best": best_err}

    def loss_and_grad(x):
        params[...] = x
        R = model.apply(X, check_finite=False) - T
        loss = sum_of_squares(R) / scale2
        if not np.isfinite(loss):    # diverged: the line search steps back
            return np.inf, np.zeros_like(x)
        err = np.sqrt(loss)
        if err < state["best"]:
            state["best"] = err
            best_tw[...] = model.twiddles
        _, g = model.vjp(X, 2 * R / scale2)
        return loss, real_view(g).reshape(-1).astype(np.float64)

    def callback(intermediate_result):
        err = float(np.sqrt(intermediate_result.fun))
        trace.record(err, "L-BFGS", model.width)
        if err <= tol or trace.expired():
            raise StopIteration

    # L-BFGS-B's vector operations go through BLAS, whose threaded sums
    # depend on the thread count: one BLAS thread keeps fits identical
    # (the products still use every OpenMP thread)
    with single_blas_thread():
        scipy.optimize.minimize(loss_and_grad, params.astype(np.float64), jac=True,
                                method="L-BFGS-B", callback=callback,
                                options={"maxiter": n_iter, "ftol": 0.0, "gtol": 0.0})
    return state["best"]


def gradient_fit(model, M, op, *, grow, max_iter, tol, solver, learning_rate, rng, trace):
    """Fit ``model`` (a KMatrix, trained in place) to M by gradient descent.

    Parameters
    ----------
    model : KMatrix
        The start; its twiddles are trained in place and end at the best
        iterate. A real part (:attr:`KMatrix.real`) trains its complex
        twiddles.
    M : ndarray of shape (n_out, n_in) or None
        The target; None fits the operator ``op`` on random probes.
    op : LinearOperator or None
    grow : bool
        Train the first block alone, then the first two, and so on (each
        new block starts as the identity, so the operator carries over),
        ``max_iter`` split evenly between the phases. From a random start a
        wide K-matrix trains badly (a random width-2 K-matrix target,
        n = 256: 0.80 from a random width-2 start whatever the step size,
        0.50 grown from width 1).
    solver : {"adam", "lbfgs", "adam+lbfgs"}
    learning_rate : float
        Adam's initial step size (halved after 20 steps without progress).
    tol : float
        Stop as soon as the relative error is at most ``tol``.
    rng : numpy.random.RandomState
        Draws the probes.
    trace : Trace

    Returns
    -------
    error : float
        The relative error of the returned model: measured on M, or the
        best probe estimate.
    """
    widths = range(1, model.width + 1) if grow else [model.width]
    # max_iter split evenly; a width that gets no step is no phase (with
    # more blocks than steps, a phase per block would cost O(width^2))
    phases = [(width, max_iter * (i + 1) // len(widths) - max_iter * i // len(widths))
              for i, width in enumerate(widths)]
    phases = [(width, n_iter) for width, n_iter in phases if n_iter > 0]
    best_err, best_tw = np.inf, model.twiddles.copy()
    for width, n_iter in phases:
        # the first `width` blocks, sharing the model's twiddles
        part = wrap(model.twiddles[:width], model.shape, model.expansion,
                    real_part=model.real_part)
        samples = _Samples(part, M, op, rng)
        if solver == "lbfgs":
            best_err = _lbfgs(part, samples, n_iter, tol, best_err, best_tw[:width], trace)
        else:
            best_err = _adam_mixed(part, M, samples, n_iter, learning_rate, tol, best_err,
                                   best_tw[:width], trace, rng)
        if best_err <= tol:
            break
    else:
        if solver == "adam+lbfgs":
            model.twiddles[...] = best_tw
            best_err = _lbfgs(model, _Samples(model, M, op, rng), max_iter, tol, best_err,
                              best_tw, trace)
    model.twiddles[...] = best_tw
    return best_err
