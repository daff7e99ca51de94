"""scikit-learn's common estimator checks for kmatrix's estimators."""

import pytest
from sklearn.exceptions import ConvergenceWarning, DataDimensionalityWarning
from sklearn.utils.estimator_checks import parametrize_with_checks

import kmatrix as km


def _instances():
    # every estimator at its defaults, with no parameter changed
    yield km.KMatrixRegressor()
    yield km.KMatrixClassifier()
    yield km.KMatrixApproximator()
    yield km.KMatrixRandomFeatures()
    # at n_components="auto", the checks' small data leave no room for a
    # reduction: every feature is kept, with a DataDimensionalityWarning
    yield km.KMatrixRandomProjection()
    # and other settings
    yield km.KMatrixRegressor(out_activation="tanh", solver="sgd", width=2, random_state=0)
    yield km.KMatrixRegressor(field="complex", random_state=0)
    # hidden layers, a dense output layer, L-BFGS
    yield km.KMatrixRegressor(hidden_layer_sizes=(8,))
    yield km.KMatrixClassifier(hidden_layer_sizes=(8,))
    yield km.KMatrixRegressor(hidden_layer_sizes=(6, 5), solver="lbfgs", random_state=0)
    yield km.KMatrixClassifier(hidden_layer_sizes=(5,), output_layer="dense", solver="lbfgs",
                               random_state=0)
    yield km.KMatrixApproximator(width=2, method="gradient", max_iter=20, random_state=0)
    yield km.KMatrixRandomFeatures(n_components=300, gamma="scale", random_state=0)
    yield km.KMatrixRandomProjection(n_components=2, random_state=0)


def _expected_failures(estimator):
    if isinstance(estimator, km.KMatrixApproximator):
        return {"check_complex_data": "complex matrices are a supported input: the "
                                      "approximator fits complex operators such as the DFT"}
    return {}


@pytest.mark.filterwarnings("ignore", category=ConvergenceWarning)
@pytest.mark.filterwarnings("ignore", category=DataDimensionalityWarning)
@parametrize_with_checks(list(_instances()), expected_failed_checks=_expected_failures)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
