"""Twiddles built from scratch: random, identity, Hadamard, DFT, permutations.

The structured matrices (all but the random ones) are exactly K-matrices of
width 1. Every function returns a twiddle array in kmatrix's layout: shape
``(w, 2, L, N // 2, 2, 2)`` for size ``N = 2**L`` and width ``w``. Stage
``(i, h, k)`` mixes index bit ``L-1-k`` when ``h == 0`` (the B* half) and bit
``k`` when ``h == 1`` (the B half); its pair ``p`` joins the positions
``u = ((p >> b) << (b+1)) | (p mod 2**b)`` and ``v = u + 2**b`` and its block
``[[a, b], [c, d]]`` maps ``(x_u, x_v)`` to ``(a x_u + b x_v, c x_u + d x_v)``.
A width-1 network therefore visits the bits in the Benes order
``L-1, ..., 1, 0, 0, 1, ..., L-1``.

All constructors are vectorized over the pairs of a stage: the Python loops
run over stages (``O(L)``) or recursion levels, never over the ``N``
positions.

Notation used in the comments: a position's bits are ``x_{L-1} ... x_1 x_0``;
``bit(u, j)`` is ``(u >> j) & 1``.
"""

import operator

import numpy as np

__all__ = [
    "INITS",
    "dft_twiddles",
    "hadamard_twiddles",
    "identity_twiddles",
    "permutation_twiddles",
    "random_twiddles",
    "route_permutation",
]

INITS = ("ortho", "normal", "identity")

# The two permutation blocks, indexed by "is it a swap".
_IDENTITY_BLOCK = np.array([[1.0, 0.0], [0.0, 1.0]])
_SWAP_BLOCK = np.array([[0.0, 1.0], [1.0, 0.0]])
_PERMUTATION_BLOCKS = np.stack([_IDENTITY_BLOCK, _SWAP_BLOCK])


def _check_log_size(L):
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


def _bit(u, j):
    """Bit ``j`` of every entry of the integer array ``u`` (0 or 1)."""
    return (u >> j) & 1


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
    L = _check_log_size(L)
    if isinstance(width, (bool, np.bool_)):
        raise TypeError("width must be an integer, got a bool")
    width = operator.index(width)
    if width < 1:
        raise ValueError(f"width must be >= 1, got {width}")
    tw = np.zeros((width, 2, L, 1 << (L - 1), 2, 2), dtype=dtype)
    tw[..., 0, 0] = 1
    tw[..., 1, 1] = 1
    return tw


def random_twiddles(L, width, dtype, init, rng):
    """Random twiddles of size ``2**L`` and ``width``, in ``dtype``.

    Parameters
    ----------
    L, width : int
        Log2 of the size and number of BB* blocks, both >= 1.
    dtype : numpy.dtype
        float32, float64, complex64 or complex128.
    init : {"ortho", "normal", "identity"}
        "ortho": every 2x2 block a uniformly random rotation (real) or
        Haar-random unitary (complex); "normal": i.i.d. Gaussian entries of
        variance 1/2 (for complex, 1/4 per real part); "identity": the identity.
    rng : numpy.random.RandomState
        The source of the draw.

    Returns
    -------
    twiddles : ndarray of ``dtype``, shape (width, 2, L, 2**(L-1), 2, 2)
    """
    shape = (width, 2, L, 1 << (L - 1))
    complex_ = dtype.kind == "c"
    if init == "identity":
        tw = identity_twiddles(L, width, dtype)
    elif init == "normal":
        if complex_:
            g = rng.standard_normal(shape + (2, 2, 2)) * 0.5
            tw = g[..., 0] + 1j * g[..., 1]
        else:
            tw = rng.standard_normal(shape + (2, 2)) * np.sqrt(0.5)
    elif complex_:
        # Haar unitary: e^{i phi} [[alpha, -conj(beta)], [beta, conj(alpha)]]
        # with (alpha, beta) uniform on the unit sphere of C^2
        g = rng.standard_normal(shape + (4,))
        g /= np.linalg.norm(g, axis=-1, keepdims=True)
        alpha = g[..., 0] + 1j * g[..., 1]
        beta = g[..., 2] + 1j * g[..., 3]
        phase = np.exp(1j * rng.uniform(0.0, 2 * np.pi, size=shape))
        tw = np.empty(shape + (2, 2), dtype=np.complex128)
        tw[..., 0, 0] = phase * alpha
        tw[..., 0, 1] = -phase * np.conj(beta)
        tw[..., 1, 0] = phase * beta
        tw[..., 1, 1] = phase * np.conj(alpha)
    else:
        # rotations, drawn and written a block of stages at a time straight
        # into the result's dtype: the same numbers as one draw of every
        # angle (the generator's stream is sequential), at ~1x the
        # result's memory instead of ~4.5x
        tw = np.empty(shape + (2, 2), dtype=dtype)
        flat = tw.reshape(-1, 2, 2)
        step = 1 << 20
        for start in range(0, flat.shape[0], step):
            theta = rng.uniform(0.0, 2 * np.pi, size=min(step, flat.shape[0] - start))
            block = flat[start:start + theta.size]
            c, s = np.cos(theta), np.sin(theta)
            block[:, 0, 0] = c
            block[:, 1, 1] = c
            block[:, 1, 0] = s
            np.negative(s, out=s)
            block[:, 0, 1] = s
        return tw
    return tw.astype(dtype, copy=False)


