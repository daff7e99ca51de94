"""KMatrixRandomFeatures and KMatrixRandomProjection against independent
references: the exact RBF kernel, scikit-learn's dense RBFSampler and
GaussianRandomProjection, the dense matrix of the fitted K-matrix, pairwise
distances; and the estimator contract (dtypes, feature names, pickling,
pipelines, dask, thread counts, bad input)."""

import doctest
import pathlib
import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest
import scipy.sparse
import scipy.stats
from scipy.spatial.distance import pdist
from sklearn.datasets import load_digits
from sklearn.exceptions import DataDimensionalityWarning
from sklearn.kernel_approximation import RBFSampler
from sklearn.linear_model import RidgeClassifier
from sklearn.metrics.pairwise import rbf_kernel
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.random_projection import GaussianRandomProjection, johnson_lindenstrauss_min_dim

import kmatrix as km
from _helpers import run_two_threads
from kmatrix._learning import random_features as _random_features

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"


def _relative_kernel_error(Z, K):
    return np.linalg.norm(Z @ Z.T - K) / np.linalg.norm(K)


def _standardized(X):
    std = X.std(axis=0)
    return (X - X.mean(axis=0)) / np.where(std > 0, std, 1.0)


def _kernel_datasets():
    rng = np.random.default_rng(0)
    digits = _standardized(load_digits().data[:300])          # 64 pixels, real data
    return {"gaussian d=100": rng.standard_normal((300, 100)),
            "digits d=64": digits,
            "digits d=80": np.hstack([digits, rng.standard_normal((300, 16))])}


# ------------------------------------------------------------------ kernels --
@pytest.mark.parametrize("name", ["gaussian d=100", "digits d=64", "digits d=80"])
def test_rbf_kernel_error_is_at_most_rbfsamplers(name):
    X = _kernel_datasets()[name]
    gamma = 1.0 / X.shape[1]
    K = rbf_kernel(X, gamma=gamma)
    seeds = range(3)
    ours = [_relative_kernel_error(km.KMatrixRandomFeatures(
        1000, gamma=gamma, random_state=s).fit_transform(X), K) for s in seeds]
    theirs = [_relative_kernel_error(RBFSampler(
        n_components=1000, gamma=gamma, random_state=s).fit_transform(X), K) for s in seeds]
    # Monte Carlo error ~ 1/sqrt(n_components): 0.09 to 0.19 here (RBFSampler:
    # 0.10 to 0.20; ours / theirs 0.87 to 0.93)
    assert max(ours) < 0.3
    assert np.mean(ours) <= 1.15 * np.mean(theirs), (ours, theirs)


def test_the_kernel_estimate_is_unbiased():
    # averaging the estimates of independent draws removes the variance,
    # not a bias: 16 draws of 256 features shrink the error about 4x
    X = _kernel_datasets()["gaussian d=100"][:150]
    gamma = 0.02
    K = rbf_kernel(X, gamma=gamma)
    estimates = [(Z := km.KMatrixRandomFeatures(256, gamma=gamma, random_state=s)
                  .fit_transform(X)) @ Z.T for s in range(16)]
    single = np.mean([np.linalg.norm(E - K) for E in estimates])
    averaged = np.linalg.norm(np.mean(estimates, axis=0) - K)
    assert averaged < 0.35 * single


def test_transform_is_the_documented_formula_with_orthogonal_gaussian_rows():
    d, D, gamma = 64, 3 * 64 + 5, 0.3
    X = np.random.default_rng(1).standard_normal((50, d))
    est = km.KMatrixRandomFeatures(D, gamma=gamma, random_state=0).fit(X)
    W = est.kmatrix_.todense()
    assert W.shape == (D, d) and est.random_offset_.shape == (D,)
    Z = est.transform(X)
    np.testing.assert_allclose(Z, np.sqrt(2 / D) * np.cos(X @ W.T + est.random_offset_),
                               rtol=0, atol=1e-12)
    assert np.all((est.random_offset_ >= 0) & (est.random_offset_ < 2 * np.pi))
    # blocks of d rows: orthogonal rows
    for start in range(0, D, d):
        B = W[start:start + d]
        G = B @ B.T
        np.testing.assert_allclose(G - np.diag(np.diag(G)), 0, atol=1e-12)
    # row norms: sqrt(2 gamma) times chi with d degrees of freedom
    r2 = np.sum(W ** 2, axis=1) / (2 * gamma)
    assert scipy.stats.kstest(r2, scipy.stats.chi2(d).cdf).pvalue > 1e-3
    # directions: one coordinate of the rows is Gaussian, N(0, 2 gamma)
    assert scipy.stats.kstest(W[:, 3] / np.sqrt(2 * gamma), "norm").pvalue > 1e-3


