"""KMatrixApproximator: exact recovery, gradient fits, operators, the contract."""

import numpy as np
import pytest
import scipy.fft
import scipy.linalg
import scipy.sparse
from scipy.sparse.linalg import aslinearoperator

import kmatrix as km


@pytest.mark.parametrize("n", [256, 1024])
@pytest.mark.parametrize("width", [1, 2])
def test_dft_recovered_to_machine_precision(n, width):
    F = np.fft.fft(np.eye(n), axis=0)
    est = km.KMatrixApproximator(width=width).fit(F)
    assert est.relative_error_ < 1e-12
    # the bit reversal of the FFT costs no width (bit_reversed_twiddles):
    # width 1 whatever the width allowed, and no gradient steps
    assert est.n_iter_ == 0 and est.kmatrix_.width == 1
    assert est.kmatrix_.dtype == np.complex128 and est.field_ == "complex"
    # relative_error_ is the measured one
    err = np.linalg.norm(est.kmatrix_.todense() - F) / np.linalg.norm(F)
    assert est.relative_error_ == pytest.approx(err, rel=1e-6, abs=1e-15)
    X = np.random.default_rng(0).standard_normal((5, n))
    np.testing.assert_allclose(est.transform(X), np.fft.fft(X, axis=-1), atol=1e-9)


def test_bit_reversed_butterflies_at_width_one_or_two():
    N = 128
    br = np.array([int(format(i, "07b")[::-1], 2) for i in range(N)])
    B_half = _half_butterfly(N, 1, seed=7, dtype=np.complex128)   # the B half's bit order
    B_star = _half_butterfly(N, 0, seed=8, dtype=np.complex128)   # the B* half's
    # P_br B* = B' P_br: one width-1 K-matrix (bit_reversed_twiddles), either side
    for M in (B_star[br], B_half[:, br]):
        est = km.KMatrixApproximator(width=1).fit(M)
        assert est.relative_error_ < 1e-12 and est.kmatrix_.width == 1
        np.testing.assert_allclose(est.kmatrix_.todense(), M, atol=1e-10 * np.abs(M).max())
    # P_br B is not: it takes a Benes-routed permutation block
    M = B_half[br]
    assert km.KMatrixApproximator(width=1, max_iter=5).fit(M).relative_error_ > 1e-3
    est = km.KMatrixApproximator(width=2).fit(M)
    assert est.relative_error_ < 1e-12 and est.kmatrix_.width == 2 and est.n_iter_ == 0


@pytest.mark.parametrize("dtype", [np.float64, np.complex128])
def test_random_width_one_kmatrix_recovered_exactly(dtype):
    # B1 B2^T: neither half alone holds it (a single butterfly leaves ~0.5)
    n = 256
    M = km.KMatrix.random(n, dtype=dtype, random_state=11).todense()
    est = km.KMatrixApproximator(max_iter=0).fit(M)
    assert est.kmatrix_.width == 1 and est.relative_error_ < 1e-12
    assert est.field_ == ("complex" if dtype == np.complex128 else "real")
    assert est.expansion_ == 1 and est.n_iter_ == 0


def test_max_iter_zero_keeps_the_gradient_start():
    # no closed form fits a Gaussian: with no steps the start is the fit
    M = np.random.default_rng(0).standard_normal((32, 32))
    est = km.KMatrixApproximator(max_iter=0, random_state=0).fit(M)
    assert est.n_iter_ == 0 and est.loss_curve_ == []
    err = np.linalg.norm(est.kmatrix_.todense() - M) / np.linalg.norm(M)
    assert est.relative_error_ == pytest.approx(err, rel=1e-10)


def test_hadamard_and_butterfly_products_at_width_one():
    H = scipy.linalg.hadamard(512).astype(float)
    est = km.KMatrixApproximator().fit(H)
    assert est.relative_error_ < 1e-12 and est.kmatrix_.width == 1
    # a product of butterfly factors: one random B half
    K = km.KMatrix.random(128, init="normal", random_state=3)
    K.twiddles[0, 0] = km.KMatrix.identity(128).twiddles[0, 0]
    est = km.KMatrixApproximator().fit(K.todense())
    assert est.relative_error_ < 1e-12
    assert est.transform(np.eye(128)).dtype == np.float64


def test_dct_from_its_entries_by_gradient():
    # from a random start (method="gradient" skips the hierarchical fits)
    D = scipy.fft.dct(np.eye(64), norm="ortho", axis=0)
    est = km.KMatrixApproximator(field="complex", expansion=2, max_iter=3000, method="gradient",
                                 learning_rate_init=3e-2, random_state=0).fit(D)
    assert est.method_ == "gradient"
    assert est.relative_error_ < 0.1
    assert len(est.loss_curve_) == est.n_iter_ == 3000
    assert est.kmatrix_.real_part and est.transform(np.eye(64)).dtype == np.float64
    measured = np.linalg.norm(est.kmatrix_.todense() - D) / np.linalg.norm(D)
    assert est.relative_error_ == pytest.approx(measured, rel=1e-9)


@pytest.mark.parametrize("kind, side, extension", [
    ((scipy.fft.dct, 2), "rows", "even"), ((scipy.fft.dct, 3), "columns", "even"),
    ((scipy.fft.dst, 2), "rows", "odd"), ((scipy.fft.dst, 3), "columns", "odd")])
def test_cosine_and_sine_transforms_from_their_entries_exactly(kind, side, extension):
    # real targets: the analytic completion of the rows (or columns) of M
    # is a bit-reversed DFT of twice the size, whose real part is M
    transform, type_ = kind
    n = 128
    M = transform(np.eye(n), type=type_, norm="ortho", axis=0)
    X = np.random.default_rng(0).standard_normal((3, n))
    # found at the defaults, and with the form asked for explicitly
    for params in ({}, {"width": 2}, {"field": "complex", "expansion": 2}):
        est = km.KMatrixApproximator(**params).fit(M)
        assert est.relative_error_ < 1e-12 and est.n_iter_ == 0
        assert est.kmatrix_.width == 1 and est.kmatrix_.real_part
        assert (est.field_, est.expansion_, est.kmatrix_.size) == ("complex", 2, 2 * n)
        np.testing.assert_allclose(est.transform(X), transform(X, type=type_, norm="ortho"),
                                   atol=1e-11)
    # no room for the extension at expansion 1, and a real field has no
    # completion: the fit is poor, and a warning names the settings that hold M
    for params in ({"field": "complex", "expansion": 1}, {"expansion": 1},
                   {"field": "real", "expansion": 2}, {"field": "real"}):
        with pytest.warns(UserWarning, match="expansion=2"):
            loose = km.KMatrixApproximator(method="hierarchical", **params).fit(M)
        assert loose.relative_error_ > 0.1


