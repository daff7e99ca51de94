"""KMatrixRegressor: learn y = g(W x + b) with W a K-matrix."""

import numbers
import time
import warnings

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import r2_score
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)

from .._core.config import resolve_workers
from .._core.lazy import is_dask_array, map_rows
from .._core.optimizers import AdamOptimizer, SGDOptimizer
from .._core.validation import complex_dtype_of
from .._operator import KMatrix
from .training import ACTIVATIONS, Trainer, activate

__all__ = ["KMatrixRegressor"]


class KMatrixRegressor(RegressorMixin, BaseEstimator):
    """Regression with a fast structured linear layer: y = g(W x + b).

    ``W`` is a K-matrix of shape ``(n_targets, n_features)`` (a product of
    butterfly matrices, :class:`KMatrix`), so the model holds
    ``O(n log n)`` parameters instead of ``n_targets * n_features`` and
    predicts in ``O(n log n)`` per sample. The twiddles and the intercept
    ``b`` are learned by mini-batch gradient descent (Adam or SGD with
    momentum) on the squared loss; each step runs the compiled product and
    gradient kernels on the whole mini-batch.

    Parameter names follow :class:`sklearn.neural_network.MLPRegressor` where
    they mean the same thing.

    Parameters
    ----------
    width : int, default=1
        Number of BB* blocks of the K-matrix (more is more expressive).
    expansion : int, default=1
        The K-matrix works on size ``N = next_pow2(expansion * max(n_features,
        n_targets))``; more is more expressive.
    activation : {"identity", "relu", "tanh", "logistic"}, default="identity"
        The output nonlinearity ``g``.
    solver : {"adam", "sgd"}, default="adam"
        "sgd" is stochastic gradient descent with ``momentum``.
    learning_rate_init : float, default=1e-2
        The step size (Adam's is bias-corrected, as in MLPRegressor). Ten
        times MLPRegressor's 1e-3, by measurement: a K-matrix's twiddles are
        O(1) entries of 2 x 2 blocks multiplied through ``2 log N`` stages,
        and at 1e-3 the default 200 epochs leave R^2 = 0.29 on a scaled
        16 x 16 Hadamard map (0.94 at 1e-2, 1.00 at 3e-2) and 0.18 on a
        128 x 128 DCT (0.44 at 1e-2); 1e-1 diverges on the DCT. The same
        name and meaning as :class:`KMatrixApproximator`'s.
    batch_size : int or "auto", default="auto"
        Rows per mini-batch; "auto" is ``min(200, n_samples)``.
    max_iter : int, default=200
        Maximum number of epochs (passes over the data).
    tol : float, default=1e-4
        Training stops when the loss (or, with ``early_stopping``, the
        validation score) has not improved by ``tol`` for more than
        ``n_iter_no_change`` consecutive epochs.
    alpha : float, default=0.0
        L2 penalty on the twiddles (``alpha / 2 * ||twiddles||^2`` per
        mini-batch, divided by its size as MLPRegressor does).
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the rows, stop when their R^2
        stops improving and keep the best model seen.
    validation_fraction : float, default=0.1
        Share of rows held out for early stopping.
    n_iter_no_change : int, default=10
        Epochs without improvement before stopping.
    fit_intercept : bool, default=True
        Learn the bias ``b``; otherwise ``b = 0``.
    warm_start : bool, default=False
        Start ``fit`` from the current model instead of a new random one.
    random_state : int, RandomState instance or None, default=None
        Seeds the initial K-matrix, the shuffling and the validation split.
        A fixed seed gives the same model whatever the number of threads.
    verbose : int, default=0
        Print one line per epoch: loss, validation score (with early
        stopping) and elapsed time.
    init : {"ortho", "normal", "identity"} or KMatrix, default="ortho"
        The starting K-matrix: random orthogonal 2x2 blocks (the product is
        a corner of an orthogonal matrix), Gaussian blocks, the identity
        (``W = I`` padded or cut), or a given KMatrix of shape
        ``(n_targets, n_features)`` (copied; it sets ``width``/``expansion``
        for the fit), e.g. a known transform to fine-tune.
    field : {"real", "complex"}, default="real"
        "complex" learns ``W`` as the real part (:attr:`KMatrix.real`) of a
        complex K-matrix: twice the real parameters and about three times
        the cost per step, but real transforms such as the DCT become exact
        members (the orthonormal DCT-II is ``Re(diag(d) F_2n)``, a width-1
        complex K-matrix at expansion 2) where a real K-matrix of the same
        width cannot hold them.
    shuffle : bool, default=True
        Shuffle the rows at every epoch.
    momentum : float, default=0.9
        SGD momentum.
    nesterovs_momentum : bool, default=True
        Use Nesterov's momentum with SGD.
    beta_1, beta_2 : float, default=0.9, 0.999
        Adam's decay rates of the first and second moment estimates.
    epsilon : float, default=1e-8
        Adam's numerical stability term.

    Attributes
    ----------
    kmatrix_ : KMatrix
        The learned ``W``, of shape ``(n_targets, n_features)``; its dtype is
        float32 when X is float32, else float64.
    intercept_ : ndarray of shape (n_targets,)
        The learned ``b`` (zeros if ``fit_intercept=False``).
    loss_ : float
        The last epoch's training loss.
    loss_curve_ : list of float
        The training loss per epoch: half the mean squared error over rows
        and targets, plus the penalty.
    best_loss_ : float or None
        The lowest training loss (None with early stopping).
    validation_scores_ : list of float or None
        R^2 on the held-out rows per epoch (early stopping only).
    best_validation_score_ : float or None
        The best of ``validation_scores_``.
    n_iter_ : int
        Epochs run by the last ``fit`` (cumulated by ``partial_fit``).
    t_ : int
        Training rows seen by the optimizer (epochs x rows).
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Defined when X has string column names.
    n_outputs_ : int
        Number of targets.

    See Also
    --------
    KMatrix : the structured operator learned here.
    sklearn.neural_network.MLPRegressor : the dense counterpart.

    Notes
    -----
    With a 1-D ``y`` the model is ``y = g(w . x + b)`` where ``w`` is a
    K-matrix of shape ``(1, n_features)``: the first row of a product of
    butterfly matrices of size ``N >= n_features``; ``predict`` then returns
    a 1-D array. With a 2-D ``y`` of ``n_targets`` columns ``W`` is
    rectangular, ``n_targets`` need not equal ``n_features``.

    Every step calls the compiled kernels on the whole mini-batch (a product,
    then a vector-Jacobian product that recomputes it), so an epoch costs a
    small constant times ``n_samples * width * N log N``, against
    ``n_samples * n_features * n_targets`` for a dense layer.

    Examples
    --------
    >>> import numpy as np, kmatrix as km
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((500, 16))
    >>> W = km.KMatrix.hadamard(16).todense() / 4
    >>> y = X @ W.T
    >>> reg = km.KMatrixRegressor(random_state=0).fit(X, y)
    >>> bool(reg.score(X, y) > 0.85)
    True

    Starting from the identity instead of a random orthogonal K-matrix
    (``init="identity"``) the same fit reaches R^2 = 1.0:

    >>> reg = km.KMatrixRegressor(init="identity", random_state=0).fit(X, y)
    >>> bool(reg.score(X, y) > 0.999)
    True
    """

    _parameter_constraints = {
        "width": [Interval(numbers.Integral, 1, None, closed="left")],
        "expansion": [Interval(numbers.Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "solver": [StrOptions({"adam", "sgd"})],
        "learning_rate_init": [Interval(numbers.Real, 0, None, closed="neither")],
        "batch_size": [StrOptions({"auto"}), Interval(numbers.Integral, 1, None, closed="left")],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "tol": [Interval(numbers.Real, 0, None, closed="left")],
        "alpha": [Interval(numbers.Real, 0, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(numbers.Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(numbers.Integral, 1, None, closed="left")],
        "fit_intercept": ["boolean"],
        "warm_start": ["boolean"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "init": [StrOptions({"ortho", "normal", "identity"}), KMatrix],
        "field": [StrOptions({"real", "complex"})],
        "shuffle": ["boolean"],
        "momentum": [Interval(numbers.Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "beta_1": [Interval(numbers.Real, 0, 1, closed="left")],
        "beta_2": [Interval(numbers.Real, 0, 1, closed="left")],
        "epsilon": [Interval(numbers.Real, 0, None, closed="neither")],
    }

    def __init__(self, width=1, expansion=1, activation="identity", solver="adam",
                 learning_rate_init=1e-2, batch_size="auto", max_iter=200, tol=1e-4,
                 alpha=0.0, early_stopping=False, validation_fraction=0.1,
                 n_iter_no_change=10, fit_intercept=True, warm_start=False,
                 random_state=None, verbose=0, init="ortho", field="real", shuffle=True,
                 momentum=0.9, nesterovs_momentum=True, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-8):
        self.width = width
        self.expansion = expansion
        self.activation = activation
        self.solver = solver
        self.learning_rate_init = learning_rate_init
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.tol = tol
        self.alpha = alpha
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.fit_intercept = fit_intercept
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose
        self.init = init
        self.field = field
        self.shuffle = shuffle
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon

    # ------------------------------------------------------------- fitting --
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model to data by mini-batch gradient descent.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the rows in the loss.

        Returns
        -------
        self : KMatrixRegressor
            The fitted estimator.

        Raises
        ------
        ValueError
            If the data are not finite, their shapes disagree, or (with
            ``warm_start``) the number of features or targets changed.

        Examples
        --------
        >>> import numpy as np, kmatrix as km
        >>> rng = np.random.default_rng(0)
        >>> X = rng.standard_normal((300, 8))
        >>> y = X @ km.KMatrix.dct(8).todense().T
        >>> reg = km.KMatrixRegressor(field="complex", expansion=2, max_iter=300,
        ...                           random_state=0).fit(X, y)
        >>> reg.kmatrix_.shape, reg.intercept_.shape
        ((8, 8), (8,))
        >>> bool(reg.score(X, y) > 0.9)
        True
        """
        keep = self.warm_start and hasattr(self, "kmatrix_")
        return self._fit(X, y, sample_weight, incremental=False, keep_model=keep)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """One epoch over (X, y), starting from the current model if any.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the rows in the loss.

        Returns
        -------
        self : KMatrixRegressor

        Raises
        ------
        ValueError
            If ``early_stopping=True``, the data are not finite, or the
            number of features or targets differs from the first call's.

        Examples
        --------
        Training on data that arrive in blocks (one block in memory at a
        time):

        >>> import numpy as np, kmatrix as km
        >>> rng = np.random.default_rng(0)
        >>> W = km.KMatrix.hadamard(16).todense() / 4
        >>> reg = km.KMatrixRegressor(init="identity", learning_rate_init=3e-2,
        ...                           random_state=0)
        >>> for block in range(50):
        ...     X = rng.standard_normal((500, 16))
        ...     reg = reg.partial_fit(X, X @ W.T)
        >>> reg.n_iter_
        50
        >>> X = rng.standard_normal((100, 16))
        >>> bool(reg.score(X, X @ W.T) > 0.9)
        True
        """
        if self.early_stopping:
            raise ValueError("partial_fit does not support early_stopping=True")
        return self._fit(X, y, sample_weight, incremental=True,
                         keep_model=hasattr(self, "kmatrix_"))

    def _fit(self, X, y, sample_weight, *, incremental, keep_model):
        X, Y, sample_weight, y_1d = self._prepare_data(X, y, sample_weight,
                                                       reset=not keep_model)
        rng = self._prepare_model(X.shape[1], Y.shape[1], X.dtype, y_1d,
                                  incremental=incremental, keep_model=keep_model)
        early = self.early_stopping and not incremental
        validation = None
        if early:
            X, Y, sample_weight, validation = self._validation_split(X, Y, sample_weight, rng)
        trainer = Trainer(self.kmatrix_, self.intercept_ if self.fit_intercept else None,
                          self.activation, self.alpha, self._optimizer,
                          n_threads=resolve_workers(None))
        stopped = self._run_epochs(trainer, X, Y, sample_weight, rng, validation,
                                   n_epochs=1 if incremental else self.max_iter,
                                   keep_model=keep_model, incremental=incremental)
        if not incremental and not stopped and self.n_iter_ == self.max_iter:
            warnings.warn(
                f"Stochastic optimizer: maximum iterations ({self.max_iter}) reached "
                "and the optimization hasn't converged yet.",
                ConvergenceWarning,
            )
        return self

    def _prepare_data(self, X, y, sample_weight, *, reset):
        """Validated C-contiguous (X, Y (2-D), sample_weight, y was 1-D)."""
        X, y = validate_data(self, X, y, reset=reset, multi_output=True, y_numeric=True,
                             dtype=[np.float64, np.float32])
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 0:
            raise ValueError("y has 0 targets; at least one is required")
        dtype = X.dtype
        Y = np.ascontiguousarray((y.reshape(-1, 1) if y.ndim == 1 else y).astype(dtype,
                                                                                   copy=False))
        X = np.ascontiguousarray(X)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, dtype=dtype,
                                                 ensure_non_negative=True)
            if not sample_weight.sum() > 0:
                raise ValueError("sample_weight must have a positive sum")
        return X, Y, sample_weight, y.ndim == 1

    def _prepare_model(self, n_features, n_targets, dtype, y_1d, *, incremental, keep_model):
        """Set up the model, its optimizer and the fit statistics; return
        the random generator of this fit."""
        if keep_model:
            self._continue_model(n_targets, dtype, y_1d)
        if not keep_model or not incremental:
            self._random_state = check_random_state(self.random_state)
        if not keep_model:
            self._initialize(n_features, n_targets, dtype, y_1d)
        elif not incremental:   # warm start of fit: same model, new statistics
            self.n_iter_ = 0
            self.loss_curve_ = []
            self.best_loss_ = np.inf
        if (not incremental or not hasattr(self, "_optimizer")
                or self._optimizer.params[0] is not self.kmatrix_._twiddles):
            self._optimizer = self._make_optimizer()
        return self._random_state

    def _initialize(self, n_features, n_targets, dtype, y_1d):
        """A new model and fresh statistics (the first fit)."""
        self.kmatrix_ = self._initial_kmatrix(n_features, n_targets, dtype)
        self.intercept_ = np.zeros(n_targets, dtype=dtype)
        self.n_outputs_ = n_targets
        self._y_1d = y_1d
        self.t_ = 0
        self.n_iter_ = 0
        self.loss_curve_ = []
        self.best_loss_ = np.inf
        self.validation_scores_ = None
        self.best_validation_score_ = None

    def _continue_model(self, n_targets, dtype, y_1d):
        """Check that the data continue the fitted model; follow their precision."""
        if n_targets != self.n_outputs_:
            raise ValueError(
                f"y has {n_targets} targets, but the fitted model predicts "
                f"{self.n_outputs_}"
            )
        if self.kmatrix_.dtype != dtype:
            self.kmatrix_ = _as_precision(self.kmatrix_, dtype)
            self.intercept_ = self.intercept_.astype(dtype)
        self._y_1d = y_1d
        if not self.fit_intercept:
            self.intercept_[...] = 0
        if self.best_loss_ is None:  # after a fit with early stopping
            self.best_loss_ = np.inf

    def _validation_split(self, X, Y, sample_weight, rng):
        """(X, Y, sample_weight) to train on and the held-out
        (X_val, Y_val, weight_val) for early stopping."""
        split = [X, Y] + ([] if sample_weight is None else [sample_weight])
        parts = train_test_split(*split, test_size=self.validation_fraction, random_state=rng)
        X, X_val, Y, Y_val = parts[:4]
        sample_weight, weight_val = (parts[4], parts[5]) if sample_weight is not None \
            else (None, None)
        if X_val.shape[0] < 2:
            raise ValueError(
                "The validation set is too small: increase validation_fraction "
                f"({self.validation_fraction}) or the number of samples "
                f"({X.shape[0] + X_val.shape[0]})."
            )
        self.validation_scores_ = []
        self.best_validation_score_ = -np.inf
        self.best_loss_ = None
        return (np.ascontiguousarray(X), np.ascontiguousarray(Y), sample_weight,
                (X_val, Y_val, weight_val))

    def _run_epochs(self, trainer, X, Y, sample_weight, rng, validation, *, n_epochs,
                    keep_model, incremental):
        """Train for up to n_epochs; returns whether training stopped early."""
        n_train = X.shape[0]
        batch_size = (min(200, n_train) if self.batch_size == "auto"
                      else min(self.batch_size, n_train))
        # a diverged fit must not leave a NaN model behind: keep the start,
        # and with early stopping the best model seen
        before = (self.kmatrix_.twiddles.copy(), self.intercept_.copy())
        best = before if validation is not None else None
        no_improvement = 0
        start = time.perf_counter()
        stopped = False
        for _ in range(n_epochs):
            order = rng.permutation(n_train) if self.shuffle else None
            loss = trainer.epoch(X, Y, batch_size, order, sample_weight)
            if not np.isfinite(loss):
                self._undo_diverged(before, keep_model)
            self.n_iter_ += 1
            self.t_ += n_train
            self.loss_ = loss
            self.loss_curve_.append(loss)
            message = f"Iteration {self.n_iter_}, loss = {loss:.8f}"
            if validation is not None:
                score, improved = self._score_validation(validation)
                message += f", validation score = {score:.6f}"
                no_improvement = 0 if improved else no_improvement + 1
                if score > self.best_validation_score_:
                    self.best_validation_score_ = float(score)
                    best = (self.kmatrix_.twiddles.copy(), self.intercept_.copy())
            else:
                if not incremental:
                    no_improvement = (no_improvement + 1
                                      if loss > self.best_loss_ - self.tol else 0)
                self.best_loss_ = min(self.best_loss_, loss)
            if self.verbose:
                print(f"{message}, elapsed = {time.perf_counter() - start:.2f}s")
            if no_improvement > self.n_iter_no_change:
                if self.verbose:
                    what = "Validation score" if validation is not None else "Training loss"
                    print(f"{what} did not improve more than tol={self.tol} for "
                          f"{self.n_iter_no_change} consecutive epochs. Stopping.")
                stopped = True
                break
        if best is not None:
            self.kmatrix_.twiddles[...] = best[0]
            self.intercept_[...] = best[1]
        return stopped

    def _score_validation(self, validation):
        """(R^2 on the held-out rows, whether it improved by more than tol)."""
        X_val, Y_val, weight_val = validation
        score = float(r2_score(Y_val, self._forward(X_val), sample_weight=weight_val,
                               multioutput="uniform_average"))
        self.validation_scores_.append(score)
        return score, score >= self.best_validation_score_ + self.tol

    def _undo_diverged(self, before, keep_model):
        """Put back the model before training (or none) and raise."""
        if keep_model:
            self.kmatrix_.twiddles[...] = before[0]
            self.intercept_[...] = before[1]
            del self._optimizer
        else:
            # back to unfitted: drop every fitted attribute
            for name in [k for k in vars(self) if k.endswith("_") and not k.startswith("__")]:
                delattr(self, name)
            self.__dict__.pop("_optimizer", None)
        raise ValueError(
            "Training diverged (the loss became NaN or infinite): lower "
            f"learning_rate_init ({self.learning_rate_init}) or scale the data."
        )

    def _initial_kmatrix(self, n_features, n_targets, dtype):
        if isinstance(self.init, KMatrix):
            K = self.init
            if K.shape != (n_targets, n_features):
                raise ValueError(
                    f"init KMatrix has shape {K.shape}, the data need "
                    f"(n_targets, n_features) = {(n_targets, n_features)}"
                )
            if K.dtype.kind == "c":
                raise ValueError("init must be a real operator: a real KMatrix or the real "
                                 "part K.real of a complex one")
            return _as_precision(K, dtype, copy=True)
        complex_ = self.field == "complex"
        K = KMatrix.random(n_targets, n_features, width=self.width, expansion=self.expansion,
                           dtype=complex_dtype_of(dtype) if complex_ else dtype, init=self.init,
                           random_state=self._random_state)
        return K.real

    def _make_optimizer(self):
        # the operator's own array (not a view of it): pickling the estimator
        # then keeps the optimizer and the model on one array
        params = [self.kmatrix_._twiddles]
        if self.fit_intercept:
            params.append(self.intercept_)
        if self.solver == "adam":
            return AdamOptimizer(params, self.learning_rate_init, self.beta_1, self.beta_2,
                                 self.epsilon)
        return SGDOptimizer(params, self.learning_rate_init, self.momentum,
                            self.nesterovs_momentum)

    # ----------------------------------------------------------- predicting --
    def _forward(self, X):
        Z = self.kmatrix_.apply(X, check_finite=False)
        Z += self.intercept_
        return activate(Z, self.activation)

    def predict(self, X):
        """Predict with the learned model: g(X W^T + b).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            A dask array gives a lazy dask array, one task per row block.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_targets)
            1-D when the model was fitted on a 1-D y; float32 for float32 X
            and a float32 model, float64 otherwise.

        Raises
        ------
        ValueError
            If X has another number of features than the fit's, or is not finite.

        Examples
        --------
        >>> import numpy as np, kmatrix as km
        >>> rng = np.random.default_rng(0)
        >>> X = rng.standard_normal((200, 16))
        >>> y = np.maximum(X @ km.KMatrix.hadamard(16).todense().T / 4, 0)
        >>> reg = km.KMatrixRegressor(activation="relu", init="identity", tol=1e-3,
        ...                           random_state=0).fit(X, y)
        >>> reg.predict(X[:3]).shape
        (3, 16)
        >>> bool(np.all(reg.predict(X) >= 0))          # relu outputs
        True
        """
        check_is_fitted(self)
        if is_dask_array(X):   # lazily, block by block
            x_dtype = X.dtype if X.dtype in (np.float32, np.float64) else np.dtype(np.float64)
            dtype = np.result_type(x_dtype, self.kmatrix_.dtype)
            return map_rows(self.predict, X, self.n_features_in_,
                            None if self._y_1d else self.kmatrix_.n_out, dtype,
                            "KMatrixRegressor.predict")
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        if X.dtype != self.kmatrix_.dtype:
            X = X.astype(np.result_type(X.dtype, self.kmatrix_.dtype))
        Y = self._forward(X)
        return Y[:, 0] if self._y_1d else Y

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.single_output = True
        tags.target_tags.multi_output = True
        return tags


def _as_precision(K, dtype, copy=False):
    """K (a real operator) with twiddles in the precision of the real ``dtype``."""
    tw_dtype = complex_dtype_of(dtype) if K.real_part else np.dtype(dtype)
    if K.twiddles.dtype == tw_dtype and not copy:
        return K
    return KMatrix(K.twiddles.astype(tw_dtype), K.shape, expansion=K.expansion,
                   real_part=K.real_part)
