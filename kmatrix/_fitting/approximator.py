"""KMatrixApproximator: fit a given matrix or operator by a fast K-matrix."""

import numbers
import time

import numpy as np
import scipy.sparse
from scipy.sparse.linalg import LinearOperator
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from .._core.lazy import is_dask_array, map_rows
from .._core.validation import result_dtype
from .._operator import KMatrixOperator
from .growth import descend, width_reason
from .routes import closed_forms
from .scaling import scale_first_block, scaling_exponent, times_power_of_two
from .search import preferred, representations, warn_of_excluded_forms

__all__ = ["KMatrixApproximator"]

# a LinearOperator is materialized (n_in products) up to this many entries
_DENSE_LIMIT = 1 << 24

# width=None: the closed forms may take up to this width (a Toeplitz-like
# matrix's generators: 4 blocks); the gradient's growth is in .growth
_CLOSED_FORM_WIDTH = 4


class KMatrixApproximator(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Approximate a matrix or linear operator by a fast K-matrix.

    The "SVD for K-matrices": given ``M`` of shape ``(n_out, n_in)`` (dense,
    scipy sparse, or a :class:`scipy.sparse.linalg.LinearOperator`), find a
    :class:`KMatrix` ``K`` close to it in Frobenius norm; ``transform``
    then applies ``K`` in ``O(n log n)`` per row.

    At its defaults it chooses the representation itself: for a real M, a
    real K-matrix (expansion 1) and the real part of a complex K-matrix with
    room for twice the size (the form that holds the DCT and DST exactly),
    and keeps the cheapest that reaches ``tol`` within ``width``; the
    fitted attributes ``field_`` and ``expansion_`` say which was chosen.

    Methods:

    * "hierarchical": closed-form factorizations, O(N^2) each, no tuning
      (``kmatrix._search``): of either half of the network, of a
      bit-reversed butterfly (the FFT's permutation costs no width), of a
      whole width-1 K-matrix (square power-of-two M; zero padding breaks
      the general position it needs), and from width 2 on of M with
      structured permutations (bit reversal, even/odd, reversal and a
      composition) taken out on one side (both from width 3), each
      permutation one Benes-routed block. For the real part of a complex
      K-matrix it factors complex completions of M: the analytic signal of
      the even or odd extension of M's rows (or columns), which turns
      sampled cosines and sines into complex exponentials and needs
      ``N >= 2 n_in`` (``2 n_out``). It recovers the DFT, the Hadamard
      transform, butterfly products, square width-1 K-matrices with blocks
      in general position and the DCT-II/III and DST-II/III to rounding.
      Low displacement rank is built exactly when the width allows
      (``kmatrix._fitting.displacement``, O(n^2) tests; expansion chosen
      automatically only): before these, Toeplitz and Hankel matrices (by
      :meth:`KMatrix.toeplitz`, :meth:`KMatrix.hankel`, width 2) and rank
      r <= min(32, n / 4) for the down-shift (:meth:`KMatrix.toeplitz_like`,
      width 4); after them, scaled Vandermonde matrices on geometric nodes
      and their real parts (rows or columns that are sampled sinusoids; by
      :meth:`KMatrix.vandermonde`, width 2): DFT, DCT, DST, Hartley, any n;
      then normal M with butterfly eigenvectors, ``K diag K^H`` (width 2,
      4 with scrambled rows; O(N^3), N <= 256). See ``_fitting.routes``.
    * "gradient": Adam or L-BFGS (``solver``) on ``||K - M||_F^2`` through
      the compiled vjp kernel (Adam's step size halved when the error stalls
      for 20 steps), started from the hierarchical fit when that is within
      10% of M, else from random orthogonal Ks scaled to M (``n_init``);
      on an operator too large to materialize it fits on random probes.
    * "auto": hierarchical, then gradient if the error is above ``tol``.
      From a closed-form fit within 10% of M the gradient first runs a
      trial of ``max_iter / 25`` steps (at least 20) and goes on only if
      they cut the error by 5%; otherwise the closed-form fit is kept: the
      rest of M is noise to the structure, and fitting it makes a worse
      operator (Hadamard n = 1024 + 1% noise: the closed-form fit is
      1.05e-3 from the clean matrix in 0.3 s, 500 Adam steps made it
      1.37e-3 in 32 s). Below 10% costlier fits and representations are
      not tried either.

    The approximator fits a *target matrix*, not data: ``fit(M)`` takes the
    operator to imitate, and ``transform(X)`` applies the fit to the rows of
    X. In a :class:`~sklearn.pipeline.Pipeline` fit it beforehand on the
    matrix and freeze it, e.g. ``make_pipeline(FrozenEstimator(
    KMatrixApproximator().fit(M)), Ridge())``
    (:class:`sklearn.frozen.FrozenEstimator`): an unfrozen approximator
    would be fitted to the pipeline's data matrix.

    Parameters
    ----------
    width : int or None, default=None
        The largest width of the fitted K-matrix: the gradient method fits
        at this width; a closed-form fit within ``tol`` keeps the smaller
        width it needs (e.g. a DCT fitted with ``width=2`` is returned at
        width 1, half the parameters). None: the closed forms take the
        width they need (up to 4; exact, so even where a K-matrix has more
        parameters than M), and the gradient adds one block at a time,
        each kept only if a trial of ``max_iter / 5`` steps cut the error by
        10%, until ``tol`` or the dense matrix's parameter count
        (``n_out * n_in`` reals, twice for a complex M): ``width_reason_``.
    expansion : int or None, default=None
        Expansion factor of the fitted K-matrix. None chooses it: 1 for a
        real K-matrix, the smallest with room for the completions
        (``N >= 2 max(n_in, n_out)``, usually 2) for the real part of a
        complex one.
    method : {"auto", "hierarchical", "gradient"}, default="auto"
    max_iter : int, default=500
        Gradient steps.
    tol : float, default=1e-10
        Target relative error: "auto" skips the gradient below it, and the
        gradient stops there. Raised to 100 eps of the working precision
        (1.2e-5 for float32) when below.
    learning_rate_init : float, default=1e-2
        Adam's initial step size (halved when the error stalls); the same
        name as :class:`KMatrixRegressor`'s.
    solver : {"auto", "adam", "lbfgs", "adam+lbfgs"}, default="auto"
        The gradient method's optimizer: Adam, L-BFGS (scipy's L-BFGS-B on
        the same gradient; on an operator, on one fixed set of probes), or
        Adam then L-BFGS from Adam's best (``max_iter`` each; ``n_iter_`` and
        ``loss_curve_`` count both); "auto": Adam, and with ``method="auto"``
        on at most 65,536 entries the final fit polished by L-BFGS (Legendre
        n = 16: 0.240 with Adam alone, 0.225). An L-BFGS iteration costs several
        products (its line search): from a random start it did worse than
        Adam (DCT-II n=64, 3000 iterations: 0.10 in 2.0 s vs 0.035 in
        0.7 s), but it keeps improving where Adam plateaus (Adam then
        L-BFGS: 0.018 in 2.9 s). L-BFGS-B runs its vector operations on one
        BLAS thread, which keeps fits independent of the thread count;
        threadpoolctl's limit is process-wide, so fits in concurrent Python
        threads take turns for that part.
    field : {"auto", "real", "complex"}, default="auto"
        "real" fits a real M by real K-matrices only; "complex" by the real
        part of a complex K-matrix (:attr:`KMatrix.real`) only; "auto" tries
        both for a real M (see above) and is "complex" for a complex M.
    permutations : {"structured", "auto"}, default="structured"
        The row and column orders the closed-form fits try: "structured"
        the index-bit permutations, found level by level: the even/odd split
        (decimation) and the perfect shuffle at every level, the bit
        reversal and all their compositions (one permutation block per
        reordered side: one side from width 2, both from width 3);
        "auto" also discovers unknown ones from M's rank-one block structure
        (``kmatrix._discover``; square power-of-two M, width >= 3, O(N^3):
        about 1.5 s at n = 256), e.g. a DFT with randomly shuffled rows and
        columns, recovered exactly at width 3 (and to its noise when noisy).
    n_init : int or "auto", default="auto"
        Random starts of the gradient method (the best is kept, then grown):
        "auto" (with ``method="auto"``) takes as many as fit in 65,536
        entries of M, at most 8 (1 from n = 256 on); a near closed-form
        start is used alone.
        Small fits depend on their start (Legendre n = 32: 0.339 to 0.384
        over six seeds).
    max_time : float or None, default=None
        Seconds the gradient method may run (its steps, starts and blocks
        stop at the first check past it; the closed forms always finish):
        a budget, so the result then depends on the machine's speed. None:
        ``max_iter`` alone bounds it.
    random_state : int, RandomState instance or None, default=None
        Seeds the gradient method's starts and probes.
    verbose : int, default=0
        1: print each fit tried with its error, the gradient's progress about
        ten times per run, and the result.

    Attributes
    ----------
    kmatrix_ : KMatrix
        The fit: a real K-matrix, a complex one, or the real part
        (:attr:`KMatrix.real`) of a complex one; of width at most ``width``.
    operator_ : KMatrixOperator
    relative_error_ : float
        ``||M - K||_F / ||M||_F`` (estimated with random probes when M is an
        operator too large to materialize).
    method_ : str
        The method that produced ``kmatrix_`` ("hierarchical: <fit>" or
        "gradient").
    field_ : {"real", "complex"}
        "complex" when ``kmatrix_`` is a complex K-matrix, or the real part
        of one for a real M.
    expansion_ : int
        The expansion of ``kmatrix_``.
    fits_tried_ : list of (str, float)
        Every hierarchical fit tried, with its relative error (``inf``: with
        ``method="auto"``, abandoned once it was past 0.5).
    level_errors_ : list of float or None
        For a closed-form fit of one butterfly (with its permutations), the
        relative error each level of the factorization left out, from the
        last stage peeled to the first: ``sqrt(sum of the second singular
        values^2 of its 2 x k splits) / ||M||_F``; their root sum of squares
        is the fit's error (each is exact to about sqrt(eps), 1e-8 in
        float64). A large entry shows the level where M departs from the
        structure (noise spreads over all levels). None for other fits.
    width_reason_ : str
        Why ``kmatrix_`` has its width: ``tol`` was reached, ``width`` was
        given, or why no further block was added (see ``width``).
    n_iter_ : int
        Gradient steps taken, trials that did not pay included (0 when a
        closed-form fit is within ``tol``).
    loss_curve_ : list of float
        Relative error at every gradient iteration (Adam: before its step;
        L-BFGS: after its iteration).
    n_features_in_ : int
        ``n_in``.
    feature_names_in_ : ndarray of str
        Defined when M has string column names.

    Examples
    --------
    >>> import numpy as np, kmatrix as km
    >>> F = np.fft.fft(np.eye(256))
    >>> est = km.KMatrixApproximator().fit(F)
    >>> bool(est.relative_error_ < 1e-12), est.kmatrix_.width, est.field_
    (True, 1, 'complex')

    A real DCT-II, from its entries alone: the real part of a complex
    K-matrix of width 1 on twice the size, found at the defaults:

    >>> from scipy.fft import dct
    >>> C = dct(np.eye(256), norm="ortho", axis=0)
    >>> est = km.KMatrixApproximator().fit(C)
    >>> bool(est.relative_error_ < 1e-12), est.field_, est.expansion_
    (True, 'complex', 2)
    >>> est.kmatrix_.n_params < 256 * 256
    True
    """

    _parameter_constraints = {
        "width": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "expansion": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "method": [StrOptions({"auto", "hierarchical", "gradient"})],
        "max_iter": [Interval(numbers.Integral, 0, None, closed="left")],
        "tol": [Interval(numbers.Real, 0, None, closed="left")],
        "learning_rate_init": [Interval(numbers.Real, 0, None, closed="neither")],
        "solver": [StrOptions({"auto", "adam", "lbfgs", "adam+lbfgs"})],
        "field": [StrOptions({"auto", "real", "complex"})],
        "permutations": [StrOptions({"structured", "auto"})],
        "n_init": [Interval(numbers.Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "max_time": [Interval(numbers.Real, 0, None, closed="neither"), None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(self, width=None, expansion=None, method="auto", max_iter=500, tol=1e-10,
                 learning_rate_init=1e-2, solver="auto", field="auto",
                 permutations="structured", n_init="auto", max_time=None, random_state=None,
                 verbose=0):
        self.width = width
        self.expansion = expansion
        self.method = method
        self.max_iter = max_iter
        self.tol = tol
        self.learning_rate_init = learning_rate_init
        self.solver = solver
        self.field = field
        self.permutations = permutations
        self.n_init = n_init
        self.max_time = max_time
        self.random_state = random_state
        self.verbose = verbose

    # ----------------------------------------------------------- validation --
    def _validated(self, A, *, reset):
        """The one validation of every input: M in fit (``reset=True``),
        rows X in transform. Returns a dense 2-D float or complex ndarray,
        or (in fit) a LinearOperator. Feature names and counts are checked
        or recorded by scikit-learn's ``validate_data`` for every kind."""
        if isinstance(A, LinearOperator):
            if not reset:
                raise ValueError("transform needs an array of rows, got a LinearOperator")
            validate_data(self, A, skip_check_array=True, reset=True)
            if np.result_type(A.dtype, np.float32).kind not in "fc":
                raise ValueError(f"the operator's dtype {A.dtype} is not a float or "
                                 "complex type")
            return A
        if reset:
            # M is a matrix to imitate, not data: say so in its own words
            shape = A.shape if hasattr(A, "shape") else np.asarray(A).shape
            if len(shape) != 2:
                raise ValueError(f"M must be a 2-D matrix of shape (n_out, n_in), the operator "
                                 f"to approximate; got an array of shape {tuple(shape)}")
        if _is_complex(A):
            # scikit-learn's array checks refuse complex data: the same
            # checks, here
            given = A
            A = np.asarray(A.toarray() if scipy.sparse.issparse(A) else A)
            name = "M" if reset else "X"
            if A.ndim != 2:
                raise ValueError(f"{name} must be 2-D, got shape {A.shape}")
            validate_data(self, given, skip_check_array=True, reset=reset)
            if A.shape[0] < 1 or A.shape[1] < 1:
                raise ValueError(f"{name} must have at least one row and one column, "
                                 f"got {A.shape}")
            if not np.all(np.isfinite(A)):
                raise ValueError(f"{name} contains NaN or infinity")
            return A.astype(np.complex64 if A.dtype == np.complex64 else np.complex128,
                            copy=False)
        if reset:
            validate_data(self, A, skip_check_array=True, reset=True)
            A = check_array(A, accept_sparse=True, dtype=[np.float64, np.float32],
                            input_name="M", estimator=self)
        else:
            A = validate_data(self, A, accept_sparse=True, reset=False,
                              dtype=[np.float64, np.float32])
        return A.toarray() if scipy.sparse.issparse(A) else A

    # ------------------------------------------------------------------ fit --
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, M, y=None):
        """Fit a K-matrix to the matrix M.

        Parameters
        ----------
        M : array-like, sparse matrix of shape (n_out, n_in), or LinearOperator
            The target operator (not data: see the class notes on pipelines).
        y : ignored

        Returns
        -------
        self : KMatrixApproximator
            The fitted estimator.

        Raises
        ------
        ValueError
            If M is not 2-D, is empty, holds NaN or infinity, or is an
            operator of a dtype that is not a float or complex type.

        Examples
        --------
        >>> import numpy as np, scipy.linalg, kmatrix as km
        >>> M = scipy.linalg.hadamard(64) + 0.01 * np.random.default_rng(0).standard_normal((64, 64))
        >>> est = km.KMatrixApproximator(random_state=0).fit(M)
        >>> bool(est.relative_error_ < 0.02), est.kmatrix_.shape, est.field_
        (True, (64, 64), 'real')
        """
        start = time.perf_counter()
        report = print if self.verbose else None
        dense, op, dtype = self._target(M)
        n_out, n_in = (dense if dense is not None else op).shape
        reps = representations(n_out, n_in, dtype, self.field, self.expansion)
        real_dtype = np.finfo(dtype).dtype
        # a tolerance below the working precision's rounding cannot be met
        tol = max(self.tol, 100 * float(np.finfo(real_dtype).eps))
        rng = check_random_state(self.random_state)
        # the widest closed form tried
        width = _CLOSED_FORM_WIDTH if self.width is None else self.width
        if report:
            report(f"KMatrixApproximator: M of shape {(n_out, n_in)}, {dtype}; trying "
                   + "; ".join(rep.describe(width) for rep in reps))
        # entries whose squares could overflow or underflow: work on M
        # scaled by 2^-k (exact), scale the fit back by 2^k at the end
        exponent = scaling_exponent(dense, real_dtype)
        if exponent:
            dense = times_power_of_two(dense, -exponent)

        bests, tried, within = [None] * len(reps), [], []
        if self.method != "gradient":
            if dense is None:
                if self.method == "hierarchical":
                    raise ValueError("method='hierarchical' needs the matrix: the operator is "
                                     "too large to materialize; use method='gradient'")
            else:
                bests, tried, within = closed_forms(
                    dense, reps, width, tol, rng, report, method=self.method,
                    expansion=self.expansion, field=self.field, permutations=self.permutations)
        n_iter, loss_curve, growth = 0, [], None
        if within:
            chosen = within[0]
        elif self.method == "hierarchical":
            chosen = preferred(bests, reps)
        else:
            chosen, n_iter, loss_curve, growth = descend(self, dense, op, reps, bests, tol,
                                                         rng, report)
        if chosen is None:
            raise ValueError("no finite fit was found: M's entries span too many orders of "
                             "magnitude for the closed forms and the gradient diverged; try a "
                             "smaller learning_rate_init or scale M")
        if chosen.error > tol and dense is not None and self.method != "gradient":
            warn_of_excluded_forms(dense, reps, tol, chosen.error, self.field, self.expansion,
                                   _CLOSED_FORM_WIDTH if self.width is None else self.width)
        if exponent:
            scale_first_block(chosen.model, exponent)
        self._store(chosen, tried, n_iter, loss_curve,
                    width_reason(chosen, tol, self.width, growth))
        if report:
            model = chosen.model
            report(f"chose {self.method_} ({self.field_}, width {model.width}, expansion "
                   f"{model.expansion}, {model.n_params} parameters): relative error "
                   f"{chosen.error:.3e} in {time.perf_counter() - start:.2f}s; "
                   f"{self.width_reason_}")
        return self

    def _target(self, M):
        """(dense matrix or None, operator or None, working dtype) of the target M."""
        target = self._validated(M, reset=True)
        dense, op = (None, target) if isinstance(target, LinearOperator) else (target, None)
        n_out, n_in = target.shape
        if dense is None and n_out * n_in <= _DENSE_LIMIT:
            dense = np.asarray(op.matmat(np.eye(n_in, dtype=np.result_type(op.dtype,
                                                                              np.float32))))
            if not np.all(np.isfinite(dense)):
                raise ValueError("the operator returned NaN or infinity")
        dtype = np.dtype(dense.dtype if dense is not None
                         else np.result_type(op.dtype, np.float32))
        return dense, op, dtype

    def _store(self, chosen, tried, n_iter, loss_curve, width_reason):
        """The fitted attributes of the chosen fit."""
        model = self.kmatrix_ = chosen.model
        self.operator_ = KMatrixOperator(model)
        self.relative_error_, self.width_reason_ = float(chosen.error), width_reason
        self.method_ = "gradient" if chosen.name is None else f"hierarchical: {chosen.name}"
        self.field_ = "complex" if model.twiddles.dtype.kind == "c" else "real"
        self.expansion_, self.fits_tried_ = model.expansion, tried
        self.level_errors_, self.n_iter_, self.loss_curve_ = chosen.levels, n_iter, loss_curve

    # ------------------------------------------------------------ transform --
    def transform(self, X):
        """Apply the fitted K-matrix to the rows of X: ``X @ K.T``.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_in)
            A dask array gives a lazy dask array, one task per row block.

        Returns
        -------
        Y : ndarray of shape (n_samples, n_out)
            In the promoted dtype of the fit and ``X``.

        Raises
        ------
        ValueError
            If X has another number of features than ``n_in``, or is not a
            finite 2-D array (a LinearOperator is refused).
        sklearn.exceptions.NotFittedError
            If the estimator is not fitted.

        Examples
        --------
        >>> import numpy as np, kmatrix as km
        >>> from scipy.fft import dct
        >>> est = km.KMatrixApproximator().fit(dct(np.eye(32), norm="ortho", axis=0))
        >>> X = np.random.default_rng(0).standard_normal((5, 32))
        >>> bool(np.allclose(est.transform(X), dct(X, norm="ortho")))
        True
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
        X = self._validated(X, reset=False)
        return self.kmatrix_.apply(X, check_finite=False)

    def fit_transform(self, M, y=None):
        """Fit to M, then apply the fit to the rows of M: ``M @ K.T``.

        This is ``fit(M).transform(M)``, as scikit-learn's transformer
        protocol defines it. For a target matrix it is seldom what is
        wanted (for an orthogonal M it is close to the identity): fit the
        approximator on the matrix to imitate and ``transform`` the data.

        Parameters
        ----------
        M : array-like or sparse matrix of shape (n_out, n_in)
        y : ignored

        Returns
        -------
        Y : ndarray of shape (n_out, n_out)

        Raises
        ------
        ValueError
            As :meth:`fit`.

        Examples
        --------
        >>> import numpy as np, kmatrix as km
        >>> M = km.KMatrix.random(16, random_state=0).todense()   # orthogonal
        >>> Y = km.KMatrixApproximator().fit_transform(M)         # M @ K.T ~ M @ M.T
        >>> bool(np.allclose(Y, np.eye(16)))
        True
        """
        return self.fit(M).transform(M)

    @property
    def _n_features_out(self):
        """Output features, for ``get_feature_names_out``."""
        return self.kmatrix_.n_out

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
