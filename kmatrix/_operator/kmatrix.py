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

This module holds the class: construction checks, properties, transposes.
Its methods come from the mixins of this package (``constructors``,
``products``, ``protocol``, ``arithmetic``); what they wrap comes from the
layers below, which work on twiddle arrays and never build a KMatrix:
:mod:`kmatrix._core.algebra` (sizes, products and sums of K-matrices,
transposes, scalings), :mod:`kmatrix._builders` (the twiddles of the exact
constructors) and :mod:`kmatrix._core.fileformat` (the file format).
"""

import numpy as np

from .._core import algebra, fileformat
from .._core.validation import as_numeric_array, check_int, result_dtype
from .arithmetic import Arithmetic, check_finite_twiddles
from .constructors import Constructors
from .linalg import LinearAlgebra
from .products import Products
from .protocol import OperandProtocol
from .structured import StructuredConstructors

__all__ = ["KMatrix"]


class KMatrix(Constructors, StructuredConstructors, Products, OperandProtocol, Arithmetic,
              LinearAlgebra):
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
        The parameters, in the layout of :attr:`twiddles` (``N = 2**L``;
        the user guide's "Twiddle layout" page). Copied into a
        C-contiguous array of a supported dtype (integers become float64).
    shape : tuple of int (n_out, n_in), default=(N, N)
        Output and input sizes, each between 1 and N.
    expansion : int, default=None
        The expansion factor the operator was built with (it must satisfy
        ``size >= e * max(shape)``); by default ``N // next_pow2(max(shape))``,
        the power of two the size was scaled by.
    real_part : bool, default=False
        For complex twiddles, make the operator the real part of the
        network, ``(K + conj(K)) / 2`` (see :attr:`real`).

    Raises
    ------
    ValueError
        If the twiddles do not have the layout's shape, hold NaN or infinity
        or a dtype that is not a number, or ``shape`` or ``expansion`` do not
        fit the size ``N``.

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
    KMatrixApproximator : fit a KMatrix to a given matrix.
    KMatrixRegressor : learn a KMatrix from data.

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

    Built from a twiddle array (here every 2x2 block swaps its pair: each
    half flips every bit of the index once, so the product is the identity):

    >>> tw = np.zeros((1, 2, 3, 4, 2, 2))
    >>> tw[..., 0, 1] = tw[..., 1, 0] = 1
    >>> km.KMatrix(tw, (8, 8)).todense()[:3]
    array([[1., 0., 0., 0., 0., 0., 0., 0.],
           [0., 1., 0., 0., 0., 0., 0., 0.],
           [0., 0., 1., 0., 0., 0., 0., 0.]])
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

    @classmethod
    def _from_network(cls, network):
        """A KMatrix adopting a builder's :class:`~kmatrix._core.layout.Network`."""
        return cls._adopt(network.twiddles, network.shape, expansion=network.expansion,
                          real_part=network.real_part)

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
            expansion = algebra.default_expansion(N, n_in, n_out)
        else:
            expansion = check_int(expansion, "expansion")
            if algebra.size_for(n_in, n_out, expansion) > N:
                raise ValueError(
                    f"expansion={expansion} needs a size of at least "
                    f"{algebra.size_for(n_in, n_out, expansion)}, twiddles have N = {N}"
                )
        self._twiddles = np.array(tw, dtype=dtype, order="C", copy=True if copy else None)
        if not (self._twiddles.flags.aligned and self._twiddles.flags.writeable):
            self._twiddles = self._twiddles.copy()
        check_finite_twiddles(self._twiddles)
        self._shape = (n_out, n_in)
        self._expansion = expansion
        # the real part of a complex network (K.real); meaningless for real twiddles
        self._real_part = bool(real_part) and dtype.kind == "c"

    def __getstate__(self):
        # a cached conversion of the twiddles (see _twiddles_as) is not state
        state = self.__dict__.copy()
        state.pop("_converted", None)
        return state

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
            expansion = algebra.default_expansion(2 * twiddles.shape[3], shape[1], shape[0])
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
        """The operator's shape, ``(n_out, n_in)``, as for an ndarray.

        Examples
        --------
        >>> import kmatrix as km
        >>> km.KMatrix.random(3, 5).shape
        (3, 5)
        """
        return self._shape

    @property
    def n_in(self):
        """The input size: the number of columns, ``shape[1]``.

        Examples
        --------
        >>> import kmatrix as km
        >>> km.KMatrix.random(3, 5).n_in
        5
        """
        return self._shape[1]

    @property
    def n_out(self):
        """The output size: the number of rows, ``shape[0]``.

        Examples
        --------
        >>> import kmatrix as km
        >>> km.KMatrix.random(3, 5).n_out
        3
        """
        return self._shape[0]

    @property
    def ndim(self):
        """2, as for a matrix (NumPy and SciPy read it).

        Examples
        --------
        >>> import kmatrix as km
        >>> km.KMatrix.identity(4).ndim
        2
        """
        return 2

    @property
    def dtype(self):
        """The operator's dtype: the twiddles' dtype, real for a real part.

        Examples
        --------
        >>> import kmatrix as km
        >>> km.KMatrix.dft(8).dtype, km.KMatrix.dct(8).dtype
        (dtype('complex128'), dtype('float64'))
        """
        if self._real_part:
            return np.finfo(self._twiddles.dtype).dtype
        return self._twiddles.dtype

    @property
    def real_part(self):
        """Whether the operator is the real part of its complex network (see :attr:`real`).

        Examples
        --------
        >>> import kmatrix as km
        >>> km.KMatrix.dct(8).real_part, km.KMatrix.dft(8).real_part
        (True, False)
        """
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

        Examples
        --------
        >>> import numpy as np, kmatrix as km
        >>> F = km.KMatrix.dft(16)
        >>> C = F.real
        >>> C.dtype, C.real_part, C.twiddles.dtype
        (dtype('float64'), True, dtype('complex128'))
        >>> bool(np.allclose(C.todense(), F.todense().real))
        True
        """
        if self.dtype.kind != "c" or self._real_part:
            return self
        return KMatrix._wrap(self._twiddles, self._shape, self._expansion, real_part=True)

    @property
    def width(self):
        """Number of BB* blocks, w: each costs ``4 N log2 N`` parameters.

        Examples
        --------
        >>> import kmatrix as km
        >>> km.KMatrix.random(16, width=3).width
        3
        """
        return self._twiddles.shape[0]

    @property
    def expansion(self):
        """Expansion factor e (``size >= e * max(shape)``).

        Examples
        --------
        >>> import kmatrix as km
        >>> K = km.KMatrix.random(16, expansion=2)
        >>> K.expansion, K.size
        (2, 32)
        """
        return self._expansion

    @property
    def size(self):
        """N, the power-of-two size of the butterfly network.

        Examples
        --------
        >>> import kmatrix as km
        >>> km.KMatrix.random(100).size
        128
        """
        return 2 * self._twiddles.shape[3]

    @property
    def log_size(self):
        """log2(N), the number of stages per butterfly.

        Examples
        --------
        >>> import kmatrix as km
        >>> km.KMatrix.random(100).log_size
        7
        """
        return self._twiddles.shape[2]

    @property
    def n_params(self):
        """Number of (real or complex) parameters, ``4 w N log2 N``.

        Examples
        --------
        >>> import kmatrix as km
        >>> K = km.KMatrix.random(1024, width=2)
        >>> K.n_params, 4 * 2 * 1024 * 10
        (81920, 81920)
        """
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

        Its shape is ``(width, 2, L, N // 2, 2, 2)`` with ``N = 2**L`` the
        network size: ``twiddles[i, h, k, p]`` is the 2x2 block of pair ``p``
        in stage ``k`` of half ``h`` (0: the B* factor, 1: the B factor) of
        block ``i``; the user guide's "Twiddle layout" page describes it.

        Raises
        ------
        ValueError
            On assignment, if the new value changes the shape, cannot be
            cast to the dtype, or holds NaN or infinity.

        Examples
        --------
        >>> import numpy as np, kmatrix as km
        >>> K = km.KMatrix.identity(8)
        >>> K.twiddles.shape
        (1, 2, 3, 4, 2, 2)
        >>> K.twiddles[0, 0, 0, 0] = [[0, 1], [1, 0]]      # swap a pair of entries
        >>> K @ np.arange(8.0)
        array([4., 1., 2., 3., 0., 5., 6., 7.])
        """
        self.__dict__.pop("_converted", None)   # a view may edit them: see _twiddles_as
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
        check_finite_twiddles(value)
        self._twiddles[...] = value
        self.__dict__.pop("_converted", None)

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

    def copy(self):
        """An independent copy (its twiddles are not shared).

        Returns
        -------
        K : KMatrix

        Examples
        --------
        >>> import kmatrix as km
        >>> K = km.KMatrix.identity(4)
        >>> K2 = K.copy()
        >>> K2.twiddles[...] = 0
        >>> float(K.todense().sum()), float(K2.todense().sum())
        (4.0, 0.0)
        """
        return self._like(self._twiddles.copy())

    @property
    def T(self):
        """The transpose, as a new KMatrix of the same width and cost.

        Transposing reverses the order of the stages and transposes every
        block; the Benes pattern of each BB* block is symmetric under that.

        Examples
        --------
        >>> import numpy as np, kmatrix as km
        >>> K = km.KMatrix.random(3, 5, random_state=0)
        >>> K.T.shape, bool(np.allclose(K.T.todense(), K.todense().T))
        ((5, 3), True)
        """
        return self._like(algebra.transpose(self._twiddles), (self.n_in, self.n_out))

    @property
    def H(self):
        """The conjugate transpose (adjoint), as a new KMatrix of the same cost.

        Examples
        --------
        >>> import numpy as np, kmatrix as km
        >>> K = km.KMatrix.random(3, 5, dtype=np.complex128, random_state=0)
        >>> bool(np.allclose(K.H.todense(), K.todense().conj().T))
        True
        """
        # conjugated only for a complex operator: a real part has Re(K)^H = Re(K)^T
        tw = algebra.transpose(self._twiddles, conjugate=self.dtype.kind == "c")
        return self._like(tw, (self.n_in, self.n_out))

    def conj(self):
        """The complex conjugate, as a new KMatrix.

        Returns
        -------
        K : KMatrix
            Of the same shape, width and dtype (a copy for a real operator).

        Examples
        --------
        >>> import numpy as np, kmatrix as km
        >>> F = km.KMatrix.dft(8)
        >>> bool(np.allclose(F.conj().todense(), F.todense().conj()))
        True
        """
        if self._real_part:
            return self.copy()
        return KMatrix._wrap(algebra.conjugate(self._twiddles), self._shape, self._expansion)

    # ----------------------------------------------------------------- I/O --
    def save(self, file):
        """Save to a versioned ``.npz`` file; read it back with :func:`kmatrix.load`.

        The file holds the twiddles, the shape, the expansion and whether the
        operator is a real part, with a format tag and version; no pickles.

        Parameters
        ----------
        file : str, path-like or writable binary file object
            As for :func:`numpy.savez`, ``.npz`` is appended to a path
            without it.

        Returns
        -------
        None

        See Also
        --------
        kmatrix.load : read the file back.

        Examples
        --------
        >>> import os, tempfile, numpy as np, kmatrix as km
        >>> K = km.KMatrix.random(100, width=2, random_state=0)
        >>> path = os.path.join(tempfile.mkdtemp(), "layer.npz")
        >>> K.save(path)
        >>> K2 = km.load(path)
        >>> bool(np.array_equal(K2.twiddles, K.twiddles)), K2.shape
        (True, (100, 100))
        """
        fileformat.save(self, file)
