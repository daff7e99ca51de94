"""Permutation matrices as width-1 K-matrices: Benes routing.

A permutation of ``2**L`` positions is routed through the Benes network that
is the sparsity pattern of one BB* block (the looping algorithm), so every
2x2 block is the identity or a swap. Twiddles in the layout of
:mod:`kmatrix._core.layout`.
"""

import numpy as np

from .._core.algebra import size_for
from .._core.layout import Network, lower_positions
from .._core.validation import as_numeric_array, check_dtype

__all__ = ["PERMUTATION_BLOCKS", "benes_route", "permutation_network",
           "permutation_twiddles", "route_permutation"]

# The two permutation blocks, indexed by "is it a swap".
_IDENTITY_BLOCK = np.array([[1.0, 0.0], [0.0, 1.0]])
_SWAP_BLOCK = np.array([[0.0, 1.0], [1.0, 0.0]])
PERMUTATION_BLOCKS = np.stack([_IDENTITY_BLOCK, _SWAP_BLOCK])


def _check_permutation(perm):
    """Validate ``perm`` and return it as an ``intp`` array and its log2 size."""
    arr = np.asarray(perm)
    if arr.ndim != 1:
        raise ValueError(
            f"perm must be a 1-D array, got an array of shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(
            f"perm must have an integer dtype, got {arr.dtype}")
    N = arr.size
    if N < 2 or N & (N - 1):
        raise ValueError(
            f"the length of perm must be a power of two >= 2, got {N}")
    # Compare as Python ints so that huge unsigned values cannot wrap.
    lo, hi = int(arr.min()), int(arr.max())
    if lo < 0 or hi >= N:
        bad = lo if lo < 0 else hi
        raise ValueError(
            f"perm is not a permutation of range({N}): it contains {bad}")
    arr = arr.astype(np.intp)
    counts = np.bincount(arr, minlength=N)
    if not np.all(counts == 1):
        missing = int(np.flatnonzero(counts == 0)[0])
        repeated = int(np.flatnonzero(counts > 1)[0])
        raise ValueError(
            f"perm is not a permutation of range({N}): {repeated} is "
            f"repeated and {missing} is missing")
    return arr, N.bit_length() - 1


def route_permutation(perm):
    """Twiddles of a permutation matrix, routed through a Benes network.

    Parameters
    ----------
    perm : array_like of int, shape (N,)
        A permutation of ``range(N)``, ``N = 2**L >= 2``.

    Returns
    -------
    twiddles : ndarray of float64, shape (1, 2, L, N // 2, 2, 2)
        Every block is the identity ``[[1, 0], [0, 1]]`` or the swap
        ``[[0, 1], [1, 0]]``, and the expanded matrix ``E`` satisfies
        ``E @ x == x[perm]`` for every vector ``x``.

    Raises
    ------
    ValueError
        If ``perm`` is not 1-D, not of an integer dtype, of a length that is
        not a power of two >= 2, or not a permutation.

    Notes
    -----
    This is the looping algorithm (Waksman; Opferman and Tsao), run on all
    sub-networks of one recursion level at once. At level ``d`` the bit is
    ``b = L-1-d``: the stages still to be set up form independent Benes
    sub-networks, one per value of the bits above ``b``, with outer stages
    on bit ``b`` (B* stage ``d`` and B stage ``b``) around two halves of
    size ``2**b``, selected by bit ``b``, which the next level routes.

    Let ``P`` be what the current sub-networks must do (output ``i`` takes
    the element at input ``P[i]``). Give each element ``x`` a colour, the
    half it travels through. The two inputs of one switch, ``x`` and
    ``x ^ s`` with ``s = 2**b``, need different colours, and so do the two
    elements leaving through one output switch, ``P[i]`` and ``P[i ^ s]``.
    Hence ``x`` and ``tau(x) = P[inv(x) ^ s] ^ s`` share a colour and the
    constraint graph is a union of even cycles, each split into two orbits of
    ``tau``, ``O`` and ``O ^ s``. Colouring ``x`` by whether the smallest
    element of its orbit exceeds that of the orbit of ``x ^ s`` is a valid
    2-colouring, and those orbit minima come from pointer jumping: ``b``
    rounds of ``m = min(m, m[nxt]); nxt = nxt[nxt]``, since an orbit has at
    most ``2**b`` elements. That replaces the sequential walk round each
    cycle by ``O(N log N)`` vectorized work per level, ``O(N log^2 N)`` in
    all.
    """
    P, L = _check_permutation(perm)
    return benes_route(P, L)


