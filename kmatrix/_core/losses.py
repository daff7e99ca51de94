"""Losses whose gradient is an elementwise pass over a large output.

The training engine's squared error (``kmatrix._learning.training``) runs
here: on real float32 or float64 rows it is one compiled pass (the
gradient written over the predictions, each row's sum of squares in
double, a fixed order of summation whatever the thread count or the
instruction set); on anything else, the same arithmetic in NumPy passes.
Both give the same gradient bit for bit.
"""

import numpy as np

from . import _kernels

__all__ = ["squared_error_gradient"]


def _compiled(P, Y):
    """Whether the compiled pass takes P (written over) and Y."""
    return (P.dtype in (np.float32, np.float64) and Y.dtype == P.dtype and P.ndim == 2
            and P.shape == Y.shape and P.flags.c_contiguous and Y.flags.c_contiguous
            and P.flags.aligned and Y.flags.aligned and P.flags.writeable)


def squared_error_gradient(P, Y, w, scale, n_threads=0):
    """``P <- (P - Y) * scale``, times the row weights ``w`` if given.

    Parameters
    ----------
    P : ndarray of shape (m, k)
        The predictions, overwritten by the gradient.
    Y : ndarray of shape (m, k)
        The targets, of P's dtype.
    w : ndarray of shape (m,) or None
        Row weights.
    scale : float
        The factor of every entry (rounded to P's dtype first, as NumPy
        rounds a Python scalar).
    n_threads : int
        Kernel threads (0: the default); never changes the result.

    Returns
    -------
    ndarray of shape (m,)
        Each row's sum of ``(P - Y) ** 2``, accumulated in float64.

    Examples
    --------
    >>> import numpy as np
    >>> from kmatrix._core.losses import squared_error_gradient
    >>> P = np.array([[1.0, 2.0], [3.0, 5.0]])
    >>> squared_error_gradient(P, np.zeros((2, 2)), None, 0.5)
    array([ 5., 34.])
    >>> P
    array([[0.5, 1. ],
           [1.5, 2.5]])
    """
    if _compiled(P, Y):
        return _kernels.squared_error(P, Y, w, float(scale), n_threads)
    P -= Y
    sq = np.einsum("ij,ij->i", P, P, dtype=np.float64)
    P *= float(scale)
    if w is not None:
        P *= w[:, np.newaxis]
    return sq
