"""Structured random features: RBF kernel features and Johnson-Lindenstrauss
projections from random orthogonal K-matrices.

Both transformers apply one K-matrix of width 1 built from normalized
Walsh-Hadamard transforms ``H`` (``H H^T = I``) and random sign diagonals
``D`` on zero-padded inputs, so a row costs ``O(N log N)`` per block of
``N`` outputs instead of the ``O(N n_features)`` of a dense Gaussian matrix.

The networks (``S H D2 H D1`` blocks for the features, ``H D2 H D1`` rows
for the projections) and why they give unbiased estimates:
:mod:`kmatrix._builders.random_networks`.


References
----------
A. Rahimi, B. Recht. "Random Features for Large-Scale Kernel Machines",
NIPS 2007.
F. X. Yu, A. T. Suresh, K. Choromanski, D. Holtmann-Rice, S. Kumar.
"Orthogonal Random Features", NIPS 2016.
Q. Le, T. Sarlos, A. Smola. "Fastfood: Approximating Kernel Expansions in
Loglinear Time", ICML 2013.
N. Ailon, B. Chazelle. "The Fast Johnson-Lindenstrauss Transform and
Approximate Nearest Neighbors", SIAM J. Comput. 39 (2009).
"""

import numbers
import warnings

import numpy as np
import scipy.sparse
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.exceptions import DataDimensionalityWarning
from sklearn.random_projection import johnson_lindenstrauss_min_dim
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from .._builders.random_networks import (
    feature_twiddles,
    network_size,
    projection_twiddles,
    random_signs,
)
from .._core.algebra import scale_outputs
from .._core.config import set_workers
from .._core.lazy import is_dask_array, map_rows
from .._core.validation import check_network_size, next_pow2
from .._operator import KMatrix

__all__ = ["KMatrixRandomFeatures", "KMatrixRandomProjection"]

