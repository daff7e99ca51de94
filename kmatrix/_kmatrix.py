"""The K-matrix operator: products of butterfly matrices, (BB*)^w_e.

Twiddle layout
--------------
A K-matrix of size ``N = 2**L`` and width ``w`` keeps every parameter in one
C-contiguous array ``twiddles`` of shape ``(w, 2, L, N // 2, 2, 2)``:

* ``twiddles[i, h, k]`` is stage ``k`` of half ``h`` of block ``i``. It mixes
  index bit ``b = L-1-k`` when ``h == 0`` (the B* half: strides N/2, ..., 2, 1)
  and bit ``b = k`` when ``h == 1`` (the B half: strides 1, 2, ..., N/2). The
  sparsity pattern of one block is the Benes network.
* ``twiddles[i, h, k, p]`` is the 2x2 block of pair ``p``: the positions
  ``u = ((p >> b) << (b + 1)) | (p % 2**b)`` and ``v = u + 2**b``; it maps
  ``(x[u], x[v])`` to ``(a x[u] + b x[v], c x[u] + d x[v])`` for
  ``[[a, b], [c, d]] = twiddles[i, h, k, p]``.
* Stages apply in the order of the flattened first three axes: block 0 first,
  in each block the B* half first.

The operator ``K`` of shape ``(n_out, n_in)`` zero-pads its input to ``N``,
applies every stage and keeps the first ``n_out`` entries: ``K = S E S^T`` in
the notation of Dao et al. (expansion ``e`` makes ``N >= e * max(n_in,
n_out)``). A K-matrix has ``4 w N log2(N)`` parameters and a product costs
``O(w N log N)``.

This module holds the operator and its products with arrays. What it wraps
comes from modules below it, which work on twiddle arrays and never build a
KMatrix: ``_algebra`` (sizes, products and sums of K-matrices, transposes,
scalings), ``_constructors``, ``_transforms`` and ``_sparse`` (the twiddles
of the exact constructors) and ``_io`` (the file format).
"""

import numbers

import numpy as np
import scipy.sparse
from sklearn.utils import check_random_state

from . import _algebra, _constructors, _io, _kernels, _sparse, _transforms
from ._circuit import Circuit, circuit_levels, placed_factors, stage_run_twiddles
from ._config import get_workers, resolve_workers
from ._dask import apply_rows, is_dask_array
from ._validation import (
    as_numeric_array,
    check_dtype,
    check_int,
    check_network_size,
    complex_dtype_of,
    log2_exact,
    next_pow2,
    result_dtype,
)

__all__ = ["KMatrix", "load"]

_TRANS = ("N", "T", "H")
# sparse rows are densified this many entries at a time
_SPARSE_BLOCK = 1 << 22
_PROMOTED = {}


def _promoted(op_dtype, x_dtype):
    """result_dtype(op_dtype, x_dtype), memoized (it is on every product's path)."""
    key = (op_dtype, x_dtype)
    dt = _PROMOTED.get(key)
    if dt is None:
        dt = _PROMOTED[key] = result_dtype(op_dtype, x_dtype)
    return dt


def _is_scalar(value):
    return isinstance(value, numbers.Number) or (
        isinstance(value, (np.ndarray, np.generic)) and np.ndim(value) == 0
        and np.asarray(value).dtype.kind in "biufc"
    )


