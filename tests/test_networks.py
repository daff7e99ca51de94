"""Networks of K-matrix layers: the multi-layer engine's gradients against
finite differences of an independent dense reference, and the classifier's
and the hidden layers' behaviour as scikit-learn's MLPs define it."""

import pickle

import numpy as np
import pytest
from scipy.special import expit, softmax
from sklearn.datasets import load_digits, make_multilabel_classification
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

import kmatrix as km
from kmatrix._learning.training import Layer, Network
from _reference import reference_matrix
from threadpoolctl import threadpool_limits

from _helpers import SharedCalls, until_shared

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _g(Z, activation):
    return {"identity": lambda z: z, "relu": lambda z: np.where(z > 0, z, 0.0),
            "tanh": np.tanh, "logistic": expit,
            "softmax": lambda z: softmax(z, axis=1)}[activation](Z)


def _reference_loss(weights, biases, X, Y, w, activation, out_activation, loss, alpha):
    """The loss from dense matrices (K-matrix layers through the reference)."""
    A = X
    for k, (W, b) in enumerate(zip(weights, biases)):
        M = W if isinstance(W, np.ndarray) else reference_matrix(W)
        Z = A @ M.T + b
        A = _g(Z, out_activation if k == len(weights) - 1 else activation)
    if loss == "squared_error":
        per_row = 0.5 * ((A - Y) ** 2).sum(axis=1) / Y.shape[1]
    elif out_activation == "softmax":
        per_row = -(Y * np.log(A)).sum(axis=1)
    else:
        per_row = -(Y * np.log(A) + (1 - Y) * np.log(1 - A)).sum(axis=1)
    penalty = sum(np.sum(np.abs(W if isinstance(W, np.ndarray) else W.twiddles) ** 2)
                  for W in weights)
    return (w @ per_row + 0.5 * alpha * penalty) / w.sum()


@pytest.mark.parametrize("loss, out_activation", [("squared_error", "identity"),
                                                  ("squared_error", "tanh"),
                                                  ("log_loss", "softmax"),
                                                  ("log_loss", "logistic")])
@pytest.mark.parametrize("activation", ["relu", "tanh", "logistic"])
@pytest.mark.parametrize("dense_output", [False, True], ids=["kmatrix-out", "dense-out"])
@pytest.mark.parametrize("field", ["real", "complex"])
def test_gradients_of_every_layer_match_finite_differences(loss, out_activation, activation,
                                                           dense_output, field):
    rng = np.random.default_rng(7)
    sizes, m, alpha = [5, 7, 6, 4], 9, 0.2
    dtype = np.complex128 if field == "complex" else np.float64
    weights = [km.KMatrix.random(b, a, width=2, dtype=dtype, init="normal",
                                 random_state=k).real
               for k, (a, b) in enumerate(zip(sizes, sizes[1:]))]
    if dense_output:
        weights[-1] = rng.standard_normal((sizes[-1], sizes[-2]))
    biases = [0.1 * rng.standard_normal(n) for n in sizes[1:]]
    X = rng.standard_normal((m, sizes[0]))
    if loss == "squared_error":
        Y = rng.standard_normal((m, sizes[-1]))
    elif out_activation == "softmax":
        Y = np.eye(sizes[-1])[rng.integers(0, sizes[-1], m)]
    else:
        Y = rng.integers(0, 2, (m, sizes[-1])).astype(float)
    w = rng.uniform(0.5, 2.0, m)
    net = Network([Layer(W, b) for W, b in zip(weights, biases)], activation, out_activation,
                  loss, alpha, None, n_threads=1)

    def f():
        return _reference_loss(weights, biases, X, Y, w, activation, out_activation, loss, alpha)

    value = net.gradients(X.copy(), Y.copy(), w)
    assert value == pytest.approx(f(), rel=1e-10)
    h = 1e-6
    for param, grad in zip(net.params, net.grads):
        flat, gflat = param.reshape(-1), grad.reshape(-1)
        parts = [1, 1j] if param.dtype.kind == "c" else [1]
        for e in rng.choice(flat.size, min(flat.size, 12), replace=False):
            for unit in parts:
                old = flat[e]
                flat[e] = old + unit * h
                up = f()
                flat[e] = old - unit * h
                down = f()
                flat[e] = old
                expected = (up - down) / (2 * h)
                got = gflat[e].real if unit == 1 else gflat[e].imag
                assert got == pytest.approx(expected, rel=1e-5, abs=1e-8)


