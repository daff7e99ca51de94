"""The twiddle layout: positions, pairs and the identity network.

Every function of kmatrix that builds or reads twiddles uses the layout of
``KMatrix``: shape ``(w, 2, L, N // 2, 2, 2)`` for size ``N = 2**L`` and
width ``w``. Stage ``(i, h, k)`` mixes index bit ``L-1-k`` when ``h == 0``
(the B* half) and bit ``k`` when ``h == 1`` (the B half); its pair ``p``
joins the positions ``u = ((p >> b) << (b+1)) | (p mod 2**b)`` and
``v = u + 2**b`` and its block ``[[a, b], [c, d]]`` maps ``(x_u, x_v)`` to
``(a x_u + b x_v, c x_u + d x_v)``. A width-1 network therefore visits the
bits in the Benes order ``L-1, ..., 1, 0, 0, 1, ..., L-1``.
"""

import operator
from typing import NamedTuple

import numpy as np

__all__ = ["Network", "bit_reversal", "check_log_size", "identity_twiddles",
           "lower_positions", "pair_index"]


def check_log_size(L):
    """Validate the log2 size ``L`` and return it as a Python int."""
    if isinstance(L, (bool, np.bool_)):
        raise TypeError("L must be an integer, got a bool")
    try:
        L = operator.index(L)
    except TypeError:
        raise TypeError(
            f"L must be an integer, got {type(L).__name__}") from None
    if L < 1:
        raise ValueError(f"L must be >= 1 (size N = 2**L >= 2), got {L}")
    return L


def lower_positions(L, bit):
    """Lower position ``u`` of every pair ``p`` of a stage mixing ``bit``.

    ``u`` is ``p`` with a zero inserted at bit position ``bit``; the upper
    position is ``u + 2**bit``. All other bits of ``u`` (the pair's
    "context") are the ones a stage's block may depend on.
    """
    p = np.arange(1 << (L - 1), dtype=np.intp)
    low_mask = (1 << bit) - 1
    return ((p >> bit) << (bit + 1)) | (p & low_mask)


def pair_index(u, bit):
    """Pair index of the lower position ``u`` in a stage mixing ``bit``
    (the inverse of :func:`lower_positions`)."""
    return ((u >> (bit + 1)) << bit) | (u & ((1 << bit) - 1))


def bit_reversal(L):
    """The bit reversal of ``range(2**L)``: ``r[i]`` is i with its L bits
    reversed (an involution)."""
    i = np.arange(1 << L, dtype=np.intp)
    r = np.zeros_like(i)
    for b in range(L):
        r |= ((i >> b) & 1) << (L - 1 - b)
    return r


def identity_twiddles(L, width=1, dtype=np.float64):
    """Twiddles of the identity matrix of size ``2**L``.

    Parameters
    ----------
    L : int
        Log2 of the size, ``L >= 1``.
    width : int, optional
        Number of BB* blocks, ``width >= 1``. Default 1.
    dtype : dtype-like, optional
        Scalar type of the result. Default ``float64``.

    Returns
    -------
    twiddles : ndarray, shape (width, 2, L, 2**(L-1), 2, 2)
        Every block is ``[[1, 0], [0, 1]]``.
    """
    L = check_log_size(L)
    if isinstance(width, (bool, np.bool_)):
        raise TypeError("width must be an integer, got a bool")
    width = operator.index(width)
    if width < 1:
        raise ValueError(f"width must be >= 1, got {width}")
    tw = np.zeros((width, 2, L, 1 << (L - 1), 2, 2), dtype=dtype)
    tw[..., 0, 0] = 1
    tw[..., 1, 1] = 1
    return tw


class Network(NamedTuple):
    """What a builder returns: twiddles and how the operator reads them.

    ``expansion=None`` is the default for the size and shape (see
    ``KMatrix``); ``real_part`` marks the real part of a complex network.
    The operator layer wraps a Network into a KMatrix without copying it.
    """

    twiddles: np.ndarray
    shape: tuple
    expansion: int | None = None
    real_part: bool = False