class KMatrix:
    """A kaleidoscope matrix: a fast structured linear operator.

    ``K`` of shape ``(n_out, n_in)`` is the top-left corner of a product of
    ``2 * width`` butterfly matrices of size ``N = size``, ``(BB*)^w_e``
    (Dao et al., 2020). It stores ``4 * width * N * log2(N)`` parameters and
    applies to a vector in ``O(width * N log N)``.

    Most users build one with :meth:`random` or an exact constructor
    (:meth:`identity`, :meth:`hadamard`, :meth:`dft`,
    :meth:`from_permutation`); the constructor wraps a twiddle array.

    Parameters
    ----------
    twiddles : array-like of shape (width, 2, L, N // 2, 2, 2)
        The parameters, in the layout of the module docstring. Copied into a
        C-contiguous array of a supported dtype (integers become float64).
    shape : tuple of int (n_out, n_in), default=(N, N)
        Output and input sizes, each between 1 and N.
    expansion : int, default=None
        The expansion factor the operator was built with (it must satisfy
        ``size >= e * max(shape)``); by default ``N // next_pow2(max(shape))``,
        the power of two the size was scaled by.

    Attributes
    ----------
    shape : tuple of int
    dtype : numpy.dtype
    width, expansion, size, n_params : int
    twiddles : ndarray
        The live parameters: editing them in place changes the operator.

    See Also
    --------
    KMatrixOperator : the operator as a :class:`scipy.sparse.linalg.LinearOperator`.

    References
    ----------
    T. Dao, N. Sohoni, A. Gu, M. Eichhorn, A. Blonder, M. Leszczynski,
    A. Rudra, C. Re. "Kaleidoscope: An Efficient, Learnable Representation
    For All Structured Linear Maps", ICLR 2020.

    Examples
    --------
    >>> import numpy as np, kmatrix as km
    >>> K = km.KMatrix.random(100, width=2, random_state=0)
    >>> K.shape, K.size, K.n_params
    ((100, 100), 128, 7168)
    >>> X = np.random.default_rng(0).standard_normal((5, 100))
    >>> np.allclose(K.apply(X), X @ K.todense().T)
    True
    """

    # let NumPy defer ``ndarray @ KMatrix`` and friends to our reflected methods
    __array_ufunc__ = None
    # objects pickled before real parts existed lack the instance attribute
    _real_part = False

    def __init__(self, twiddles, shape=None, *, expansion=None, real_part=False):
        self._init(twiddles, shape, expansion, real_part, copy=True)

    @classmethod
    def _adopt(cls, twiddles, shape=None, *, expansion=None, real_part=False):
        """A KMatrix taking ``twiddles`` (a new array from a builder) as its
        own without a copy when it already has a supported dtype and layout;
        the same checks as the constructor."""
        K = cls.__new__(cls)
        K._init(twiddles, shape, expansion, real_part, copy=False)
        return K

    def _init(self, twiddles, shape, expansion, real_part, copy):
        tw = as_numeric_array(twiddles, "twiddles")
        dtype = result_dtype(tw.dtype)
        if tw.ndim != 6 or tw.shape[1] != 2 or tw.shape[4:] != (2, 2):
            raise ValueError(
                "twiddles must have shape (width, 2, L, N // 2, 2, 2), got "
                f"{tw.shape}"
            )
        width, _, L, half = tw.shape[:4]
        if width < 1 or L < 1 or half != 1 << (L - 1):
            raise ValueError(
                f"twiddles of shape {tw.shape} do not describe a size N = 2**L "
                "network of width >= 1 (need L >= 1 and N // 2 == 2**(L-1))"
            )
        N = 1 << L
        if shape is None:
            shape = (N, N)
        if len(shape) != 2:
            raise ValueError(f"shape must be (n_out, n_in), got {shape!r}")
        n_out = check_int(shape[0], "n_out")
        n_in = check_int(shape[1], "n_in")
        if n_out > N or n_in > N:
            raise ValueError(f"shape {shape} does not fit in size N = {N}")
        if expansion is None:
            expansion = _algebra.default_expansion(N, n_in, n_out)
        else:
            expansion = check_int(expansion, "expansion")
            if _algebra.size_for(n_in, n_out, expansion) > N:
                raise ValueError(
                    f"expansion={expansion} needs a size of at least "
                    f"{_algebra.size_for(n_in, n_out, expansion)}, twiddles have N = {N}"
                )
        self._twiddles = np.array(tw, dtype=dtype, order="C", copy=True if copy else None)
        if not (self._twiddles.flags.aligned and self._twiddles.flags.writeable):
            self._twiddles = self._twiddles.copy()
        _check_finite_twiddles(self._twiddles)
        self._shape = (n_out, n_in)
        self._expansion = expansion
        # the real part of a complex network (K.real); meaningless for real twiddles
        self._real_part = bool(real_part) and dtype.kind == "c"

    def __setstate__(self, state):
        # Unpickled twiddles can sit in a read-only or unaligned buffer
        # (pickle protocol 5 out-of-band frames, as Dask's distributed sends
        # them): the kernels need, and K.twiddles promises, an aligned
        # writable C-contiguous array, so such arrays are copied.
        tw = state.get("_twiddles")
        if isinstance(tw, np.ndarray) and not (tw.flags.aligned and tw.flags.writeable
                                               and tw.flags.c_contiguous):
            state = dict(state, _twiddles=np.array(tw, order="C", copy=True))
        self.__dict__.update(state)

    @classmethod
    def _wrap(cls, twiddles, shape, expansion=None, real_part=False):
        """A KMatrix on an already validated C-contiguous twiddle array (shared).

        ``expansion=None`` is the default for the size and shape, as in the
        constructor.
        """
        K = cls.__new__(cls)
        K._twiddles = twiddles
        K._shape = tuple(shape)
        if expansion is None:
            expansion = _algebra.default_expansion(2 * twiddles.shape[3], shape[1], shape[0])
        K._expansion = expansion
        K._real_part = bool(real_part) and twiddles.dtype.kind == "c"
        return K

    def _like(self, twiddles, shape=None):
        """A KMatrix on these new twiddles (shared) with this one's expansion and real_part."""
        return KMatrix._wrap(twiddles, self._shape if shape is None else shape,
                             self._expansion, self._real_part)

    # ---------------------------------------------------------- properties --
    @property
    def shape(self):
        """(n_out, n_in)."""
        return self._shape

    @property
    def n_in(self):
        return self._shape[1]

    @property
    def n_out(self):
        return self._shape[0]

    @property
    def ndim(self):
        return 2

    @property
    def dtype(self):
        """The operator's dtype: the twiddles' dtype, real for a real part."""
        if self._real_part:
            return np.finfo(self._twiddles.dtype).dtype
        return self._twiddles.dtype

    @property
    def real_part(self):
        """Whether the operator is the real part of its complex network (see :attr:`real`)."""
        return self._real_part

    @property
    def real(self):
        """The real part ``(K + conj(K)) / 2`` as a real-valued KMatrix.

        For complex twiddles this is a KMatrix of real dtype that keeps (and
        shares, like :attr:`numpy.ndarray.real`) the complex twiddles: a real
        input goes through the complex network and the real part of the result
        is kept, so it costs one complex product. This is how real transforms
        such as the DCT are one K-matrix of small width. Gradients
        (:meth:`vjp`) are with respect to the complex twiddles. For a real K,
        ``K.real`` is K itself.
        """
        if self.dtype.kind != "c" or self._real_part:
            return self
        return KMatrix._wrap(self._twiddles, self._shape, self._expansion, real_part=True)

    @property
    def width(self):
        """Number of BB* blocks, w."""
        return self._twiddles.shape[0]

    @property
    def expansion(self):
        """Expansion factor e (size >= e * max(shape))."""
        return self._expansion

    @property
    def size(self):
        """N, the power-of-two size of the butterfly network."""
        return 2 * self._twiddles.shape[3]

    @property
    def log_size(self):
        """log2(N), the number of stages per butterfly."""
        return self._twiddles.shape[2]

    @property
    def n_params(self):
        """Number of (real or complex) parameters, 4 w N log2 N."""
        return self._twiddles.size

    @property
    def twiddles(self):
        """The live parameters: a writable view of the operator's array.

        Writing its entries changes the operator (that is how the
        estimators train it). Its shape, dtype and size are the operator's:
        reshaping or retyping the returned view (``t.shape = ...``,
        ``t.dtype = ...``) changes that view only, and ``t.resize`` is
        refused, so no edit of it can make the kernels read or write outside
        the parameters. Non-finite entries written in place are the user's
        responsibility (assigning ``K.twiddles = ...`` checks them).
        """
        return self._twiddles.view()

    @twiddles.setter
    def twiddles(self, value):
        value = as_numeric_array(value, "twiddles")
        if value.shape != self._twiddles.shape:
            raise ValueError(
                f"twiddles must keep shape {self._twiddles.shape}, got {value.shape}"
            )
        if not np.can_cast(value.dtype, self._twiddles.dtype, casting="same_kind"):
            raise ValueError(f"cannot store {value.dtype} twiddles in a "
                             f"{self._twiddles.dtype} KMatrix")
        _check_finite_twiddles(value)
        self._twiddles[...] = value

    def __array__(self, dtype=None, copy=None):
        """``np.asarray(K)``: the dense matrix, as :meth:`todense` (a new array:
        ``copy=False`` is refused)."""
        if copy is False:
            raise ValueError("a KMatrix holds no dense array to share: np.asarray(K, copy=False) "
                             "is impossible; K.todense() makes the dense matrix")
        D = self.todense()
        return D if dtype is None else D.astype(dtype, copy=False)

    def __repr__(self):
        real = (f", real part of {self._twiddles.dtype} twiddles"
                if self._real_part else "")
        return (
            f"KMatrix(shape={self._shape}, dtype={self.dtype}, width={self.width}, "
            f"expansion={self.expansion}, size={self.size}{real})"
        )

    # -------------------------------------------------------- constructors --
    @classmethod
    def random(cls, n_in, n_out=None, *, width=1, expansion=1, dtype=np.float64,
               init="ortho", random_state=None):
        """A random K-matrix.

        Parameters
        ----------
        n_in : int
            Input size.
        n_out : int, default=None
            Output size; defaults to ``n_in``.
        width : int, default=1
            Number of BB* blocks.
        expansion : int, default=1
            The network has size ``N = next_pow2(expansion * max(n_in, n_out))``.
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
        K : KMatrix
        """
        n_in = check_int(n_in, "n_in")
        n_out = n_in if n_out is None else check_int(n_out, "n_out")
        width = check_int(width, "width")
        expansion = check_int(expansion, "expansion")
        dtype = check_dtype(dtype)
        if init not in _constructors.INITS:
            raise ValueError(f"init must be one of {_constructors.INITS}, got {init!r}")
        N = _algebra.size_for(n_in, n_out, expansion)
        check_network_size(N, width, dtype, f"KMatrix.random({n_in}, {n_out}, width={width}, "
                                            f"expansion={expansion})")
        L = N.bit_length() - 1
        rng = check_random_state(random_state)
        tw = _constructors.random_twiddles(L, width, dtype, init, rng)
        return cls._adopt(tw, (n_out, n_in), expansion=expansion)

    @classmethod
    def identity(cls, n, dtype=np.float64):
        """The n x n identity as a width-1 K-matrix."""
        n = check_int(n, "n")
        dtype = check_dtype(dtype)
        N = _algebra.size_for(n, n, 1)
        check_network_size(N, 1, dtype, f"KMatrix.identity({n})")
        return cls._adopt(_constructors.identity_twiddles(N.bit_length() - 1, 1, dtype), (n, n))

    @classmethod
    def hadamard(cls, n, dtype=np.float64):
        """The Sylvester Walsh-Hadamard matrix (``scipy.linalg.hadamard(n)``).

        ``n`` must be a power of two. Entries are +-1 (unnormalized). Width 1:
        the B half holds ``[[1, 1], [1, -1]]`` in every block.
        """
        L = max(1, log2_exact(n))
        dtype = check_dtype(dtype)
        check_network_size(1 << L, 1, dtype, f"KMatrix.hadamard({n})")
        tw = _constructors.hadamard_twiddles(L)
        return cls._adopt(tw.astype(dtype, copy=False), (n, n))

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
        """
        n = check_int(n, "n")
        dtype = check_dtype(dtype)
        if dtype.kind != "c":
            raise ValueError(f"the DFT is complex: dtype must be complex64 or complex128, got {dtype}")
        _transforms.check_norm(norm)
        # a power of two: width 1 on n; else width 2 on next_pow2(2n - 1)
        pow2 = n & (n - 1) == 0
        check_network_size(n if pow2 else 2 * n - 1, 1 if pow2 else 2, dtype,
                           f"KMatrix.dft({n})")
        return cls._adopt(_transforms.dft(n, norm).astype(dtype, copy=False), (n, n))

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

        Examples
        --------
        >>> import numpy as np, scipy.fft, kmatrix as km
        >>> K = km.KMatrix.dct(64)
        >>> x = np.random.default_rng(0).standard_normal(64)
        >>> bool(np.allclose(K @ x, scipy.fft.dct(x, norm="ortho")))
        True
        """
        n, dtype = _transforms.check_transform_args(n, type, norm, dtype)
        check_network_size(n, 2, complex_dtype_of(dtype), f"KMatrix.dct({n})")
        tw = _transforms.dct(n, type, norm)
        return cls._adopt(tw.astype(complex_dtype_of(dtype), copy=False), (n, n), real_part=True)

    @classmethod
    def dst(cls, n, type=2, norm="ortho", dtype=np.float64):
        """The discrete sine transform matrix, exactly, as a real part.

        Equals ``scipy.fft.dst(np.eye(n), type=type, norm=norm, axis=0)`` to
        rounding; widths and parameters as for :meth:`dct` (the reversal that
        relates the DST-II to the DCT-II is folded into a conjugated DFT).
        """
        n, dtype = _transforms.check_transform_args(n, type, norm, dtype)
        check_network_size(n, 2, complex_dtype_of(dtype), f"KMatrix.dst({n})")
        tw = _transforms.dst(n, type, norm)
        return cls._adopt(tw.astype(complex_dtype_of(dtype), copy=False), (n, n), real_part=True)

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
        """
        c, dtype = _transforms.check_circulant_args(c, dtype)
        tw = _transforms.circulant(c).astype(complex_dtype_of(dtype))
        return cls._adopt(tw, (c.size, c.size), real_part=dtype.kind != "c")

    @classmethod
    def from_permutation(cls, perm, dtype=np.float64):
        """The permutation matrix P with ``(P @ x)[i] == x[perm[i]]``, width 1.

        The permutation is routed through the Benes network that is the
        sparsity pattern of BB* (looping algorithm), so every 2x2 block is the
        identity or a swap. Any length: it is padded to a power of two.
        """
        perm = as_numeric_array(perm, "perm")
        if perm.ndim != 1 or perm.size == 0:
            raise ValueError(f"perm must be a non-empty 1-D array, got shape {perm.shape}")
        if perm.dtype.kind not in "iu":
            if perm.dtype.kind == "f" and np.all(np.isfinite(perm)) and np.all(perm == np.round(perm)):
                perm = perm.astype(np.int64)
            else:
                raise ValueError(f"perm must hold integers, got dtype {perm.dtype}")
        n = perm.size
        perm = perm.astype(np.int64)
        if perm.min() < 0 or perm.max() >= n or np.unique(perm).size != n:
            raise ValueError(f"perm is not a permutation of range({n})")
        dtype = check_dtype(dtype)
        L = _algebra.size_for(n, n, 1).bit_length() - 1
        return cls._adopt(_constructors.permutation_twiddles(perm, L).astype(dtype, copy=False),
                          (n, n))

    @classmethod
    def from_sparse(cls, S, dtype=None):
        """Any sparse (or dense) matrix, exactly, as a K-matrix of width 1 or 2.

        Two constructions, whichever has fewer parameters (see the module
        ``kmatrix._sparse``): the nonzeros split into ``Delta`` classes with
        at most one entry per row and column (König's edge colouring;
        ``Delta`` is the largest number of nonzeros in a row or column), each
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

        Examples
        --------
        >>> import numpy as np, scipy.sparse, kmatrix as km
        >>> S = scipy.sparse.random(50, 40, density=0.05, random_state=0)
        >>> K = km.KMatrix.from_sparse(S)
        >>> bool(np.allclose(K.todense(), S.toarray()))
        True
        """
        rows, cols, values, shape, dtype = _sparse.check_sparse_args(S, dtype)
        check_network_size(max(shape), 1, dtype, f"KMatrix.from_sparse of shape {shape}")
        tw, expansion = _sparse.sparse_twiddles(rows, cols, values, shape, dtype)
        return cls._adopt(tw, shape, expansion=expansion)

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
        if not isinstance(circuit, Circuit):
            raise ValueError(f"from_circuit needs a kmatrix Circuit, got {type(circuit).__name__}")
        dtype = circuit.dtype

        def sparse(triplets):
            rows, cols, values, m, n = triplets
            S = scipy.sparse.coo_matrix((np.asarray(values, dtype=dtype), (rows, cols)),
                                        shape=(m, n))
            return cls.from_sparse(S, dtype=dtype)

        # the wires placed so that paired gates compute in place (stages),
        # from the outputs back and from the inputs on
        best = None
        for backward in (True, False):
            N, factors = placed_factors(circuit, backward)
            placed, scale = None, None
            for kind, data in factors:
                if kind == "perm":
                    F = cls.from_permutation(data, dtype=dtype)
                elif kind == "stages":
                    F = cls._wrap(stage_run_twiddles(data, N, dtype), (N, N), None)
                elif kind == "scale":
                    scale = data
                    continue
                else:
                    F = sparse(data)
                placed = F if placed is None else F @ placed
            if placed is None:
                placed = cls.identity(N, dtype=dtype)
            tw = placed._twiddles   # a new array of this loop's own
            if scale is not None:
                _algebra.scale_outputs(tw, scale.astype(dtype))
            placed = cls._adopt(tw, (circuit.n_out, circuit.n_in))
            if best is None or placed.n_params < best.n_params:
                best = placed
        # the survey's construction, one sparse K-matrix (width >= 1) per
        # level: built only when its least possible size is below the best
        levels, output = circuit_levels(circuit)
        size = max(2, max(next_pow2(max(m, n)) for _, _, _, m, n in levels + [output]))
        if (len(levels) + 1) * 4 * size * (size.bit_length() - 1) < best.n_params:
            layered = None
            for triplets in levels + [output]:
                F = sparse(triplets)
                layered = F if layered is None else F @ layered
            if layered.n_params <= best.n_params:
                best = layered
        return best

    # ------------------------------------------------------------ products --
    def apply(self, X, *, trans="N", out=None, workers=None, check_finite=True):
        """Apply the operator to every row of ``X``: ``X @ op(K).T``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_in) or (n_in,)
            Any strides and dtype; integers are promoted as NumPy does.
        trans : {"N", "T", "H"}, default="N"
            Apply ``K``, ``K.T`` or ``K.H`` (the latter two take rows of
            length n_out and cost the same as ``K``).
        out : ndarray, default=None
            Array to write the result to, of the result's shape and exact
            dtype, writable, any strides; reusing one saves the allocation
            and page faults of a new output in loops. If it overlaps ``X``,
            ``X`` is copied first.
        workers : int, default=None
            Threads (scipy.fft semantics: -1 means all CPUs); None uses the
            :func:`set_workers` / OpenMP default. A count above the CPUs this
            process may use (at least 2) is capped to them, and a call never
            starts more threads than it has blocks of work; 0, non-integers
            and negatives below -CPUs are a ValueError.
        check_finite : bool, default=True
            Raise ValueError if X holds NaN or infinity (checked by the
            kernel while it reads X, at no extra pass; ``out``, if given,
            may then hold a partial result).

        Returns
        -------
        Y : ndarray of shape (n_samples, n_out) or (n_out,)
            In the promoted dtype of ``K`` and ``X`` (``out`` if given).
        """
        if trans not in _TRANS:
            raise ValueError(f"trans must be 'N', 'T' or 'H', got {trans!r}")
        if type(X) is not np.ndarray and is_dask_array(X):
            if out is not None:
                raise ValueError("out= is not supported for a dask array X (the result is lazy)")
            if X.dtype.kind not in "biufc":
                raise ValueError(f"X must hold numbers, got a dask array of dtype {X.dtype}")
            return apply_rows(self, X, trans, workers, check_finite, _promoted(self.dtype, X.dtype))
        if type(X) is not np.ndarray and scipy.sparse.issparse(X):
            return self._apply_sparse(X, trans, out, workers, check_finite)
        if type(X) is not np.ndarray or X.dtype.kind not in "fc":
            X = as_numeric_array(X)
        squeeze = X.ndim == 1
        if squeeze:
            X = X[np.newaxis, :]
        if X.ndim != 2:
            raise ValueError(
                f"X must be 1-D or 2-D (n_samples, n_features), got {X.ndim}-D of shape {X.shape}"
            )
        out_len = self._row_lengths(X.shape[1], trans)
        dtype = _promoted(self.dtype, X.dtype)
        n_threads = 0 if workers is None and get_workers() is None else resolve_workers(workers)
        if out is None:
            Y = np.empty((X.shape[0], out_len), dtype=dtype)
        else:
            Y = _check_out(out, (X.shape[0], out_len) if not squeeze else (out_len,), dtype)
            if np.may_share_memory(X, Y):
                X = X.copy()
            if squeeze:
                Y = Y[np.newaxis, :]
        if self._real_part or (dtype.kind == "c" and self.dtype.kind != "c"):
            # Real rows through a real operator (or the real part of a complex
            # network) in the kernels' real-I/O mode; complex rows as their
            # real and imaginary parts, written into those views of Y.
            if trans == "H":
                trans = "T"  # a real operator's adjoint is its transpose
            real = np.finfo(dtype).dtype
            tw = self._twiddles_as(complex_dtype_of(real) if self._real_part else real)
            if X.dtype != dtype or not _kernel_ready(X):
                X = X.astype(dtype)
            parts = ((X.real, Y.real), (X.imag, Y.imag)) if dtype.kind == "c" else ((X, Y),)
            for part_in, part_out in parts:
                _kernels.apply(tw, self.log_size, part_in, part_out, trans, n_threads,
                               check_finite)
        else:
            tw = self._twiddles_as(dtype)
            if X.dtype != dtype or not _kernel_ready(X):
                X = X.astype(dtype)
            _kernels.apply(tw, self.log_size, X, Y, trans, n_threads, check_finite)
        if out is not None:
            return out
        return Y[0] if squeeze else Y

    def _row_lengths(self, n_features, trans):
        """The length of op(K)'s output rows; ValueError unless its input
        rows have ``n_features`` entries."""
        in_len, out_len = (self.n_in, self.n_out) if trans == "N" else (self.n_out, self.n_in)
        if n_features != in_len:
            what = "K" if trans == "N" else f"K.{trans}"
            raise ValueError(f"X has {n_features} features, but {what} of shape "
                             f"({out_len}, {in_len}) expects {in_len}")
        return out_len

    def _apply_sparse(self, X, trans, out, workers, check_finite):
        """apply() on the rows of a scipy sparse matrix or array, densified a
        block of rows at a time (the result is dense in any case)."""
        if X.ndim != 2:
            raise ValueError(f"X must be 2-D (n_samples, n_features), got a sparse array of "
                             f"shape {X.shape}")
        if X.dtype.kind not in "biufc":
            raise ValueError(f"X must hold numbers, got a sparse matrix of dtype {X.dtype}")
        in_len, out_len = X.shape[1], self._row_lengths(X.shape[1], trans)
        dtype = _promoted(self.dtype, X.dtype)
        Y = (np.empty((X.shape[0], out_len), dtype=dtype) if out is None
             else _check_out(out, (X.shape[0], out_len), dtype))
        X = X.tocsr()
        step = max(1, _SPARSE_BLOCK // max(1, in_len))
        for start in range(0, X.shape[0], step):
            self.apply(X[start:start + step].toarray(), trans=trans, out=Y[start:start + step],
                       workers=workers, check_finite=check_finite)
        return Y

    def _complex_network(self, dtype=None):
        """The complex operator whose real part this is (twiddles shared if possible)."""
        tw = self._twiddles if dtype is None else self._twiddles_as(dtype)
        return KMatrix._wrap(tw, self._shape, self._expansion)

    def _vjp_real_part(self, X, G, workers, check_finite):
        Kc = self._complex_network()
        if X.dtype.kind != "c" and G.dtype.kind != "c":
            # L = sum(G * Re(K X)) = Re(sum(conj(G) * K X)) for real X and G:
            # the kernels' real-I/O mode, with no complex copies of the data
            real = result_dtype(self.dtype, X.dtype, G.dtype)
            tw = self._twiddles_as(complex_dtype_of(real))
            X2, G2, squeeze = self._vjp_rows(X, G, real)
            dX = np.empty(X2.shape, dtype=real)
            dtw = np.empty(tw.shape, dtype=tw.dtype)
            _kernels.vjp(tw, self.log_size, X2, G2, dX, dtw, resolve_workers(workers),
                         check_finite)
            return (dX[0] if squeeze else dX), dtw.astype(self._twiddles.dtype, copy=False)
        # Re(K) = (K + conj(K)) / 2 splits L into two complex terms:
        # L = (L_K(X, G) + L_K(conj(X), conj(G))) / 2
        dX1, dtw1 = Kc.vjp(X, G, workers=workers, check_finite=check_finite)
        dX2, dtw2 = Kc.vjp(np.conjugate(X), np.conjugate(G), workers=workers,
                           check_finite=check_finite)
        return (dX1 + np.conjugate(dX2)) / 2, (dtw1 + dtw2) / 2

    def _vjp_rows(self, X, G, dtype):
        """X and G as 2-D kernel-ready arrays of ``dtype``, checked against K."""
        squeeze = X.ndim == 1 and G.ndim == 1
        if squeeze:
            X, G = X[np.newaxis, :], G[np.newaxis, :]
        if X.ndim != 2 or G.ndim != 2:
            raise ValueError(f"X and G must both be 1-D or 2-D, got shapes {X.shape} and {G.shape}")
        if X.shape[1] != self.n_in:
            raise ValueError(f"X has {X.shape[1]} features, but K of shape {self.shape} "
                             f"expects {self.n_in}")
        if G.shape != (X.shape[0], self.n_out):
            raise ValueError(f"G must have shape {(X.shape[0], self.n_out)} (one gradient row per "
                             f"row of X, n_out = {self.n_out}), got {G.shape}")
        if X.dtype != dtype or not _kernel_ready(X):
            X = X.astype(dtype)
        if G.dtype != dtype or not _kernel_ready(G):
            G = G.astype(dtype)
        return X, G, squeeze

    def vjp(self, X, G, *, workers=None, check_finite=True):
        """Vector-Jacobian product: gradients of a real scalar through ``K``.

        For ``L = Re(sum(conj(G) * K.apply(X)))`` returns the gradients with
        respect to ``X`` and to every twiddle, at the cost of about three
        products (Baur-Strassen). For complex parameters the twiddle gradient
        is ``dL/dRe + 1j * dL/dIm``; chained with an upstream gradient ``G =
        dLoss/dY`` (real case) it is the gradient of the loss.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_in) or (n_in,)
        G : array-like of shape (n_samples, n_out) or (n_out,)
        workers : int, default=None
            Threads, as in :meth:`apply`. The result does not depend on it.
        check_finite : bool, default=True
            Raise ValueError if X or G holds NaN or infinity.

        Returns
        -------
        dX : ndarray of the shape of X
            ``G @ conj(K)``, i.e. ``K.H`` applied to every row of G.
        dtwiddles : ndarray of the shape and dtype of ``K.twiddles``
        """
        X = as_numeric_array(X)
        G = as_numeric_array(G, "G")
        if self._real_part:
            return self._vjp_real_part(X, G, workers, check_finite)
        dtype = result_dtype(self.dtype, X.dtype, G.dtype)
        tw = self._twiddles_as(dtype)
        X, G, squeeze = self._vjp_rows(X, G, dtype)
        dX = np.empty(X.shape, dtype=dtype)
        dtw = np.empty(tw.shape, dtype=dtype)
        _kernels.vjp(tw, self.log_size, X, G, dX, dtw, resolve_workers(workers), check_finite)
        if self.dtype.kind != "c" and dtype.kind == "c":
            dtw = dtw.real  # a real parameter's gradient is dL/dRe
        dtw = dtw.astype(self.dtype, copy=False)
        return (dX[0] if squeeze else dX), dtw

    def _twiddles_as(self, dtype):
        if self._twiddles.dtype == dtype:
            return self._twiddles
        return self._twiddles.astype(dtype)

    def todense(self):
        """The (n_out, n_in) matrix, computed by applying K to the identity."""
        return self.apply(np.eye(self.n_in, dtype=self.dtype), check_finite=False).T.copy()

    def toarray(self):
        """Alias of :meth:`todense` (scipy.sparse spelling)."""
        return self.todense()

    def copy(self):
        """An independent copy (its twiddles are not shared)."""
        return self._like(self._twiddles.copy())

    @property
    def T(self):
        """The transpose, as a new KMatrix of the same width and cost.

        Transposing reverses the order of the stages and transposes every
        block; the Benes pattern of each BB* block is symmetric under that.
        """
        return self._like(_algebra.transpose(self._twiddles), (self.n_in, self.n_out))

    @property
    def H(self):
        """The conjugate transpose (adjoint), as a new KMatrix."""
        # conjugated only for a complex operator: a real part has Re(K)^H = Re(K)^T
        tw = _algebra.transpose(self._twiddles, conjugate=self.dtype.kind == "c")
        return self._like(tw, (self.n_in, self.n_out))

    def conj(self):
        """The complex conjugate, as a new KMatrix."""
        if self._real_part:
            return self.copy()
        return KMatrix._wrap(_algebra.conjugate(self._twiddles), self._shape, self._expansion)

    def __matmul__(self, other):
        if type(other) is not np.ndarray and scipy.sparse.issparse(other):
            return _sparse_columns(self, other, "N", "matmul")
        if type(other) is np.ndarray and other.ndim == 1 and other.dtype.kind in "fc":
            # the solver path (one vector at a time): straight to apply
            if other.shape[0] != self.n_in:
                raise ValueError(f"matmul: K has shape {self.shape}, vector has length "
                                 f"{other.shape[0]}")
            return self.apply(other)
        if isinstance(other, KMatrix):
            return _product(self, other)
        if is_dask_array(other) and other.ndim in (1, 2):   # lazily: the columns are the rows
            if other.shape[0] != self.n_in:
                raise ValueError(f"matmul: K has shape {self.shape}, operand has shape "
                                 f"{other.shape}")
            return self.apply(other) if other.ndim == 1 else self.apply(other.T).T
        if _is_scalar(other) or not _array_like(other):
            return NotImplemented
        V = as_numeric_array(other, "operand")
        if V.ndim == 1:
            if V.shape[0] != self.n_in:
                raise ValueError(f"matmul: K has shape {self.shape}, vector has length {V.shape[0]}")
            return self.apply(V)
        if V.ndim == 2:
            if V.shape[0] != self.n_in:
                raise ValueError(f"matmul: K has shape {self.shape}, operand has shape {V.shape}")
            return self.apply(V.T).T
        raise ValueError(f"matmul: operand must be 1-D or 2-D, got shape {V.shape}")

    def __rmatmul__(self, other):
        if is_dask_array(other) and other.ndim in (1, 2):
            if other.shape[-1] != self.n_out:
                raise ValueError(f"matmul: operand of shape {other.shape} times K of shape "
                                 f"{self.shape}")
            return self.apply(other, trans="T")
        if scipy.sparse.issparse(other):
            if other.ndim != 2 or other.shape[1] != self.n_out:
                raise ValueError(f"matmul: operand of shape {other.shape} times K of shape "
                                 f"{self.shape}")
            return self.apply(other, trans="T")
        if _is_scalar(other) or not _array_like(other):
            return NotImplemented
        V = as_numeric_array(other, "operand")
        if V.ndim not in (1, 2):
            raise ValueError(f"matmul: operand must be 1-D or 2-D, got shape {V.shape}")
        if V.shape[-1] != self.n_out:
            raise ValueError(f"matmul: operand of shape {V.shape} times K of shape {self.shape}")
        return self.apply(V, trans="T")

    def dot(self, other):
        """``K @ other``."""
        return self.__matmul__(other)

    # The scipy.sparse.linalg.LinearOperator protocol: with these (and shape,
    # dtype) scipy's aslinearoperator, and so every iterative solver, takes a
    # KMatrix as it is (cg(K, b), lsqr(K, b), ...).
    def matvec(self, x):
        """``K @ x`` for ``x`` of shape (n_in,) or (n_in, 1), as scipy's LinearOperator.

        With ``rmatvec``, ``matmat`` and ``rmatmat`` this makes a KMatrix a
        valid operand of every ``scipy.sparse.linalg`` solver.

        Examples
        --------
        >>> import numpy as np, kmatrix as km
        >>> from scipy.sparse.linalg import cg
        >>> K = km.KMatrix.random(64, random_state=0)
        >>> S = K.H @ K + km.KMatrix.identity(64)      # symmetric positive definite
        >>> x, info = cg(S, np.ones(64), rtol=1e-12)
        >>> info, bool(np.allclose(S @ x, 1))
        (0, True)
        """
        return self._vector_product(x, "N")

    def rmatvec(self, x):
        """``K.H @ x`` for ``x`` of shape (n_out,) or (n_out, 1), as scipy's LinearOperator."""
        return self._vector_product(x, "H")

    def matmat(self, X):
        """``K @ X`` for ``X`` of shape (n_in, k)."""
        return self._matrix_product(X, "N")

    def rmatmat(self, X):
        """``K.H @ X`` for ``X`` of shape (n_out, k)."""
        return self._matrix_product(X, "H")

    def _vector_product(self, x, trans):
        x = np.asarray(x)
        n = self.n_in if trans == "N" else self.n_out
        if x.shape == (n,):
            return self.apply(x, trans=trans)
        if x.shape == (n, 1):
            return self.apply(x[:, 0], trans=trans)[:, np.newaxis]
        what = "matvec" if trans == "N" else "rmatvec"
        raise ValueError(f"{what}: K has shape {self.shape}, x has shape {x.shape} "
                         f"(expected ({n},) or ({n}, 1))")

    def _matrix_product(self, X, trans):
        if scipy.sparse.issparse(X):
            return _sparse_columns(self, X, trans, "matmat" if trans == "N" else "rmatmat")
        X = as_numeric_array(X, "X")
        n = self.n_in if trans == "N" else self.n_out
        if X.ndim != 2 or X.shape[0] != n:
            what = "matmat" if trans == "N" else "rmatmat"
            raise ValueError(f"{what}: K has shape {self.shape}, X has shape {X.shape} "
                             f"(expected ({n}, k))")
        # the columns of X are the rows the kernels read: contiguous rows
        # load with in-register transposes, strided ones element by element
        return self.apply(np.ascontiguousarray(X.T), trans=trans).T

    # ---------------------------------------------------------- arithmetic --
    def __mul__(self, other):
        if not _is_scalar(other):
            return NotImplemented
        _check_finite_scalar(other, "multiply a KMatrix by")
        with np.errstate(over="ignore", invalid="ignore"):   # refused below
            tw = _algebra.multiply(self._twiddles, other, self._real_part)
        _check_finite_twiddles(tw, f"the twiddles of K * {other}")
        return self._like(tw)

    __rmul__ = __mul__

    def __truediv__(self, other):
        if not _is_scalar(other):
            return NotImplemented
        _check_finite_scalar(other, "divide a KMatrix by")
        if other == 0:
            raise ValueError("cannot divide a KMatrix by zero")
        with np.errstate(over="ignore", invalid="ignore"):   # refused below
            tw = _algebra.divide(self._twiddles, other, self._real_part)
        _check_finite_twiddles(tw, f"the twiddles of K / {other}")
        return self._like(tw)

    def __neg__(self):
        return self * -1

    def __pos__(self):
        return self.copy()

    def __add__(self, other):
        if not isinstance(other, KMatrix):
            return NotImplemented
        return _sum(self, other)

    def __sub__(self, other):
        if not isinstance(other, KMatrix):
            return NotImplemented
        return _sum(self, -other)

    # ----------------------------------------------------------------- I/O --
    def save(self, file):
        """Save to a versioned ``.npz`` file; read it back with :func:`kmatrix.load`."""
        _io.save(self, file)


