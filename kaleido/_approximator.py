"""KMatrixApproximator: fit a given matrix or operator by a fast K-matrix."""

import numbers
import threading
import time

import numpy as np
import scipy.optimize
import scipy.sparse
from scipy.sparse.linalg import LinearOperator
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data
from threadpoolctl import threadpool_limits

from ._constructors import bit_reversal, identity_twiddles
from ._factorize import (analytic_completion, bit_reversed_twiddles, factor_butterfly,
                         factor_kmatrix, half_butterfly_twiddles)
from ._dask import is_dask_array, map_rows
from ._kmatrix import KMatrix, _size_for
from ._linear_operator import KMatrixOperator
from ._training import AdamOptimizer, _real_view
from ._validation import complex_dtype_of, frobenius, result_dtype, sum_of_squares

__all__ = ["KMatrixApproximator"]

# a LinearOperator is materialized (n_in products) up to this many entries
_DENSE_LIMIT = 1 << 24

# threadpoolctl's limits are process-wide and their save/restore is not
# thread-safe: fits in several Python threads take turns to hold one
_BLAS_LIMIT_LOCK = threading.Lock()


def _permutations(N):
    """Structured input permutations tried by the hierarchical method."""
    even_odd = np.concatenate([np.arange(0, N, 2), np.arange(1, N, 2)])
    return {
        "bit reversal": bit_reversal(N.bit_length() - 1),
        "even/odd": even_odd,
        "reversal": np.arange(N)[::-1].copy(),
        "even/odd then bit reversal": even_odd[bit_reversal(N.bit_length() - 1)],
    }


def _relative_error(K, M, norm_M):
    D = K.todense()
    return frobenius(D - M) / norm_M if norm_M > 0 else frobenius(D)