# ------------------------------------------------------------- classifier --
@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return train_test_split(X / 16, y, random_state=0)


def test_classifier_on_the_digits_reaches_logistic_regression(digits):
    X_train, X_test, y_train, y_test = digits
    baseline = LogisticRegression(max_iter=2000).fit(X_train, y_train).score(X_test, y_test)
    clf = km.KMatrixClassifier(hidden_layer_sizes=(64,), random_state=0).fit(X_train, y_train)
    assert clf.score(X_test, y_test) >= baseline - 0.02
    P = clf.predict_proba(X_test)
    np.testing.assert_allclose(P.sum(axis=1), 1, rtol=1e-12)
    np.testing.assert_array_equal(clf.classes_[P.argmax(axis=1)], clf.predict(X_test))
    np.testing.assert_allclose(np.exp(clf.predict_log_proba(X_test)), P, rtol=1e-12)
    assert clf.out_activation_ == "softmax" and clf.n_layers_ == 3
    assert [type(W) for W in clf.layers_] == [km.KMatrix, km.KMatrix]
    assert [W.shape for W in clf.layers_] == [(64, 64), (10, 64)]
    assert clf.kmatrix_ is clf.layers_[-1] and clf.intercept_ is clf.intercepts_[-1]
    assert clf.n_params_dense_ == 64 * 64 + 64 * 10 + 64 + 10
    assert clf.n_params_ == sum(W.n_params for W in clf.layers_) + 64 + 10


def test_binary_and_multilabel_targets_use_logistic_outputs():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 6))
    y = np.where(X[:, 0] - X[:, 1] > 0, "b", "a")
    clf = km.KMatrixClassifier(solver="lbfgs", random_state=0).fit(X, y)
    assert clf.out_activation_ == "logistic" and clf.n_outputs_ == 1
    assert clf.predict_proba(X).shape == (300, 2) and clf.score(X, y) > 0.95
    X, Y = make_multilabel_classification(300, 10, n_classes=4, random_state=0)
    clf = km.KMatrixClassifier(hidden_layer_sizes=(16,), random_state=0).fit(X / X.max(), Y)
    assert clf.out_activation_ == "logistic" and clf.predict(X / X.max()).shape == (300, 4)
    assert set(np.unique(clf.predict(X / X.max()))) <= {0, 1}
    assert clf.score(X / X.max(), Y) > 0.5       # subset accuracy


def test_partial_fit_needs_classes_first_and_keeps_them():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((60, 5))
    clf = km.KMatrixClassifier(random_state=0)
    with pytest.raises(ValueError, match="classes must be passed"):
        clf.partial_fit(X, np.zeros(60, dtype=int))
    # a block need not hold every class
    clf.partial_fit(X, np.zeros(60, dtype=int), classes=[0, 1, 2])
    assert list(clf.classes_) == [0, 1, 2] and clf.predict_proba(X).shape == (60, 3)
    with pytest.raises(ValueError, match="not in classes_"):
        clf.partial_fit(X, np.full(60, 7))
    assert not hasattr(km.KMatrixClassifier(solver="lbfgs"), "partial_fit")
    with pytest.raises(ValueError, match="one class"):
        km.KMatrixClassifier().fit(X, np.ones(60))


def test_early_stopping_scores_accuracy_and_keeps_the_best(digits):
    X_train, _, y_train, _ = digits
    clf = km.KMatrixClassifier(early_stopping=True, n_iter_no_change=3, max_iter=40,
                               random_state=0).fit(X_train, y_train)
    scores = clf.validation_scores_
    assert len(scores) == clf.n_iter_ and all(0 <= s <= 1 for s in scores)
    assert clf.best_validation_score_ == max(scores) and clf.best_loss_ is None