def _check_finite_scalar(value, what):
    if not np.isfinite(value):
        raise ValueError(f"cannot {what} {value}: a KMatrix holds finite numbers only")


def _check_finite_twiddles(tw, what="twiddles"):
    if not np.isfinite(tw).all():
        raise ValueError(f"{what} contain NaN or infinity: a KMatrix holds finite numbers only")


def _sparse_columns(K, S, trans, what):
    """op(K) @ S for a sparse S of shape (n, k): its columns are the rows
    the kernels read (S.T, densified a block at a time)."""
    n = K.n_in if trans == "N" else K.n_out
    if S.ndim != 2 or S.shape[0] != n:
        raise ValueError(f"{what}: K has shape {K.shape}, operand has shape {S.shape} "
                         f"(expected ({n}, k))")
    return K.apply(S.T, trans=trans).T


def _check_out(out, shape, dtype):
    if not isinstance(out, np.ndarray):
        raise ValueError(f"out must be a NumPy array, got {type(out).__name__}")
    if out.shape != shape:
        raise ValueError(f"out has shape {out.shape}, the result has shape {shape}")
    if out.dtype != dtype:
        raise ValueError(f"out has dtype {out.dtype}, the result has dtype {dtype}")
    if not out.flags.writeable:
        raise ValueError("out is read-only")
    if not _kernel_ready(out):
        raise ValueError("out must be aligned with strides that are whole items")
    return out