class KMatrixApproximator(TransformerMixin, BaseEstimator):
    """Approximate a matrix or linear operator by a fast K-matrix.

    The "SVD for K-matrices": given ``M`` of shape ``(n_out, n_in)`` (dense,
    scipy sparse, or a :class:`scipy.sparse.linalg.LinearOperator`), find a
    :class:`KMatrix` ``K`` close to it in Frobenius norm; ``transform``
    then applies ``K`` in ``O(n log n)`` per row.

    Methods:

    * "hierarchical": exact factorizations, O(N^2) each, no tuning (see
      ``kaleido._factorize``): of a whole width-1 K-matrix (both halves:
      2 x 2 eigenproblems peel the outer stages, then the two inner
      K-matrices; square power-of-two M only, as zero padding breaks the
      general position it needs), and by rank-one splits of ``P_out^-1 M P_in^-1`` in
      either half of the network. At width 1,
      ``P`` is the identity or the bit reversal (an FFT's permutation, which
      costs no width: ``bit_reversed_twiddles``); from width 2 on also other
      structured permutations (bit reversal, even/odd, reversal and a
      composition), on one side, on both sides from width 3 (each takes one
      Benes-routed block). For a real M fitted by a complex K-matrix's real
      part (``field="complex"``) it also factors complex completions of M:
      the analytic signal of the even or odd extension of M's rows (or
      columns), which turns sampled cosines and sines into complex
      exponentials and needs ``N >= 2 n_in`` (``2 n_out``), e.g.
      ``expansion=2``. It recovers any matrix of these forms -- the DFT, the
      Hadamard transform, a butterfly factor product, a (square) width-1
      K-matrix with blocks in general position, the DCT-II/III and DST-II/III
      (through the completion) -- to rounding.
    * "gradient": Adam or L-BFGS (``solver``) on ``||K - M||_F^2`` through
      the compiled vjp kernel (Adam's step size halved when the error stalls
      for 20 steps), started from the hierarchical fit when that is within
      10% of M, else from a random orthogonal K scaled to M and grown one
      block of width at a time; on an operator too large to materialize it
      fits on random probe vectors.
    * "auto": hierarchical, then gradient if the error is above ``tol``.

    Parameters
    ----------
    width : int, default=1
        Width of the fitted K-matrix.
    expansion : int, default=1
        Expansion factor of the fitted K-matrix.
    method : {"auto", "hierarchical", "gradient"}, default="auto"
    max_iter : int, default=500
        Gradient steps.
    tol : float, default=1e-10
        Target relative error: "auto" skips the gradient below it, and the
        gradient stops there. Raised to 100 eps of the working precision
        (1.2e-5 for float32) when below.
    learning_rate : float, default=1e-2
        Adam's initial step size (halved when the error stalls).
    solver : {"adam", "lbfgs", "adam+lbfgs"}, default="adam"
        The gradient method's optimizer: Adam, L-BFGS (scipy's L-BFGS-B on
        the same gradient; on an operator, on one fixed set of probes), or
        Adam then L-BFGS from Adam's best (``max_iter`` each; ``n_iter_`` and
        ``loss_curve_`` count both). An L-BFGS iteration costs several
        products (its line search): from a random start it did worse than
        Adam (DCT-II n=64, 3000 iterations: 0.10 in 2.0 s vs 0.035 in
        0.7 s), but it keeps improving where Adam plateaus (Adam then
        L-BFGS: 0.018 in 2.9 s). L-BFGS-B runs its vector operations on one
        BLAS thread, which keeps fits independent of the thread count;
        threadpoolctl's limit is process-wide, so fits in concurrent Python
        threads take turns for that part.
    field : {"auto", "real", "complex"}, default="auto"
        "complex" fits a real M by the real part of a complex K-matrix
        (:attr:`KMatrix.real`); "auto" is "complex" for a complex M, else
        "real".
    random_state : int, RandomState instance or None, default=None
    verbose : int, default=0
        Print the method, candidates and progress.

    Attributes
    ----------
    kmatrix_ : KMatrix
    operator_ : KMatrixOperator
    relative_error_ : float
        ``||M - K||_F / ||M||_F`` (estimated with random probes when M is an
        operator too large to materialize).
    method_ : str
        The method that produced ``kmatrix_`` ("hierarchical: <permutations>"
        or "gradient").
    n_iter_ : int
        Gradient steps taken (0 for a hierarchical fit).
    loss_curve_ : list of float
        Relative error at every gradient iteration (Adam: before its step;
        L-BFGS: after its iteration).
    n_features_in_ : int
        ``n_in``.

    Examples
    --------
    >>> import numpy as np, kaleido as kd
    >>> F = np.fft.fft(np.eye(256))
    >>> est = kd.KMatrixApproximator().fit(F)
    >>> est.relative_error_ < 1e-12, est.method_, est.kmatrix_.width
    (True, 'hierarchical: bit reversal', 1)

    A real DCT-II, from its entries alone, as the real part of a complex
    K-matrix of width 1 on twice the size:

    >>> from scipy.fft import dct
    >>> C = dct(np.eye(256), norm="ortho", axis=0)
    >>> est = kd.KMatrixApproximator(expansion=2, field="complex").fit(C)
    >>> est.relative_error_ < 1e-12, est.method_
    (True, 'hierarchical: analytic rows (even extension), bit reversal')
    """

    _parameter_constraints = {
        "width": [Interval(numbers.Integral, 1, None, closed="left")],
        "expansion": [Interval(numbers.Integral, 1, None, closed="left")],
        "method": [StrOptions({"auto", "hierarchical", "gradient"})],
        "max_iter": [Interval(numbers.Integral, 0, None, closed="left")],
        "tol": [Interval(numbers.Real, 0, None, closed="left")],
        "learning_rate": [Interval(numbers.Real, 0, None, closed="neither")],
        "solver": [StrOptions({"adam", "lbfgs", "adam+lbfgs"})],
        "field": [StrOptions({"auto", "real", "complex"})],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(self, width=1, expansion=1, method="auto", max_iter=500, tol=1e-10,
                 learning_rate=1e-2, solver="adam", field="auto", random_state=None,
                 verbose=0):
        self.width = width
        self.expansion = expansion
        self.method = method
        self.max_iter = max_iter
        self.tol = tol
        self.learning_rate = learning_rate
        self.solver = solver
        self.field = field
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------ fit --
    def _target(self, M):
        """(dense M or None, operator, n_out, n_in, dtype)."""
        if isinstance(M, LinearOperator):
            n_out, n_in = M.shape
            dtype = np.result_type(M.dtype, np.float32)
            if dtype.kind not in "fc":
                raise ValueError(f"the operator's dtype {M.dtype} is not a float or complex type")
            self.n_features_in_ = n_in
            if n_out * n_in <= _DENSE_LIMIT:
                dense = np.asarray(M.matmat(np.eye(n_in, dtype=dtype)))
                if not np.all(np.isfinite(dense)):
                    raise ValueError("the operator returned NaN or infinity")
                return dense, M, n_out, n_in
            return None, M, n_out, n_in
        if _is_complex(M):
            # scikit-learn's validation rejects complex data: check it here
            M = _complex_array(M.toarray() if scipy.sparse.issparse(M) else M, "M")
            self.n_features_in_ = M.shape[1]
        else:
            M = validate_data(self, M, accept_sparse=True, reset=True,
                              dtype=[np.float64, np.float32])
            if scipy.sparse.issparse(M):
                M = M.toarray()
        return M, None, M.shape[0], M.shape[1]

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, M, y=None):
        """Fit a K-matrix to M.

        Parameters
        ----------
        M : array-like, sparse matrix of shape (n_out, n_in), or LinearOperator
        y : ignored

        Returns
        -------
        self : KMatrixApproximator
        """
        dense, op, n_out, n_in = self._target(M)
        dtype = np.dtype(dense.dtype if dense is not None else
                         np.result_type(op.dtype, np.float32))
        complex_target = dtype.kind == "c"
        field = self.field if self.field != "auto" else ("complex" if complex_target else "real")
        if complex_target and field == "real":
            raise ValueError("a complex M needs field='complex' (or 'auto')")
        real_dtype = np.finfo(dtype).dtype
        tw_dtype = complex_dtype_of(real_dtype) if field == "complex" else real_dtype
        self._rng = check_random_state(self.random_state)
        # a tolerance below the working precision's rounding cannot be met
        self._tol = max(self.tol, 100 * float(np.finfo(real_dtype).eps))
        self.n_iter_ = 0
        self.loss_curve_ = []
        start = time.perf_counter()
        # entries whose squares could overflow or underflow: work on M
        # scaled by 2^-k (exact), scale the fit back by 2^k at the end
        exponent = 0
        if dense is not None and dense.size:
            peak = float(np.max(np.abs(dense)))
            bound = 2.0 ** (np.finfo(real_dtype).maxexp // 4)
            if peak > 0 and not 1 / bound < peak < bound:
                exponent = int(np.round(np.log2(peak)))
                dense = _times_power_of_two(dense, -exponent)
        candidate = None
        if self.method in ("auto", "hierarchical") and dense is not None:
            candidate = self._hierarchical(dense, n_out, n_in, tw_dtype, complex_target)
        if candidate is not None and (self.method == "hierarchical"
                                      or candidate[1] <= self._tol):
            K, err, name = candidate
            self.method_ = f"hierarchical: {name}"
        elif self.method == "hierarchical":
            raise ValueError("method='hierarchical' needs the matrix: the operator is too large "
                             "to materialize; use method='gradient'")
        else:
            K, err = self._gradient(dense, op, n_out, n_in, tw_dtype, complex_target, candidate)
            self.method_ = "gradient"
            if candidate is not None and candidate[1] <= err:  # e.g. Adam found no better
                K, err, name = candidate
                self.method_ = f"hierarchical: {name}"
        if exponent:
            # spread 2^exponent over the stages of the first block (no overflow)
            stages = K.twiddles[0].reshape(-1, *K.twiddles.shape[3:])
            parts = np.diff(np.round(np.linspace(0, exponent, len(stages) + 1)))
            for stage, part in zip(stages, parts):
                stage[...] = _times_power_of_two(stage, int(part))
        if field == "real" or complex_target:
            self.kmatrix_ = K
        else:
            self.kmatrix_ = K.real
        self.relative_error_ = float(err)
        self.operator_ = KMatrixOperator(self.kmatrix_)
        if self.verbose:
            print(f"{self.method_}: relative error {err:.3e} in "
                  f"{time.perf_counter() - start:.2f}s")
        return self

    def _as_model(self, K, complex_target):
        """The operator the fit is measured with (real part for a real target)."""
        return K if complex_target or K.dtype.kind != "c" else K.real

    def _hierarchical(self, M, n_out, n_in, tw_dtype, complex_target):
        N = _size_for(n_in, n_out, self.expansion)
        padded = np.zeros((N, N), dtype=np.result_type(M.dtype, tw_dtype))
        padded[:n_out, :n_in] = M
        norm_M = frobenius(M)
        # (name, N x N target, transposed): the fit of a transposed target is
        # transposed back. A completion is built when a fit needs it and kept
        # only while the next fits use it (each is N x N complex)
        held = {}   # the one completion kept: {"key": ..., "value": ...}

        def completion(A, sign):
            def build():
                if held.get("key") != (id(A), sign):
                    held.clear()   # free the previous one first
                    held["value"] = analytic_completion(A, N, sign)
                    held["key"] = (id(A), sign)
                return held["value"]
            return build

        targets = [("", lambda: padded, False)]
        if not complex_target and tw_dtype.kind == "c":
            # complex completions of a real M, for K.real; the columns' are
            # the rows' of M^T
            for side, A, transposed in (("rows", M, False), ("columns", M.T, True)):
                if 2 * A.shape[1] > N:
                    continue   # no room for the extension
                for kind, sign in (("even", 1), ("odd", -1)):
                    targets.append((f"analytic {side} ({kind} extension), ",
                                    completion(A, sign), transposed))
        # every target's cheap fits first, then the costlier ones
        fits = [(rank, i, prefix, transposed, name, fit)
                for i, (prefix, target, transposed) in enumerate(targets)
                # structured permutations for the completions would be 8x the work
                for rank, name, fit in self._butterfly_fits(target, N, tw_dtype,
                                                            permutations=not prefix)]
        fits.sort(key=lambda item: item[:2])
        best = None
        for _, _, prefix, transposed, name, fit in fits:
            K = fit()
            if K is None:
                continue
            if transposed:
                K = K.T
            K = _pad_to_width(KMatrix(K.twiddles, (n_out, n_in), expansion=self.expansion),
                              self.width)
            err = _relative_error(self._as_model(K, complex_target), M, norm_M)
            if self.verbose > 1:
                print(f"  hierarchical, {prefix}{name}: {err:.3e}")
            if best is None or err < best[1] or not np.isfinite(best[1]):
                best = (K, err, prefix + name)
            if err <= self._tol:
                return best
        return best

    def _butterfly_fits(self, target, N, tw_dtype, permutations=True):
        """(cost rank, name, fit) for the hierarchical fits of the square
        N x N matrix ``target()``; ``fit()`` returns a KMatrix (or None)."""
        L = N.bit_length() - 1

        def half_fit(T, half):
            return KMatrix(half_butterfly_twiddles(T, half).astype(tw_dtype), (N, N))

        def bit_reversed_fit():
            # T = P_br B with B in the B* half's bit order (equivalently
            # T = B' P_br, B' in the B half's order): width 1
            tw = bit_reversed_twiddles(factor_butterfly(target()[bit_reversal(L)],
                                                        list(range(L - 1, -1, -1))))
            return KMatrix(tw.astype(tw_dtype), (N, N))

        def both_halves_fit():
            # a width-1 K-matrix in general position; on other matrices its
            # blocks can be huge (no overflow into float32)
            with np.errstate(over="ignore", invalid="ignore"):
                tw = factor_kmatrix(target()).astype(tw_dtype)
            return KMatrix(tw, (N, N)) if np.all(np.isfinite(tw)) else None

        def permuted_fit(perm_in, perm_out, half):
            # T = P_out B P_in with (P x)[i] = x[perm[i]]: B = P_out^-1 T P_in^-1
            T = target()
            T = T if perm_in is None else T[:, perm_in]
            if perm_out is not None:
                unpermuted = np.empty_like(T)
                unpermuted[perm_out] = T
                T = unpermuted
            K = half_fit(T, half)
            if perm_in is not None:
                K = K @ KMatrix.from_permutation(perm_in, dtype=tw_dtype)
            if perm_out is not None:
                K = KMatrix.from_permutation(perm_out, dtype=tw_dtype) @ K
            return K

        for half in (1, 0):
            yield 0, f"identity, half {half}", lambda half=half: half_fit(target(), half)
        yield 0, "bit reversal", bit_reversed_fit
        yield 1, "both halves", both_halves_fit
        if not permutations or self.width < 2:
            return
        # each other structured permutation is one Benes-routed block: one
        # unit of width per side
        structured = _permutations(N)
        candidates = [(f"input {name}", p, None) for name, p in structured.items()]
        candidates += [(f"output {name}", None, q) for name, q in structured.items()]
        if self.width >= 3:
            candidates += [(f"input {a}, output {b}", p, q) for a, p in structured.items()
                           for b, q in structured.items()]
        for name, perm_in, perm_out in candidates:
            for half in (1, 0):
                yield 2, f"{name}, half {half}", (
                    lambda p=perm_in, q=perm_out, h=half: permuted_fit(p, q, h))

    def _gradient(self, M, op, n_out, n_in, tw_dtype, complex_target, candidate):
        rng = self._rng
        K = KMatrix.random(n_in, n_out, width=self.width, expansion=self.expansion,
                           dtype=tw_dtype, init="ortho", random_state=rng)
        # From a random start a wide K-matrix trains badly (a random width-2
        # K-matrix target, n=256: 0.80 from a random width-2 start, whatever
        # the step size, 0.50 from a random width-1 one): grow the width
        # instead, one block per phase, each new block starting as the
        # identity (the same operator) with a fresh optimizer.
        widths = range(1, self.width + 1)
        if M is not None:
            norm_M = frobenius(M)
            # A near-exact hierarchical fit (e.g. a noisy butterfly) is the
            # better start; a poor one is a greedy local fit that traps Adam
            # (DCT-II n=64: 0.56 from it, 0.04-0.09 from a random start).
            if candidate is not None and candidate[1] < 0.1:
                K, widths = candidate[0], [self.width]
            else:
                # an orthogonal start has the wrong scale: the best multiple of it
                if self.width > 1:
                    K.twiddles[1:] = identity_twiddles(K.twiddles.shape[2], self.width - 1,
                                                       tw_dtype)
                self._scale_to(K, M, norm_M, complex_target)
        else:
            widths = [self.width]
        phase_iters = [self.max_iter * (i + 1) // len(widths) - self.max_iter * i // len(widths)
                       for i in range(len(widths))]
        descend = self._lbfgs if self.solver == "lbfgs" else self._adam
        best_err, best_tw = np.inf, K.twiddles.copy()
        for width, n_iter in zip(widths, phase_iters):
            # the first `width` blocks, sharing K's twiddles
            part = KMatrix._wrap(K.twiddles[:width], K.shape, K.expansion)
            best_err = descend(part, M, op, n_iter, best_err, best_tw[:width])
            if best_err <= self._tol:
                break
        else:
            if self.solver == "adam+lbfgs":
                K.twiddles[...] = best_tw
                best_err = self._lbfgs(K, M, op, self.max_iter, best_err, best_tw)
        K.twiddles[...] = best_tw
        if M is not None:
            return K, _relative_error(self._as_model(K, complex_target), M, norm_M)
        return K, self._probe_error(self._as_model(K, complex_target), op)

    def _model(self, K, M, op):
        complex_target = (M.dtype if M is not None else op.dtype).kind == "c"
        return self._as_model(K, complex_target)

    def _samples(self, model, M, op):
        """(X, T, ||T||^2): the rows of I and M^T, or random probes Z and Z M^T."""
        n_in = model.n_in
        if M is not None:
            X = np.eye(n_in, dtype=model.dtype)
            # a zero M: the absolute error, as _relative_error reports it
            return X, np.ascontiguousarray(M.T, dtype=model.dtype), frobenius(M) ** 2 or 1.0
        rng = self._rng
        real_dtype = np.finfo(model.dtype).dtype if model.dtype.kind == "c" else model.dtype
        X = rng.standard_normal((min(n_in, 256), n_in)).astype(real_dtype)
        if model.dtype.kind == "c":
            X = X + 1j * rng.standard_normal(X.shape).astype(real_dtype)
        T = _probe_products(op, X)
        # a zero operator: absolute error (||K z|| estimates ||K||_F)
        return X, T, sum_of_squares(T) or float(X.shape[0])

    def _adam(self, K, M, op, n_iter, best_err, best_tw):
        """n_iter Adam steps on K's twiddles (in place); best_tw keeps the best."""
        model = self._model(K, M, op)
        opt = AdamOptimizer([K.twiddles], learning_rate=self.learning_rate)
        stall = 0
        if M is not None:
            X, T, scale2 = self._samples(model, M, op)
        for _ in range(n_iter):
            if M is None:  # fresh probes every step
                X, T, scale2 = self._samples(model, M, op)
            R = model.apply(X) - T
            err = np.sqrt(sum_of_squares(R) / scale2)
            self.loss_curve_.append(err)
            self.n_iter_ += 1
            if err < best_err * (1 - 1e-6):
                best_err, stall = err, 0
                best_tw[...] = K.twiddles
            else:
                stall += 1
                if stall >= 20:
                    opt.learning_rate *= 0.5
                    stall = 0
            if err <= self._tol:
                break
            _, g = model.vjp(X, 2 * R / scale2)
            opt.step([g])
            if self.verbose and (self.n_iter_ % 100 == 1):
                print(f"  gradient step {self.n_iter_ - 1} (width {K.width}): "
                      f"relative error {err:.3e}")
        return best_err

    def _lbfgs(self, K, M, op, n_iter, best_err, best_tw):
        """L-BFGS on K's twiddles (in place) for n_iter iterations; best_tw
        keeps the best. On an operator the probes are drawn once."""
        model = self._model(K, M, op)
        X, T, scale2 = self._samples(model, M, op)
        params = _real_view(K.twiddles).reshape(-1)   # a view: x writes through
        if n_iter == 0:
            return best_err
        state = {"best": best_err}

        def loss_and_grad(x):
            params[...] = x
            R = model.apply(X) - T
            loss = sum_of_squares(R) / scale2
            err = np.sqrt(loss)
            if err < state["best"]:
                state["best"] = err
                best_tw[...] = K.twiddles
            _, g = model.vjp(X, 2 * R / scale2)
            return loss, _real_view(g).reshape(-1).astype(np.float64)

        def callback(intermediate_result):
            err = float(np.sqrt(intermediate_result.fun))
            self.loss_curve_.append(err)
            self.n_iter_ += 1
            if self.verbose and self.n_iter_ % 100 == 1:
                print(f"  L-BFGS iteration {self.n_iter_ - 1} (width {K.width}): "
                      f"relative error {err:.3e}")
            if err <= self._tol:
                raise StopIteration

        # L-BFGS-B's vector operations go through BLAS, whose threaded sums
        # depend on the thread count: one BLAS thread keeps fits identical
        # (the products still use every OpenMP thread)
        with _BLAS_LIMIT_LOCK, threadpool_limits(1, user_api="blas"):
            scipy.optimize.minimize(loss_and_grad, params.astype(np.float64), jac=True,
                                    method="L-BFGS-B", callback=callback,
                                    options={"maxiter": n_iter, "ftol": 0.0, "gtol": 0.0})
        return state["best"]

    def _scale_to(self, K, M, norm_M, complex_target):
        D = self._as_model(K, complex_target).todense()
        nk = frobenius(D)
        # least-squares scalar c minimizing ||c D - M||, folded into one stage
        c = np.sum(np.conjugate(D) * M) / nk ** 2 if nk > 0 else 1.0
        if not complex_target:
            c = float(np.real(c))
        K.twiddles[0, 0, 0] *= c
        return frobenius(c * D - M) / norm_M if norm_M > 0 else 0.0

    def _probe_error(self, K, op, n_probes=32):
        """Hutchinson estimate of ||M - K||_F / ||M||_F with Gaussian probes."""
        Z = self._rng.standard_normal((n_probes, op.shape[1]))
        T = _probe_products(op, Z)
        R = K.apply(Z) - T
        den = sum_of_squares(T) or float(n_probes)   # a zero operator: absolute
        return float(np.sqrt(sum_of_squares(R) / den))

    # ------------------------------------------------------------ transform --
    def transform(self, X):
        """Apply the fitted K-matrix to the rows of X: ``X @ K.T``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_in)
            A dask array gives a lazy dask array, one task per row block.

        Returns
        -------
        Y : ndarray of shape (n_samples, n_out)
        """
        check_is_fitted(self)
        if is_dask_array(X):   # lazily, block by block
            if X.dtype.kind == "c":
                x_dtype = np.dtype(np.complex64 if X.dtype == np.complex64 else np.complex128)
            else:
                x_dtype = X.dtype if X.dtype in (np.float32, np.float64) else np.dtype(np.float64)
            return map_rows(self.transform, X, self.n_features_in_, self.kmatrix_.n_out,
                            result_dtype(self.kmatrix_.dtype, x_dtype),
                            "KMatrixApproximator.transform")
        if _is_complex(X):
            X = _complex_array(X, "X")
            if X.shape[1] != self.n_features_in_:
                raise ValueError(f"X has {X.shape[1]} features, but KMatrixApproximator is "
                                 f"expecting {self.n_features_in_} features as input")
        else:
            X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        return self.kmatrix_.apply(X, check_finite=False)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        tags.requires_fit = True
        return tags


def _is_complex(A):
    if scipy.sparse.issparse(A):
        return A.dtype.kind == "c"
    return np.iscomplexobj(A) if hasattr(A, "dtype") else np.iscomplexobj(np.asarray(A))


def _complex_array(A, name):
    A = np.asarray(A)
    if A.ndim != 2:
        raise ValueError(f"{name} must be 2-D, got shape {A.shape}")
    if A.shape[0] < 1 or A.shape[1] < 1:
        raise ValueError(f"{name} must have at least one row and one column, got {A.shape}")
    if not np.all(np.isfinite(A)):
        raise ValueError(f"{name} contains NaN or infinity")
    return A.astype(np.complex64 if A.dtype == np.complex64 else np.complex128, copy=False)


def _probe_products(op, Z):
    """The rows of ``Z M^T`` for the operator M, checked."""
    T = np.asarray(op.matmat(Z.T)).T
    if not np.all(np.isfinite(T)):
        raise ValueError("the operator returned NaN or infinity")
    return T


def _times_power_of_two(A, k):
    """A * 2^k, exactly (no intermediate overflow), keeping A's dtype."""
    if np.iscomplexobj(A):
        return np.ldexp(A.real, k) + 1j * np.ldexp(A.imag, k).astype(A.real.dtype)
    return np.ldexp(A, k)


def _pad_to_width(K, width):
    """K with identity blocks appended up to ``width`` (the same operator)."""
    if K.width >= width:
        return K
    from ._kmatrix import _pad_width

    return KMatrix(_pad_width(K.twiddles, width), K.shape, expansion=K.expansion)