def _cosine(Y, offset, scale):
    """The features' compiled cosine on the rows Y: an identity K's product
    with its epilogue, ``scale * cos(Y + offset)``."""
    n = Y.shape[1]
    return km.KMatrix.identity(n, dtype=Y.dtype)._cosine_features(Y, offset, scale)


@pytest.mark.parametrize("dtype, ulps", [(np.float64, 4), (np.float32, 4)])
@pytest.mark.parametrize("spread", [1e-3, 3.0, 100.0, 3e6, 1e9])
def test_the_features_cosine_is_numpys_to_a_few_ulps(spread, dtype, ulps):
    # the compiled cosine of the features (vector body and scalar tail: rows
    # of 1001 entries) against np.cos of the same rounded arguments, from
    # tiny arguments to ones past the reduction's range, odd multiples of
    # pi / 2 included; non-finite entries stay NaN
    rng = np.random.default_rng(13)
    y = np.concatenate([np.pi * (np.arange(-50, 50) + 0.5), np.pi * np.arange(-50, 50),
                        rng.uniform(-spread, spread, 99_900),
                        [np.inf, -np.inf, np.nan]]).astype(dtype)
    Y = y[:100_100].reshape(100, 1001)
    offset = np.zeros(1001, dtype)
    out = _cosine(Y.copy(), offset, 0.25)
    ref = 0.25 * np.cos(Y.astype(np.float64))
    assert np.max(np.abs(out - ref)) <= ulps * 0.25 * np.finfo(dtype).eps / 2 + (
        0 if dtype == np.float64 else 0.25 * np.finfo(dtype).eps)
    from kmatrix._core import _kernels   # (the product refuses non-finite rows)

    tail = _kernels.cosine_rows(y[None, -203:].copy(), np.zeros(203, dtype), 1.0)
    assert np.isnan(tail[0, -3:]).all()
    assert np.allclose(tail[0, :-3], np.cos(y[-203:-3].astype(np.float64)),
                       atol=4 * np.finfo(dtype).eps)


def test_the_features_cosine_is_the_same_on_two_threads():
    from kmatrix._core import _kernels

    Y = np.random.default_rng(5).uniform(-50, 50, (64, 8192))
    offset = np.random.default_rng(6).uniform(0, 2 * np.pi, 8192)
    one = _kernels.cosine_rows(Y.copy(), offset, 0.5, 1)
    two = run_two_threads(lambda: _kernels.cosine_rows(Y.copy(), offset, 0.5, 2))
    np.testing.assert_array_equal(one, two)