def _kernel_ready(X):
    """Whether the kernels can read X in place: aligned, whole-item strides."""
    return X.flags.aligned and all(st % X.itemsize == 0 for st in X.strides)


def _array_like(obj):
    return isinstance(obj, (np.ndarray, list, tuple)) or hasattr(obj, "__array__")


def _combined_real_part(what, K1, K2):
    """Whether the product or sum of K1 and K2 is a real part (else a ValueError)."""
    return _algebra.real_part_of_combination(what, K1.real_part, K1.twiddles.dtype.kind == "c",
                                             K2.real_part, K2.twiddles.dtype.kind == "c")


def _product(K1, K2):
    """K1 @ K2 as a K-matrix of width w1 + w2 on the larger size."""
    real_part = _combined_real_part("product", K1, K2)
    if K1.n_in != K2.n_out:
        raise ValueError(f"matmul: shapes {K1.shape} and {K2.shape} are not aligned")
    tw = _algebra.product(K1.twiddles, K2.twiddles, K1.n_in)
    return KMatrix._wrap(tw, (K1.n_out, K2.n_in), real_part=real_part)


def _sum(K1, K2):
    """K1 + K2 through expansion: size 2N, width max(w1, w2)."""
    real_part = _combined_real_part("sum", K1, K2)
    if K1.shape != K2.shape:
        raise ValueError(f"add: shapes {K1.shape} and {K2.shape} differ")
    return KMatrix._wrap(_algebra.add(K1.twiddles, K2.twiddles), K1.shape, real_part=real_part)


def load(file):
    """Load a KMatrix written by :meth:`KMatrix.save`.

    Parameters
    ----------
    file : str, path-like or binary file object

    Returns
    -------
    K : KMatrix

    Raises
    ------
    ValueError
        If the file is truncated, corrupt, of another format or version, or
        describes an inconsistent operator.
    """
    return load_with_version(file)[0]


def load_with_version(file):
    """(KMatrix, file format version) of a file written by KMatrix.save; see load."""
    twiddles, shape, expansion, real_part, version = _io.read(file)
    try:
        # the array is new (read into its exact size): no copy of it
        return KMatrix._adopt(twiddles, shape, expansion=expansion, real_part=real_part), version
    except ValueError as exc:
        raise _io.invalid_file(file, str(exc)) from exc