def test_gaussian_matrix_error_is_reported_honestly():
    M = np.random.default_rng(1).standard_normal((40, 30))
    est = km.KMatrixApproximator(width=2, max_iter=200, random_state=0).fit(M)
    measured = np.linalg.norm(est.kmatrix_.todense() - M) / np.linalg.norm(M)
    assert est.relative_error_ == pytest.approx(measured, rel=1e-9)
    assert 0 < est.relative_error_ < 1
    assert est.kmatrix_.shape == (40, 30)
    assert est.transform(M[:3].T.T[:, :30]).shape == (3, 40)


def test_sparse_and_operator_targets():
    S = scipy.sparse.random(64, 64, density=0.05, random_state=0, format="csr")
    est = km.KMatrixApproximator(width=2, max_iter=50, random_state=0).fit(S)
    assert est.kmatrix_.shape == (64, 64)
    # matrix-free: a DFT given only as products
    n = 128
    op = scipy.sparse.linalg.LinearOperator(
        (n, n), matvec=lambda x: np.fft.fft(x), matmat=lambda X: np.fft.fft(X, axis=0),
        dtype=np.complex128)
    est = km.KMatrixApproximator(width=2).fit(op)
    assert est.relative_error_ < 1e-12
    assert isinstance(est.operator_, km.KMatrixOperator)
    x = np.random.default_rng(2).standard_normal(n)
    np.testing.assert_allclose(est.operator_ @ x, np.fft.fft(x), atol=1e-10)


def test_large_operator_fits_on_probes(monkeypatch):
    from kmatrix._fitting import approximator as _approximator

    monkeypatch.setattr(_approximator, "_DENSE_LIMIT", 100)  # force matrix-free
    K0 = km.KMatrix.random(32, random_state=5)
    op = aslinearoperator(K0.todense())
    est = km.KMatrixApproximator(method="gradient", max_iter=300, random_state=0).fit(op)
    assert est.method_ == "gradient"
    true = np.linalg.norm(est.kmatrix_.todense() - K0.todense()) / np.linalg.norm(K0.todense())
    # the probe estimate (32 Gaussian probes) is within a factor of the truth
    assert 0.5 * true <= est.relative_error_ <= 2 * true
    with pytest.raises(ValueError, match="too large"):
        km.KMatrixApproximator(method="hierarchical").fit(op)


def test_float32_and_bad_input():
    M = scipy.linalg.hadamard(16).astype(np.float32)
    est = km.KMatrixApproximator().fit(M)
    assert est.kmatrix_.dtype == np.float32
    assert est.transform(M).dtype == np.float32
    with pytest.raises(ValueError, match="NaN|infinity"):
        km.KMatrixApproximator().fit(np.array([[1.0, np.nan], [0, 1]]))
    with pytest.raises(ValueError, match="NaN|infinity"):
        km.KMatrixApproximator().fit(np.array([[1j, np.inf], [0, 1]]))
    with pytest.raises(ValueError, match="features"):
        est.transform(np.ones((2, 5)))
    with pytest.raises(ValueError, match="field"):
        km.KMatrixApproximator(field="real").fit(np.eye(4) * 1j)
    with pytest.raises(ValueError):
        km.KMatrixApproximator(method="svd").fit(M)


@pytest.mark.parametrize("method", ["auto", "gradient"])
def test_dct_256_beats_truncated_svd_with_the_same_parameters_tenfold(method):
    from sklearn.decomposition import TruncatedSVD

    n = 256
    D = scipy.fft.dct(np.eye(n), norm="ortho", axis=0)
    est = km.KMatrixApproximator(field="complex", expansion=2, max_iter=600, method=method,
                                 learning_rate_init=3e-2, random_state=0).fit(D)
    reals = 2 * est.kmatrix_.n_params            # complex twiddles
    assert reals < n * n
    rank = reals // (2 * n)                      # a rank-r SVD stores r (n + n) reals
    svd = TruncatedSVD(n_components=rank, random_state=0).fit(D)
    D_svd = svd.transform(D) @ svd.components_
    svd_err = np.linalg.norm(D_svd - D) / np.linalg.norm(D)
    assert svd_err > 0.8                         # the DCT is orthogonal: no low-rank shortcut
    assert est.relative_error_ < svd_err / 10
    if method == "auto":                         # exact through the analytic completion
        assert est.relative_error_ < 1e-12 and est.n_iter_ == 0


def _half_butterfly(N, half, seed, dtype=np.float64):
    K = km.KMatrix.random(N, init="normal", dtype=dtype, random_state=seed)
    K.twiddles[0, 1 - half] = km.KMatrix.identity(N, dtype=dtype).twiddles[0, 0]
    return K.todense()


@pytest.mark.parametrize("width, side", [(2, "output"), (2, "input"), (3, "both")])
def test_structured_permutations_on_either_side(width, side):
    N = 64
    B = _half_butterfly(N, 1, seed=4)
    even_odd = np.concatenate([np.arange(0, N, 2), np.arange(1, N, 2)])
    # even/odd rotates the index bits, which no half's bit order absorbs (a
    # reversal complements every bit and the bit reversal reverses their
    # order: both can move through a butterfly to the other side or half)
    M = B
    if side in ("input", "both"):
        M = M[:, np.argsort(even_odd)]      # M = B P_in with (P_in x) = x[even_odd]
    if side in ("output", "both"):
        M = M[even_odd]                     # M = P_out B with (P_out y) = y[even_odd]
    est = km.KMatrixApproximator(width=width).fit(M)
    assert est.relative_error_ < 1e-12, est.method_
    # one Benes-routed block per permuted side
    assert est.kmatrix_.width == width and est.n_iter_ == 0
    if side == "both":  # one permutation block is not enough
        assert km.KMatrixApproximator(width=2, max_iter=5).fit(M).relative_error_ > 1e-3
    # at width 1 no permutation is available: the fit is only approximate
    assert km.KMatrixApproximator(width=1, max_iter=5).fit(M).relative_error_ > 1e-3
    # a reversal complements every index bit: a butterfly absorbs it
    reversed_ = B[::-1, ::-1] if side == "both" else B[::-1] if side == "output" else B[:, ::-1]
    est = km.KMatrixApproximator(width=1, max_iter=0).fit(reversed_)
    assert est.relative_error_ < 1e-12 and est.kmatrix_.width == 1


