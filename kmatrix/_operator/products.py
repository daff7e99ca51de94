"""Products of a KMatrix with rows: ``apply`` and ``vjp``, routed to the kernels.

The entry that owns validation: the rows (dense, scipy sparse or dask; any
strides and dtype), ``trans``, ``out`` and ``workers`` are checked here,
once, and the compiled kernels (:mod:`kmatrix._core._kernels`) get
kernel-ready arrays. A real part (:attr:`KMatrix.real`) and real operators on
complex rows go through the kernels' real-I/O mode.
"""

import sys

import numpy as np
import scipy.sparse

from .._core import _kernels
from .._core.config import get_workers, resolve_workers
from .._core.lazy import apply_rows, is_dask_array
from .._core.validation import (
    as_numeric_array,
    complex_dtype_of,
    promoted,
    result_dtype,
)

__all__ = ["Products"]

_TRANS = ("N", "T", "H")
# sparse rows are densified this many entries at a time
_SPARSE_BLOCK = 1 << 22


class Products:
    """``apply``, ``vjp`` and the dense matrix of :class:`KMatrix` (a mixin)."""

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
            In the promoted dtype of ``K`` and ``X`` (``out`` if given). A
            dask array ``X`` gives a lazy dask array (one task per block of
            rows); scipy sparse rows give a dense result.

        Raises
        ------
        ValueError
            If ``trans`` is unknown, ``X`` is not 1-D or 2-D or its rows do
            not have ``n_in`` entries (``n_out`` for "T" and "H"), ``out``
            does not fit the result, ``workers`` is invalid, or ``X`` holds
            NaN or infinity (with ``check_finite=True``).

        See Also
        --------
        vjp : the gradients of a product.
        kmatrix.apply_npy : the same on the rows of a ``.npy`` file.

        Examples
        --------
        >>> import numpy as np, kmatrix as km
        >>> K = km.KMatrix.random(8, 16, random_state=0)
        >>> X = np.random.default_rng(0).standard_normal((5, 16))
        >>> Y = K.apply(X)
        >>> Y.shape, bool(np.allclose(Y, X @ K.todense().T))
        ((5, 8), True)
        >>> Z = K.apply(Y, trans="T")                   # rows of length n_out
        >>> bool(np.allclose(Z, Y @ K.todense()))
        True
        >>> out = np.empty((5, 8))
        >>> K.apply(X, out=out, workers=1) is out
        True
        """
        if trans not in _TRANS:
            raise ValueError(f"trans must be 'N', 'T' or 'H', got {trans!r}")
        if type(X) is not np.ndarray and is_dask_array(X):
            if out is not None:
                raise ValueError("out= is not supported for a dask array X (the result is lazy)")
            if X.dtype.kind not in "biufc":
                raise ValueError(f"X must hold numbers, got a dask array of dtype {X.dtype}")
            return apply_rows(self, X, trans, workers, check_finite, promoted(self.dtype, X.dtype))
        if type(X) is not np.ndarray and scipy.sparse.issparse(X):
            return self._apply_sparse(X, trans, out, workers, check_finite)
        return self._apply_array(X, trans, out, workers, check_finite)

    def _apply_array(self, X, trans, out, workers, check_finite, inverse=False):
        """:meth:`apply` on an array-like X (``inverse``: op(K)^-1, a
        solve's product, for a square network)."""
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
        dtype = promoted(self.dtype, X.dtype)
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
            if X.dtype != dtype or not kernel_ready(X):
                X = X.astype(dtype)
            parts = ((X.real, Y.real), (X.imag, Y.imag)) if dtype.kind == "c" else ((X, Y),)
            for part_in, part_out in parts:
                _kernels.apply(tw, self.log_size, part_in, part_out, trans, n_threads,
                               check_finite, inverse)
        else:
            tw = self._twiddles_as(dtype)
            if X.dtype != dtype or not kernel_ready(X):
                X = X.astype(dtype)
            _kernels.apply(tw, self.log_size, X, Y, trans, n_threads, check_finite, inverse)
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
        dtype = promoted(self.dtype, X.dtype)
        Y = (np.empty((X.shape[0], out_len), dtype=dtype) if out is None
             else _check_out(out, (X.shape[0], out_len), dtype))
        X = X.tocsr()
        step = max(1, _SPARSE_BLOCK // max(1, in_len))
        for start in range(0, X.shape[0], step):
            self.apply(X[start:start + step].toarray(), trans=trans, out=Y[start:start + step],
                       workers=workers, check_finite=check_finite)
        return Y

    def _complex_network(self):
        """The complex operator whose real part this is (twiddles shared)."""
        return self._wrap(self._twiddles, self._shape, self._expansion)

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
        if X.dtype != dtype or not kernel_ready(X):
            X = X.astype(dtype)
        if G.dtype != dtype or not kernel_ready(G):
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

        Raises
        ------
        ValueError
            If ``X`` and ``G`` are not both 1-D or both 2-D, their shapes do
            not match ``K`` and each other, ``workers`` is invalid, or they
            hold NaN or infinity (with ``check_finite=True``).

        Examples
        --------
        The gradient of ``L = sum(G * K.apply(X))`` with respect to ``X`` is
        ``G @ K``; the twiddle gradient matches a finite difference:

        >>> import numpy as np, kmatrix as km
        >>> rng = np.random.default_rng(0)
        >>> K = km.KMatrix.random(16, random_state=0)
        >>> X, G = rng.standard_normal((4, 16)), rng.standard_normal((4, 16))
        >>> dX, dtw = K.vjp(X, G)
        >>> bool(np.allclose(dX, G @ K.todense())), dtw.shape == K.twiddles.shape
        (True, True)
        >>> K2 = K.copy()
        >>> K2.twiddles[0, 1, 2, 3, 0, 1] += 1e-6          # L is linear in one twiddle
        >>> dL = (np.sum(G * K2.apply(X)) - np.sum(G * K.apply(X))) / 1e-6
        >>> bool(np.isclose(dL, dtw[0, 1, 2, 3, 0, 1], rtol=1e-5))
        True
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
        """The twiddles in ``dtype``, for the kernels only (never handed out).

        A conversion is cached, one dtype at a time, while no one else can
        write the twiddles: K owns their memory (not a view) and holds the
        only reference to them (no view from :attr:`twiddles`, no other
        KMatrix sharing them). Reading :attr:`twiddles` or assigning it drops
        the cache, and an edit needs such a view, so a cached conversion is
        never stale; while views live, every call converts afresh.
        """
        tw = self._twiddles
        if tw.dtype == dtype:
            return tw
        # references while private: K's attribute, ``tw`` and getrefcount's argument
        private = tw.base is None and sys.getrefcount(tw) <= 3
        cached = self.__dict__.get("_converted")
        if private and cached is not None and cached.dtype == dtype:
            return cached
        converted = tw.astype(dtype)
        if private:
            self._converted = converted
        return converted

    # -- package-internal: the random features' product with its epilogue --
    def _cosine_features(self, X, offset, scale, workers=None):
        """``scale * cos(X @ K.T + offset)`` for a real K and rows X: the
        compiled cosine fused into the product's store, each output tile
        taken while it is in registers (rows of K's dtype with contiguous
        entries), else the product then the same cosine over its output.
        The cosine is vectorized and computes every entry on its own, so
        the thread count changes nothing (0.04 s for 4,096 x 8,192 float64
        entries as a pass of its own, where NumPy's took 0.46 s)."""
        n_threads = 0 if workers is None and get_workers() is None else resolve_workers(workers)
        fused = (isinstance(X, np.ndarray) and self.dtype.kind == "f" and not self._real_part
                 and X.ndim == 2
                 and X.dtype == self.dtype and kernel_ready(X)
                 and (X.shape[1] <= 1 or X.strides[1] == X.itemsize))
        if not fused:
            Y = self.apply(X, workers=workers)
            return _kernels.cosine_rows(Y, np.ascontiguousarray(offset, dtype=Y.dtype),
                                        float(scale), n_threads)
        self._row_lengths(X.shape[1], "N")
        Y = np.empty((X.shape[0], self.n_out), dtype=self.dtype)
        return _kernels.apply_epilogue(self._twiddles, self.log_size, X, Y, "cosine",
                                       np.ascontiguousarray(offset, dtype=self.dtype),
                                       float(scale), n_threads)

    # -- package-internal: the training engine's paths, checked once per fit --
    def _apply_into(self, X, out, n_threads, bias=None, activation="identity"):
        """``out[:] = X @ K.T + bias`` with no checks: X and out C-contiguous
        rows in the twiddles' dtype (real rows for a real part), bias
        contiguous of out's row length and dtype, n_threads resolved.
        Returns whether the activation ("identity", "relu", "tanh" or
        "logistic") was applied too: a real network's kernel adds the bias
        and applies the activation as it stores each output tile (the bias
        and the rectifier as the separate passes would; tanh within about
        1.5 ulp of the exact value); otherwise the bias is added here and
        the caller applies the activation."""
        if bias is not None and self._twiddles.dtype.kind == "f":
            kind = "bias" if activation == "identity" else "bias_" + activation
            _kernels.apply_epilogue(self._twiddles, self.log_size, X, out, kind, bias, 1.0,
                                    n_threads, False)
            return True
        _kernels.apply(self._twiddles, self.log_size, X, out, "N", n_threads, False)
        if bias is not None:
            out += bias
        return activation == "identity"

    def _twiddle_gradient_into(self, X, G, dtw, n_threads, dX=None, gate=None):
        """``dtw[:] = `` the twiddle gradient of :meth:`vjp` with no checks
        (arrays as for :meth:`_apply_into`; dtw of the twiddles' shape), and
        ``dX[:] = `` the input gradient when ``dX`` is given (rows like X).

        ``gate``: the name of the activation that made X ("relu", "tanh" or
        "logistic"); dX is then multiplied by its derivative, written in
        terms of X, as the kernel stores it (a real network; a real part
        takes NumPy's passes). Returns whether the kernel did."""
        fused = gate is not None and dX is not None and self._twiddles.dtype.kind == "f"
        _kernels.vjp(self._twiddles, self.log_size, X, G, dX, dtw, n_threads, False,
                     X if fused else None, gate if fused else None)
        return fused

    def todense(self):
        """The dense matrix, computed by applying K to the identity.

        Returns
        -------
        D : ndarray of shape (n_out, n_in)
            In the operator's dtype. It takes ``n_out * n_in`` entries of
            memory: meant for checks and small operators.

        See Also
        --------
        toarray : the same (scipy.sparse spelling).

        Examples
        --------
        >>> import numpy as np, kmatrix as km
        >>> K = km.KMatrix.random(3, 5, random_state=0)
        >>> D = K.todense()
        >>> D.shape, D.dtype
        ((3, 5), dtype('float64'))
        >>> bool(np.allclose(K @ np.ones(5), D.sum(axis=1)))
        True
        """
        return self.apply(np.eye(self.n_in, dtype=self.dtype), check_finite=False).T.copy()

    def toarray(self):
        """The dense matrix: an alias of :meth:`todense` (scipy.sparse spelling).

        Returns
        -------
        D : ndarray of shape (n_out, n_in)

        Examples
        --------
        >>> import numpy as np, kmatrix as km
        >>> H = km.KMatrix.hadamard(4)
        >>> H.toarray()
        array([[ 1.,  1.,  1.,  1.],
               [ 1., -1.,  1., -1.],
               [ 1.,  1., -1., -1.],
               [ 1., -1., -1.,  1.]])
        """
        return self.todense()


def kernel_ready(X):
    """Whether the kernels can read X in place: aligned, whole-item strides."""
    if not X.flags.aligned:
        return False
    st, item = X.strides, X.itemsize
    if len(st) == 2:   # every product's path: no generator
        return st[0] % item == 0 and st[1] % item == 0
    return all(s % item == 0 for s in st)


def _check_out(out, shape, dtype):
    if not isinstance(out, np.ndarray):
        raise ValueError(f"out must be a NumPy array, got {type(out).__name__}")
    if out.shape != shape:
        raise ValueError(f"out has shape {out.shape}, the result has shape {shape}")
    if out.dtype != dtype:
        raise ValueError(f"out has dtype {out.dtype}, the result has dtype {dtype}")
    if not out.flags.writeable:
        raise ValueError("out is read-only")
    if not kernel_ready(out):
        raise ValueError("out must be aligned with strides that are whole items")
    return out


