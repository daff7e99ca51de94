"""KMatrixRegressor: MLPRegressor with K-matrix layers."""

import warnings

import numpy as np
from sklearn.base import RegressorMixin, _fit_context
from sklearn.metrics import r2_score
from sklearn.utils._param_validation import StrOptions
from sklearn.utils._available_if import available_if
from sklearn.utils.validation import check_is_fitted, validate_data

from .._core.lazy import is_dask_array, map_rows
from .network_docs import ATTRIBUTES_DOC, PARAMETERS_DOC
from .networks import NetworkEstimator, check_partial_fit, stochastic
from .training import ACTIVATIONS

__all__ = ["KMatrixRegressor"]


class KMatrixRegressor(RegressorMixin, NetworkEstimator):
    __doc__ = """Regression by a network of fast structured layers (MLPRegressor's interface).

    Without hidden layers the model is ``y = g(W x + b)``; with
    ``hidden_layer_sizes=(h1, h2, ...)`` it is the MLP
    ``y = g(W_out a_k + b_out)``, ``a_i = activation(W_i a_(i-1) + b_i)``.
    Every ``W`` is a K-matrix (a product of butterfly matrices,
    :class:`KMatrix`) of any shape, so a layer holds ``O(n log n)``
    parameters instead of ``n_out * n_in`` and costs ``O(n log n)`` per
    sample; the output layer may be dense instead (``output_layer``). The
    twiddles and biases are learned on the squared loss by mini-batch Adam
    or SGD, or by full-batch L-BFGS; each step runs the compiled product
    and gradient kernels on the whole mini-batch, layer by layer.

    Parameter names follow :class:`sklearn.neural_network.MLPRegressor` where
    they mean the same thing.

    Parameters
    ----------
""" + PARAMETERS_DOC + """    out_activation : {"identity", "relu", "tanh", "logistic"}, default="identity"
        The output nonlinearity ``g``. (Before hidden layers existed,
        ``activation`` was this nonlinearity; it now means what it means
        in MLPRegressor, the hidden layers' activation.)

    Attributes
    ----------
""" + ATTRIBUTES_DOC + """
    See Also
    --------
    KMatrixClassifier : the same networks for classification.
    KMatrix : the structured operator every layer is.
    sklearn.neural_network.MLPRegressor : the dense counterpart.

    Notes
    -----
    With a 1-D ``y`` the output layer has one row and ``predict`` returns a
    1-D array. Every step calls the compiled kernels on the whole
    mini-batch (per layer a product, then a vector-Jacobian product that
    recomputes it), so an epoch costs a small constant times
    ``n_samples * width * sum(N log N)`` over the layers, against
    ``n_samples * sum(n_in * n_out)`` for the dense network.

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

    A hidden K-matrix layer of 64 and a dense output layer learn a
    nonlinear map of 64 features with 1,665 parameters, where the dense
    MLP of the same shape holds 4,225:

    >>> X = rng.standard_normal((1000, 64))
    >>> y = np.tanh(X @ km.KMatrix.hadamard(64).todense().T / 8).sum(axis=1)
    >>> reg = km.KMatrixRegressor(hidden_layer_sizes=(64,), output_layer="dense",
    ...                           random_state=0).fit(X, y)
    >>> reg.n_params_, reg.n_params_dense_
    (1665, 4225)
    >>> bool(reg.score(X, y) > 0.95)
    True
    """

    _loss = "squared_error"
    _outputs_name = "targets"
    _y_numeric = True
    _parameter_constraints = {
        **NetworkEstimator._parameter_constraints,
        "out_activation": [StrOptions(set(ACTIVATIONS))],
    }

    def __init__(self, hidden_layer_sizes=(), activation="relu", width=1, structure="kmatrix",
                 expansion=1, output_layer="kmatrix", solver="adam", learning_rate_init=1e-2,
                 batch_size="auto", max_iter=200, max_fun=15000, tol=1e-4, alpha=0.0,
                 early_stopping=False, validation_fraction=0.1, n_iter_no_change=10,
                 fit_intercept=True, warm_start=False, random_state=None, verbose=0,
                 init="ortho", field="real", shuffle=True, momentum=0.9,
                 nesterovs_momentum=True, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
                 out_activation="identity"):
        params = {k: v for k, v in locals().items() if k not in ("self", "__class__")}
        self.out_activation = params.pop("out_activation")
        super().__init__(**params)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the network to data.

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
            If the data are not finite, their shapes disagree, (with
            ``warm_start``) the number of features or targets changed, or
            training diverged.

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
        if not len(np.atleast_1d(self.hidden_layer_sizes)) and self.activation != "relu":
            warnings.warn("activation is the hidden layers' activation (as in MLPRegressor) "
                          "and this network has none; the output's nonlinearity is "
                          "out_activation", UserWarning)
        return self._fit(X, y, sample_weight, incremental=False)

    @available_if(stochastic)
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
            (With ``solver="lbfgs"`` there is no ``partial_fit``, as in
            MLPRegressor.)

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
        check_partial_fit(self)
        return self._fit(X, y, sample_weight, incremental=True)

    def _targets(self, y, dtype, *, keep_model, incremental, classes):
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 0:
            raise ValueError("y has 0 targets; at least one is required")
        # no copy of targets already in the model's dtype (an epoch reads them)
        Y = np.ascontiguousarray((y.reshape(-1, 1) if y.ndim == 1 else y)
                                 .astype(dtype, copy=False))
        return Y, {"_y_1d": y.ndim == 1}

    def _out_activation(self, n_outputs):
        return self.out_activation

    def _validation_score(self, net, X_val, Y_val, weight_val):
        P = net.predict(X_val)
        return float(r2_score(Y_val, P, sample_weight=weight_val,
                              multioutput="uniform_average"))

    def predict(self, X):
        """Predict with the learned network.

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
        >>> reg = km.KMatrixRegressor(out_activation="relu", init="identity", tol=1e-3,
        ...                           random_state=0).fit(X, y)
        >>> reg.predict(X[:3]).shape
        (3, 16)
        >>> bool(np.all(reg.predict(X) >= 0))          # relu outputs
        True
        """
        check_is_fitted(self)
        if is_dask_array(X):   # lazily, block by block
            x_dtype = X.dtype if X.dtype in (np.float32, np.float64) else np.dtype(np.float64)
            dtype = np.result_type(x_dtype, self.intercepts_[0].dtype)
            return map_rows(self.predict, X, self.n_features_in_,
                            None if self._y_1d else self.n_outputs_, dtype,
                            "KMatrixRegressor.predict")
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        Y = self._outputs(X)
        return Y[:, 0] if self._y_1d else Y

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.single_output = True
        tags.target_tags.multi_output = True
        return tags