def test_lbfgs_solvers():
    D = scipy.fft.dct(np.eye(16), norm="ortho", axis=0)
    params = dict(field="complex", expansion=2, method="gradient", max_iter=300,
                  learning_rate_init=3e-2, random_state=0)
    adam = km.KMatrixApproximator(**params).fit(D)
    both = km.KMatrixApproximator(solver="adam+lbfgs", **params).fit(D)
    # the same Adam run, then L-BFGS from its best: never worse, here better
    assert both.loss_curve_[:300] == adam.loss_curve_
    assert both.n_iter_ == len(both.loss_curve_) > 300
    assert both.relative_error_ < 0.5 * adam.relative_error_
    measured = np.linalg.norm(both.kmatrix_.todense() - D) / np.linalg.norm(D)
    assert both.relative_error_ == pytest.approx(measured, rel=1e-9)
    # L-BFGS alone, and matrix-free on fixed probes
    K0 = km.KMatrix.random(32, random_state=5).todense()
    lbfgs = km.KMatrixApproximator(method="gradient", solver="lbfgs", max_iter=100,
                                   random_state=0).fit(K0)
    assert lbfgs.n_iter_ <= 100 and lbfgs.relative_error_ < lbfgs.loss_curve_[0] < 1
    op = aslinearoperator(K0)
    from kmatrix._fitting import approximator as _approximator

    limit = _approximator._DENSE_LIMIT
    try:
        _approximator._DENSE_LIMIT = 100
        est = km.KMatrixApproximator(method="gradient", solver="lbfgs", max_iter=100,
                                     random_state=0).fit(op)
    finally:
        _approximator._DENSE_LIMIT = limit
    true = np.linalg.norm(est.kmatrix_.todense() - K0) / np.linalg.norm(K0)
    assert true < 0.9 and 0.5 * true <= est.relative_error_ <= 2 * true


def test_operators_scales_and_precisions_at_the_edges():
    n = 64
    F = np.fft.fft(np.eye(n), axis=0)
    # operators returning NaN are refused; a zero operator gets a small K
    from kmatrix._fitting import approximator as _approximator

    limit = _approximator._DENSE_LIMIT
    try:
        _approximator._DENSE_LIMIT = 100   # force the probe path
        nan_op = scipy.sparse.linalg.LinearOperator((n, n), matvec=lambda x: x * np.nan,
                                                    dtype=np.float64)
        for solver in ("adam", "lbfgs"):
            with pytest.raises(ValueError, match="NaN"):
                km.KMatrixApproximator(method="gradient", solver=solver, max_iter=3).fit(nan_op)
        zero_op = aslinearoperator(np.zeros((n, n)))
        est = km.KMatrixApproximator(method="gradient", max_iter=200, random_state=0).fit(zero_op)
        # ||K||_F (absolute, as for a dense zero M), estimated, and shrinking
        assert est.relative_error_ < 0.2 * est.loss_curve_[0]
    finally:
        _approximator._DENSE_LIMIT = limit
    # huge and tiny entries: fitted on M scaled by a power of two
    for scale in (1e160, 1e-160):
        est = km.KMatrixApproximator().fit(scale * F)
        assert est.relative_error_ < 1e-12 and est.n_iter_ == 0
        assert np.all(np.isfinite(est.kmatrix_.twiddles))
        x = np.random.default_rng(0).standard_normal(n)
        np.testing.assert_allclose(est.transform(x[None])[0] / scale, np.fft.fft(x), atol=1e-9)
    # float32: the tolerance is float32's, no gradient steps after an exact fit
    est = km.KMatrixApproximator().fit(F.astype(np.complex64))
    assert est.n_iter_ == 0 and est.relative_error_ < 1e-6
    # the expansion asked for is the one reported, whichever method fits
    for method in ("hierarchical", "gradient"):
        K = km.KMatrixApproximator(expansion=3, method=method, max_iter=2).fit(F[:50, :40])
        assert K.kmatrix_.expansion == K.expansion_ == 3


@pytest.mark.parametrize("width", [1, 2])
@pytest.mark.parametrize("kind", ["dct", "dst"])
def test_defaults_fit_real_transforms_exactly_with_few_parameters(kind, width):
    n = 256
    M = getattr(scipy.fft, kind)(np.eye(n), norm="ortho", axis=0)
    est = km.KMatrixApproximator(random_state=0, width=width).fit(M)
    assert est.relative_error_ < 1e-10
    measured = np.linalg.norm(est.kmatrix_.todense() - M) / np.linalg.norm(M)
    assert measured < 1e-10
    real_params = est.kmatrix_.n_params * (2 if est.kmatrix_.twiddles.dtype.kind == "c" else 1)
    assert real_params < n * n
    # a generic real target stays a real K-matrix at expansion 1
    G = np.random.default_rng(0).standard_normal((n, n))
    est = km.KMatrixApproximator(random_state=0, width=width, max_iter=5).fit(G)
    assert (est.field_, est.expansion_, est.kmatrix_.width) == ("real", 1, width)
    assert est.kmatrix_.dtype == np.float64 and not est.kmatrix_.real_part


def test_verbose_reports_every_fit_and_the_gradient(capsys):
    M = np.random.default_rng(0).standard_normal((32, 32))
    est = km.KMatrixApproximator(verbose=1, max_iter=50, random_state=0).fit(M)
    out = capsys.readouterr().out
    lines = out.splitlines()
    # one line per fit tried, with its error, as listed in fits_tried_ (a
    # factorization abandoned early: error inf, and the line says so)
    assert len(est.fits_tried_) >= 4
    for name, err in est.fits_tried_:
        said = "abandoned above 0.5" if err == np.inf else f"{err:.3e}"
        assert any(name in line and said in line for line in lines)
    # a Gaussian has no structure: every factorization is abandoned
    assert all(err == np.inf for _, err in est.fits_tried_)
    assert sum("Adam step" in line for line in lines) >= 5
    assert lines[0].startswith("KMatrixApproximator: M of shape (32, 32)")
    assert lines[-1].startswith(f"chose {est.method_}")
    # a noisy K-matrix: some factorizations end (their error is reported)
    M = km.KMatrix.random(32, 32, random_state=0).todense()
    M += 0.05 * np.linalg.norm(M) / 32 * np.random.default_rng(1).standard_normal(M.shape)
    est = km.KMatrixApproximator(verbose=1, max_iter=5, random_state=0).fit(M)
    lines = capsys.readouterr().out.splitlines()
    assert any(np.isfinite(err) for _, err in est.fits_tried_)
    for name, err in est.fits_tried_:
        said = "abandoned above 0.5" if err == np.inf else f"{err:.3e}"
        assert any(name in line and said in line for line in lines)
    assert f"{est.relative_error_:.3e}" in lines[-1]
    km.KMatrixApproximator(max_iter=5).fit(M)
    assert capsys.readouterr().out == ""