def hadamard_twiddles(L):
    """Twiddles of the Sylvester-Hadamard matrix ``scipy.linalg.hadamard(2**L)``.

    ``H_N = H_2 (x) H_2 (x) ... (x) H_2`` with ``H_2 = [[1, 1], [1, -1]]``,
    and the factors of a Kronecker product, each acting on its own index bit,
    commute. So the B* half applies ``H_2`` on every bit and the B half is
    the identity. All entries are 0 or +-1, so the product is exact.

    Parameters
    ----------
    L : int
        Log2 of the size, ``L >= 1``.

    Returns
    -------
    twiddles : ndarray of float64, shape (1, 2, L, 2**(L-1), 2, 2)
    """
    tw = identity_twiddles(L)
    tw[0, 0] = [[1.0, 1.0], [1.0, -1.0]]
    return tw


def _roots_of_unity(K, n):
    """``exp(-2i pi K / n)`` for an integer array ``K``, ``n`` a power of two.

    Computed from the first octant only, so that the quarter turns are
    exactly 1, -i, -1, i and symmetric roots (e.g. the two parts of the
    eighth roots) are exactly equal, as in FFT libraries.
    """
    K = np.asarray(K) % n
    if n < 4:
        return np.where(K == 0, 1.0 + 0j, -1.0 + 0j)
    quarter = n // 4
    quadrant, r = np.divmod(K, quarter)  # K = quadrant * n/4 + r
    # Angle r/n of a turn lies in [0, 1/4); above 1/8 use the complementary
    # angle g = n/4 - r: exp(-2i pi r/n) = -i * conj(exp(-2i pi g/n)).
    upper = 2 * r > quarter
    g = np.where(upper, quarter - r, r)
    angle = (2 * np.pi / n) * g
    re, im = np.cos(angle), -np.sin(angle)
    re, im = np.where(upper, -im, re), np.where(upper, -re, im)
    # Multiply by (-i)**quadrant, exactly: (re, im) -> (im, -re) per step.
    out_re = np.choose(quadrant, [re, im, -re, -im])
    out_im = np.choose(quadrant, [im, -re, -im, re])
    # Adding +0.0 turns the -0.0 the negations may produce into +0.0.
    return (out_re + 0.0) + 1j * (out_im + 0.0)