def benes_route(P, L, into=None):
    """route_permutation of a checked intp permutation P of range(2**L).

    ``into``: the stages (L, N // 2, 2, 2) of the B* half and of the B half
    to write the routing into (views of a larger network, any dtype), in
    place of a new float64 array; returns None then.
    """
    N = P.size
    tw = None
    if into is None:
        tw = np.empty((1, 2, L, N // 2, 2, 2), dtype=np.float64)
        into = tw[0]
    positions = np.arange(N, dtype=np.intp)
    inv = np.empty_like(P)
    for d in range(L):
        b = L - 1 - d
        s = 1 << b
        inv[P] = positions
        tau = P[inv ^ s] ^ s
        # Smallest element of each tau-orbit, by pointer jumping: after r
        # rounds, orbit_min[x] covers x, tau(x), ..., tau^(2^r - 1)(x).
        orbit_min = positions.copy()
        nxt = tau
        for _ in range(b):
            orbit_min = np.minimum(orbit_min, orbit_min[nxt])
            nxt = nxt[nxt]
        colour = (orbit_min > orbit_min[positions ^ s]).astype(np.intp)

        u = lower_positions(L, b)
        # Input switch: element u goes to the half of its colour, so the
        # switch swaps when colour[u] is 1.
        into[0][d] = PERMUTATION_BLOCKS[colour[u]]
        # Output switch: output u takes P[u] from the half of its colour.
        into[1][b] = PERMUTATION_BLOCKS[colour[P[u]]]

        # What the halves must do: element x enters them at x with bit b
        # set to its colour, and output i's element must leave them at i
        # with bit b set to that element's colour.
        cleared = positions & ~s
        entry = cleared | (colour << b)
        exit_ = cleared | (colour[P] << b)
        new_P = np.empty_like(P)
        new_P[exit_] = entry[P]
        P = new_P
    # Below bit 0 every sub-network has size 1: nothing left to route.
    assert np.array_equal(P, positions), "internal error: routing incomplete"
    return tw


def permutation_twiddles(perm, L):
    """Twiddles of the permutation ``(P @ x)[i] == x[perm[i]]`` on size ``2**L``.

    ``perm`` is a permutation of ``range(n)``, ``n <= 2**L``; the positions
    from n on stay in place. Width 1, float64 (see :func:`route_permutation`).
    """
    n = len(perm)
    full = np.concatenate([perm, np.arange(n, 1 << L, dtype=np.int64)])
    return route_permutation(full)


def permutation_network(perm, dtype=np.float64):
    """The permutation matrix P with ``(P @ x)[i] == x[perm[i]]``, any length.

    ``perm`` is checked here, once (integers, or floats holding integers; a
    permutation of ``range(len(perm))``), and padded to a power of two.
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
    if perm.min() < 0 or perm.max() >= n:
        raise ValueError(f"perm is not a permutation of range({n})")
    counts = np.bincount(perm, minlength=n)
    if not np.all(counts == 1):
        raise ValueError(f"perm is not a permutation of range({n})")
    dtype = check_dtype(dtype)
    L = size_for(n, n, 1).bit_length() - 1
    full = np.concatenate([perm.astype(np.intp, copy=False), np.arange(n, 1 << L, dtype=np.intp)])
    tw = np.empty((1, 2, L, 1 << (L - 1), 2, 2), dtype=dtype)
    benes_route(full, L, into=tw[0])
    return Network(tw, (n, n))