def test_fit_keeps_no_working_state_and_refits_cleanly():
    pd = pytest.importorskip("pandas")
    M = pd.DataFrame(scipy.linalg.hadamard(8) * 1.0, columns=[f"c{i}" for i in range(8)])
    est = km.KMatrixApproximator().fit(M)
    assert list(est.feature_names_in_) == list(M.columns)
    private = {k for k in vars(est) if not k.endswith("_") and k not in est.get_params()}
    assert private == set(), private
    # every input kind goes through the same validation: a later fit on an
    # array without names (complex, or an operator) forgets the names
    for target in (np.fft.fft(np.eye(8)), aslinearoperator(np.eye(8)),
                   scipy.sparse.csr_matrix(np.eye(8) * 1j)):
        est.fit(M)
        est.fit(target)
        assert not hasattr(est, "feature_names_in_") and est.n_features_in_ == 8
    with pytest.raises(ValueError, match="features"):
        est.transform(np.ones((2, 5), dtype=complex))
    with pytest.raises(ValueError, match="NaN|infinity"):
        est.transform(np.full((2, 8), np.nan) * 1j)
    with pytest.raises(ValueError, match="2-D"):
        est.transform(np.ones(8, dtype=complex))


def test_feature_names_out_and_pandas_output():
    pd = pytest.importorskip("pandas")
    M = scipy.fft.dct(np.eye(16), norm="ortho", axis=0)[:12]     # 16 -> 12
    est = km.KMatrixApproximator().fit(M)
    names = est.get_feature_names_out()
    assert list(names) == [f"kmatrixapproximator{i}" for i in range(12)]
    X = pd.DataFrame(np.random.default_rng(0).standard_normal((5, 16)))
    out = est.set_output(transform="pandas").transform(X.to_numpy())
    assert isinstance(out, pd.DataFrame) and list(out.columns) == list(names)
    np.testing.assert_allclose(out.to_numpy(), X.to_numpy() @ M.T, atol=1e-12)


def test_fit_transform_is_fit_then_transform_and_pipelines_freeze_the_fit():
    from sklearn.frozen import FrozenEstimator
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline

    n = 32
    F = scipy.fft.dct(np.eye(n), norm="ortho", axis=0)
    est = km.KMatrixApproximator()
    np.testing.assert_allclose(est.fit_transform(F), F @ est.kmatrix_.todense().T, atol=1e-13)
    # in a pipeline the approximator is fitted on its matrix beforehand
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, n))
    y = (X @ F.T)[:, 3]
    pipe = make_pipeline(FrozenEstimator(km.KMatrixApproximator().fit(F)), Ridge(alpha=1e-6))
    pipe.fit(X, y)
    assert pipe[0].estimator.kmatrix_.shape == (n, n)      # not refitted to X
    np.testing.assert_allclose(pipe[-1].coef_, np.eye(n)[3], atol=1e-4)


def test_the_defaults_do_not_fit_noise():
    n = 256
    H = scipy.linalg.hadamard(n).astype(float)
    noise = 0.01 * np.random.default_rng(0).standard_normal((n, n))
    M = H + noise
    closed = km.KMatrixApproximator(method="hierarchical").fit(M)
    est = km.KMatrixApproximator(random_state=0).fit(M)

    def clean_error(e):
        return np.linalg.norm(e.kmatrix_.todense() - H) / np.linalg.norm(H)

    # the structure is found (within the noise of the entries it has) ...
    assert clean_error(closed) < 0.25 * np.linalg.norm(noise) / np.linalg.norm(H)
    # ... and the gradient's trial did not pay: the closed-form fit is kept
    assert est.n_iter_ == 20 and est.method_.startswith("hierarchical")
    assert clean_error(est) == clean_error(closed)
    assert est.relative_error_ == pytest.approx(closed.relative_error_)
    # where the gradient pays (a far start), it runs every step
    D = scipy.fft.dct(np.eye(32), norm="ortho", axis=0)
    with pytest.warns(UserWarning, match="expansion=2"):   # the complex form is excluded
        est = km.KMatrixApproximator(field="real", max_iter=100, n_init=1, solver="adam",
                                     random_state=0).fit(D)
    assert est.n_iter_ == 100 and est.method_ == "gradient"


@pytest.mark.parametrize("side", ["columns", "rows"])
@pytest.mark.parametrize("inverse", [False, True])
def test_a_dft_with_even_odd_permuted_columns_or_rows_at_width_two(side, inverse):
    n = 256
    F = np.fft.fft(np.eye(n), axis=0)
    order = np.concatenate([np.arange(0, n, 2), np.arange(1, n, 2)])
    if inverse:
        order = np.argsort(order)                      # the perfect shuffle
    M = F[:, order] if side == "columns" else F[order]
    est = km.KMatrixApproximator(width=2, random_state=0).fit(M)
    assert est.relative_error_ < 1e-10 and est.n_iter_ == 0
    assert est.kmatrix_.width == 2
    # one block short of it, the closed forms cannot hold it
    assert km.KMatrixApproximator(width=1, method="hierarchical").fit(M).relative_error_ > 0.1


def _bit_permutation(L, to):
    """Index order moving bit b of i to bit to[b]."""
    i = np.arange(1 << L)
    return sum(((i >> b) & 1) << c for b, c in enumerate(to))


