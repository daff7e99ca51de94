"""scikit-learn's common estimator checks for kaleido's estimators."""

import pytest
from sklearn.exceptions import ConvergenceWarning, DataDimensionalityWarning
from sklearn.utils.estimator_checks import parametrize_with_checks

import kaleido as kd


def _instances():
    # every estimator at its defaults, with no parameter changed
    yield kd.KMatrixRegressor()
    yield kd.KMatrixApproximator()
    yield kd.KMatrixRandomFeatures()
    # at n_components="auto", the checks' small data leave no room for a
    # reduction: every feature is kept, with a DataDimensionalityWarning
    yield kd.KMatrixRandomProjection()
    # and other settings
    yield kd.KMatrixRegressor(activation="tanh", solver="sgd", width=2, random_state=0)
    yield kd.KMatrixRegressor(field="complex", random_state=0)
    yield kd.KMatrixApproximator(width=2, method="gradient", max_iter=20, random_state=0)
    yield kd.KMatrixRandomFeatures(n_components=300, gamma="scale", random_state=0)
    yield kd.KMatrixRandomProjection(n_components=2, random_state=0)


def _expected_failures(estimator):
    if isinstance(estimator, kd.KMatrixApproximator):
        return {"check_complex_data": "complex matrices are a supported input: the "
                                      "approximator fits complex operators such as the DFT"}
    return {}


@pytest.mark.filterwarnings("ignore", category=ConvergenceWarning)
@pytest.mark.filterwarnings("ignore", category=DataDimensionalityWarning)
@parametrize_with_checks(list(_instances()), expected_failed_checks=_expected_failures)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
