"""Every constructor and argument speaks NumPy's (rows, cols) order."""

import numpy as np
import pytest
import scipy.sparse

import kmatrix as km


@pytest.mark.parametrize("n_rows, n_cols", [(3, 5), (5, 3), (1, 7), (64, 64)])
def test_random_takes_rows_then_columns_like_numpy(n_rows, n_cols):
    K = km.KMatrix.random(n_rows, n_cols, random_state=0)
    assert K.shape == np.empty((n_rows, n_cols)).shape == (K.n_out, K.n_in)
    assert K.todense().shape == (n_rows, n_cols)
    x = np.ones(n_cols)
    assert (K @ x).shape == (n_rows,)


def test_random_of_one_size_is_square():
    assert km.KMatrix.random(6).shape == (6, 6)


def test_every_constructor_returns_the_shape_of_its_matrix():
    S = scipy.sparse.random(4, 9, density=0.3, random_state=0)
    assert km.KMatrix.from_sparse(S).shape == S.shape
    assert km.KMatrix.from_sparse(S.toarray().T).shape == (9, 4)
    assert km.KMatrix.identity(5).shape == (5, 5)
    assert km.KMatrix.circulant(np.arange(1.0, 6.0)).shape == (5, 5)
    c = km.Circuit(3)
    c.set_outputs([c.inputs[0] + c.inputs[1]])
    assert km.KMatrix.from_circuit(c).shape == (1, 3)     # (n_out, n_in)
    tw = km.KMatrix.random(8, random_state=0).twiddles
    assert km.KMatrix(tw, (2, 7)).shape == (2, 7)


def test_estimators_map_features_to_outputs_as_x_at_k_transposed():
    X = np.random.default_rng(0).standard_normal((10, 12))
    rf = km.KMatrixRandomFeatures(n_components=16, random_state=0).fit(X)
    assert rf.kmatrix_.shape == (16, 12)
    approx = km.KMatrixApproximator(max_iter=5).fit(np.random.default_rng(1).standard_normal((6, 12)))
    assert approx.kmatrix_.shape == (6, 12) and approx.transform(X).shape == (10, 6)