@pytest.mark.parametrize("block", [128, 64, 16, 4])
@pytest.mark.parametrize("side", ["columns", "rows"])
def test_even_odd_orders_at_every_level(block, side):
    # the decimation of a radix-2 FFT at one level: even/odd (and its
    # inverse, the perfect shuffle) within every block of `block` indices
    n = 128
    F = np.fft.fft(np.eye(n), axis=0)
    within = np.concatenate([np.arange(0, block, 2), np.arange(1, block, 2)])
    order = (np.arange(0, n, block)[:, None] + within).ravel()
    for perm in (order, np.argsort(order)):
        M = F[:, perm] if side == "columns" else F[perm]
        est = km.KMatrixApproximator(width=2, random_state=0).fit(M)
        assert est.relative_error_ < 1e-10 and est.n_iter_ == 0, est.method_
        assert "bit order" in est.method_ and est.kmatrix_.width == 2
        if block < n:   # the whole-range orders were in the list before
            assert km.KMatrixApproximator(
                width=2, method="hierarchical").fit(M).relative_error_ < 1e-10
    # the cumulative decimation (the top levels' splits, a partial bit
    # reversal): also an index-bit permutation
    L = 7
    partial = _bit_permutation(L, [3, 4, 5, 6, 2, 1, 0])
    M = F[:, partial] if side == "columns" else F[partial]
    assert km.KMatrixApproximator(width=2, random_state=0).fit(M).relative_error_ < 1e-10


def test_bit_permutations_on_both_sides_and_under_noise():
    n, L = 256, 8
    rng = np.random.default_rng(7)
    F = np.fft.fft(np.eye(n), axis=0) / np.sqrt(n)
    rows = _bit_permutation(L, rng.permutation(L))
    cols = _bit_permutation(L, rng.permutation(L))
    M = F[rows][:, cols]
    # a Benes block on each side: width 3, from the default structured search
    est = km.KMatrixApproximator(width=3, random_state=0).fit(M)
    assert est.relative_error_ < 1e-10 and est.n_iter_ == 0, est.method_
    assert km.KMatrixApproximator(width=2, max_iter=5).fit(M).relative_error_ > 0.1
    # 1% noise: the orders are still found, the fit is near the clean matrix
    noise = 0.01 * (rng.standard_normal((n, n)) + 1j * rng.standard_normal((n, n)))
    noisy = M + noise / np.sqrt(2 * n)
    est = km.KMatrixApproximator(width=3, random_state=0).fit(noisy)
    clean = np.linalg.norm(est.kmatrix_.todense() - M) / np.linalg.norm(M)
    assert clean < 2e-3 < est.relative_error_ and "bit orders" in est.method_


def test_bit_permutations_greedy_orders():
    from kmatrix._fitting.factorize import bit_permutations, half_bits, half_butterfly_twiddles
    L, N = 6, 64
    rng = np.random.default_rng(2)
    B = _half_butterfly(N, 1, seed=9)
    bits = half_bits(L, 1)
    # an unscrambled butterfly keeps the identity orders, and so does a
    # rank-one matrix, which every order splits exactly (ties keep the bit)
    rank_one = np.outer(rng.standard_normal(N), rng.standard_normal(N))
    for target in (B, rank_one):
        for rows, columns in [(False, True), (True, False), (True, True)]:
            r, c = bit_permutations(target, bits, rows=rows, columns=columns)
            assert np.array_equal(r, np.arange(N)) and np.array_equal(c, np.arange(N))
    rows, cols = _bit_permutation(L, rng.permutation(L)), _bit_permutation(L, rng.permutation(L))
    M = np.empty_like(B)
    M[np.ix_(rows, cols)] = B            # M[rows][:, cols] = B
    r, c = bit_permutations(M, bits, rows=True, columns=True)
    T = M[r][:, c]
    fit = km.KMatrix(half_butterfly_twiddles(T, 1), (N, N)).todense()
    assert np.linalg.norm(fit - T) < 1e-12 * np.linalg.norm(T)
    # a side held fixed stays the identity
    r, c = bit_permutations(M[:, np.argsort(cols)], bits, rows=False, columns=True)
    assert np.array_equal(r, np.arange(N))


def test_unknown_row_and_column_permutations_are_discovered():
    n = 256
    rng = np.random.default_rng(0)
    F = np.fft.fft(np.eye(n), axis=0)
    rows, cols = rng.permutation(n), rng.permutation(n)
    M = F[rows][:, cols]
    # the structured candidates cannot hold it ...
    assert km.KMatrixApproximator(width=3, method="hierarchical").fit(M).relative_error_ > 0.5
    # ... discovered: exact at width 3 (a permutation block on each side)
    est = km.KMatrixApproximator(width=3, permutations="auto", random_state=0).fit(M)
    assert est.relative_error_ < 1e-10 and est.kmatrix_.width == 3 and est.n_iter_ == 0
    np.testing.assert_allclose(est.kmatrix_.todense(), M, atol=1e-10)
    # and to its noise: 1% noise, the fit's distance from the clean matrix
    noise = 0.01 * (rng.standard_normal((n, n)) + 1j * rng.standard_normal((n, n))) / np.sqrt(2)
    est = km.KMatrixApproximator(width=3, permutations="auto", random_state=0).fit(M + noise)
    clean = np.linalg.norm(est.kmatrix_.todense() - M) / np.linalg.norm(M)
    assert clean < 2.1e-3 < est.relative_error_
    # a scrambled real butterfly half, and the transposed (B*) structure
    K = km.KMatrix.random(64, init="normal", random_state=5)
    K.twiddles[0, 0] = km.KMatrix.identity(64).twiddles[0, 0]
    r, c = rng.permutation(64), rng.permutation(64)
    for target in (K.todense()[r][:, c], K.todense()[r][:, c].T):
        est = km.KMatrixApproximator(width=3, permutations="auto", random_state=0).fit(target)
        assert est.relative_error_ < 1e-10 and est.kmatrix_.dtype == np.float64