def test_gamma_scale_is_rbfsamplers():
    X = np.random.default_rng(2).standard_normal((40, 7)) * 3
    gamma = 1.0 / (X.shape[1] * X.var())
    a = km.KMatrixRandomFeatures(50, gamma="scale", random_state=0).fit_transform(X)
    b = km.KMatrixRandomFeatures(50, gamma=gamma, random_state=0).fit_transform(X)
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    sparse = km.KMatrixRandomFeatures(50, gamma="scale", random_state=0).fit_transform(
        scipy.sparse.csr_matrix(X))
    np.testing.assert_allclose(sparse, a, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("d", [1, 3, 64, 100, 129])
@pytest.mark.parametrize("n_components", [1, 7, 99, 300])
def test_odd_sizes(d, n_components):
    X = np.random.default_rng(3).standard_normal((20, d))
    rf = km.KMatrixRandomFeatures(n_components, gamma=0.5, random_state=0).fit(X)
    W = rf.kmatrix_.todense()
    assert W.shape == (n_components, d)
    np.testing.assert_allclose(rf.transform(X), np.sqrt(2 / n_components)
                               * np.cos(X @ W.T + rf.random_offset_), rtol=0, atol=1e-12)
    proj = km.KMatrixRandomProjection(n_components, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataDimensionalityWarning)
        Y = proj.fit_transform(X)
    R = proj.kmatrix_.todense()
    assert Y.shape == (20, n_components) and R.shape == (n_components, d)
    np.testing.assert_allclose(Y, X @ R.T, rtol=0, atol=1e-12)
    # the rows of R are sqrt(N / k) times orthonormal rows of the padded operator
    N = max(2, 1 << (max(d, n_components) - 1).bit_length())
    if N == d:
        np.testing.assert_allclose(R @ R.T, N / n_components * np.eye(n_components), atol=1e-12)
    if N == n_components:   # an isometry
        np.testing.assert_allclose(R.T @ R, np.eye(d), atol=1e-12)


# -------------------------------------------------------------- projections --
@pytest.mark.parametrize("data", ["gaussian", "sparse rows"])
def test_auto_projection_keeps_distances_within_eps(data):
    rng = np.random.default_rng(4)
    n, d, eps = 80, 1500, 0.3
    if data == "gaussian":
        X = rng.standard_normal((n, d))
    else:   # spiky rows (3 nonzeros): the Hadamard mixing must spread them
        X = np.zeros((n, d))
        for row in X:
            row[rng.choice(d, 3, replace=False)] = rng.standard_normal(3)
    proj = km.KMatrixRandomProjection(eps=eps, random_state=0).fit(X)
    assert proj.n_components_ == johnson_lindenstrauss_min_dim(n, eps=eps)
    ratio = pdist(proj.transform(X)) / pdist(X)
    assert np.all((1 - eps < ratio) & (ratio < 1 + eps)), (ratio.min(), ratio.max())
    # and about as tight as a dense Gaussian projection
    dense = GaussianRandomProjection(eps=eps, random_state=0).fit(X)
    dense_ratio = pdist(dense.transform(X)) / pdist(X)
    assert np.std(np.log(ratio)) < 1.25 * np.std(np.log(dense_ratio))


@pytest.mark.parametrize("d, k", [(100, 128), (64, 64), (3, 4)])
def test_projection_to_the_padded_size_is_an_isometry(d, k):
    X = np.random.default_rng(14).standard_normal((30, d))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataDimensionalityWarning)
        proj = km.KMatrixRandomProjection(k, random_state=0).fit(X)
    R = proj.kmatrix_.todense()
    np.testing.assert_allclose(R.T @ R, np.eye(d), atol=1e-12)
    np.testing.assert_allclose(pdist(proj.transform(X)), pdist(X), rtol=1e-12)


@pytest.mark.parametrize("k", [512, 520, 1000])
def test_projection_of_structured_vectors(k):
    # differences of two coordinates 2**b apart line up with the Hadamard
    # transform's bits: H D1 x then vanishes on half of its entries, and the
    # kept rows must still see the whole norm
    d = 1024
    rows = []
    for b in range(10):
        for j, sign in ((0, 1), (3, -1), (700 % (1 << b) if b else 0, -1)):
            x = np.zeros(d)
            x[j], x[j + (1 << b)] = 1.0, sign
            rows.append(x)
    X = np.array(rows)
    for seed in range(3):
        Y = km.KMatrixRandomProjection(k, random_state=seed).fit(X).transform(X)
        ratio = np.sum(Y ** 2, axis=1) / np.sum(X ** 2, axis=1)
        assert np.all((0.6 < ratio) & (ratio < 1.4)), (seed, ratio.min(), ratio.max())


def test_projection_norms_are_unbiased():
    x = np.zeros((1, 100))
    x[0, :3] = [3.0, -1.0, 2.0]
    norms = [np.sum(km.KMatrixRandomProjection(8, random_state=s).fit(x).transform(x) ** 2)
             for s in range(400)]
    # E ||R x||^2 = ||x||^2 = 14; the mean of 400 draws is within 4 standard errors
    assert abs(np.mean(norms) - 14) < 4 * np.std(norms) / np.sqrt(400)


