"""K-matrices as :class:`scipy.sparse.linalg.LinearOperator`."""

import numpy as np
from scipy.sparse.linalg import LinearOperator
from scipy.sparse.linalg import aslinearoperator as _scipy_aslinearoperator

from .kmatrix import KMatrix
from .protocol import apply_op

__all__ = ["KMatrixOperator", "aslinearoperator"]


class KMatrixOperator(LinearOperator):
    """A :class:`~kmatrix.KMatrix` as a SciPy LinearOperator.

    Products, adjoint products and their batched forms all run the compiled
    kernels, so the operator serves scipy.sparse.linalg solvers (cg, gmres,
    lsqr, eigsh, svds, ...) at ``O(w N log N)`` per product.

    Parameters
    ----------
    kmatrix : KMatrix
        The operator; it is shared, not copied (edits to its twiddles show).
    workers : int, default=None
        Threads for every product (see :func:`kmatrix.set_workers`).

    Raises
    ------
    ValueError
        If ``kmatrix`` is not a :class:`~kmatrix.KMatrix`.

    Attributes
    ----------
    kmatrix : KMatrix
    workers : int or None
    shape : tuple of int
    dtype : numpy.dtype

    See Also
    --------
    aslinearoperator : wrap a KMatrix (or anything else) as a LinearOperator.
    KMatrix.matvec : a KMatrix is itself a valid operand of the solvers.

    Examples
    --------
    >>> import numpy as np, kmatrix as km
    >>> from scipy.sparse.linalg import lsqr
    >>> K = km.KMatrix.random(64, random_state=0)       # orthogonal
    >>> A = km.aslinearoperator(K)
    >>> b = np.ones(64)
    >>> x = lsqr(A, b, atol=1e-12, btol=1e-12)[0]
    >>> bool(np.allclose(K @ x, b))
    True

    The operator algebra of scipy (sums, products, adjoints) works on it,
    and every product still runs on the compiled kernels:

    >>> B = A.H @ A + km.KMatrixOperator(km.KMatrix.identity(64))
    >>> bool(np.allclose(B @ b, 2 * b))
    True
    """

    def __init__(self, kmatrix, *, workers=None, _trans="N"):
        if not isinstance(kmatrix, KMatrix):
            raise ValueError(f"kmatrix must be a kmatrix.KMatrix, got {type(kmatrix).__name__}")
        shape = kmatrix.shape if _trans == "N" else kmatrix.shape[::-1]
        super().__init__(dtype=kmatrix.dtype, shape=shape)
        self.kmatrix = kmatrix
        self.workers = workers
        self._trans = _trans

    def _apply_rows(self, X, mode):
        return apply_op(self.kmatrix, X, mode, self.workers)

    def _matvec(self, x):
        return self._apply_rows(np.ravel(x), self._trans)

    def _matmat(self, X):
        return self._apply_rows(np.asarray(X).T, self._trans).T

    def _rmatvec(self, x):
        return self._apply_rows(np.ravel(x), _ADJOINT[self._trans])

    def _rmatmat(self, X):
        return self._apply_rows(np.asarray(X).T, _ADJOINT[self._trans]).T

    def _adjoint(self):
        if self._trans == "T":  # (K^T)^H = conj(K)
            return KMatrixOperator(self.kmatrix.conj(), workers=self.workers)
        return KMatrixOperator(self.kmatrix, workers=self.workers,
                               _trans=_ADJOINT[self._trans])

    def _transpose(self):
        if self._trans == "H":  # (K^H)^T = conj(K)
            return KMatrixOperator(self.kmatrix.conj(), workers=self.workers)
        return KMatrixOperator(self.kmatrix, workers=self.workers,
                               _trans="T" if self._trans == "N" else "N")


# rmatvec of op(K): the adjoint of K is K^H, of K^H is K, of K^T is conj(K)
_ADJOINT = {"N": "H", "H": "N", "T": "C"}


def aslinearoperator(A, *, workers=None):
    """Wrap ``A`` as a LinearOperator: a KMatrixOperator for a KMatrix.

    Anything else goes to :func:`scipy.sparse.linalg.aslinearoperator`, so
    code that handles K-matrices next to dense or sparse matrices can call
    this one function for all of them.

    Parameters
    ----------
    A : KMatrix, ndarray, sparse matrix or LinearOperator
        The operator to wrap; a KMatrix is shared, not copied.
    workers : int, default=None
        Threads for every product of a KMatrix (as in
        :meth:`KMatrix.apply`); ignored for anything else.

    Returns
    -------
    op : KMatrixOperator or scipy.sparse.linalg.LinearOperator
        A KMatrixOperator when ``A`` is a KMatrix, else what
        :func:`scipy.sparse.linalg.aslinearoperator` returns.

    Raises
    ------
    TypeError
        If scipy cannot make a LinearOperator of ``A``.

    See Also
    --------
    KMatrixOperator : the class returned for a KMatrix.

    Examples
    --------
    >>> import numpy as np, kmatrix as km
    >>> Q = km.KMatrix.random(256, random_state=0)          # orthogonal
    >>> A = km.aslinearoperator(Q)
    >>> type(A).__name__, A.shape
    ('KMatrixOperator', (256, 256))
    >>> x = np.random.default_rng(0).standard_normal(256)
    >>> bool(np.allclose((A.H @ A) @ x, x))                 # A^H A = I
    True
    >>> type(km.aslinearoperator(np.eye(3))).__name__       # anything else: scipy's
    'MatrixLinearOperator'
    """
    if isinstance(A, KMatrix):
        return KMatrixOperator(A, workers=workers)
    return _scipy_aslinearoperator(A)