class _RandomTransformer(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """What both transformers share: validation, dask, tags, feature names."""

    def transform(self, X):
        """Transform the rows of X.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            float32 rows give float32 results. A dask array gives a lazy
            dask array, one task per row block (one thread per task).

        Returns
        -------
        Z : ndarray of shape (n_samples, n_features_out)

        Raises
        ------
        ValueError
            If X has another number of features than the fit's, or is not finite.

        Examples
        --------
        >>> import numpy as np, kmatrix as km
        >>> X = np.random.default_rng(0).standard_normal((10, 30)).astype(np.float32)
        >>> Z = km.KMatrixRandomFeatures(n_components=50, random_state=0).fit(X).transform(X)
        >>> Z.shape, Z.dtype
        ((10, 50), dtype('float32'))
        """
        check_is_fitted(self)
        if is_dask_array(X):
            dtype = X.dtype if X.dtype in (np.float32, np.float64) else np.dtype(np.float64)
            return map_rows(self._transform_in_one_thread, X, self.n_features_in_,
                            self._n_features_out, dtype,
                            f"{type(self).__name__}.transform")
        # NaN and infinity: the kernel checks while it reads X (no extra pass)
        X = validate_data(self, X, accept_sparse="csr", reset=False,
                          dtype=[np.float64, np.float32], ensure_all_finite=False)
        return self._transform_rows(X)

    def _transform_in_one_thread(self, X):
        with set_workers(1):
            return self.transform(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


class KMatrixRandomFeatures(_RandomTransformer):
    """Random Fourier features of the RBF kernel from structured orthogonal blocks.

    Approximates the feature map of the kernel ``exp(-gamma ||x - y||^2)``
    like :class:`sklearn.kernel_approximation.RBFSampler`,
    ``z(x) = sqrt(2 / n_components) cos(W x + b)``, but ``W`` is a
    K-matrix: stacked independent blocks ``S H D2 H D1`` of size
    ``N = next_pow2(n_features)`` (normalized Hadamard transforms ``H``,
    random sign diagonals ``D``, row norms ``S`` drawn from the chi
    distribution with ``N`` degrees of freedom times ``sqrt(2 gamma)``), cut
    to ``n_components`` rows. The rows of one block are orthogonal with
    Gaussian norms (orthogonal random features), which estimates the kernel
    with a lower variance than i.i.d. Gaussian rows, and a row costs
    ``O(n_components log N)`` instead of ``O(n_components n_features)``.

    ``transform`` runs the product on kmatrix's kernels and the offset,
    cosine and scaling on fixed row chunks in a few threads (the
    :func:`kmatrix.set_workers` / OpenMP default); the result does not
    depend on the thread count.

    Parameters
    ----------
    n_components : int, default=100
        Number of features; any value (blocks of ``N`` rows are stacked and
        the last one is cut).
    gamma : "scale" or float, default=1.0
        The kernel's parameter. "scale" uses ``1 / (n_features * X.var())``
        at fit time, as :class:`~sklearn.kernel_approximation.RBFSampler`.
    random_state : int, RandomState instance or None, default=None
        Seeds the signs, norms and offsets.

    Attributes
    ----------
    kmatrix_ : KMatrix of shape (n_components, `n_features_in_`)
        The linear part ``W`` (float64, width 1): ``transform(X)`` is
        ``sqrt(2 / n_components) * cos(kmatrix_.apply(X) + random_offset_)``.
    random_offset_ : ndarray of shape (n_components,)
        The offsets ``b``, uniform on ``[0, 2 pi)``.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when X has string column names.

    See Also
    --------
    sklearn.kernel_approximation.RBFSampler : the same features with a dense
        Gaussian ``W``.
    KMatrixRandomProjection : a Johnson-Lindenstrauss projection built the same way.

    Notes
    -----
    Sparse input is accepted; its rows are densified a chunk at a time.

    References
    ----------
    A. Rahimi, B. Recht. "Random Features for Large-Scale Kernel Machines",
    NIPS 2007. F. X. Yu et al. "Orthogonal Random Features", NIPS 2016.
    Q. Le, T. Sarlos, A. Smola. "Fastfood: Approximating Kernel Expansions
    in Loglinear Time", ICML 2013.

    Examples
    --------
    >>> import numpy as np, kmatrix as km
    >>> from sklearn.metrics.pairwise import rbf_kernel
    >>> X = np.random.default_rng(0).standard_normal((200, 100))
    >>> rf = km.KMatrixRandomFeatures(n_components=4096, gamma=0.01, random_state=0)
    >>> Z = rf.fit_transform(X)
    >>> Z.shape, rf.kmatrix_.shape
    ((200, 4096), (4096, 100))
    >>> K = rbf_kernel(X, gamma=0.01)
    >>> bool(np.linalg.norm(Z @ Z.T - K) / np.linalg.norm(K) < 0.15)
    True
    """

    _parameter_constraints = {
        "n_components": [Interval(numbers.Integral, 1, None, closed="left")],
        "gamma": [StrOptions({"scale"}), Interval(numbers.Real, 0.0, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(self, n_components=100, *, gamma=1.0, random_state=None):
        self.n_components = n_components
        self.gamma = gamma
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Draw the features for ``X.shape[1]`` inputs.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Only the number of features is used (and the variance, for
            ``gamma="scale"``).
        y : ignored

        Returns
        -------
        self : KMatrixRandomFeatures

        Raises
        ------
        ValueError
            If the network for ``n_components`` would not fit in memory, or
            ``gamma`` is so large that the frequencies overflow.

        Examples
        --------
        >>> import numpy as np, kmatrix as km
        >>> X = np.random.default_rng(0).standard_normal((10, 30))
        >>> km.KMatrixRandomFeatures(100, gamma="scale", random_state=0).fit(X).kmatrix_.shape
        (100, 30)
        """
        X = validate_data(self, X, accept_sparse=["csr", "csc"],
                          dtype=[np.float64, np.float32])
        n_features = X.shape[1]
        gamma = self.gamma
        if gamma == "scale":
            if scipy.sparse.issparse(X):
                mean = np.asarray(X.mean())
                var = float(np.asarray(X.multiply(X).mean()) - mean ** 2)
            else:
                var = float(X.var(dtype=np.float64))
            gamma = 1.0 / (n_features * var) if var > 0 else 1.0
        rng = check_random_state(self.random_state)
        D = self.n_components
        block = max(2, next_pow2(n_features))
        M = network_size(D, block)
        check_network_size(M, 1, np.float64, f"KMatrixRandomFeatures(n_components={D}) on "
                                             f"{n_features} features")
        norms = np.ones(M)
        # row norms of N-dimensional Gaussian rows, N = block: the padded
        # inputs see a block as a corner of an N x N orthogonal matrix
        with np.errstate(over="ignore"):   # refused below, in the estimator's terms
            norms[:D] = np.sqrt(rng.chisquare(block, size=D) * (2.0 * gamma))
        if not np.isfinite(norms).all():
            raise ValueError(f"gamma={gamma:g} is too large: the frequencies' norms "
                             "sqrt(2 gamma chi^2) overflow float64")
        tw = feature_twiddles(D, block, norms, rng)
        self.kmatrix_ = KMatrix(tw, (D, n_features))
        self.random_offset_ = rng.uniform(0.0, 2.0 * np.pi, size=D)
        return self

    def _transform_rows(self, X):
        dtype = X.dtype
        # the product and the compiled cosine over its output
        scale = np.sqrt(2.0 / self.n_components).astype(dtype)
        return self.kmatrix_.astype(dtype, copy=False)._cosine_features(
            X, self.random_offset_.astype(dtype, copy=False), scale)

    @property
    def _n_features_out(self):
        return self.n_components


class KMatrixRandomProjection(_RandomTransformer):
    """Johnson-Lindenstrauss random projection by a structured orthogonal K-matrix.

    Reduces the dimension like
    :class:`sklearn.random_projection.GaussianRandomProjection`, preserving
    pairwise distances up to ``1 +- eps`` with high probability, but the
    projection is ``R = sqrt(N / k)`` times the first ``k = n_components``
    rows of ``H D2 H D1`` on ``N = next_pow2(max(n_features, k))`` (zero-padded
    inputs, normalized Hadamard transforms ``H``, random sign diagonals
    ``D``), a subsampled randomized Hadamard transform: ``O(N log N)`` per
    row instead of ``O(k n_features)``, and no dense matrix is stored. For
    every x, ``E ||R x||^2 = ||x||^2``. (For a power-of-two ``k`` the second
    ``H`` runs on the bits above ``log2 k`` only, which leaves ``R`` the same
    up to an orthogonal map of its outputs, so the same distances, at a
    lower cost.)

    Parameters
    ----------
    n_components : int or "auto", default="auto"
        Target dimension. "auto" is
        :func:`sklearn.random_projection.johnson_lindenstrauss_min_dim` of
        the number of samples and ``eps``. When that exceeds the number of
        features (few features, many samples or a small eps), where
        scikit-learn raises, fit warns (``DataDimensionalityWarning``) and
        keeps every feature: ``n_components_ = n_features`` and the map is a
        random signed permutation, which keeps every distance exactly. An
        explicit value above the number of features gives a
        ``DataDimensionalityWarning`` too, as in scikit-learn.
    eps : float, default=0.1
        The distortion bound used by "auto" (in ``(0, 1)`` then).
    random_state : int, RandomState instance or None, default=None
        Seeds the signs.

    Attributes
    ----------
    n_components_ : int
        The target dimension.
    kmatrix_ : KMatrix of shape (`n_components_`, `n_features_in_`)
        The projection ``R`` (float64, width 1): ``transform(X)`` is
        ``kmatrix_.apply(X)``; ``kmatrix_.todense()`` is the dense matrix
        (scikit-learn's ``components_``).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when X has string column names.

    See Also
    --------
    sklearn.random_projection.GaussianRandomProjection : a dense Gaussian projection.
    KMatrixRandomFeatures : random RBF kernel features built the same way.

    Notes
    -----
    Sparse input is accepted; its rows are densified a chunk at a time
    (the output is dense).

    References
    ----------
    N. Ailon, B. Chazelle. "The Fast Johnson-Lindenstrauss Transform and
    Approximate Nearest Neighbors", SIAM J. Comput. 39 (2009).
    J. A. Tropp. "Improved analysis of the subsampled randomized Hadamard
    transform", Adv. Adapt. Data Anal. 3 (2011).

    Examples
    --------
    >>> import numpy as np, kmatrix as km
    >>> from scipy.spatial.distance import pdist
    >>> X = np.random.default_rng(0).standard_normal((100, 10000))
    >>> proj = km.KMatrixRandomProjection(eps=0.3, random_state=0)
    >>> Y = proj.fit_transform(X)
    >>> proj.n_components_, Y.shape
    (511, (100, 511))
    >>> ratio = pdist(Y) / pdist(X)
    >>> bool(np.all((1 - 0.3 < ratio) & (ratio < 1 + 0.3)))
    True
    """

    _parameter_constraints = {
        "n_components": [Interval(numbers.Integral, 1, None, closed="left"),
                         StrOptions({"auto"})],
        "eps": [Interval(numbers.Real, 0, None, closed="neither")],
        "random_state": ["random_state"],
    }

    def __init__(self, n_components="auto", *, eps=0.1, random_state=None):
        self.n_components = n_components
        self.eps = eps
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Draw the projection for the shape of X.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Only the shape is used.
        y : ignored

        Returns
        -------
        self : KMatrixRandomProjection

        Raises
        ------
        ValueError
            If X is not a finite 2-D array, or "auto" finds no valid dimension.

        Examples
        --------
        >>> import numpy as np, kmatrix as km
        >>> X = np.random.default_rng(0).standard_normal((50, 2000))
        >>> km.KMatrixRandomProjection(64, random_state=0).fit(X).kmatrix_.shape
        (64, 2000)
        """
        X = validate_data(self, X, accept_sparse=["csr", "csc"],
                          dtype=[np.float64, np.float32])
        n_samples, n_features = X.shape
        if self.n_components == "auto":
            with np.errstate(invalid="ignore"):   # a tiny eps overflows int64: below
                k = int(johnson_lindenstrauss_min_dim(n_samples=n_samples, eps=self.eps))
            if k == 0:
                raise ValueError(f"eps={self.eps:f} and n_samples={n_samples} lead to a target "
                                 f"dimension of {k} which is invalid")
            if k < 0 or k > n_features:
                # no reduction is possible at this eps: keep every dimension,
                # by a map that preserves every distance exactly
                # scikit-learn's words where it has them (its error for k > n_features)
                eps, wanted = (f"{self.eps:f}", f"{k}") if k > 0 else (f"{self.eps:g}",
                                                                       "more than 2**63")
                warnings.warn(f"eps={eps} and n_samples={n_samples} lead to a target "
                              f"dimension of {wanted} which is larger than the original space "
                              f"with n_features={n_features}: n_components_ is "
                              f"{n_features}, a random signed permutation of the features "
                              "(distances are kept exactly).", DataDimensionalityWarning)
                self.n_components_ = n_features
                rng = check_random_state(self.random_state)
                K = KMatrix.from_permutation(rng.permutation(n_features))
                scale_outputs(K.twiddles, random_signs(rng, n_features))
                self.kmatrix_ = K
                return self
        else:
            k = self.n_components
            if k > n_features:
                warnings.warn(f"The number of components is higher than the number of features: "
                              f"n_features < n_components ({n_features} < {k}). The "
                              "dimensionality of the problem will not be reduced.",
                              DataDimensionalityWarning)
        self.n_components_ = k
        rng = check_random_state(self.random_state)
        N = max(2, next_pow2(max(n_features, k)))
        check_network_size(N, 1, np.float64, f"KMatrixRandomProjection(n_components={k}) on "
                                             f"{n_features} features")
        self.kmatrix_ = KMatrix(projection_twiddles(k, N, rng), (k, n_features))
        return self

    def _transform_rows(self, X):
        return self.kmatrix_.astype(X.dtype, copy=False).apply(X)

    @property
    def _n_features_out(self):
        return self.n_components_