def test_projection_errors_and_warnings_are_scikit_learns():
    X = np.random.default_rng(5).standard_normal((50, 30))
    with pytest.raises(ValueError, match="which is larger than the original space") as info:
        GaussianRandomProjection(eps=0.2).fit(X)
    # where scikit-learn gives up, every dimension is kept, distances exactly
    est = km.KMatrixRandomProjection(eps=0.2, random_state=0)
    with pytest.warns(DataDimensionalityWarning, match="signed permutation") as record:
        Y = est.fit_transform(X)
    assert str(info.value) in str(record[0].message)
    assert est.n_components_ == 30 and Y.shape == (50, 30)
    P = est.kmatrix_.todense()
    np.testing.assert_array_equal(np.abs(P).sum(axis=0), 1)      # a signed permutation
    np.testing.assert_array_equal(np.abs(P).sum(axis=1), 1)
    assert np.any(P < 0) and not np.array_equal(np.abs(P), np.eye(30))
    np.testing.assert_allclose(pdist(Y), pdist(X), rtol=1e-12)
    for est in (km.KMatrixRandomProjection(40), GaussianRandomProjection(40)):
        with pytest.warns(DataDimensionalityWarning,
                          match=r"n_features < n_components \(30 < 40\)"):
            est.fit(X)
        assert est.n_components_ == 40 and est.transform(X).shape == (50, 40)
    with pytest.raises(ValueError, match="eps"):
        km.KMatrixRandomProjection(eps=1.5).fit(X)


# ------------------------------------------------------- estimator contract --
def _estimators():
    return [km.KMatrixRandomFeatures(70, gamma=0.1, random_state=0),
            km.KMatrixRandomProjection(5, random_state=0)]


@pytest.mark.parametrize("est", _estimators(), ids=["features", "projection"])
def test_float32_is_kept(est):
    X = np.random.default_rng(6).standard_normal((30, 12))
    Y64 = est.fit(X).transform(X)
    Y32 = est.transform(X.astype(np.float32))
    assert Y64.dtype == np.float64 and Y32.dtype == np.float32
    np.testing.assert_allclose(Y32, Y64, rtol=0, atol=2e-6 * np.abs(Y64).max())
    assert est.fit(X.astype(np.float32)).transform(X.astype(np.float32)).dtype == np.float32
    assert est.transform(X.astype(np.int64)).dtype == np.float64


@pytest.mark.parametrize("est", _estimators(), ids=["features", "projection"])
def test_feature_names_and_pandas_output(est):
    pd = pytest.importorskip("pandas")
    X = pd.DataFrame(np.random.default_rng(7).standard_normal((10, 12)),
                     columns=[f"c{i}" for i in range(12)], index=range(100, 110))
    est.fit(X)
    assert list(est.feature_names_in_) == list(X.columns)
    prefix = type(est).__name__.lower()
    n_out = 70 if isinstance(est, km.KMatrixRandomFeatures) else 5
    names = est.get_feature_names_out()
    assert list(names) == [f"{prefix}{i}" for i in range(n_out)]
    out = est.set_output(transform="pandas").transform(X)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == list(names) and list(out.index) == list(X.index)
    est.set_output(transform="default")
    np.testing.assert_array_equal(out.to_numpy(), est.transform(X))
    with pytest.raises(ValueError, match="feature names"):
        est.transform(X.rename(columns={"c0": "other"}))


@pytest.mark.parametrize("est", _estimators(), ids=["features", "projection"])
def test_pickle_gives_the_same_bits(est):
    X = np.random.default_rng(8).standard_normal((40, 12))
    est.fit(X)
    clone = pickle.loads(pickle.dumps(est))
    assert np.array_equal(clone.transform(X), est.transform(X))
    assert np.array_equal(clone.transform(X.astype(np.float32)),
                          est.transform(X.astype(np.float32)))


@pytest.mark.parametrize("est", _estimators(), ids=["features", "projection"])
def test_same_seed_same_model_other_seed_other_model(est):
    X = np.random.default_rng(9).standard_normal((5, 12))
    a = est.fit(X).transform(X)
    assert np.array_equal(est.fit(X).transform(X), a)
    assert not np.allclose(est.set_params(random_state=1).fit(X).transform(X), a)


