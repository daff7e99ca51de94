"""Twiddles built from scratch: random, Hadamard and DFT networks.

The structured matrices (all but the random ones) are exactly K-matrices of
width 1. Every function returns a twiddle array in the layout of
:mod:`kmatrix._core.layout`.

All constructors are vectorized over the pairs of a stage: the Python loops
run over stages (``O(L)``) or recursion levels, never over the ``N``
positions.

Notation used in the comments: a position's bits are ``x_{L-1} ... x_1 x_0``;
``bit(u, j)`` is ``(u >> j) & 1``.
"""

import numpy as np
from sklearn.utils import check_random_state

from .._core.algebra import size_for
from .._core.layout import Network, check_log_size, identity_twiddles, lower_positions
from .._core.validation import check_dtype, check_int, check_network_size, log2_exact
from .permutations import PERMUTATION_BLOCKS

__all__ = ["INITS", "dft_twiddles", "hadamard_network", "hadamard_twiddles", "identity_network",
           "random_network", "random_twiddles"]

INITS = ("ortho", "normal", "identity")


def _bit(u, j):
    """Bit ``j`` of every entry of the integer array ``u`` (0 or 1)."""
    return (u >> j) & 1


# blocks drawn at a time by random_twiddles
_CHUNK = 1 << 18


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
    if init == "identity":
        return identity_twiddles(L, width, dtype)
    # drawn and written a chunk of blocks at a time straight into the
    # result's dtype: the same numbers as one draw of the whole (the
    # generator's stream is sequential), at ~1x the result's memory
    tw = np.empty(shape + (2, 2), dtype=dtype)
    flat = tw.reshape(-1, 2, 2)
    chunks = [flat[start:start + _CHUNK] for start in range(0, flat.shape[0], _CHUNK)]
    complex_ = dtype.kind == "c"
    if init == "normal":
        for block in chunks:
            if complex_:
                g = rng.standard_normal(block.shape + (2,)) * 0.5
                block.real, block.imag = g[..., 0], g[..., 1]
            else:
                block[...] = rng.standard_normal(block.shape) * np.sqrt(0.5)
    elif complex_:
        # Haar unitary: e^{i phi} [[alpha, -conj(beta)], [beta, conj(alpha)]]
        # with (alpha, beta) uniform on the unit sphere of C^2: every
        # (alpha, beta) is drawn before the phases, parked in column 0
        for block in chunks:
            g = rng.standard_normal((block.shape[0], 4))
            g /= np.linalg.norm(g, axis=-1, keepdims=True)
            block[:, 0, 0] = g[:, 0] + 1j * g[:, 1]
            block[:, 1, 0] = g[:, 2] + 1j * g[:, 3]
        for block in chunks:
            phase = np.exp(1j * rng.uniform(0.0, 2 * np.pi, size=block.shape[0]))
            alpha, beta = block[:, 0, 0].copy(), block[:, 1, 0].copy()
            block[:, 0, 0] = phase * alpha
            block[:, 0, 1] = -phase * np.conj(beta)
            block[:, 1, 0] = phase * beta
            block[:, 1, 1] = phase * np.conj(alpha)
    else:
        for block in chunks:   # rotations
            theta = rng.uniform(0.0, 2 * np.pi, size=block.shape[0])
            c, s = np.cos(theta), np.sin(theta)
            block[:, 0, 0] = c
            block[:, 1, 1] = c
            block[:, 1, 0] = s
            np.negative(s, out=s)
            block[:, 0, 1] = s
    return tw


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
    L = check_log_size(L)
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
            tw[0, 0, k] = PERMUTATION_BLOCKS[_bit(u, k)]

    # B half (h = 1): stage k mixes bit k.
    for k in range(L):
        u = lower_positions(L, k)
        if k < L - n_pairs:
            # Bits b < L/2 (already k_b) and the middle bit: nothing to do.
            tw[0, 1, k] = PERMUTATION_BLOCKS[0]
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


# ------------------------------------------------- the KMatrix constructors --
def random_network(n_rows, n_cols, width, expansion, dtype, init, random_state):
    """The checked arguments of ``KMatrix.random`` and its random twiddles."""
    n_rows = check_int(n_rows, "n_rows")
    n_cols = n_rows if n_cols is None else check_int(n_cols, "n_cols")
    width = check_int(width, "width")
    expansion = check_int(expansion, "expansion")
    dtype = check_dtype(dtype)
    if init not in INITS:
        raise ValueError(f"init must be one of {INITS}, got {init!r}")
    N = size_for(n_cols, n_rows, expansion)
    check_network_size(N, width, dtype, f"KMatrix.random({n_rows}, {n_cols}, width={width}, "
                                        f"expansion={expansion})")
    rng = check_random_state(random_state)
    tw = random_twiddles(N.bit_length() - 1, width, dtype, init, rng)
    return Network(tw, (n_rows, n_cols), expansion)


def identity_network(n, dtype):
    """The n x n identity, width 1."""
    n = check_int(n, "n")
    dtype = check_dtype(dtype)
    N = size_for(n, n, 1)
    check_network_size(N, 1, dtype, f"KMatrix.identity({n})")
    return Network(identity_twiddles(N.bit_length() - 1, 1, dtype), (n, n))


def hadamard_network(n, dtype):
    """The Sylvester Hadamard matrix of a power-of-two order n, width 1."""
    L = max(1, log2_exact(n))
    dtype = check_dtype(dtype)
    check_network_size(1 << L, 1, dtype, f"KMatrix.hadamard({n})")
    return Network(hadamard_twiddles(L).astype(dtype, copy=False), (n, n))