def test_level_errors_say_where_the_target_departs_from_the_structure():
    n = 64
    H = scipy.linalg.hadamard(n).astype(float)
    rng = np.random.default_rng(3)
    est = km.KMatrixApproximator().fit(H)
    # exact: each level's left-out energy is rounding (sqrt(eps) once a root)
    assert len(est.level_errors_) == 6 and max(est.level_errors_) < 1e-7
    # noise is left out a little at every level; their root sum of squares
    # is the fit's error
    est = km.KMatrixApproximator(random_state=0).fit(H + 0.01 * rng.standard_normal((n, n)))
    levels = np.array(est.level_errors_)
    assert np.all(levels[:-1] > 0)
    assert np.sqrt(np.sum(levels ** 2)) == pytest.approx(est.relative_error_, rel=1e-6)
    # a break of the structure at the first level peeled shows there
    M = H.copy()
    M[0, : n // 2] = rng.standard_normal(n // 2)
    est = km.KMatrixApproximator(method="hierarchical").fit(M)
    assert np.argmax(est.level_errors_) == 0
    assert km.KMatrixApproximator(method="gradient", max_iter=3).fit(H).level_errors_ is None


def test_targets_of_low_displacement_rank_are_built_exactly():
    # the displacement route: one O(n^2) pass before the factorizations
    rng = np.random.default_rng(21)
    T = scipy.linalg.toeplitz(rng.standard_normal(1000), rng.standard_normal(1000))
    est = km.KMatrixApproximator(width=2).fit(T)
    assert est.method_ == "hierarchical: displacement: Toeplitz"
    assert est.relative_error_ < 1e-12 and est.kmatrix_.width == 2
    measured = np.linalg.norm(est.kmatrix_.todense() - T) / np.linalg.norm(T)
    assert measured < 1e-12
    Hk = scipy.linalg.hankel(rng.standard_normal(300), rng.standard_normal(300))
    est = km.KMatrixApproximator(width=2).fit(Hk)
    assert est.method_ == "hierarchical: displacement: Hankel"
    assert np.linalg.norm(est.kmatrix_.todense() - Hk) / np.linalg.norm(Hk) < 1e-12
    G, H = rng.standard_normal((256, 4)), rng.standard_normal((256, 4))
    M = km.KMatrix.toeplitz_like(G, H).todense()
    est = km.KMatrixApproximator(width=4).fit(M)
    assert est.method_ == "hierarchical: displacement: Toeplitz-like, rank 4"
    assert np.linalg.norm(est.kmatrix_.todense() - M) / np.linalg.norm(M) < 1e-10
    # width 1 cannot hold them; a target of full displacement rank skips the route
    fit = km.KMatrixApproximator(width=1, max_iter=5).fit(T[:64, :64])
    assert "displacement" not in fit.method_
    noise = rng.standard_normal((64, 64))
    assert "displacement" not in km.KMatrixApproximator(width=4, max_iter=5).fit(noise).method_


# ------------------------------------------------------------- width=None --
def test_the_default_width_takes_what_the_closed_forms_need():
    rng = np.random.default_rng(3)
    n = 100
    T = scipy.linalg.toeplitz(rng.standard_normal(n), rng.standard_normal(n))
    est = km.KMatrixApproximator().fit(T)
    assert est.relative_error_ < 1e-12 and est.kmatrix_.width == 2
    assert est.width_reason_ == "tol reached at width 2 by a closed-form fit"
    # a displacement rank of 4 at n = 256: four blocks
    n, r = 256, 4
    G, H = rng.standard_normal((n, r)), rng.standard_normal((n, r))
    M = km.KMatrix.toeplitz_like(G, H).todense()
    est = km.KMatrixApproximator().fit(M)
    assert est.relative_error_ < 1e-10 and est.kmatrix_.width == 4
    # a width given is a bound: the Toeplitz matrix is then no closed form
    est = km.KMatrixApproximator(width=1, max_iter=5, random_state=0).fit(T)
    assert est.kmatrix_.width == 1 and est.width_reason_ == "width=1 was given"


def test_the_default_width_grows_while_a_block_pays():
    # Legendre polynomials at equispaced nodes: a second block buys more
    # than 10%; a third would pass the dense matrix's parameter count
    from numpy.polynomial import legendre

    n = 64
    M = legendre.legvander(np.linspace(-1, 1, n), n - 1)
    one = km.KMatrixApproximator(width=1, random_state=0).fit(M)
    grown = km.KMatrixApproximator(random_state=0).fit(M)
    assert grown.kmatrix_.width == 2 and grown.method_ == "gradient"
    assert grown.relative_error_ < 0.9 * one.relative_error_
    assert "would pass the dense matrix's 4096" in grown.width_reason_
    assert grown.n_iter_ > one.n_iter_
    # no structure: the second block's trial buys too little, width 1 is kept
    noise = np.random.default_rng(0).standard_normal((128, 128))
    est = km.KMatrixApproximator(max_iter=100, solver="adam", random_state=0).fit(noise)
    assert est.kmatrix_.width == 1
    assert est.width_reason_.startswith("block 2 cut the error by")
    assert est.n_iter_ == 4 * 100 + 20     # four random starts at 128 x 128, one trial
    # blocks that cut less than 10% together are followed by no trial
    noise = np.random.default_rng(0).standard_normal((512, 512))
    est = km.KMatrixApproximator(max_iter=30, solver="adam", random_state=0).fit(noise)
    assert est.kmatrix_.width == 1 and est.relative_error_ > 0.9
    assert "no block more is tried" in est.width_reason_
    assert est.n_iter_ == 30     # one start at 512 x 512, no trial


def test_small_targets_get_several_random_starts_and_keep_the_best():
    from numpy.polynomial import legendre

    M = legendre.legvander(np.linspace(-1, 1, 32), 31)
    one = km.KMatrixApproximator(width=1, n_init=1, solver="adam", random_state=0).fit(M)
    best = km.KMatrixApproximator(width=1, n_init=8, solver="adam", random_state=0).fit(M)
    auto = km.KMatrixApproximator(width=1, solver="adam", random_state=0).fit(M)   # 8 starts
    assert best.n_iter_ == 8 * 500 and auto.n_iter_ == best.n_iter_
    assert auto.relative_error_ == best.relative_error_
    # the first start is the single fit's: the best of eight is at least as good
    assert best.loss_curve_[:500] == one.loss_curve_
    assert best.relative_error_ <= one.relative_error_ and best.relative_error_ < 0.37
    # one start with method="gradient" (max_iter is one run) and from a near
    # closed form (its trial only, here)
    assert km.KMatrixApproximator(width=1, method="gradient", max_iter=30,
                                  random_state=0).fit(M).n_iter_ == 30
    F = np.fft.fft(np.eye(32)) + 1e-3 * np.random.default_rng(0).standard_normal((32, 32))
    assert km.KMatrixApproximator(random_state=0, max_iter=100).fit(F).n_iter_ == 20


def test_poor_closed_forms_are_abandoned_before_the_gradient():
    noise = np.random.default_rng(1).standard_normal((256, 256))
    auto = km.KMatrixApproximator(max_iter=0).fit(noise)
    closed = km.KMatrixApproximator(method="hierarchical").fit(noise)
    abandoned = [name for name, err in auto.fits_tried_ if err == np.inf]
    assert abandoned and all(np.isfinite(err) for _, err in closed.fits_tried_)
    # each abandoned fit is one the full search ran and found poor
    full = dict(closed.fits_tried_)
    for name in abandoned:
        matches = [err for label, err in full.items() if label.endswith(name.split(": ", 1)[1])]
        assert matches and min(matches) > 0.5
    # a target of the form is never abandoned
    F = np.fft.fft(np.eye(256))
    assert km.KMatrixApproximator().fit(F).relative_error_ < 1e-12


@pytest.mark.parametrize("n", [100, 1000])
def test_transforms_of_any_size_are_found_as_vandermonde_matrices(n):
    # from their entries: the nodes come from each row's recurrence, not a name
    eye = np.eye(n)
    targets = {"DFT": np.fft.fft(eye, axis=0),
               "DCT-II": scipy.fft.dct(eye, norm="ortho", axis=0),
               "DCT-III": scipy.fft.dct(eye, type=3, norm="ortho", axis=0),
               "DST-II": scipy.fft.dst(eye, norm="ortho", axis=0),
               # cas = cos + sin: the real part of (1 + 1j) times the DFT
               "Hartley": np.fft.fft(eye, axis=0).real - np.fft.fft(eye, axis=0).imag}
    for name, M in targets.items():
        if n == 1000 and name not in ("DCT-II", "Hartley"):
            continue   # two at 1,000 are enough for the suite's time
        est = km.KMatrixApproximator(random_state=0).fit(M)
        assert est.relative_error_ < 1e-12, name
        assert est.method_ == "hierarchical: displacement: Vandermonde", name
        assert est.kmatrix_.width == 2 and est.n_iter_ == 0
    # no such structure: the route costs its tests, nothing more
    from kmatrix._fitting.displacement import vandermonde_fit
    assert vandermonde_fit(np.random.default_rng(0).standard_normal((64, 64)), 1e-10) is None
    # a real K-matrix only: the route (a real part of a complex one) is not taken
    est = km.KMatrixApproximator(field="real", max_iter=5, random_state=0)
    assert "Vandermonde" not in est.fit(scipy.fft.dct(np.eye(60), norm="ortho", axis=0)).method_


def test_the_vandermonde_route_takes_nodes_from_the_rows_not_names():
    from kmatrix._fitting.displacement import vandermonde_fit

    rng = np.random.default_rng(5)
    # damped sinusoids on a progression of nodes, random row scales: exact
    m, p = 37, 45
    a, w = 0.8 * np.exp(0.3j), 1.002 * np.exp(2j * np.pi / 97)
    s = rng.standard_normal(m) + 1j * rng.standard_normal(m)
    V = (a * w ** np.arange(m))[:, None] ** np.arange(p)
    for M in (s[:, None] * V, (s[:, None] * V).real, (s[:, None] * V).real.T):
        fit = vandermonde_fit(M, 1e-10)
        assert fit is not None and fit.error < 1e-10 and fit.model.width == 2
    # one node off the progression, or two sinusoids in a row: no fit
    V[5] = (a * w ** 5 * np.exp(0.01j)) ** np.arange(p)
    assert vandermonde_fit((s[:, None] * V).real, 1e-10) is None
    j, k = np.arange(m)[:, None], np.arange(p)[None, :]
    assert vandermonde_fit(np.cos(0.3 * k + j) + np.cos(1.1 * k), 1e-10) is None


def test_normal_matrices_with_butterfly_eigenvectors_are_found_spectrally():
    from kmatrix._fitting.spectral import spectral_fit

    rng = np.random.default_rng(6)
    n = 128
    # B: a random orthogonal butterfly half (the B* half the identity)
    K = km.KMatrix.random(n, init="ortho", random_state=3)
    tw = K.twiddles.copy()
    tw[0, 0] = km.KMatrix.identity(n).twiddles[0, 0]
    B = km.KMatrix(tw).todense()
    d = rng.standard_normal(n)
    # B D B^T is itself one BB* block (the search's "both halves"); with B's
    # rows scrambled it is no butterfly product, but its eigenvectors are
    P = rng.permutation(n)
    M = B[P] @ np.diag(d) @ B[P].T
    est = km.KMatrixApproximator(random_state=0).fit(M)
    assert est.relative_error_ < 1e-10 and est.method_ == "hierarchical: spectral: K diag K^H"
    assert est.kmatrix_.width == 4 and est.n_iter_ == 0 and est.field_ == "real"
    # complex eigenvalues (a normal, non-Hermitian M)
    M = B[P] @ np.diag(d + 1j * rng.standard_normal(n)) @ B[P].T
    fit = spectral_fit(M, 4, 1e-10)
    assert fit is not None and fit.error < 1e-10 and fit.model.width == 4
    assert spectral_fit(M, 3, 1e-10) is None          # too wide for width=3
    # not normal, or a repeated eigenvalue (eigenvectors not determined)
    assert spectral_fit(rng.standard_normal((n, n)), 4, 1e-10) is None
    d[1] = d[0]
    assert spectral_fit(B @ np.diag(d) @ B.T, 4, 1e-10) is None


def test_non_normal_matrices_with_butterfly_singular_vectors_are_found_by_the_svd():
    from kmatrix._fitting.spectral import spectral_fit

    rng = np.random.default_rng(7)
    n = 64

    def half(seed):   # a random orthogonal butterfly half
        tw = km.KMatrix.random(n, init="ortho", random_state=seed).twiddles.copy()
        tw[0, 0] = km.KMatrix.identity(n).twiddles[0, 0]
        return km.KMatrix(tw).todense()

    B1, B2 = half(3), half(4)
    s = rng.uniform(1, 2, n)
    # both sides' rows scrambled: no butterfly product, but U and V are
    M = B1[rng.permutation(n)] @ np.diag(s) @ B2[rng.permutation(n)].T
    est = km.KMatrixApproximator(random_state=0).fit(M)
    assert est.relative_error_ < 1e-10 and est.kmatrix_.width == 4
    assert est.method_ == "hierarchical: spectral: K1 diag K2^H (SVD)" and est.n_iter_ == 0
    # complex singular vectors' phases fold into the diagonal
    Mc = B1 @ np.diag(s * np.exp(1j * rng.uniform(0, 6, n))) @ B2[rng.permutation(n)].T
    fit = spectral_fit(Mc, 4, 1e-10)
    assert fit is not None and fit.error < 1e-10
    # a repeated singular value, or singular vectors that are no butterfly
    s[1] = s[0]
    assert spectral_fit(B1 @ np.diag(s) @ B2[rng.permutation(n)].T, 4, 1e-10) is None
    assert spectral_fit(rng.standard_normal((n, n)), 4, 1e-10) is None


def test_a_hankel_like_matrix_is_found_by_its_reversal():
    rng = np.random.default_rng(9)
    n = 256
    G, H = rng.standard_normal((n, 3)), rng.standard_normal((n, 3))
    M = km.KMatrix.hankel_like(G, H).todense()
    est = km.KMatrixApproximator().fit(M)
    assert est.relative_error_ < 1e-12
    assert est.method_ == "hierarchical: displacement: Hankel-like, rank 3"
    assert est.kmatrix_.width == 4


def test_max_time_bounds_the_gradient_method():
    import time

    noise = np.random.default_rng(2).standard_normal((256, 256))
    start = time.perf_counter()
    est = km.KMatrixApproximator(max_iter=100_000, max_time=0.5, random_state=0).fit(noise)
    seconds = time.perf_counter() - start
    # the closed forms finish first (well under a second here); the steps
    # then stop at their first check past the budget
    assert seconds < 5 and 0 < est.n_iter_ < 100_000
    assert est.width_reason_ == "width 1: max_time was reached"
    with pytest.raises(ValueError, match="max_time"):
        km.KMatrixApproximator(max_time=0).fit(noise)


def test_small_targets_are_polished_by_lbfgs_after_adam():
    from numpy.polynomial import legendre

    M = legendre.legvander(np.linspace(-1, 1, 16), 15)
    adam = km.KMatrixApproximator(solver="adam", random_state=0).fit(M)
    auto = km.KMatrixApproximator(random_state=0).fit(M)              # Adam, then L-BFGS
    assert auto.relative_error_ < 0.99 * adam.relative_error_
    assert auto.n_iter_ > adam.n_iter_
    # a large target: Adam alone
    noise = np.random.default_rng(0).standard_normal((512, 256))
    big = km.KMatrixApproximator(max_iter=10, width=1, random_state=0).fit(noise)
    assert big.n_iter_ == 10


def test_a_cauchy_matrix_on_two_circles_is_found_from_its_reciprocal():
    from kmatrix._fitting.displacement import cauchy_fit

    n = 128
    w = np.exp(2j * np.pi / n)
    x, y = 0.9 * w ** np.arange(n), 1.4j * w ** np.arange(n)
    C = 1 / (x[:, None] - y[None, :])
    est = km.KMatrixApproximator().fit(C)
    assert est.relative_error_ < 1e-12 and est.method_ == "hierarchical: displacement: Cauchy"
    assert est.kmatrix_.width == 4
    # reciprocals that are differences, but of nodes on no such circles
    rng = np.random.default_rng(0)
    xs, ys = rng.standard_normal(n), rng.standard_normal(n) + 10
    assert cauchy_fit((1 / (xs[:, None] - ys[None, :])).astype(complex), 1e-10) is None
    assert cauchy_fit(rng.standard_normal((n, n)) + 0j, 1e-10) is None


@pytest.mark.parametrize("n, rank", [(64, 1), (128, 3), (256, 6)])
def test_cauchy_like_and_vandermonde_like_targets_are_found_exactly(n, rank):
    # nodes at the n-th roots of unity (rotated, or on a second circle);
    # the references are the defining formulas, not the constructors
    rng = np.random.default_rng(n + rank)
    w = np.exp(2j * np.pi * np.arange(n) / n)
    G = rng.standard_normal((n, rank)) + 1j * rng.standard_normal((n, rank))
    H = rng.standard_normal((n, rank))
    x, y = np.exp(0.3j) * w, 1.7 * np.exp(0.1j) * w
    C = (G @ H.T) / (x[:, None] - y[None, :])
    est = km.KMatrixApproximator(random_state=0).fit(C)
    assert est.relative_error_ < 1e-10 and est.kmatrix_.width == 4
    assert est.method_ == f"hierarchical: displacement: Cauchy-like, rank {rank}"
    # diag(x) V - V Z = G H^T solved column by column from the last,
    # V[:, k] = (E[:, k] + V[:, k + 1]) / x, the roots in reverse order
    x = np.exp(0.3j) * w[::-1]
    E = G @ H.T
    V = np.zeros((n, n), complex)
    V[:, -1] = E[:, -1] / x
    for k in range(n - 2, -1, -1):
        V[:, k] = (E[:, k] + V[:, k + 1]) / x
    for M, name in ((V, "Vandermonde-like"), (V.T, "Vandermonde-like (transposed)")):
        est = km.KMatrixApproximator(random_state=0).fit(M)
        assert est.relative_error_ < 1e-10 and est.kmatrix_.width == 4
        assert est.method_ == f"hierarchical: displacement: {name}, rank {rank}"


def test_a_rectangular_vandermonde_like_target_is_found_both_ways():
    # 32 x 64 and its transpose: the displacement is wider than tall for one
    rng = np.random.default_rng(3)
    x = np.exp(0.4j) * np.exp(2j * np.pi * np.arange(32) / 32)
    G = rng.standard_normal((32, 2)) + 1j * rng.standard_normal((32, 2))
    H = rng.standard_normal((64, 2))
    V = km.KMatrix.vandermonde_like(x, G, H).todense()
    for M in (V, V.T):
        est = km.KMatrixApproximator(random_state=0).fit(M)
        assert est.relative_error_ < 1e-10, est.method_
        assert "Vandermonde-like" in est.method_


def test_the_node_displacement_routes_refuse_what_they_cannot_build():
    from kmatrix._fitting.displacement import cauchy_like_fit, vandermonde_like_fit

    rng = np.random.default_rng(0)
    n = 128
    noise = rng.standard_normal((n, n)) + 1j * rng.standard_normal((n, n))
    # nodes off the roots of unity: the pencil has no repeated eigenvalue
    x, y = rng.standard_normal(n), rng.standard_normal(n) + 10
    G, H = rng.standard_normal((n, 2)), rng.standard_normal((n, 2))
    off = ((G @ H.T) / (x[:, None] - y[None, :])).astype(complex)
    for M in (noise, off, noise.real):
        for route in (cauchy_like_fit, vandermonde_like_fit):
            assert route(M, 1e-10, np.random.RandomState(0)) is None


def test_the_spectral_route_stays_off_large_symmetric_targets():
    import time

    from kmatrix._fitting.spectral import spectral_fit

    # normal (symmetric), distinct eigenvalues, no butterfly eigenvectors:
    # the O(N^3) discovery would take about a minute at n = 1024
    G = np.random.default_rng(3).standard_normal((512, 512))
    start = time.perf_counter()
    assert spectral_fit(G + G.T, 4, 1e-10) is None
    assert time.perf_counter() - start < 1.0
