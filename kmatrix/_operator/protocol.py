"""The operand protocols of a KMatrix: ``@`` and scipy's LinearOperator methods.

One implementation serves both :class:`KMatrix` (``matvec``, ``rmatvec``,
``matmat``, ``rmatmat``, ``@``) and :class:`KMatrixOperator` (its underscore
hooks): :func:`apply_op` applies ``op(K)`` for ``op`` in N, T, H and C
(the conjugate) to rows, and the methods here check operand shapes and turn
columns into the rows the kernels read.
"""

import numbers

import numpy as np
import scipy.sparse

from .._core.lazy import is_dask_array
from .._core.validation import as_numeric_array

__all__ = ["OperandProtocol", "apply_op", "is_scalar"]


def apply_op(K, X, mode, workers=None):
    """op(K) applied to every row of X; mode "C" is conj(K) (the adjoint of K.T)."""
    if mode == "C":
        # conj(K) x = conj(K conj(x)); for a real K and real rows it is K
        if K.dtype.kind != "c" and np.asarray(X).dtype.kind != "c":
            return K.apply(X, workers=workers)
        return np.conjugate(K.apply(np.conjugate(X), workers=workers))
    return K.apply(X, trans=mode, workers=workers)


def is_scalar(value):
    return isinstance(value, numbers.Number) or (
        isinstance(value, (np.ndarray, np.generic)) and np.ndim(value) == 0
        and np.asarray(value).dtype.kind in "biufc"
    )


def _array_like(obj):
    return isinstance(obj, (np.ndarray, list, tuple)) or hasattr(obj, "__array__")


class OperandProtocol:
    """``K @ V``, ``V @ K`` and the LinearOperator methods of :class:`KMatrix` (a mixin).

    The host provides ``shape``, ``n_in``, ``n_out``, ``apply`` and
    ``_product`` (K1 @ K2 for two K-matrices).
    """

    def __matmul__(self, other):
        if type(other) is not np.ndarray and scipy.sparse.issparse(other):
            return _sparse_columns(self, other, "N", "matmul")
        if type(other) is np.ndarray and other.ndim == 1 and other.dtype.kind in "fc":
            # the solver path (one vector at a time): straight to apply
            if other.shape[0] != self.n_in:
                raise ValueError(f"matmul: K has shape {self.shape}, vector has length "
                                 f"{other.shape[0]}")
            return self.apply(other)
        if isinstance(other, OperandProtocol):   # another KMatrix
            return self._product(other)
        if is_dask_array(other) and other.ndim in (1, 2):   # lazily: the columns are the rows
            if other.shape[0] != self.n_in:
                raise ValueError(f"matmul: K has shape {self.shape}, operand has shape "
                                 f"{other.shape}")
            return self.apply(other) if other.ndim == 1 else self.apply(other.T).T
        if is_scalar(other) or not _array_like(other):
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
        if is_scalar(other) or not _array_like(other):
            return NotImplemented
        V = as_numeric_array(other, "operand")
        if V.ndim not in (1, 2):
            raise ValueError(f"matmul: operand must be 1-D or 2-D, got shape {V.shape}")
        if V.shape[-1] != self.n_out:
            raise ValueError(f"matmul: operand of shape {V.shape} times K of shape {self.shape}")
        return self.apply(V, trans="T")

    def dot(self, other):
        """The product ``K @ other``.

        Parameters
        ----------
        other : array-like of shape (n_in,) or (n_in, k), sparse matrix, or KMatrix
            A vector, the columns of a matrix, or another K-matrix.

        Returns
        -------
        Y : ndarray of shape (n_out,) or (n_out, k), or KMatrix
            A KMatrix (widths add) when ``other`` is one.

        Raises
        ------
        ValueError
            If the shapes do not match.

        Examples
        --------
        >>> import numpy as np, kmatrix as km
        >>> K = km.KMatrix.random(4, 6, random_state=0)
        >>> V = np.ones((6, 2))
        >>> bool(np.allclose(K.dot(V), K.todense() @ V))
        True
        >>> K.dot(km.KMatrix.identity(6)).width
        2
        """
        return self.__matmul__(other)

    # The scipy.sparse.linalg.LinearOperator protocol: with these (and shape,
    # dtype) scipy's aslinearoperator, and so every iterative solver, takes a
    # KMatrix as it is (cg(K, b), lsqr(K, b), ...).
    def matvec(self, x):
        """``K @ x`` for ``x`` of shape (n_in,) or (n_in, 1), as scipy's LinearOperator.

        With ``rmatvec``, ``matmat`` and ``rmatmat`` this makes a KMatrix a
        valid operand of every ``scipy.sparse.linalg`` solver.

        Parameters
        ----------
        x : array-like of shape (n_in,) or (n_in, 1)

        Returns
        -------
        y : ndarray of shape (n_out,) or (n_out, 1)
            The shape follows ``x``'s.

        Raises
        ------
        ValueError
            If ``x`` has another shape.

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
        """``K.H @ x`` for ``x`` of shape (n_out,) or (n_out, 1), as scipy's LinearOperator.

        Parameters
        ----------
        x : array-like of shape (n_out,) or (n_out, 1)

        Returns
        -------
        y : ndarray of shape (n_in,) or (n_in, 1)

        Raises
        ------
        ValueError
            If ``x`` has another shape.

        Examples
        --------
        >>> import numpy as np, kmatrix as km
        >>> K = km.KMatrix.random(4, 6, dtype=np.complex128, random_state=0)
        >>> x = np.arange(4.0)
        >>> bool(np.allclose(K.rmatvec(x), K.todense().conj().T @ x))
        True
        """
        return self._vector_product(x, "H")

    def matmat(self, X):
        """``K @ X`` for ``X`` of shape (n_in, k), as scipy's LinearOperator.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_in, k)
            Its columns are the vectors K is applied to.

        Returns
        -------
        Y : ndarray of shape (n_out, k)

        Raises
        ------
        ValueError
            If ``X`` is not 2-D with ``n_in`` rows.

        Examples
        --------
        >>> import numpy as np, kmatrix as km
        >>> K = km.KMatrix.random(4, 6, random_state=0)
        >>> X = np.random.default_rng(0).standard_normal((6, 3))
        >>> bool(np.allclose(K.matmat(X), K.todense() @ X))
        True
        """
        return self._matrix_product(X, "N")

    def rmatmat(self, X):
        """``K.H @ X`` for ``X`` of shape (n_out, k), as scipy's LinearOperator.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_out, k)

        Returns
        -------
        Y : ndarray of shape (n_in, k)

        Raises
        ------
        ValueError
            If ``X`` is not 2-D with ``n_out`` rows.

        Examples
        --------
        >>> import numpy as np, kmatrix as km
        >>> K = km.KMatrix.random(4, 6, random_state=0)
        >>> X = np.random.default_rng(0).standard_normal((4, 3))
        >>> bool(np.allclose(K.rmatmat(X), K.todense().T @ X))
        True
        """
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


def _sparse_columns(K, S, trans, what):
    """op(K) @ S for a sparse S of shape (n, k): its columns are the rows
    the kernels read (S.T, densified a block at a time)."""
    n = K.n_in if trans == "N" else K.n_out
    if S.ndim != 2 or S.shape[0] != n:
        raise ValueError(f"{what}: K has shape {K.shape}, operand has shape {S.shape} "
                         f"(expected ({n}, k))")
    return K.apply(S.T, trans=trans).T

