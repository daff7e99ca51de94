"""What KMatrixRegressor and KMatrixClassifier share: networks of K-matrix
layers fitted the way scikit-learn's MLPs are.

:class:`NetworkEstimator` builds the layers (``hidden_layer_sizes``; each a
K-matrix of any shape through its padded network, the output layer a
K-matrix or a dense matrix), runs the solvers (mini-batch ``adam`` and
``sgd`` over :class:`~kmatrix._learning.training.Network`, full-batch
``lbfgs`` through scipy on the flattened parameters), early stopping, warm
starts, ``partial_fit`` and divergence. A subclass says what it predicts:
its loss and output activation, how targets become the output matrix
(``_targets``), how held-out rows are scored (``_validation_score``).
"""

import numbers
import time
import warnings

import numpy as np
import scipy.optimize
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_sample_weight, validate_data

from .._core.config import resolve_workers, single_blas_thread
from .._core.optimizers import AdamOptimizer, SGDOptimizer, real_view
from .._core.validation import check_dense_size, complex_dtype_of
from .._operator import KMatrix
from .training import ACTIVATIONS, Layer, Network

__all__ = ["NetworkEstimator", "as_precision", "check_partial_fit", "stochastic"]

INITS = ("ortho", "normal", "identity")


def _is_sizes(value):
    try:
        sizes = list(value)
    except TypeError:
        return False
    return all(isinstance(s, numbers.Integral) and not isinstance(s, bool) and s >= 1
               for s in sizes)