def test_pipeline_and_grid_search():
    X, y = load_digits(return_X_y=True)
    scores = {}
    for est in (km.KMatrixRandomFeatures(random_state=0), RBFSampler(random_state=0)):
        step = type(est).__name__.lower()
        search = GridSearchCV(make_pipeline(StandardScaler(), est, RidgeClassifier()),
                              {f"{step}__n_components": [64, 512],
                               f"{step}__gamma": [0.002, 0.02]}, cv=3)
        search.fit(X, y)
        assert search.best_params_ == {f"{step}__n_components": 512, f"{step}__gamma": 0.02}
        scores[step] = search.best_score_
    # as good as the dense features in the same search (0.928 and 0.925)
    assert scores["kmatrixrandomfeatures"] > scores["rbfsampler"] - 0.02
    assert scores["kmatrixrandomfeatures"] > 0.9
    pipe = make_pipeline(StandardScaler(), km.KMatrixRandomProjection(random_state=0),
                         RidgeClassifier())
    search = GridSearchCV(pipe, {"kmatrixrandomprojection__n_components": [4, 48]}, cv=3)
    search.fit(X, y)
    assert search.best_params_["kmatrixrandomprojection__n_components"] == 48
    assert search.best_score_ > 0.85


@pytest.mark.parametrize("est", _estimators(), ids=["features", "projection"])
def test_sparse_input_equals_dense(est):
    X = scipy.sparse.random(60, 12, density=0.3, random_state=0, format="csr")
    Y = est.fit(X).transform(X)
    np.testing.assert_allclose(Y, est.transform(X.toarray()), rtol=0, atol=1e-13)
    np.testing.assert_allclose(est.transform(X.tocsc()), Y, rtol=0, atol=1e-13)
    assert est.transform(X.astype(np.float32)).dtype == np.float32


def _no_compute(*args, **kwargs):
    raise AssertionError("the graph was computed while it was being built")