@pytest.mark.parametrize("make", [
    lambda: km.KMatrixClassifier(hidden_layer_sizes=(16,), batch_size=32, random_state=0),
    lambda: km.KMatrixRegressor(hidden_layer_sizes=(16, 8), output_layer="dense",
                                batch_size=32, random_state=0),
])
def test_pickled_mid_training_continues_exactly(make):
    rng = np.random.default_rng(2)
    X = rng.standard_normal((200, 12))
    y = (X[:, 0] > 0).astype(int) if "Classifier" in repr(make()) else X[:, :3] ** 2
    kwargs = {"classes": [0, 1]} if "Classifier" in repr(make()) else {}
    a = make()
    for _ in range(3):
        a.partial_fit(X, y, **kwargs)
    b = pickle.loads(pickle.dumps(a))
    for est in (a, b):
        for _ in range(3):
            est.partial_fit(X, y)
    for Wa, Wb in zip(a.layers_, b.layers_):
        np.testing.assert_array_equal(np.asarray(getattr(Wa, "twiddles", Wa)),
                                      np.asarray(getattr(Wb, "twiddles", Wb)))
    np.testing.assert_array_equal(a.predict(X), b.predict(X))
    assert a.loss_curve_ == b.loss_curve_


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_float32_stays_float32(solver):
    rng = np.random.default_rng(3)
    X = rng.standard_normal((100, 8)).astype(np.float32)
    y = (X[:, 1] > 0).astype(int)
    clf = km.KMatrixClassifier(hidden_layer_sizes=(8,), output_layer="dense", solver=solver,
                               max_iter=20, random_state=0).fit(X, y)
    assert all(np.asarray(getattr(W, "twiddles", W)).dtype == np.float32 for W in clf.layers_)
    assert clf.predict_proba(X).dtype == np.float32
    assert clf.predict_proba(X.astype(np.float64)).dtype == np.float64
    reg = km.KMatrixRegressor(hidden_layer_sizes=(8,), solver=solver, max_iter=20,
                              random_state=0).fit(X, X[:, :2])
    assert reg.predict(X).dtype == np.float32


def test_init_per_layer_and_its_errors():
    rng = np.random.default_rng(4)
    X = rng.standard_normal((50, 8))
    y = X[:, :4]
    K1 = km.KMatrix.hadamard(8)
    reg = km.KMatrixRegressor(hidden_layer_sizes=(8,), init=[K1, "identity"], max_iter=1,
                              random_state=0).fit(X, y)
    assert reg.layers_[0] is not K1 and reg.layers_[0].shape == (8, 8)
    with pytest.raises(ValueError, match="init lists 1 layers, the network has 2"):
        km.KMatrixRegressor(hidden_layer_sizes=(8,), init=["ortho"]).fit(X, y)
    with pytest.raises(ValueError, match="one init per layer"):
        km.KMatrixRegressor(hidden_layer_sizes=(8,), init=K1).fit(X, y)
    with pytest.raises(ValueError, match="shape"):
        km.KMatrixRegressor(hidden_layer_sizes=(4,), init=[K1, "ortho"]).fit(X, y)
    with pytest.raises(ValueError, match="hidden_layer_sizes"):
        km.KMatrixRegressor(hidden_layer_sizes=(8, 0)).fit(X, y)


def test_hidden_layers_learn_what_one_layer_cannot():
    # y = |x_0| + |x_1|: no single linear layer (plus an output
    # nonlinearity) holds it; a relu hidden layer does
    rng = np.random.default_rng(5)
    X = rng.standard_normal((1000, 8))
    y = np.abs(X[:, 0]) + np.abs(X[:, 1])
    flat = km.KMatrixRegressor(solver="lbfgs", random_state=0).fit(X, y).score(X, y)
    deep = km.KMatrixRegressor(hidden_layer_sizes=(32,), solver="lbfgs",
                               random_state=0).fit(X, y).score(X, y)
    assert flat < 0.1 and deep > 0.9


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_results_do_not_depend_on_the_thread_count(solver):
    # batches of 256 rows of 512 features: above the kernels' serial
    # threshold, so two threads really split the work (SharedCalls counts it)
    rng = np.random.default_rng(6)
    X = rng.standard_normal((512, 512))
    y = (X[:, :5].sum(axis=1) > 0).astype(int)

    def fit():
        return km.KMatrixClassifier(hidden_layer_sizes=(256,), output_layer="dense",
                                    solver=solver, batch_size=256, max_iter=3,
                                    random_state=0).fit(X, y)

    with threadpool_limits(1, user_api="openmp"), SharedCalls() as shared:
        one = fit()
    assert shared.count == 0
    with threadpool_limits(2, user_api="openmp"):
        two = until_shared(fit)
    for Wa, Wb in zip(one.layers_, two.layers_):
        np.testing.assert_array_equal(np.asarray(getattr(Wa, "twiddles", Wa)),
                                      np.asarray(getattr(Wb, "twiddles", Wb)))
    assert one.loss_curve_ == two.loss_curve_


