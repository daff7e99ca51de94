"""Exact linear algebra of a KMatrix: inverse, solves, determinants, the
diagonal and trace, norms and dtype conversion (a mixin of KMatrix).

A square network (shape ``(N, N)`` for its size N, a power of two, so the
expansion is 1) is a product of ``2 w L`` stages, each a direct sum of 2x2
blocks up to a fixed permutation of the positions. Its inverse is the same
network run backwards with every block inverted (a KMatrix of the same
width, ``O(params)`` to form), and its determinant is the product of the
blocks' determinants. The real part of a complex network (:attr:`KMatrix.real`)
has them when the network is real itself (a real circulant
``F^-1 diag(F c) F``; judged on two random probes). A corner of a larger
network (a padded size or an expansion) or the real part of a network that
is not real (the DCT) has neither: those get a ValueError that says so and
names the iterative solvers that do apply.
"""

import collections
import warnings

import numpy as np
import scipy.linalg

from .._core import algebra
from .._core.validation import check_dtype, complex_dtype_of

__all__ = ["LinearAlgebra", "SlogdetResult"]

SlogdetResult = collections.namedtuple("SlogdetResult", ["sign", "logabsdet"])
SlogdetResult.__doc__ = """``(sign, logabsdet)`` of :meth:`KMatrix.slogdet`, as NumPy's."""

# entries of one block of rows of the identity (diagonal, trace, norms)
_BLOCK_ENTRIES = 1 << 21


