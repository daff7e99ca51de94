"""The KMatrix constructors: one-line calls of the builders.

Every constructor's checks and twiddles come from :mod:`kmatrix._builders`,
which returns a :class:`~kmatrix._core.layout.Network`; the operator wraps
it once (:meth:`KMatrix._from_network`: no copy, one finiteness scan).
"""

import numpy as np

from .._builders import compiler, permutations, sparse, transforms, zoo

__all__ = ["Constructors"]


class Constructors:
    """The exact and random constructors of :class:`KMatrix` (a mixin)."""

    @classmethod
    def random(cls, n_rows, n_cols=None, *, width=1, expansion=1, dtype=np.float64,
               init="ortho", random_state=None):
        """A random K-matrix of shape ``(n_rows, n_cols)``.

        Parameters
        ----------
        n_rows : int
            Number of rows: the output size ``n_out``.
        n_cols : int, default=None
            Number of columns, the input size ``n_in``; defaults to ``n_rows``.
            (NumPy's ``(rows, cols)`` order, as ``np.empty`` and
            ``scipy.sparse.random``; releases before the rename took
            ``(n_in, n_out)``.)
        width : int, default=1
            Number of BB* blocks.
        expansion : int, default=1
            The network has size ``N = next_pow2(expansion * max(n_rows, n_cols))``.
        dtype : dtype, default=np.float64
            float32, float64, complex64 or complex128.
        init : {"ortho", "normal", "identity"}, default="ortho"
            "ortho": every 2x2 block a uniformly random rotation (real) or
            Haar-random unitary (complex), so the N x N network is orthogonal
            or unitary and ``K`` is a corner of it. "normal": i.i.d. Gaussian
            entries of variance 1/2 (for complex, 1/4 per real part), so every
            stage preserves the expected squared norm; products of many such
            stages are often badly conditioned, so prefer "ortho" for a
            well-behaved random operator. "identity": the identity.
        random_state : int, RandomState instance or None, default=None
            Seeds the draw.

        Returns
        -------
        K : KMatrix of shape (n_rows, n_cols)
            On a network of size ``N`` with ``width * 4 * N * log2(N)``
            parameters.

        Raises
        ------
        ValueError
            If a size, ``width`` or ``expansion`` is not a positive integer,
            ``dtype`` is not supported, ``init`` is unknown, or the twiddles
            would not fit in memory.

        See Also
        --------
        identity, hadamard, dft : exact constructors.

        Examples
        --------
        >>> import numpy as np, kmatrix as km
        >>> K = km.KMatrix.random(300, 1000, width=2, random_state=0)
        >>> K
        KMatrix(shape=(300, 1000), dtype=float64, width=2, expansion=1, size=1024)
        >>> Q = km.KMatrix.random(64, random_state=0).todense()   # "ortho": orthogonal
        >>> bool(np.allclose(Q @ Q.T, np.eye(64)))
        True
        """
        return cls._from_network(zoo.random_network(n_rows, n_cols, width, expansion, dtype,
                                                    init, random_state))

    @classmethod
    def identity(cls, n, dtype=np.float64):
        """The n x n identity as a width-1 K-matrix.

        Every 2x2 block is the identity; a starting point for training
        (``KMatrixRegressor(init="identity")``) or for sums such as
        ``K + KMatrix.identity(n)``.

        Parameters
        ----------
        n : int
            The size, any integer >= 1 (padded to a power of two inside).
        dtype : dtype, default=np.float64
            float32, float64, complex64 or complex128.

        Returns
        -------
        K : KMatrix of shape (n, n)

        Raises
        ------
        ValueError
            If ``n`` is not a positive integer or ``dtype`` is not supported.

        Examples
        --------
        >>> import numpy as np, kmatrix as km
        >>> I = km.KMatrix.identity(5)
        >>> I.shape, I.width, I.size
        ((5, 5), 1, 8)
        >>> bool(np.array_equal(I.todense(), np.eye(5)))
        True
        """
        return cls._from_network(zoo.identity_network(n, dtype))

    @classmethod
    def hadamard(cls, n, dtype=np.float64):
        """The Sylvester Walsh-Hadamard matrix (``scipy.linalg.hadamard(n)``).

        ``n`` must be a power of two. Entries are +-1 (unnormalized). Width 1:
        the B half holds ``[[1, 1], [1, -1]]`` in every block.

        Parameters
        ----------
        n : int
            The order, a power of two.
        dtype : dtype, default=np.float64
            float32, float64, complex64 or complex128.

        Returns
        -------
        K : KMatrix of shape (n, n)
            ``K.todense()`` equals ``scipy.linalg.hadamard(n)`` exactly.

        Raises
        ------
        ValueError
            If ``n`` is not a power of two or ``dtype`` is not supported.

        See Also
        --------
        scipy.linalg.hadamard : the dense matrix.

        Examples
        --------
        >>> import numpy as np, scipy.linalg, kmatrix as km
        >>> H = km.KMatrix.hadamard(8)
        >>> bool(np.array_equal(H.todense(), scipy.linalg.hadamard(8)))
        True
        >>> H.width, H.n_params
        (1, 96)
        """
        return cls._from_network(zoo.hadamard_network(n, dtype))

    @classmethod
    def dft(cls, n, norm=None, dtype=np.complex128):
        """The discrete Fourier transform matrix, exactly.

        ``F[j, k] = exp(-2j * pi * j * k / n)``; ``K @ x`` equals
        ``np.fft.fft(x, norm=norm)`` to rounding. Width 1 for a power of two
        ``n``; any other length takes width 2 and size ``next_pow2(2n - 1)``
        (Bluestein's chirp: a convolution through two power-of-two DFTs).

        Parameters
        ----------
        n : int
            Any length >= 1.
        norm : {None, "backward", "ortho", "forward"}, default=None
            As in :mod:`numpy.fft`: no scaling, ``1/sqrt(n)`` or ``1/n``.
        dtype : {complex128, complex64}, default=complex128

        Returns
        -------
        K : KMatrix of shape (n, n)

        Raises
        ------
        ValueError
            If ``n`` is not a positive integer, ``norm`` is unknown or
            ``dtype`` is not complex.

        See Also
        --------
        numpy.fft.fft : the same transform.
        dct, dst : the real transforms.

        Examples
        --------
        >>> import numpy as np, kmatrix as km
        >>> F = km.KMatrix.dft(256, norm="ortho")
        >>> x = np.random.default_rng(0).standard_normal(256)
        >>> bool(np.allclose(F @ x, np.fft.fft(x, norm="ortho")))
        True
        >>> F.width, km.KMatrix.dft(100).width      # any length: Bluestein, width 2
        (1, 2)
        """
        return cls._from_network(transforms.dft_network(n, norm, dtype))

    @classmethod
    def dct(cls, n, type=2, norm="ortho", dtype=np.float64):
        """The discrete cosine transform matrix, exactly, as a real part.

        Equals ``scipy.fft.dct(np.eye(n), type=type, norm=norm, axis=0)`` to
        rounding, so ``K @ x == scipy.fft.dct(x, type, norm=norm)``. It is the
        real part (:attr:`real`) of a complex network of width 2 for a power
        of two ``n`` (Makhoul's reordering, one DFT and diagonal scalings
        folded into stages), width 3 for other lengths.

        Parameters
        ----------
        n : int
            Any length >= 1.
        type : {2, 3}, default=2
        norm : {None, "backward", "ortho", "forward"}, default="ortho"
            As in :func:`scipy.fft.dct`.
        dtype : {float64, float32}, default=float64
            The operator's (real) dtype; the twiddles are complex.

        Returns
        -------
        K : KMatrix of shape (n, n)
            Real-valued, with ``K.real_part`` True.

        Raises
        ------
        ValueError
            If ``n`` is not a positive integer, ``type`` is not 2 or 3,
            ``norm`` is unknown or ``dtype`` is not real.

        See Also
        --------
        scipy.fft.dct : the same transform.
        dst : the discrete sine transform.

        Examples
        --------
        >>> import numpy as np, scipy.fft, kmatrix as km
        >>> K = km.KMatrix.dct(64)
        >>> x = np.random.default_rng(0).standard_normal(64)
        >>> bool(np.allclose(K @ x, scipy.fft.dct(x, norm="ortho")))
        True
        """
        return cls._from_network(transforms.real_transform_network("dct", n, type, norm, dtype))

    @classmethod
    def dst(cls, n, type=2, norm="ortho", dtype=np.float64):
        """The discrete sine transform matrix, exactly, as a real part.

        Equals ``scipy.fft.dst(np.eye(n), type=type, norm=norm, axis=0)`` to
        rounding; widths and parameters as for :meth:`dct` (the reversal that
        relates the DST-II to the DCT-II is folded into a conjugated DFT).

        Parameters
        ----------
        n : int
            Any length >= 1.
        type : {2, 3}, default=2
        norm : {None, "backward", "ortho", "forward"}, default="ortho"
            As in :func:`scipy.fft.dst`.
        dtype : {float64, float32}, default=float64
            The operator's (real) dtype; the twiddles are complex.

        Returns
        -------
        K : KMatrix of shape (n, n)
            Real-valued, with ``K.real_part`` True.

        Raises
        ------
        ValueError
            If ``n`` is not a positive integer, ``type`` is not 2 or 3,
            ``norm`` is unknown or ``dtype`` is not real.

        See Also
        --------
        scipy.fft.dst : the same transform.
        dct : the discrete cosine transform.

        Examples
        --------
        >>> import numpy as np, scipy.fft, kmatrix as km
        >>> K = km.KMatrix.dst(100, type=3)
        >>> x = np.random.default_rng(0).standard_normal(100)
        >>> bool(np.allclose(K @ x, scipy.fft.dst(x, type=3, norm="ortho")))
        True
        """
        return cls._from_network(transforms.real_transform_network("dst", n, type, norm, dtype))

    @classmethod
    def circulant(cls, c, dtype=None):
        """The circulant matrix of ``c``: ``scipy.linalg.circulant(c)``, exactly.

        ``C[i, j] = c[(i - j) % n]``, so ``C @ x`` is the circular convolution
        of ``c`` and ``x``. Built as ``F^-1 diag(F c) F`` (width 2, complex
        twiddles); a length that is not a power of two is embedded in a
        circular convolution of size ``next_pow2(2n - 1)``. For real ``c`` the
        operator is the real part (:attr:`real`) of that network, real-valued.

        Parameters
        ----------
        c : array-like of shape (n,)
            The first column.
        dtype : dtype, default=None
            The operator's dtype; by default float64 (float32 for float32 c)
            for real c and the matching complex dtype for complex c.

        Returns
        -------
        K : KMatrix of shape (n, n)

        Raises
        ------
        ValueError
            If ``c`` is not a non-empty 1-D array of finite numbers, or
            ``dtype`` cannot hold it (a complex ``c`` needs a complex dtype).

        See Also
        --------
        scipy.linalg.circulant : the dense matrix.

        Examples
        --------
        >>> import numpy as np, scipy.linalg, kmatrix as km
        >>> c = np.array([1.0, 2.0, 0.0, -1.0, 0.5])
        >>> C = km.KMatrix.circulant(c)
        >>> bool(np.allclose(C.todense(), scipy.linalg.circulant(c)))
        True
        >>> C.dtype, C.width
        (dtype('float64'), 2)
        """
        return cls._from_network(transforms.circulant_network(c, dtype))

    @classmethod
    def from_permutation(cls, perm, dtype=np.float64):
        """The permutation matrix P with ``(P @ x)[i] == x[perm[i]]``, width 1.

        The permutation is routed through the Benes network that is the
        sparsity pattern of BB* (looping algorithm), so every 2x2 block is the
        identity or a swap. Any length: it is padded to a power of two.

        Parameters
        ----------
        perm : array-like of int, shape (n,)
            A permutation of ``range(n)``.
        dtype : dtype, default=np.float64
            float32, float64, complex64 or complex128.

        Returns
        -------
        P : KMatrix of shape (n, n)
            Width 1; ``P.apply(X)`` equals ``X[:, perm]`` bit for bit.

        Raises
        ------
        ValueError
            If ``perm`` is not a non-empty 1-D array of integers that is a
            permutation of ``range(n)``, or ``dtype`` is not supported.

        Examples
        --------
        >>> import numpy as np, kmatrix as km
        >>> perm = np.array([2, 0, 3, 1, 4])
        >>> P = km.KMatrix.from_permutation(perm)
        >>> x = np.arange(5.0)
        >>> P @ x
        array([2., 0., 3., 1., 4.])
        >>> P.width
        1
        """
        return cls._from_network(permutations.permutation_network(perm, dtype))

    @classmethod
    def from_sparse(cls, S, dtype=None):
        """Any sparse (or dense) matrix, exactly, as a K-matrix of width 1 or 2.

        Two constructions, whichever has fewer parameters (see the module
        ``kmatrix._builders.sparse``): the nonzeros split into
        ``next_pow2(Delta)`` classes with at most one entry per row and
        column (an edge colouring by Euler splits, O(nnz log nnz) for every
        pattern; ``Delta`` is the largest number of nonzeros in a row or
        column), each
        a Benes-routed permutation times a diagonal, added through expansion:
        width 1 and size ``next_pow2(max(shape)) * next_pow2(Delta)``, about
        ``4 n Delta log(n Delta)`` parameters; or, when rows or columns are
        uneven, copy the inputs to a list of the nonzeros, reorder it, scale
        and add it into the outputs (the step matrices of survey Thm 5.7):
        width 2 and size ``next_pow2(nnz + empty rows and columns)``, about
        ``8 nnz log(nnz)`` parameters. A ValueError is raised when both would
        exceed 16x the dense matrix's size (and 2^20 parameters).

        Parameters
        ----------
        S : scipy sparse matrix/array or array-like of shape (n_out, n_in)
            Explicit zeros are dropped; duplicate entries are summed.
        dtype : dtype, default=None
            The operator's dtype; by default that of S's values (integers and
            booleans become float64).

        Returns
        -------
        K : KMatrix of shape (n_out, n_in)
            ``K.todense()`` equals ``S`` to rounding.

        Raises
        ------
        ValueError
            If ``S`` is not 2-D, holds NaN or infinity, or both constructions
            would be too large (see above).

        Examples
        --------
        >>> import numpy as np, scipy.sparse, kmatrix as km
        >>> S = scipy.sparse.random(50, 40, density=0.05, random_state=0)
        >>> K = km.KMatrix.from_sparse(S)
        >>> bool(np.allclose(K.todense(), S.toarray()))
        True
        """
        return cls._from_network(sparse.sparse_network(S, dtype))

    @classmethod
    def from_circuit(cls, circuit):
        """The exact K-matrix of a linear straight-line program (survey Thm 5.5).

        Parameters
        ----------
        circuit : Circuit
            With its outputs set; see :class:`Circuit` and
            :meth:`Circuit.trace`.

        Returns
        -------
        K : KMatrix of shape (circuit.n_out, circuit.n_in)
            ``K.apply(X)`` equals ``circuit.evaluate(X)`` to rounding, in the
            circuit's dtype.

        Raises
        ------
        ValueError
            If ``circuit`` is not a :class:`Circuit` or has no outputs.

        See Also
        --------
        Circuit.trace : record a Python function as a circuit.

        Notes
        -----
        Built as the survey's proof builds it: unary gates are folded into
        the weights of their readers and dead gates dropped, the rest is
        layered by depth into ``d + 1`` sparse matrices (Thm 4.5: at most
        two entries per row), each exactly a K-matrix of width <= 2 (Thm 5.7,
        :meth:`from_sparse`), and they are multiplied. For a circuit of
        ``s`` gates, depth ``d`` (after folding) and ``n = max(n_in,
        n_out)``: width ``<= 2 (d + 1)`` and size ``N <= 2 next_pow2(n +
        s)``, i.e. expansion ``O(s / n)`` -- the theorem's ``O(d)`` and
        ``O(s / n)`` (measured on random circuits with s <= 8n, d <= 12:
        widths 6-22 against the bound's 6-26, N = 2-4 next_pow2(n)).

        Then the wires of each level are placed on positions of [0, N) so
        that a level whose gates come in pairs reading the same two wires
        (``y1 = a u + b v``, ``y2 = c u + d v``) computes in place, as one
        butterfly stage, instead of as a sparse K-matrix; consecutive stages
        pack into the ``B`` and ``B*`` halves of as few blocks as their bit
        order allows (placing from the outputs back, and from the inputs on;
        the smaller result is kept). A radix-2 FFT traced from a recursive
        function becomes one butterfly and one permutation (width 2,
        expansion 1: twice the parameters of :meth:`dft`), a multi-level
        Haar transform likewise.

        Examples
        --------
        >>> import numpy as np, kmatrix as km
        >>> def haar(x):                       # one level of the Haar transform
        ...     return [(a + b) / 2 for a, b in zip(x[::2], x[1::2])] + \\
        ...            [(a - b) / 2 for a, b in zip(x[::2], x[1::2])]
        >>> c = km.Circuit.trace(haar, 8)
        >>> K = km.KMatrix.from_circuit(c)
        >>> X = np.random.default_rng(0).standard_normal((3, 8))
        >>> bool(np.allclose(K.apply(X), c.evaluate(X)))
        True
        """
        return cls._from_network(compiler.circuit_network(circuit))
