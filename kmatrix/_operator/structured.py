"""The KMatrix constructors of the survey's classical structured classes
(Section 4): Toeplitz, Hankel, Vandermonde, Cauchy, low rank and Toeplitz-like
matrices, each an exact K-matrix built by :mod:`kmatrix._builders.structured`."""

from .._builders import structured

__all__ = ["StructuredConstructors"]


class StructuredConstructors:
    """Toeplitz, Hankel, Vandermonde, Cauchy, low-rank and
    low-displacement-rank K-matrices (a mixin)."""

    @classmethod
    def toeplitz(cls, c, r=None, dtype=None):
        """The Toeplitz matrix of ``c`` and ``r``: ``scipy.linalg.toeplitz(c, r)``, exactly.

        ``T[i, j] = c[i - j]`` on and below the diagonal and ``r[j - i]``
        above it (``r[0]`` is ignored), of shape ``(len(c), len(r))``: a
        convolution with zero padding, or a stationary covariance. Built as
        the corner of a circulant of size ``M = next_pow2(len(c) + len(r) -
        1)``, ``F^-1 diag(F h) F``: width 2 (complex twiddles; for real data
        the operator is their network's real part), ``8 M log2 M``
        parameters against ``len(c) * len(r)`` dense, ``O(M log M)`` per
        product.

        Parameters
        ----------
        c : array-like of shape (m,)
            The first column.
        r : array-like of shape (p,), default=None
            The first row; by default ``conj(c)`` (a Hermitian Toeplitz
            matrix), as in scipy.
        dtype : dtype, default=None
            The operator's dtype; by default float64 (float32 when the data
            are float32), complex for complex data.

        Returns
        -------
        K : KMatrix of shape (m, p)

        Raises
        ------
        ValueError
            If ``c`` or ``r`` is not a non-empty 1-D array of finite numbers,
            or ``dtype`` cannot hold complex data.

        See Also
        --------
        scipy.linalg.toeplitz : the dense matrix.
        hankel, circulant, toeplitz_like

        Examples
        --------
        >>> import numpy as np, scipy.linalg, kmatrix as km
        >>> c, r = np.arange(1.0, 1001.0), np.cos(np.arange(1000.0))
        >>> T = km.KMatrix.toeplitz(c, r)
        >>> T.shape, T.width, T.size
        ((1000, 1000), 2, 2048)
        >>> x = np.random.default_rng(0).standard_normal(1000)
        >>> bool(np.allclose(T @ x, scipy.linalg.toeplitz(c, r) @ x))
        True
        """
        return cls._from_network(structured.toeplitz_network(c, r, dtype))

    @classmethod
    def hankel(cls, c, r=None, dtype=None):
        """The Hankel matrix of ``c`` and ``r``: ``scipy.linalg.hankel(c, r)``, exactly.

        ``H[i, j] = c[i + j]`` while ``i + j < len(c)``, then ``r[i + j -
        len(c) + 1]`` (``r`` is the last row; ``r[0]`` is ignored), of shape
        ``(len(c), len(r))``. Built as the corner of a circulant of size
        ``M = next_pow2(len(c) + len(r) - 1)`` with its first ``len(c)``
        rows reversed, which is ``F diag(w F h) F``: width 2, the size and
        cost of :meth:`toeplitz`.

        Parameters
        ----------
        c : array-like of shape (m,)
            The first column.
        r : array-like of shape (p,), default=None
            The last row; by default zeros, as in scipy.
        dtype : dtype, default=None
            The operator's dtype; by default float64 (float32 when the data
            are float32), complex for complex data.

        Returns
        -------
        K : KMatrix of shape (m, p)

        Raises
        ------
        ValueError
            If ``c`` or ``r`` is not a non-empty 1-D array of finite numbers,
            or ``dtype`` cannot hold complex data.

        See Also
        --------
        scipy.linalg.hankel : the dense matrix.
        toeplitz

        Examples
        --------
        >>> import numpy as np, scipy.linalg, kmatrix as km
        >>> c, r = np.array([1.0, 2.0, 3.0]), np.array([3.0, 4.0, 5.0, 6.0])
        >>> km.KMatrix.hankel(c, r).todense().round(12)
        array([[1., 2., 3., 4.],
               [2., 3., 4., 5.],
               [3., 4., 5., 6.]])
        """
        return cls._from_network(structured.hankel_network(c, r, dtype))

    @classmethod
    def low_rank(cls, U, V, dtype=None):
        """The low-rank matrix ``U @ V.T``, exactly, as a K-matrix of width 1.

        On ``N 2^h`` positions (``N = next_pow2(max(n_out, n_in))``,
        ``2^h >= r``) the input is copied into 2^h blocks; block k scales it
        by column k of V, sums it, and spreads the sum scaled by column k of
        U; the blocks are added. ``4 N 2^h log2(N 2^h)`` parameters, about
        ``4 n r log(n r)`` (survey Section 4.3), and the same cost per
        product, against ``n_out * n_in`` dense. A sparse plus low-rank
        matrix is a sum: ``KMatrix.from_sparse(S) + KMatrix.low_rank(U, V)``.

        Parameters
        ----------
        U : array-like of shape (n_out, r)
        V : array-like of shape (n_in, r)
        dtype : dtype, default=None
            The operator's dtype; by default float64 (float32 when both are
            float32), complex for complex data.

        Returns
        -------
        K : KMatrix of shape (n_out, n_in)

        Raises
        ------
        ValueError
            If U or V is not a non-empty 2-D array of finite numbers, their
            numbers of columns differ, or ``dtype`` cannot hold complex data.

        See Also
        --------
        from_sparse : the sparse part of a sparse plus low-rank matrix.

        Examples
        --------
        >>> import numpy as np, scipy.sparse, kmatrix as km
        >>> rng = np.random.default_rng(0)
        >>> U, V = rng.standard_normal((500, 3)), rng.standard_normal((400, 3))
        >>> K = km.KMatrix.low_rank(U, V)
        >>> K.width, K.size
        (1, 2048)
        >>> x = rng.standard_normal(400)
        >>> bool(np.allclose(K @ x, U @ (V.T @ x)))
        True
        >>> S = scipy.sparse.random(500, 400, density=0.01, random_state=0)
        >>> SL = km.KMatrix.from_sparse(S) + K          # sparse plus low rank
        >>> bool(np.allclose(SL @ x, S @ x + U @ (V.T @ x)))
        True
        """
        return cls._from_network(structured.low_rank_network(U, V, dtype))

    @classmethod
    def vandermonde(cls, x, n_cols=None, dtype=None):
        """The Vandermonde matrix ``V[j, k] = x[j] ** k``, exactly, for nodes
        in a geometric progression ``x[j] = a w^j`` (the chirp-z transform).

        ``jk = (j^2 + k^2 - (k - j)^2) / 2`` turns V into
        ``diag(w^(j^2/2)) T diag(a^k w^(k^2/2))`` with T Toeplitz: width 2 on
        ``next_pow2(len(x) + n_cols - 1)`` positions, ``O(n log n)`` per
        product (survey Section 4.4). Nodes on a circle (``|w| = 1``: the
        DFT of any size, the z-transform on an arc) are built to rounding
        (n = 1000 roots of unity: 6e-16 from ``np.fft.fft``; when ``w`` is a
        root of unity the chirp's angles are reduced exactly). Off the
        circle the chirp's range grows as ``|w|^(n^2/2)`` and so does the
        error: relative Frobenius against extended precision, ``w`` at the
        angle 2 pi 0.0123, 4e-15 for ``|w| = 1``, 3e-13 for 1.001 and 2e-13
        for 1.05 at n = 64; 7e-14 and 7e-12 for 1.001 at n = 256, where
        1.05 is past the floating-point range (a ValueError). Other nodes
        have no stable fast algorithm here.

        Parameters
        ----------
        x : array-like of shape (m,)
            The nodes: ``x[j] = x[0] w^j``, ``x[0]`` and ``w`` nonzero (to a
            relative 1e-12).
        n_cols : int, default=None
            The number of powers (columns), ``len(x)`` by default.
        dtype : dtype, default=None
            The operator's dtype; by default complex128 for complex nodes
            (complex64 for complex64 nodes), float64 for real ones (whose
            network is then the real part of a complex one).

        Returns
        -------
        K : KMatrix of shape (m, n_cols)

        Raises
        ------
        ValueError
            If ``x`` is not a non-empty 1-D array of finite numbers in a
            geometric progression, ``n_cols`` is not a positive integer, or
            the chirp overflows (see above).

        See Also
        --------
        dft : the Vandermonde matrix of the roots of unity.
        numpy.vander : the dense matrix (``increasing=True``).

        Examples
        --------
        >>> import numpy as np, kmatrix as km
        >>> x = 0.9 * np.exp(2j * np.pi * 0.01 * np.arange(300))   # an arc of a circle
        >>> V = km.KMatrix.vandermonde(x, 200)
        >>> V.shape, V.width, V.size
        ((300, 200), 2, 512)
        >>> c = np.random.default_rng(0).standard_normal(200)        # polynomial coefficients
        >>> bool(np.allclose(V @ c, np.polynomial.polynomial.polyval(x, c)))
        True
        """
        x_checked = structured.as_nodes(x)
        n_cols = x_checked.size if n_cols is None else n_cols
        return cls._from_network(structured.vandermonde_network(x_checked, n_cols, dtype))

    @classmethod
    def cauchy(cls, x, y, dtype=None):
        """The Cauchy matrix ``C[i, j] = 1 / (x[i] - y[j])``, for nodes on two
        circles at the n-th roots of unity: ``x[i] = a w^i``,
        ``y[j] = b w^j``, ``w^n = 1`` (n = ``len(x) = len(y)``).

        Then ``x_i^n = a^n`` and ``y_j^n = b^n`` for every i, j, so
        ``1 / (x - y) = sum_k x^(n-1-k) y^k / (a^n - b^n)`` and
        ``C = diag(w^-i) V(1/w) D V(w)`` with
        ``D_k = a^(n-1-k) b^k / (a^n - b^n)``: two DFT-like Vandermonde
        matrices of the roots (:meth:`vandermonde`, the chirp-z transform)
        and the nodes' moduli in D, so nothing overflows: width 4 on
        ``next_pow2(2n - 1)`` positions, ``O(n log n)`` per product (survey
        Section 4.5: the Cauchy class). The nodes are taken as the exact
        progression of the nearest root of unity. Relative Frobenius error
        against the exact nodes in extended precision, a = 1: 8e-16 to
        1e-15 at n = 256 for b = 1.01, 1.3, 2 and 0.6i, 9e-16 at n = 1000
        (b = 1.1); 2e-7 to 7e-7 from complex64 nodes. As in any Cauchy
        matrix, entries whose nodes nearly meet amplify the nodes' own
        rounding. Other nodes have no stable fast algorithm here.

        Parameters
        ----------
        x, y : array-like of shape (n,)
            The nodes, as above (to a relative 1e-12, or 50 float32
            roundings for single-precision nodes), with ``a^n != b^n``;
            they are taken as the exact progression of the nearest n-th
            root of unity.
        dtype : dtype, default=None
            complex128 by default (complex64 for complex64 nodes); the
            nodes are complex unless n <= 2.

        Returns
        -------
        K : KMatrix of shape (n, n)

        Raises
        ------
        ValueError
            If the nodes are not of that form, or the circles coincide.

        See Also
        --------
        vandermonde, toeplitz_like

        Examples
        --------
        >>> import numpy as np, kmatrix as km
        >>> n = 300
        >>> w = np.exp(2j * np.pi / n)
        >>> x, y = w ** np.arange(n), 1.5j * w ** np.arange(n)
        >>> C = km.KMatrix.cauchy(x, y)
        >>> C.shape, C.width
        ((300, 300), 4)
        >>> v = np.random.default_rng(0).standard_normal(n)
        >>> bool(np.allclose(C @ v, (1 / (x[:, None] - y[None, :])) @ v))
        True
        """
        return cls._from_network(structured.cauchy_network(x, y, dtype))

    @classmethod
    def toeplitz_like(cls, G, H, dtype=None):
        """The Toeplitz-like matrix of displacement generators G, H, exactly.

        The n x n matrix M with ``M - Z M Z^T = G @ H.T``, Z the down-shift
        (``Z[i + 1, i] = 1``): displacement rank r = number of columns of G
        (survey Section 4.5; a Toeplitz matrix has displacement rank 2 at
        most). ``M = sum_j L(g_j) L(h_j)^T`` with ``L(v)`` the lower
        triangular Toeplitz (Krylov) matrix of first column v (Kailath, Kung
        and Morf 1979), each term a product of two :meth:`toeplitz`
        K-matrices, the r terms added through expansion: width 4 on
        ``2^ceil(log2 r) * next_pow2(2n - 1)`` positions, ``O(r n log n)``
        parameters and cost per product, against ``n^2`` dense.

        Parameters
        ----------
        G, H : array-like of shape (n, r)
            The generators.
        dtype : dtype, default=None
            The operator's dtype; by default float64 (float32 when both are
            float32), complex for complex data.

        Returns
        -------
        K : KMatrix of shape (n, n)

        Raises
        ------
        ValueError
            If G or H is not a non-empty 2-D array of finite numbers, their
            shapes differ, or ``dtype`` cannot hold complex data.

        See Also
        --------
        toeplitz

        Examples
        --------
        >>> import numpy as np, kmatrix as km
        >>> rng = np.random.default_rng(0)
        >>> G, H = rng.standard_normal((64, 4)), rng.standard_normal((64, 4))
        >>> M = km.KMatrix.toeplitz_like(G, H).todense()
        >>> Z = np.eye(64, k=-1)
        >>> bool(np.allclose(M - Z @ M @ Z.T, G @ H.T))
        True
        """
        return cls._from_network(structured.toeplitz_like_network(G, H, dtype))

    @classmethod
    def hankel_like(cls, G, H, dtype=None):
        """The Hankel-like matrix of displacement generators G, H, exactly:
        the Toeplitz-like matrix of G, H with its columns reversed.

        ``M[:, ::-1] - Z M[:, ::-1] Z^T = G @ H.T`` (survey Section 4.5: a
        Hankel matrix has displacement rank 2 at most for this operator
        pair). ``M = sum_j L(g_j) (L(h_j)^T J)``, each ``L(h)^T J`` a
        :meth:`hankel` K-matrix (no permutation): width 4 on
        ``2^ceil(log2 r) * next_pow2(2n - 1)`` positions, as
        :meth:`toeplitz_like`.

        Parameters
        ----------
        G, H : array-like of shape (n, r)
            The generators.
        dtype : dtype, default=None
            As for :meth:`toeplitz_like`.

        Returns
        -------
        K : KMatrix of shape (n, n)

        Raises
        ------
        ValueError
            As for :meth:`toeplitz_like`.

        See Also
        --------
        toeplitz_like, hankel

        Examples
        --------
        >>> import numpy as np, kmatrix as km
        >>> rng = np.random.default_rng(0)
        >>> G, H = rng.standard_normal((64, 3)), rng.standard_normal((64, 3))
        >>> M = km.KMatrix.hankel_like(G, H).todense()
        >>> T = km.KMatrix.toeplitz_like(G, H).todense()
        >>> bool(np.allclose(M, T[:, ::-1]))
        True
        """
        return cls._from_network(structured.toeplitz_like_network(G, H, dtype, hankel=True))

    @classmethod
    def cauchy_like(cls, x, y, G, H, dtype=None):
        """The Cauchy-like matrix of nodes x, y and generators G, H, exactly:
        ``M[i, j] = (G @ H.T)[i, j] / (x[i] - y[j])``.

        M solves ``diag(x) M - M diag(y) = G @ H.T``: displacement rank r =
        number of columns of G for the operator pair ``(diag(x), diag(y))``
        (survey Section 4.5; a Cauchy matrix has rank 1, ``G = H = 1``).
        ``M = sum_k diag(g_k) C diag(h_k)`` with C the :meth:`cauchy`
        matrix of the nodes, which must lie on two circles at the n-th roots
        of unity as there; the r terms are added through expansion: width 4
        on ``2^ceil(log2 r) * next_pow2(2n - 1)`` positions,
        ``O(r n log n)`` parameters and cost per product.

        Parameters
        ----------
        x, y : array-like of shape (n,)
            The nodes, as for :meth:`cauchy`.
        G, H : array-like of shape (n, r)
            The generators.
        dtype : dtype, default=None
            complex128 by default (complex64 when every input is single
            precision); a real dtype makes the real part of M.

        Returns
        -------
        K : KMatrix of shape (n, n)

        Raises
        ------
        ValueError
            If the nodes are not of that form, the generators' shapes do
            not match the nodes, or any input is not finite.

        See Also
        --------
        cauchy, toeplitz_like

        Examples
        --------
        >>> import numpy as np, kmatrix as km
        >>> n, rng = 128, np.random.default_rng(0)
        >>> x = np.exp(2j * np.pi * np.arange(n) / n)
        >>> y = 2 * x
        >>> G, H = rng.standard_normal((n, 3)), rng.standard_normal((n, 3))
        >>> K = km.KMatrix.cauchy_like(x, y, G, H)
        >>> K.shape, K.width
        ((128, 128), 4)
        >>> M = (G @ H.T) / (x[:, None] - y[None, :])
        >>> bool(np.allclose(K.todense(), M))
        True
        """
        return cls._from_network(structured.cauchy_like_network(x, y, G, H, dtype))

    @classmethod
    def vandermonde_like(cls, x, G, H, dtype=None):
        """The Vandermonde-like matrix of nodes x and generators G, H, exactly:
        the m x p matrix M with ``diag(x) M - M Z = G @ H.T``.

        Z is the p x p down-shift (``Z[i + 1, i] = 1``); a Vandermonde matrix
        ``V[j, k] = x_j^k`` has displacement rank 1 for this operator pair
        (``diag(x) V - V Z = x^p e_(p-1)^T``; survey Section 4.5). Since
        lower triangular Toeplitz matrices ``L(u)`` commute with Z,
        ``M = sum_k diag(g_k / x^p) V(x) L(J h_k)`` (J the reversal), each
        term a :meth:`vandermonde` (chirp-z) K-matrix times a :meth:`toeplitz`
        one, the r terms added through expansion: width 4 on
        ``2^ceil(log2 r) * next_pow2(m + p - 1)`` positions,
        ``O(r (m + p) log(m + p))`` parameters and cost per product. The
        nodes must form a geometric progression, and the accuracy is that
        of :meth:`vandermonde` (nodes on the unit circle are the stable
        case).

        Parameters
        ----------
        x : array-like of shape (m,)
            The nodes ``x[j] = a w^j``, nonzero.
        G : array-like of shape (m, r)
        H : array-like of shape (p, r)
            The generators.
        dtype : dtype, default=None
            complex128 by default for complex inputs, float64 for real ones
            (float32 / complex64 when every input is single precision).

        Returns
        -------
        K : KMatrix of shape (m, p)

        Raises
        ------
        ValueError
            If the nodes are not such a progression or overflow, the
            generators' shapes do not match, or any input is not finite.

        See Also
        --------
        vandermonde, cauchy_like

        Examples
        --------
        >>> import numpy as np, kmatrix as km
        >>> n, rng = 100, np.random.default_rng(0)
        >>> x = np.exp(2j * np.pi * np.arange(n) / n)
        >>> G, H = rng.standard_normal((n, 2)), rng.standard_normal((n, 2))
        >>> M = km.KMatrix.vandermonde_like(x, G, H).todense()
        >>> Z = np.eye(n, k=-1)
        >>> bool(np.allclose(np.diag(x) @ M - M @ Z, G @ H.T))
        True
        """
        return cls._from_network(structured.vandermonde_like_network(x, G, H, dtype))