class LinearAlgebra:
    """``inv``, ``solve``, ``slogdet``, ``det``, ``diagonal``, ``trace``,
    ``astype`` and NumPy's functions on a KMatrix (a mixin).

    The host provides ``_twiddles``, ``_real_part``, ``shape``, ``size``,
    ``expansion``, ``dtype``, ``apply``, ``_apply_array``,
    ``_complex_network`` and ``_wrap``.
    """

    # ------------------------------------------------------------ checks --
    def _check_square_network(self, what):
        if self._real_part and not self._network_is_real():
            raise ValueError(
                f"{what}: K is the real part of a complex network (K.real) that is not real "
                "itself, so K is no product of 2x2 blocks and has no exact inverse or "
                "determinant here; solve with an iterative method such as "
                "scipy.sparse.linalg.gmres(K, b) (K is a valid operator there), or use "
                "K.todense() if K is small")
        N = self.size
        if self.shape != (N, N):
            raise ValueError(
                f"{what} needs a square network: K of shape {self.shape} is the corner of a "
                f"network of size {N} (expansion {self.expansion}), whose blocks do not give "
                "its inverse or determinant; solve with an iterative method such as "
                "scipy.sparse.linalg.gmres(K, b) or lsqr(K, b) (K is a valid operator "
                "there), build K on a power-of-two size with expansion=1, or for a small K "
                "use the dense matrix, np.linalg.inv(K.todense())")

    def _network_is_real(self):
        """For a real part: whether the complex network itself is real (a
        real circulant ``F^-1 diag(F c) F``, not the DCT), judged on two
        random real probes to rounding. Then the network's inverse is real
        too, and K's inverse, solves and determinant are the network's."""
        rng = np.random.default_rng(0)
        Z = rng.standard_normal((2, self.shape[1]))
        network = self._complex_network()
        Y = network.apply(Z.astype(self._twiddles.dtype), check_finite=False)
        eps = np.finfo(self._twiddles.dtype).eps
        stages = 2 * self.width * self.log_size
        return bool(np.linalg.norm(Y.imag) <= 100 * stages * eps * np.linalg.norm(Y))

    def _block_determinants(self, what):
        """The blocks' determinants, after :meth:`_check_square_network`."""
        self._check_square_network(what)
        return algebra.block_determinants(self._twiddles)

    def _describe_block(self, index):
        i, h, k, p = index
        L = self._twiddles.shape[2]
        return (f"block {p} of stage {k} of the {'B*' if h == 0 else 'B'} half of BB* block "
                f"{i} (mixing index bit {algebra.stage_bit(L, h, k)})")

    # ----------------------------------------------------------- inverse --
    def inv(self):
        """The exact inverse, a KMatrix of the same width.

        The network run backwards with every 2x2 block replaced by its
        inverse: ``O(params)`` to form, and every product with it costs what
        one with K costs. Needs a square network (size a power of two,
        ``shape == (size, size)``, expansion 1), and for a real part
        (:attr:`real`) a network that is real itself, such as a circulant's.

        Returns
        -------
        Kinv : KMatrix of the same shape, dtype and width

        Raises
        ------
        numpy.linalg.LinAlgError
            If a block is singular (named, with its stage), or the inverse of
            a block overflows.
        ValueError
            If K is not a square network or the real part of a network
            that is not real (the message
            names the iterative solvers to use instead).

        Warns
        -----
        scipy.linalg.LinAlgWarning
            When a block's condition number passes ``1 / eps`` of the dtype:
            the warning names the nearly singular factor.

        See Also
        --------
        solve, slogdet

        Examples
        --------
        >>> import numpy as np, kmatrix as km
        >>> K = km.KMatrix.random(256, width=2, random_state=0)
        >>> Kinv = K.inv()
        >>> Kinv.width, Kinv.shape
        (2, (256, 256))
        >>> x = np.random.default_rng(0).standard_normal(256)
        >>> bool(np.allclose(Kinv @ (K @ x), x))
        True
        """
        det = self._block_determinants("inv")
        self._check_blocks(det, "inv")
        with np.errstate(over="ignore", invalid="ignore"):
            tw = algebra.inverse(self._twiddles, det)
        if not np.isfinite(tw).all():
            raise np.linalg.LinAlgError(
                "K is numerically singular: the inverse of a 2x2 block overflows")
        return self._wrap(tw, self.shape, 1, real_part=self._real_part)

    def _check_blocks(self, det, what):
        """LinAlgError for a singular block, LinAlgWarning for a nearly singular one."""
        zero = np.argwhere(det == 0)
        if zero.size:
            raise np.linalg.LinAlgError(
                f"{what}: K is singular: {self._describe_block(tuple(zero[0]))} has "
                "determinant 0")
        cond = algebra.block_conditions(self._twiddles, det)
        worst = np.unravel_index(int(np.argmax(cond)), cond.shape)
        limit = 1 / np.finfo(self._twiddles.dtype).eps
        if not cond[worst] <= limit:
            warnings.warn(
                f"{what}: K is nearly singular: {self._describe_block(worst)} has condition "
                f"number {cond[worst]:.3g}, past 1/eps = {limit:.3g} for "
                f"{self._twiddles.dtype}; the result may have no correct digits",
                scipy.linalg.LinAlgWarning, stacklevel=3)

    def solve(self, B, trans="N", *, workers=None):
        """Solve ``op(K) X = B`` exactly: ``op(K)^-1 B`` for op in N, T, H.

        ``B`` is one right-hand side or several as columns, as for
        :func:`numpy.linalg.solve`. The kernels run the network backwards
        and invert every 2x2 block as they read it, so a solve costs about
        what ``K @ B`` costs (one vector at n = 2^16: 1.0-1.2x, measured by
        ``benchmarks/bench_solve.py``) and forms no inverse; for many solves
        with the same K, :meth:`inv` once is as fast. Needs a square
        network, as :meth:`inv`. The factors' condition is not checked here
        (:meth:`inv` warns of a nearly singular one); a singular block is
        found from the result and raised. A real part (:attr:`real`) first
        checks on two random probes that its network is real: about three
        products in all.

        Parameters
        ----------
        B : array-like of shape (n,) or (n, k)
        trans : {"N", "T", "H"}, default="N"
            Solve with K, ``K.T`` or ``K.H`` (as :meth:`apply`'s ``trans``).
        workers : int, default=None
            Threads, as for :meth:`apply`.

        Returns
        -------
        X : ndarray of B's shape
            In the promoted dtype of K and B.

        Raises
        ------
        numpy.linalg.LinAlgError
            If a block is singular (named, with its stage), or the solve
            overflows.
        ValueError
            As :meth:`inv`; also if ``B`` does not have n rows, is not 1-D
            or 2-D, holds NaN or infinity, or ``trans`` is unknown.

        See Also
        --------
        inv

        Examples
        --------
        >>> import numpy as np, kmatrix as km
        >>> F = km.KMatrix.dft(8)
        >>> b = np.arange(8.0)
        >>> x = F.solve(b)
        >>> bool(np.allclose(F @ x, b)), bool(np.allclose(x, np.fft.ifft(b)))
        (True, True)
        """
        if trans not in ("N", "T", "H"):
            raise ValueError(f"trans must be 'N', 'T' or 'H', got {trans!r}")
        self._check_square_network("solve")
        B = np.asarray(B)
        n = self.shape[0]
        if B.ndim not in (1, 2) or B.shape[0] != n:
            raise ValueError(f"solve: K has shape {self.shape}, B must have shape ({n},) or "
                             f"({n}, k), got {B.shape}")
        X = self._apply_array(B if B.ndim == 1 else B.T, trans, None, workers, True,
                              inverse=True)
        if not np.isfinite(X).all():
            det = algebra.block_determinants(self._twiddles)
            self._check_blocks(det, "solve")   # names a singular block
            raise np.linalg.LinAlgError("solve: K is numerically singular: the solution "
                                        "overflows")
        return X if B.ndim == 1 else X.T

    # ------------------------------------------------------- determinant --
    def slogdet(self):
        """Sign and natural log of the absolute determinant, exactly.

        The product of the 2x2 blocks' determinants, summed as logarithms
        (no overflow at any size); as :func:`numpy.linalg.slogdet`: a
        singular K gives sign 0 and ``-inf``. Needs a square network, as
        :meth:`inv`.

        Returns
        -------
        sign : float or complex
            ±1 (real K) or a complex number of modulus 1, 0 when singular.
        logabsdet : float

        Raises
        ------
        ValueError
            As :meth:`inv`.

        See Also
        --------
        det, inv

        Examples
        --------
        >>> import numpy as np, kmatrix as km
        >>> H = km.KMatrix.hadamard(64)
        >>> sign, logdet = H.slogdet()
        >>> float(sign), bool(np.isclose(logdet, 32 * np.log(64)))
        (1.0, True)
        """
        det = self._block_determinants("slogdet")
        real = self._twiddles.real.dtype
        if np.any(det == 0):
            return SlogdetResult(self.dtype.type(0), real.type(-np.inf))
        logabs = np.log(np.abs(det), dtype=np.float64).sum()
        if det.dtype.kind == "c":
            sign = np.exp(1j * np.mod(np.angle(det, deg=False).astype(np.float64).sum(),
                                      2 * np.pi))
            if self._real_part:   # a real network: its determinant is real
                sign = np.sign(sign.real)
        else:
            sign = -1.0 if np.count_nonzero(det < 0) % 2 else 1.0
        return SlogdetResult(self.dtype.type(sign), real.type(logabs))

    def det(self):
        """The determinant, ``sign * exp(logabsdet)`` of :meth:`slogdet`.

        Overflows to infinity (or underflows to 0) where the determinant
        itself does; :meth:`slogdet` does not.

        Returns
        -------
        det : float or complex

        Raises
        ------
        ValueError
            As :meth:`slogdet`.

        Examples
        --------
        >>> import kmatrix as km
        >>> P = km.KMatrix.from_permutation([1, 0, 3, 2])   # two swaps
        >>> float(P.det())
        1.0
        """
        sign, logabs = self.slogdet()
        with np.errstate(over="ignore", under="ignore"):
            return sign * np.exp(logabs)

    # -------------------------------------------------- diagonal, trace --
    def _rows_of(self, trans, count=None):
        """Yield ``(i0, Y)`` a block at a time: the rows of Y are
        ``op(K) e_i`` (the columns of op(K)) for i from i0, i < ``count``
        (default: every column)."""
        n_in = self.shape[1] if trans == "N" else self.shape[0]
        n_out = self.shape[0] if trans == "N" else self.shape[1]
        count = n_in if count is None else count
        block = max(1, min(n_in, _BLOCK_ENTRIES // max(n_in, n_out)))
        for i0 in range(0, count, block):
            m = min(block, count - i0)
            E = np.zeros((m, n_in), dtype=self.dtype)
            E[np.arange(m), i0 + np.arange(m)] = 1
            yield i0, self.apply(E, trans=trans, check_finite=False)

    def diagonal(self):
        """The main diagonal ``K[i, i]``, exactly.

        One product with a block of rows of the identity at a time, so the
        memory stays that of a block (about 2^21 entries) whatever the size;
        the time is ``min(n_out, n_in)`` products of one vector, batched.

        Returns
        -------
        d : ndarray of shape (min(n_out, n_in),)

        See Also
        --------
        trace

        Examples
        --------
        >>> import numpy as np, kmatrix as km
        >>> K = km.KMatrix.random(100, 80, random_state=0)
        >>> bool(np.allclose(K.diagonal(), np.diagonal(K.todense())))
        True
        """
        m = min(self.shape)
        d = np.empty(m, dtype=self.dtype)
        for i0, Y in self._rows_of("N", m):
            r = np.arange(i0, i0 + Y.shape[0])
            d[r] = Y[r - i0, r]
        return d

    def trace(self):
        """The sum of the main diagonal, exactly (:meth:`diagonal`).

        Returns
        -------
        t : float or complex

        Examples
        --------
        >>> import numpy as np, kmatrix as km
        >>> F = km.KMatrix.dft(16)
        >>> bool(np.isclose(F.trace(), np.trace(np.fft.fft(np.eye(16)))))
        True
        """
        return self.diagonal().sum()

    # ------------------------------------------------------------- dtype --
    def astype(self, dtype, copy=True):
        """The operator in another dtype.

        Real to complex and between precisions cast the twiddles; the real
        part of a complex network (:attr:`real`) becomes the complex
        operator ``(K + conj(K)) / 2`` (a sum: the expansion doubles).
        Complex to real is allowed only when every twiddle is real (the
        operator is then real); for the real part of a complex operator use
        :attr:`real`.

        Parameters
        ----------
        dtype : dtype
            float32, float64, complex64 or complex128.
        copy : bool, default=True
            False returns K itself when it already has the dtype.

        Returns
        -------
        K2 : KMatrix

        Raises
        ------
        ValueError
            For an unsupported dtype, or a complex operator to a real dtype.

        Examples
        --------
        >>> import numpy as np, kmatrix as km
        >>> K = km.KMatrix.random(16, random_state=0)
        >>> K32 = K.astype(np.float32)
        >>> K32.dtype, bool(np.allclose(K32.todense(), K.todense(), atol=1e-6))
        (dtype('float32'), True)
        """
        dtype = check_dtype(dtype)
        if dtype == self.dtype and not copy:
            return self
        tw = self._twiddles
        if self._real_part:
            if dtype.kind == "c":
                network = self._complex_network().astype(dtype)
                return (network + network.conj()) * 0.5
            return self._wrap(tw.astype(complex_dtype_of(dtype)), self.shape, self.expansion,
                              real_part=True)
        if tw.dtype.kind == "c" and dtype.kind != "c":
            if np.any(tw.imag != 0):
                raise ValueError(f"astype: K is a complex operator, {dtype} would drop its "
                                 "imaginary part; use K.real for the real part")
            tw = tw.real
        return self._wrap(np.array(tw, dtype=dtype, order="C"), self.shape, self.expansion)

    # ------------------------------------------------- NumPy's functions --
    def __array_function__(self, func, types, args, kwargs):
        handler = _HANDLED.get(func)
        if handler is not None:
            return handler(*args, **kwargs)
        # any other function runs NumPy's own code, as without this protocol:
        # np.iscomplexobj reads K.dtype, np.allclose builds the dense matrix
        return func._implementation(*args, **kwargs)


def _dense(obj):
    if isinstance(obj, LinearAlgebra):
        return np.asarray(obj)
    if isinstance(obj, (list, tuple)):
        return type(obj)(_dense(v) for v in obj)
    return obj


def _np_solve(a, b):
    if not isinstance(a, LinearAlgebra):
        return np.linalg.solve(*_dense((a, b)))
    return a.solve(_dense(b))


def _np_norm(x, ord=None, axis=None, keepdims=False):
    """np.linalg.norm of a KMatrix: exact and memory-bounded for the
    Frobenius norm and the 1- and inf-norms (blocks of columns or rows);
    others on the dense matrix."""
    if not isinstance(x, LinearAlgebra) or axis is not None or keepdims or ord not in (
            None, "fro", 1, -1, np.inf, -np.inf):
        return np.linalg.norm(_dense(x), ord=ord, axis=axis, keepdims=keepdims)
    # ord 1: the columns' sums of |K| (rows K e_i); inf: the rows' (K^T e_i)
    trans = "T" if ord in (np.inf, -np.inf) else "N"
    total, sums = 0.0, []
    for _, Y in x._rows_of(trans):
        a = np.abs(Y)
        total += float(np.sum(a * a, dtype=np.float64))
        sums.append(a.sum(axis=1, dtype=np.float64))
    if ord in (None, "fro"):
        return np.sqrt(total)
    sums = np.concatenate(sums)
    return float(sums.max() if ord in (1, np.inf) else sums.min())


_HANDLED = {
    np.linalg.inv: lambda a: a.inv(),
    np.linalg.solve: _np_solve,
    np.linalg.slogdet: lambda a: a.slogdet(),
    np.linalg.det: lambda a: a.det(),
    np.linalg.norm: _np_norm,
    np.trace: lambda a, offset=0, *args, **kwargs: (
        a.trace() if offset == 0 and not args and not kwargs
        else np.trace(np.asarray(a), offset, *args, **kwargs)),
    np.diagonal: lambda a, offset=0, *args, **kwargs: (
        a.diagonal() if offset == 0 and not args and not kwargs
        else np.diagonal(np.asarray(a), offset, *args, **kwargs)),
    np.shape: lambda a: a.shape,
    np.ndim: lambda a: 2,
    np.size: lambda a, axis=None: a.shape[0] * a.shape[1] if axis is None else a.shape[axis],
}