def dft_twiddles(L):
    """Twiddles of the unnormalized DFT matrix, ``F[j, k] = exp(-2i pi jk/N)``.

    The result has width 1: ``F_N`` is in BB* exactly (up to rounding of the
    twiddle factors), without a separate bit-reversal permutation.

    Parameters
    ----------
    L : int
        Log2 of the size ``N = 2**L``, ``L >= 1``.

    Returns
    -------
    twiddles : ndarray of complex128, shape (1, 2, L, 2**(L-1), 2, 2)

    Notes
    -----
    Write the input index as bits ``n_{L-1} ... n_0`` and the output index
    as ``k_{L-1} ... k_0``, and ``K_t = k_0 + 2 k_1 + ... + 2**t k_t``. Since
    ``2**j k mod N`` only depends on ``K_{L-1-j}``,

    ``exp(-2i pi nk/N) = prod_t (-1)**(n_j k_t) * theta_t**n_j``,
    ``j = L-1-t``,  ``theta_t = exp(-2i pi K_{t-1} / 2**(t+1))``,

    so the DFT is ``L`` steps; step ``t`` sums out ``n_{L-1-t}`` and
    produces ``k_t`` with the 2x2 block ``[[1, theta_t], [1, -theta_t]]``
    (rows: ``k_t``, columns: ``n_{L-1-t}``), ``theta_t`` depending on the
    ``k_i, i < t``, made earlier. This is the usual FFT; done in place it
    leaves ``k_t`` at bit position ``L-1-t`` (bit reversal), which one half
    of a Benes network cannot undo. Width 1 suffices all the same: pair
    position ``a = L-1-t`` with ``b = t`` for ``t < L/2``, and

    * B* half, stage on bit ``a`` (step ``t``): sum out ``n_a`` and store
      ``k_t XOR n_b`` at position ``a`` -- the FFT block with its rows
      swapped when ``bit b = n_b`` is 1;
    * B* half, stage on bit ``b``: replace ``n_b`` by
      ``n_b XOR (k_t XOR n_b) = k_t`` -- a swap when ``bit a`` is 1;
    * B half, stage on bit ``b``: identity;
    * B half, stage on bit ``a`` (step ``L-1-t``): position ``a`` holds
      ``k_t XOR n_t`` and position ``b`` holds ``k_t``, so this sums out
      ``n_t`` -- the FFT block with its columns swapped when ``bit b`` is
      1 -- and produces ``k_{L-1-t}`` in place.

    For odd ``L`` the middle bit ``c = (L-1)/2`` is plain step ``c``, done in
    the B* half. The steps run in the FFT's order ``t = 0, 1, ..., L-1`` (B*
    stage ``t`` for ``t < L/2``, B stage ``t`` after), which is all the
    factorization needs, and ``theta_t`` is read from the context bits:
    ``k_i = bit(L-1-i) XOR bit(i)`` in the B* half and ``K_{t-1}`` = the
    bits below ``t`` in the B half.
    """
    L = _check_log_size(L)
    half_n = 1 << (L - 1)
    tw = np.zeros((1, 2, L, half_n, 2, 2), dtype=np.complex128)
    n_pairs = L // 2  # number of (a, b) bit pairs; a middle bit if L is odd

    def butterfly(theta):
        """Blocks [[1, theta], [1, -theta]], one per pair."""
        blocks = np.empty((half_n, 2, 2), dtype=np.complex128)
        blocks[:, :, 0] = 1.0
        blocks[:, 0, 1] = theta
        blocks[:, 1, 1] = -theta
        return blocks

    def twiddle(K, t):
        """theta_t = exp(-2i pi K / 2**(t+1)), for integer arrays K < 2**t."""
        return _roots_of_unity(K, 1 << (t + 1))

    # B* half (h = 0): stage k mixes bit L-1-k.
    for k in range(L):
        a = L - 1 - k
        u = lower_positions(L, a)
        if k <= L - 1 - k:
            # Step t = k on position a = L-1-t (>= t). K_{t-1} from the
            # already-made k_i = bit(L-1-i) XOR bit(i), i < t.
            t = k
            K = np.zeros(half_n, dtype=np.intp)
            for i in range(t):
                K |= (_bit(u, L - 1 - i) ^ _bit(u, i)) << i
            blocks = butterfly(twiddle(K, t))
            if t < L - 1 - t:
                # Store k_t XOR n_t: swap the output rows where n_t = 1.
                flip = _bit(u, t).astype(bool)
                blocks[flip] = blocks[flip][:, ::-1, :]
            tw[0, 0, k] = blocks
        else:
            # Position b = a < L/2, partner bit L-1-b = k holding
            # k_b XOR n_b: turn n_b into k_b, a swap where that bit is 1.
            tw[0, 0, k] = _PERMUTATION_BLOCKS[_bit(u, k)]

    # B half (h = 1): stage k mixes bit k.
    for k in range(L):
        u = lower_positions(L, k)
        if k < L - n_pairs:
            # Bits b < L/2 (already k_b) and the middle bit: nothing to do.
            tw[0, 1, k] = _IDENTITY_BLOCK
            continue
        # Step t = k on position k, summing out n_{L-1-k}, which is stored
        # as k_{L-1-k} XOR n_{L-1-k}. Every bit below k holds k_i by now,
        # so K_{k-1} is just the low bits of the position.
        t = k
        b = L - 1 - k
        K = u & ((1 << t) - 1)
        blocks = butterfly(twiddle(K, t))
        # Input value is n_b XOR k_b: swap the columns where k_b = 1.
        flip = _bit(u, b).astype(bool)
        blocks[flip] = blocks[flip][:, :, ::-1]
        tw[0, 1, k] = blocks
    return tw


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
    N = P.size
    tw = np.empty((1, 2, L, N // 2, 2, 2), dtype=np.float64)
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
        tw[0, 0, d] = _PERMUTATION_BLOCKS[colour[u]]
        # Output switch: output u takes P[u] from the half of its colour.
        tw[0, 1, b] = _PERMUTATION_BLOCKS[colour[P[u]]]

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