class NetworkEstimator(BaseEstimator):
    """The shared machinery of the K-matrix network estimators (not public)."""

    _parameter_constraints = {
        "hidden_layer_sizes": ["array-like", Interval(numbers.Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "width": [Interval(numbers.Integral, 1, None, closed="left")],
        "structure": [StrOptions({"kmatrix", "butterfly"})],
        "expansion": [Interval(numbers.Integral, 1, None, closed="left")],
        "output_layer": [StrOptions({"kmatrix", "dense"})],
        "solver": [StrOptions({"adam", "sgd", "lbfgs"})],
        "learning_rate_init": [Interval(numbers.Real, 0, None, closed="neither")],
        "batch_size": [StrOptions({"auto"}), Interval(numbers.Integral, 1, None, closed="left")],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "max_fun": [Interval(numbers.Integral, 1, None, closed="left")],
        "tol": [Interval(numbers.Real, 0, None, closed="left")],
        "alpha": [Interval(numbers.Real, 0, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(numbers.Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(numbers.Integral, 1, None, closed="left")],
        "fit_intercept": ["boolean"],
        "warm_start": ["boolean"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "init": [StrOptions(set(INITS)), KMatrix, np.ndarray, list, tuple],
        "field": [StrOptions({"real", "complex"})],
        "shuffle": ["boolean"],
        "momentum": [Interval(numbers.Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "beta_1": [Interval(numbers.Real, 0, 1, closed="left")],
        "beta_2": [Interval(numbers.Real, 0, 1, closed="left")],
        "epsilon": [Interval(numbers.Real, 0, None, closed="neither")],
    }

    def __init__(self, hidden_layer_sizes=(), activation="relu", width=1, structure="kmatrix",
                 expansion=1, output_layer="kmatrix", solver="adam", learning_rate_init=1e-2,
                 batch_size="auto", max_iter=200, max_fun=15000, tol=1e-4, alpha=0.0,
                 early_stopping=False, validation_fraction=0.1, n_iter_no_change=10,
                 fit_intercept=True, warm_start=False, random_state=None, verbose=0,
                 init="ortho", field="real", shuffle=True, momentum=0.9,
                 nesterovs_momentum=True, beta_1=0.9, beta_2=0.999, epsilon=1e-8):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.width = width
        self.structure = structure
        self.expansion = expansion
        self.output_layer = output_layer
        self.solver = solver
        self.learning_rate_init = learning_rate_init
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.max_fun = max_fun
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

    # ----------------------------------------------------------- structure --
    def _link_output(self):
        """kmatrix_ and intercept_: the output layer's weight (when a
        K-matrix) and bias, the same objects as in layers_ and intercepts_."""
        self.__dict__.pop("kmatrix_", None)
        if isinstance(self.layers_[-1], KMatrix):
            self.kmatrix_ = self.layers_[-1]
        self.intercept_ = self.intercepts_[-1]

    def _sizes(self, n_features, n_outputs):
        hidden = self.hidden_layer_sizes
        hidden = [hidden] if isinstance(hidden, numbers.Integral) else list(hidden)
        if not _is_sizes(hidden):
            raise ValueError(f"hidden_layer_sizes must be positive integers, got "
                             f"{self.hidden_layer_sizes!r}")
        return [n_features] + hidden + [n_outputs]

    def _layer_inits(self, n_layers):
        """The init of every layer: a string, a KMatrix or a dense array."""
        init = self.init
        if isinstance(init, (list, tuple)):
            if len(init) != n_layers:
                raise ValueError(f"init lists {len(init)} layers, the network has {n_layers}")
            return list(init)
        if isinstance(init, (KMatrix, np.ndarray)) and n_layers != 1:
            raise ValueError(f"init is one {type(init).__name__}, the network has "
                             f"{n_layers} layers: give a list with one init per layer")
        return [init] * n_layers

    def _initial_layer(self, init, n_in, n_out, dtype, last):
        """The weight of one layer: a KMatrix, or a dense matrix for a
        dense output layer."""
        shape = (n_out, n_in)
        if last and self.output_layer == "dense":
            if isinstance(init, (np.ndarray, KMatrix)):
                if init.shape != shape:
                    raise ValueError(f"init of the dense output layer has shape {init.shape}, "
                                     f"the network needs {shape}")
                dense = init.todense() if isinstance(init, KMatrix) else init
                if np.iscomplexobj(dense) or not np.all(np.isfinite(dense)):
                    raise ValueError("init of the dense output layer must be real and finite")
                return np.array(dense, dtype=dtype)
            if not isinstance(init, str):
                raise ValueError(f"init of the dense output layer must be a string, an array "
                                 f"or a KMatrix, got {type(init).__name__}")
            check_dense_size(n_out, n_in, dtype, "the dense output layer")
            # Glorot's uniform initialization, as scikit-learn's MLPs
            factor = 2.0 if self._out_activation(n_out) in ("logistic", "softmax") else 6.0
            bound = np.sqrt(factor / (n_in + n_out))
            return self._random_state.uniform(-bound, bound, shape).astype(dtype)
        if isinstance(init, KMatrix):
            if init.shape != shape:
                raise ValueError(f"init KMatrix has shape {init.shape}, the layer needs "
                                 f"(n_out, n_in) = {shape}")
            if init.dtype.kind == "c":
                raise ValueError("init must be a real operator: a real KMatrix or the real "
                                 "part K.real of a complex one")
            K = as_precision(init, dtype, copy=True)
            if self.structure == "butterfly" and not np.all(K.twiddles[:, 1] == np.eye(2)):
                raise ValueError("with structure='butterfly' an init KMatrix must have "
                                 "identity second halves (twiddles[:, 1]), as "
                                 "KMatrix.hadamard and KMatrix.identity do")
            return K
        if not isinstance(init, str) or init not in INITS:
            raise ValueError(f"init of a K-matrix layer must be one of {INITS} or a KMatrix, "
                             f"got {type(init).__name__ if not isinstance(init, str) else init!r}"
                             " (an array is an init for output_layer='dense')")
        complex_ = self.field == "complex"
        K = KMatrix.random(n_out, n_in, width=self.width, expansion=self.expansion,
                           dtype=complex_dtype_of(dtype) if complex_ else dtype, init=init,
                           random_state=self._random_state)
        if self.structure == "butterfly":
            K.twiddles[:, 1] = np.eye(2)
        return K.real

    def _initialize(self, n_features, n_outputs, dtype):
        """New layers and fresh statistics (the first fit)."""
        sizes = self._sizes(n_features, n_outputs)
        inits = self._layer_inits(len(sizes) - 1)
        self.layers_ = [self._initial_layer(init, n_in, n_out, dtype, k == len(inits) - 1)
                        for k, (init, n_in, n_out) in enumerate(zip(inits, sizes, sizes[1:]))]
        self.intercepts_ = [np.zeros(n, dtype=dtype) for n in sizes[1:]]
        self._link_output()
        self.n_outputs_ = n_outputs
        self.n_layers_ = len(sizes)
        self.out_activation_ = self._out_activation(n_outputs)
        self.n_params_ = sum(_n_params(W, self.structure) for W in self.layers_) + (
            sum(sizes[1:]) if self.fit_intercept else 0)
        self.n_params_dense_ = sum(a * b for a, b in zip(sizes, sizes[1:])) + (
            sum(sizes[1:]) if self.fit_intercept else 0)
        self.t_ = 0
        self._reset_statistics()

    def _reset_statistics(self):
        self.n_iter_ = 0
        self.loss_curve_ = []
        self.best_loss_ = np.inf
        self.validation_scores_ = None
        self.best_validation_score_ = None

    def _network(self, optimizer):
        bias = self.fit_intercept
        butterfly = self.structure == "butterfly"
        layers = [Layer(W, b if bias else None, butterfly)
                  for W, b in zip(self.layers_, self.intercepts_)]
        return Network(layers, self.activation, self.out_activation_, self._loss,
                       self.alpha, optimizer, n_threads=resolve_workers(None))

    def _make_optimizer(self, params):
        if self.solver == "sgd":
            return SGDOptimizer(params, self.learning_rate_init, self.momentum,
                                self.nesterovs_momentum)
        return AdamOptimizer(params, self.learning_rate_init, self.beta_1, self.beta_2,
                             self.epsilon)

    # ------------------------------------------------------------- fitting --
    def _fit(self, X, y, sample_weight, *, incremental, classes=None):
        keep_model = hasattr(self, "layers_") and (incremental or self.warm_start)
        X, y, sample_weight = self._check_data(X, y, sample_weight, reset=not keep_model)
        Y, attrs = self._targets(y, X.dtype, keep_model=keep_model, incremental=incremental,
                                 classes=classes)
        # what the targets set is committed with the model: a new model needs
        # it to be built; a kept one only once the data are known to fit it
        if not keep_model:
            self.__dict__.update(attrs)
        try:
            self._prepare_model(X.shape[1], Y.shape[1], X.dtype, incremental=incremental,
                                keep_model=keep_model)
        except BaseException:
            if not keep_model:
                for name in attrs:
                    self.__dict__.pop(name, None)
            raise
        self.__dict__.update(attrs)
        if self.solver == "lbfgs":
            self._fit_lbfgs(X, Y, sample_weight, keep_model)
            return self
        rng = self._random_state
        validation = None
        if self.early_stopping and not incremental:
            X, Y, sample_weight, validation = self._validation_split(X, Y, sample_weight, rng)
        net = self._network(self._optimizer)
        with single_blas_thread():   # a dense output layer's sums: thread-count free
            stopped = self._run_epochs(net, X, Y, sample_weight, rng, validation,
                                       n_epochs=1 if incremental else self.max_iter,
                                       keep_model=keep_model, incremental=incremental)
        if not incremental and not stopped and self.n_iter_ == self.max_iter:
            warnings.warn(
                f"Stochastic optimizer: maximum iterations ({self.max_iter}) reached "
                "and the optimization hasn't converged yet.",
                ConvergenceWarning,
            )
        return self

    def _check_data(self, X, y, sample_weight, *, reset):
        """Validated C-contiguous X (float32 or float64), y and sample weights."""
        X, y = validate_data(self, X, y, reset=reset, multi_output=True,
                             dtype=[np.float64, np.float32], y_numeric=self._y_numeric)
        X = np.ascontiguousarray(X)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, dtype=X.dtype,
                                                 ensure_non_negative=True)
            if not sample_weight.sum() > 0:
                raise ValueError("sample_weight must have a positive sum")
        return X, y, sample_weight

    def _prepare_model(self, n_features, n_outputs, dtype, *, incremental, keep_model):
        """Set up the layers, the optimizer and the fit statistics."""
        if keep_model:
            self._continue_model(n_outputs, dtype)
        if not keep_model or not incremental:
            self._random_state = check_random_state(self.random_state)
        if not keep_model:
            self._initialize(n_features, n_outputs, dtype)
        elif not incremental:   # warm start of fit: same model, new statistics
            self._reset_statistics()
        params = self._network(None).params
        if (not incremental or getattr(self, "_optimizer", None) is None
                or len(self._optimizer.params) != len(params)
                or any(a is not b for a, b in zip(self._optimizer.params, params))):
            self._optimizer = None if self.solver == "lbfgs" else self._make_optimizer(params)

    def _continue_model(self, n_outputs, dtype):
        """Check that the data continue the fitted model; follow their precision."""
        if n_outputs != self.n_outputs_:
            raise ValueError(f"y has {n_outputs} {self._outputs_name}, but the fitted model "
                             f"predicts {self.n_outputs_}")
        sizes = self._sizes(self.n_features_in_, n_outputs)
        dense_out = isinstance(self.layers_[-1], np.ndarray)
        if ([W.shape for W in self.layers_] != list(zip(sizes[1:], sizes))
                or dense_out != (self.output_layer == "dense")):
            raise ValueError("hidden_layer_sizes or output_layer changed since the model was "
                             "fitted: a warm start or partial_fit continues the same layers")
        if self.intercepts_[0].dtype != dtype:
            self.layers_ = [W.astype(dtype) if isinstance(W, np.ndarray) else
                            as_precision(W, dtype) for W in self.layers_]
            self.intercepts_ = [b.astype(dtype) for b in self.intercepts_]
            self._link_output()
        if not self.fit_intercept:
            for b in self.intercepts_:
                b[...] = 0
        self.out_activation_ = self._out_activation(n_outputs)   # it may be a new setting
        if self.best_loss_ is None:  # after a fit with early stopping
            self.best_loss_ = np.inf

    def _validation_split(self, X, Y, sample_weight, rng):
        """(X, Y, sample_weight) to train on and the held-out
        (X_val, Y_val, weight_val) for early stopping."""
        split = [X, Y] + ([] if sample_weight is None else [sample_weight])
        parts = train_test_split(*split, test_size=self.validation_fraction, random_state=rng,
                                 stratify=self._stratify(Y))
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
                (np.ascontiguousarray(X_val), Y_val, weight_val))

    def _stratify(self, Y):
        return None

    def _snapshot(self):
        return ([W.copy() if isinstance(W, np.ndarray) else W.twiddles.copy()
                 for W in self.layers_], [b.copy() for b in self.intercepts_])

    def _restore(self, snapshot):
        for W, b, w0, b0 in zip(self.layers_, self.intercepts_, *snapshot):
            (W if isinstance(W, np.ndarray) else W.twiddles)[...] = w0
            b[...] = b0

    def _run_epochs(self, net, X, Y, sample_weight, rng, validation, *, n_epochs,
                    keep_model, incremental):
        """Train for up to n_epochs; returns whether training stopped early."""
        n_train = X.shape[0]
        batch_size = (min(200, n_train) if self.batch_size == "auto"
                      else min(self.batch_size, n_train))
        # a diverged fit must not leave a NaN model behind: keep the start,
        # and with early stopping the best model seen
        before = self._snapshot()
        best = before if validation is not None else None
        no_improvement = 0
        start = time.perf_counter()
        for _ in range(n_epochs):
            order = rng.permutation(n_train) if self.shuffle else None
            loss = net.epoch(X, Y, batch_size, order, sample_weight)
            if not np.isfinite(loss):
                self._undo_diverged(before, keep_model)
            self.n_iter_ += 1
            self.t_ += n_train
            self.loss_ = loss
            self.loss_curve_.append(loss)
            message = f"Iteration {self.n_iter_}, loss = {loss:.8f}"
            if validation is not None:
                score = self._validation_score(net, *validation)
                self.validation_scores_.append(score)
                message += f", validation score = {score:.6f}"
                improved = score >= self.best_validation_score_ + self.tol
                no_improvement = 0 if improved else no_improvement + 1
                if score > self.best_validation_score_:
                    self.best_validation_score_ = float(score)
                    best = self._snapshot()
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
                if best is not None:
                    self._restore(best)
                return True
        if best is not None:
            self._restore(best)
        return False

    def _fit_lbfgs(self, X, Y, sample_weight, keep_model):
        """Full-batch L-BFGS-B (scipy) on every parameter, flattened to float64."""
        net = self._network(None)
        views = [real_view(p).reshape(-1) for p in net.params]
        bounds = np.cumsum([0] + [v.size for v in views])
        before = self._snapshot()

        def unpack(x):
            for v, a, b in zip(views, bounds, bounds[1:]):
                v[...] = x[a:b]

        def loss_and_grad(x):
            unpack(x)
            loss = net.gradients(X, Y, sample_weight)
            grad = np.concatenate([real_view(g).reshape(-1) for g in net.grads])
            return loss, grad.astype(np.float64)

        start = time.perf_counter()

        def callback(intermediate_result):
            self.loss_curve_.append(float(intermediate_result.fun))
            if self.verbose:
                print(f"Iteration {len(self.loss_curve_)}, loss = "
                      f"{intermediate_result.fun:.8f}, elapsed = "
                      f"{time.perf_counter() - start:.2f}s")

        with single_blas_thread(), np.errstate(over="ignore", invalid="ignore"):
            result = scipy.optimize.minimize(
                loss_and_grad, np.concatenate(views).astype(np.float64), jac=True,
                method="L-BFGS-B", callback=callback,
                options={"maxiter": self.max_iter, "maxfun": self.max_fun, "gtol": self.tol})
        if not np.all(np.isfinite(result.x)) or not np.isfinite(result.fun):
            self._undo_diverged(before, keep_model)
        unpack(result.x)
        self.n_iter_ += result.nit
        self.t_ += X.shape[0] * result.nit
        self.loss_ = float(result.fun)
        self.best_loss_ = min(self.best_loss_, self.loss_)
        if result.status == 1:   # the iteration or evaluation budget ran out
            warnings.warn(f"lbfgs failed to converge after {result.nit} iterations "
                          f"(max_iter={self.max_iter}, max_fun={self.max_fun}).",
                          ConvergenceWarning)

    def _undo_diverged(self, before, keep_model):
        """Put back the model before training (or none) and raise."""
        if keep_model:
            self._restore(before)
            self._optimizer = None
        else:
            # back to unfitted: drop every fitted attribute
            for name in [k for k in vars(self) if k.endswith("_") and not k.startswith("__")]:
                delattr(self, name)
            self.__dict__.pop("_optimizer", None)
        raise ValueError(
            "Training diverged (the loss became NaN or infinite): lower "
            f"learning_rate_init ({self.learning_rate_init}) or scale the data."
        )

    # ----------------------------------------------------------- predicting --
    def _outputs(self, X):
        """The network's outputs for validated X: in the model's precision, or
        in float64 for float64 rows and a float32 model (the model unchanged).
        No BLAS limit here: predictions may run in many threads at once."""
        model_dtype = self.intercepts_[0].dtype
        dtype = np.result_type(X.dtype, model_dtype)
        if dtype == model_dtype:
            net = self._network(None)
        else:
            layers = [Layer(W.astype(dtype) if isinstance(W, np.ndarray)
                            else as_precision(W, dtype),
                            b.astype(dtype) if self.fit_intercept else None)
                      for W, b in zip(self.layers_, self.intercepts_)]
            net = Network(layers, self.activation, self.out_activation_, self._loss, 0.0,
                          None, n_threads=resolve_workers(None))
        return net.predict(np.ascontiguousarray(X, dtype=dtype))


def _n_params(W, structure):
    """Real numbers a layer's weight learns (complex twiddles count twice; a
    butterfly layer learns half its twiddles)."""
    if isinstance(W, np.ndarray):
        return W.size
    tw = W.twiddles
    return (tw.size * (2 if tw.dtype.kind == "c" else 1)
            // (2 if structure == "butterfly" else 1))


def as_precision(K, dtype, copy=False):
    """K (a real operator) with twiddles in the precision of the real ``dtype``."""
    tw_dtype = complex_dtype_of(dtype) if K.real_part else np.dtype(dtype)
    if K.twiddles.dtype == tw_dtype and not copy:
        return K
    return KMatrix(K.twiddles.astype(tw_dtype), K.shape, expansion=K.expansion,
                   real_part=K.real_part)


def stochastic(est):
    """partial_fit exists for the stochastic solvers only (as in the MLPs)."""
    if est.solver == "lbfgs":
        raise AttributeError("partial_fit is only available for the stochastic solvers "
                             "(adam, sgd), not lbfgs")
    return True


def check_partial_fit(est):
    """partial_fit's own refusal: early stopping needs whole fits."""
    if est.early_stopping:
        raise ValueError("partial_fit does not support early_stopping=True")