def test_butterfly_layers_learn_only_their_first_halves():
    rng = np.random.default_rng(8)
    X = rng.standard_normal((300, 16))
    y = X @ (km.KMatrix.hadamard(16).todense().T / 4)
    for solver in ("adam", "lbfgs"):
        reg = km.KMatrixRegressor(structure="butterfly", init="identity", solver=solver,
                                  alpha=1e-3, max_iter=50, random_state=0).fit(X, y)
        tw = reg.kmatrix_.twiddles
        assert np.all(tw[:, 1] == np.eye(2))            # never moved
        assert not np.all(tw[:, 0] == np.eye(2))        # learned
        assert reg.n_params_ == tw.size // 2 + 16
    # the Hadamard transform is a butterfly: learned from the identity
    assert reg.score(X, y) > 0.99
    with pytest.raises(ValueError, match="identity second halves"):
        km.KMatrixRegressor(structure="butterfly",
                            init=km.KMatrix.random(16, random_state=0)).fit(X, y)


def test_labels_outside_the_classes_are_refused_and_nothing_changes():
    # a first partial_fit block with a label outside `classes` trained a
    # model of the wrong shape; a warm fit on other classes swapped classes_
    # under the old weights; a refused warm fit left stale label attributes
    rng = np.random.default_rng(9)
    X = rng.standard_normal((60, 4))
    y = rng.integers(0, 3, 60)
    with pytest.raises(ValueError, match="not in classes"):
        km.KMatrixClassifier().partial_fit(X, y, classes=[0, 1])
    clf = km.KMatrixClassifier(max_iter=5, random_state=0).fit(X, y)
    clf.set_params(warm_start=True)
    before = (list(clf.classes_), clf.predict(X).copy())
    for bad, match in [(y + 10, "not in classes_"), (y > 0, "classes of the previous fit"),
                       (np.where(y == 2, 1, y), "classes of the previous fit"),
                       (np.eye(3)[y], "multilabel")]:
        with pytest.raises(ValueError, match=match):
            clf.fit(X, bad)
        assert list(clf.classes_) == before[0]
        np.testing.assert_array_equal(clf.predict(X), before[1])
    reg = km.KMatrixRegressor(max_iter=5, warm_start=True, random_state=0).fit(X, y * 1.0)
    with pytest.raises(ValueError, match="targets"):
        reg.fit(X, np.ones((60, 3)))
    assert reg.predict(X).shape == (60,)


def test_a_warm_start_with_other_layers_is_refused():
    rng = np.random.default_rng(12)
    X = rng.standard_normal((80, 6))
    reg = km.KMatrixRegressor(hidden_layer_sizes=(8,), max_iter=3, warm_start=True,
                              random_state=0).fit(X, X[:, 0])
    for change in ({"hidden_layer_sizes": (4,)}, {"output_layer": "dense"}):
        with pytest.raises(ValueError, match="continues the same layers"):
            reg.set_params(**change).fit(X, X[:, 0])
        reg.set_params(hidden_layer_sizes=(8,), output_layer="kmatrix")
    reg.fit(X, X[:, 0])


def test_a_warm_fit_follows_a_new_out_activation():
    rng = np.random.default_rng(10)
    X = rng.standard_normal((100, 6))
    reg = km.KMatrixRegressor(max_iter=5, random_state=0).fit(X, X[:, 0])
    reg.set_params(warm_start=True, out_activation="relu").fit(X, np.abs(X[:, 0]))
    assert reg.out_activation_ == "relu" and np.all(reg.predict(X) >= 0)


def test_inits_of_the_wrong_kind_say_so():
    rng = np.random.default_rng(11)
    X = rng.standard_normal((50, 8))
    K = km.KMatrix.random(3, 8, random_state=0)
    reg = km.KMatrixRegressor(output_layer="dense", init=K, max_iter=1,
                              learning_rate_init=1e-12, random_state=0).fit(X, X[:, :3])
    np.testing.assert_allclose(reg.layers_[-1], K.todense(), atol=1e-9)
    with pytest.raises(ValueError, match="array is an init for output_layer='dense'"):
        km.KMatrixRegressor(init=np.eye(3, 8)).fit(X, X[:, :3])
    with pytest.raises(ValueError, match="shape"):
        km.KMatrixRegressor(output_layer="dense", init=np.eye(2, 8)).fit(X, X[:, :3])