@pytest.mark.parametrize("est", _estimators(), ids=["features", "projection"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_dask_arrays_are_transformed_lazily(est, dtype):
    da = pytest.importorskip("dask.array")
    dask = pytest.importorskip("dask")
    X = np.random.default_rng(10).standard_normal((501, 12)).astype(dtype)
    est.fit(X)
    Xd = da.from_array(X, chunks=(97, 5))
    with dask.config.set(scheduler=_no_compute):
        Yd = est.transform(Xd)
    assert isinstance(Yd, da.Array) and Yd.dtype == dtype
    assert Yd.numblocks == (Xd.numblocks[0], 1)
    np.testing.assert_array_equal(Yd.compute(scheduler="threads"), est.transform(X))
    with pytest.raises(ValueError, match="features"):
        est.transform(da.ones((4, 11), chunks=2))


# ---------------------------------------------------------------- bad input --
@pytest.mark.parametrize("est", _estimators(), ids=["features", "projection"])
def test_bad_input_raises_a_clear_value_error(est):
    rng = np.random.default_rng(12)
    X = rng.standard_normal((20, 12))
    est.fit(X)
    cases = {
        "NaN": (np.where(np.arange(12) == 3, np.nan, X), "NaN"),
        "inf": (np.where(np.arange(12) == 3, np.inf, X), "infinity"),
        "features": (X[:, :11], "11 features"),
        "1-D": (X[0], "Expected 2D array"),
        "3-D": (X[None], "dim 3"),
        "complex": (X + 1j, "Complex data not supported"),
    }
    for name, (bad, message) in cases.items():
        with pytest.raises(ValueError, match=message):
            est.transform(bad)
        if name != "features":
            with pytest.raises(ValueError, match=message):
                type(est)(**est.get_params()).fit(bad)
    with pytest.raises(ValueError, match="n_components"):
        type(est)(n_components=0).fit(X)
    with pytest.raises(ValueError, match="NaN"):
        est.transform(scipy.sparse.csr_matrix(np.where(np.arange(12) == 3, np.nan, X)))


def test_not_fitted():
    from sklearn.exceptions import NotFittedError

    for est in _estimators():
        with pytest.raises(NotFittedError):
            est.transform(np.ones((2, 3)))


# ----------------------------------------------------------- documentation --
def test_docstring_examples():
    result = doctest.testmod(_random_features, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


def test_example_runs_and_prints_its_table(tmp_path):
    pytest.importorskip("matplotlib")
    args = ["--size", "8", "--components", "32,128", "--projections", "8,32", "--repeat", "1",
            "--output", "figure.png"]
    done = subprocess.run([sys.executable, str(EXAMPLES / "plot_random_features.py"), *args],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert (tmp_path / "figure.png").stat().st_size > 1000
    assert "saved figure.png" in out
    rows = {}
    for line in out.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[0].split()[-1].isdigit():
            name, n = parts[0].split()
            rows[(name, int(n))] = float(parts[1])
    expected = {(name, n) for name in ("KMatrixRandomFeatures", "RBFSampler")
                for n in (32, 128)}
    expected |= {(name, n) for name in ("KMatrixRandomProjection", "GaussianRandomProjection")
                 for n in (8, 32)}
    assert set(rows) == expected
    # kernel features on 8x8 digits: well above chance, and more features help
    assert rows[("KMatrixRandomFeatures", 128)] > 0.9
    assert rows[("KMatrixRandomFeatures", 128)] > rows[("KMatrixRandomFeatures", 32)] - 0.02


def test_example_without_matplotlib_says_how_to_install_it(tmp_path):
    # the example asks importlib whether matplotlib is there: hide it
    script = ("import importlib.util, runpy, sys\n"
              "find = importlib.util.find_spec\n"
              "importlib.util.find_spec = (lambda name, *a: None if name == 'matplotlib' "
              "else find(name, *a))\n"
              "sys.argv = ['plot_random_features.py', '--output', 'x.png']\n"
              f"runpy.run_path({str(EXAMPLES / 'plot_random_features.py')!r}, "
              "run_name='__main__')\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode != 0
    assert "kmatrix[examples]" in done.stderr
    assert not (tmp_path / "x.png").exists()


def test_a_gamma_whose_frequencies_overflow_says_so():
    X = np.random.default_rng(0).standard_normal((20, 8))
    with pytest.raises(ValueError, match=r"gamma=1e\+308 is too large"):
        km.KMatrixRandomFeatures(gamma=1e308).fit(X)


def test_a_tiny_eps_keeps_every_feature_with_a_warning():
    # the JL bound overflows int64 (scikit-learn returns a negative dimension)
    X = np.random.default_rng(0).standard_normal((100, 8))
    with pytest.warns(DataDimensionalityWarning, match="more than 2\\*\\*63"):
        proj = km.KMatrixRandomProjection(eps=1e-12, random_state=0).fit(X)
    assert proj.n_components_ == 8
    Z = proj.transform(X)
    np.testing.assert_allclose(np.linalg.norm(Z, axis=1), np.linalg.norm(X, axis=1), rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_out, n_in, n_rows, path", [
    (16, 16, 5, "small"), (1000, 700, 3, "rows"), (4096, 4096, 1, "rows"),
    (1000, 300, 37, "tiles"), (8192, 1024, 64, "tiles")])
def test_the_fused_cosine_equals_the_product_then_the_cosine(n_out, n_in, n_rows, path, dtype):
    # every path of the product stores through the same cosine as the pass
    # of its own: the same bits (tails of rows and chunks included)
    from kmatrix._core import _kernels

    K = km.KMatrix.random(n_out, n_in, dtype=dtype, random_state=0) * 3.0
    rng = np.random.default_rng(1)
    X = rng.standard_normal((n_rows, n_in)).astype(dtype)
    offset = rng.uniform(0, 2 * np.pi, n_out).astype(dtype)
    fused = K._cosine_features(X, offset, 0.7)
    assert _kernels.last_path().startswith(path)   # tiles or tiles-shared
    apart = _kernels.cosine_rows(K.apply(X), offset, 0.7)
    np.testing.assert_array_equal(fused, apart)
    ref = 0.7 * np.cos(X.astype(np.float64) @ K.todense().T.astype(np.float64) + offset)
    assert np.max(np.abs(fused - ref)) < (1e-4 if dtype == np.float32 else 1e-12)
