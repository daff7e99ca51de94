"""KMatrixClassifier: MLPClassifier with K-matrix layers."""

import numpy as np
from sklearn.base import ClassifierMixin, _fit_context
from sklearn.metrics import accuracy_score
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils.multiclass import type_of_target, unique_labels
from sklearn.utils._available_if import available_if
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from .network_docs import ATTRIBUTES_DOC, PARAMETERS_DOC
from .networks import NetworkEstimator, check_partial_fit, stochastic

__all__ = ["KMatrixClassifier"]


class KMatrixClassifier(ClassifierMixin, NetworkEstimator):
    __doc__ = """Classification by a network of fast structured layers (MLPClassifier's interface).

    The network of :class:`KMatrixRegressor` (K-matrix layers of any shape,
    ``hidden_layer_sizes`` hidden layers with ``activation``) ends in a
    softmax over the classes (multiclass) or a logistic unit per output
    (binary: one output; multilabel: one per label), trained on the log
    loss (cross-entropy) as :class:`sklearn.neural_network.MLPClassifier`
    is. A K-matrix output layer of a few classes is the first rows of a
    network on ``N >= n_in`` positions; ``output_layer="dense"`` makes it
    a small dense matrix instead.

    Parameter names follow :class:`sklearn.neural_network.MLPClassifier`
    where they mean the same thing.

    Parameters
    ----------
""" + PARAMETERS_DOC + """
    Attributes
    ----------
    classes_ : ndarray or list of ndarray
        The class labels (for multilabel targets, ``[0, 1]`` per label as in
        MLPClassifier: the labels are the indicator columns).
""" + ATTRIBUTES_DOC + """
    See Also
    --------
    KMatrixRegressor : the same networks for regression.
    sklearn.neural_network.MLPClassifier : the dense counterpart.

    Notes
    -----
    The validation score of ``early_stopping`` is the accuracy on the
    held-out rows (the held-out share is stratified by class, except for
    multilabel targets).

    Examples
    --------
    The digits (8 x 8 images, 64 features): a hidden K-matrix layer of 64
    and a dense output layer of 10 x 64 hold 2,250 parameters where the
    dense MLP of the same shape holds 4,810:

    >>> import kmatrix as km
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.model_selection import train_test_split
    >>> X, y = load_digits(return_X_y=True)
    >>> X_train, X_test, y_train, y_test = train_test_split(X / 16, y, random_state=0)
    >>> clf = km.KMatrixClassifier(hidden_layer_sizes=(64,), output_layer="dense",
    ...                            random_state=0).fit(X_train, y_train)
    >>> clf.n_params_, clf.n_params_dense_
    (2250, 4810)
    >>> bool(clf.score(X_test, y_test) > 0.95)
    True
    >>> clf.predict_proba(X_test[:2]).shape
    (2, 10)
    """

    _loss = "log_loss"
    _outputs_name = "outputs (labels or label columns)"
    _y_numeric = False

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the network to data.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Class labels, or a 0/1 indicator matrix for multilabel targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the rows in the loss.

        Returns
        -------
        self : KMatrixClassifier
            The fitted estimator.

        Raises
        ------
        ValueError
            If the data are not finite, their shapes disagree, y has one
            class only, or training diverged.

        Examples
        --------
        >>> import numpy as np, kmatrix as km
        >>> rng = np.random.default_rng(0)
        >>> X = rng.standard_normal((400, 16))
        >>> y = np.where(X[:, 0] + X[:, 3] > 0, "yes", "no")
        >>> clf = km.KMatrixClassifier(tol=1e-3, random_state=0).fit(X, y)
        >>> clf.classes_
        array(['no', 'yes'], dtype='<U3')
        >>> bool(clf.score(X, y) > 0.95)
        True
        """
        return self._fit(X, y, sample_weight, incremental=False)

    @available_if(stochastic)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One epoch over (X, y), starting from the current model if any.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
        classes : array-like of shape (n_classes,), default=None
            Every class of the whole training; required on the first call
            (a block need not hold every class), ignored after it.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the rows in the loss.

        Returns
        -------
        self : KMatrixClassifier

        Raises
        ------
        ValueError
            If ``classes`` is missing on the first call, y holds a label
            outside them, or ``early_stopping=True``. (With
            ``solver="lbfgs"`` there is no ``partial_fit``, as in
            MLPClassifier.)

        Examples
        --------
        >>> import numpy as np, kmatrix as km
        >>> rng = np.random.default_rng(0)
        >>> clf = km.KMatrixClassifier(batch_size=20, random_state=0)
        >>> for block in range(30):
        ...     X = rng.standard_normal((200, 8))
        ...     clf = clf.partial_fit(X, (X[:, 0] > 0).astype(int), classes=[0, 1])
        >>> X = rng.standard_normal((200, 8))
        >>> bool(clf.score(X, (X[:, 0] > 0).astype(int)) > 0.9)
        True
        """
        check_partial_fit(self)
        if not hasattr(self, "classes_") and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit")
        return self._fit(X, y, sample_weight, incremental=True, classes=classes)

    def _targets(self, y, dtype, *, keep_model, incremental, classes):
        """(the one-hot, indicator or single logistic output matrix of y, the
        label attributes to set); nothing of the estimator changes here."""
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        multilabel = type_of_target(y) == "multilabel-indicator"
        if keep_model:
            if multilabel != self._multilabel:
                raise ValueError("y is multilabel where the fitted model is not, or the "
                                 "other way round")
            binarizer, known = self._label_binarizer, self.classes_
            if not multilabel:
                labels = unique_labels(y)
                missing = np.setdiff1d(labels, known)
                if len(missing):
                    raise ValueError(f"y holds labels {missing.tolist()} not in classes_ "
                                     f"{known.tolist()}")
                if not incremental and len(labels) != len(known):
                    raise ValueError(f"warm_start needs y with the classes of the previous "
                                     f"fit {known.tolist()}, got {labels.tolist()}")
            attrs = {}
        else:
            if classes is not None and not multilabel:
                missing = np.setdiff1d(unique_labels(y), np.asarray(classes))
                if len(missing):
                    raise ValueError(f"y holds labels {missing.tolist()} not in classes "
                                     f"{np.asarray(classes).tolist()}")
            binarizer = LabelBinarizer().fit(y if classes is None or multilabel
                                             else np.asarray(classes))
            if not multilabel and len(binarizer.classes_) < 2:
                raise ValueError(f"y must hold at least two classes, got one class "
                                 f"({binarizer.classes_.tolist()})")
            attrs = {"_multilabel": multilabel, "_label_binarizer": binarizer,
                     "classes_": binarizer.classes_}
        return np.ascontiguousarray(binarizer.transform(y).astype(dtype)), attrs

    def _out_activation(self, n_outputs):
        return "logistic" if self._multilabel or n_outputs == 1 else "softmax"

    def _stratify(self, Y):
        return None if self._multilabel else Y

    def _validation_score(self, net, X_val, Y_val, weight_val):
        P = net.predict(X_val)
        lb = self._label_binarizer
        return float(accuracy_score(lb.inverse_transform(Y_val), lb.inverse_transform(P),
                                    sample_weight=weight_val))

    def predict(self, X):
        """The most probable class of every row (the labels above 0.5 for
        multilabel targets).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_labels)

        Raises
        ------
        ValueError
            If X has another number of features than the fit's, or is not finite.

        Examples
        --------
        >>> import numpy as np, kmatrix as km
        >>> X = np.random.default_rng(0).standard_normal((300, 4))
        >>> clf = km.KMatrixClassifier(random_state=0).fit(X, X[:, 1] > 0)
        >>> clf.predict(X[:4])
        array([False,  True, False, False])
        >>> bool(np.mean(clf.predict(X) == (X[:, 1] > 0)) > 0.95)
        True
        """
        P = self._probabilities(X)
        return self._label_binarizer.inverse_transform(P)

    def predict_proba(self, X):
        """Probability of every class for every row.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Rows sum to 1 (softmax); for multilabel targets the probability
            of every label, each in [0, 1].

        Raises
        ------
        ValueError
            If X has another number of features than the fit's, or is not finite.

        Examples
        --------
        >>> import numpy as np, kmatrix as km
        >>> X = np.random.default_rng(0).standard_normal((300, 4))
        >>> y = np.digitize(X[:, 0], [-0.5, 0.5])          # three classes
        >>> clf = km.KMatrixClassifier(tol=1e-3, random_state=0).fit(X, y)
        >>> P = clf.predict_proba(X)
        >>> P.shape, bool(np.allclose(P.sum(axis=1), 1))
        ((300, 3), True)
        """
        P = self._probabilities(X)
        if P.shape[1] == 1 and not self._multilabel:
            return np.hstack([1 - P, P])
        return P

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)

        Raises
        ------
        ValueError
            If X has another number of features than the fit's, or is not finite.

        Examples
        --------
        >>> import numpy as np, kmatrix as km
        >>> X = np.random.default_rng(0).standard_normal((300, 4))
        >>> clf = km.KMatrixClassifier(tol=1e-3, random_state=0).fit(X, X[:, 2] > 0)
        >>> bool(np.allclose(np.exp(clf.predict_log_proba(X)), clf.predict_proba(X)))
        True
        """
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def _probabilities(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        return self._outputs(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags
