"""Hierarchical butterfly factorization: a matrix as L butterfly stages.

A butterfly whose stages mix the index bits ``bits[0], bits[1], ...,
bits[L-1]`` (applied in that order) is ``M = S_{L-1} ... S_1 S_0``. Peeling
the last stage: ``R = S_{L-2} ... S_0`` never mixes bit ``b = bits[L-1]``, so
``R[i, j] = 0`` unless i and j agree on bit b, and for the two rows u, v = u +
2^b that the last stage pairs,

    [M[u, J0]; M[v, J0]] = [a; c] R[u, J0]   (columns J0 with bit b = 0)
    [M[u, J1]; M[v, J1]] = [b; d] R[v, J1]   (columns J1 with bit b = 1)

are rank one. Their best rank-one approximations (the top eigenvector p of
the 2 x 2 Gram matrix, then ``p^H A``) give the stage's 2x2 blocks and the
two halves of R, two independent butterflies on the remaining bits; they are
peeled the same way, all blocks of a level at once (batched NumPy). After L
levels R is diagonal and is folded into the first stage. Every level costs
O(N^2) and halves the work of the next: O(N^2) in all. A matrix that is such
a butterfly is recovered to rounding; otherwise every split is a best
rank-one fit (a greedy approximation, a starting point for gradient fits).

This is the rank-one splitting idea of the hierarchical butterfly
factorization of Q.-T. Le, L. Zheng, E. Riccietti, R. Gribonval (ICASSP 2022;
SIAM J. Math. Data Sci. 2023), here peeling one stage per level.
"""

import numpy as np

from .._core.config import single_blas_thread
from .._core.layout import identity_twiddles, lower_positions, pair_index

__all__ = ["GiveUp", "analytic_completion", "bit_permutations", "bit_reversed_twiddles",
           "factor_butterfly", "factor_kmatrix", "half_bits", "half_butterfly_twiddles",
           "recurrence_fit"]


class GiveUp(Exception):
    """A factorization stopped early: the energy its levels left out passed
    the caller's budget (``give_up``), so its fit could not be close."""


def _top_vectors(X):
    """For stacked 2 x m matrices X: unit p (top left singular vector), p^H X."""
    gram = X @ np.conjugate(np.swapaxes(X, -1, -2))
    _, vecs = np.linalg.eigh(gram)
    p = vecs[..., :, 1]  # eigenvalues ascending: the last is the largest
    r = np.einsum("...i,...ij->...j", np.conjugate(p), X)
    return p, r


def _level_blocks(A, row_bit, column_bit):
    """The 2 x (n/2) blocks one level splits the blocks A (G, n, n) into:
    rows paired on local bit ``row_bit``, columns split on local bit
    ``column_bit``. Returns [J0, J1], each (G, hi, lo, 2, n/2): for every
    row pair (hi, lo) its two rows on the columns whose bit is 0 (J0) or 1
    (J1), the remaining column bits in their local order."""
    G, n = A.shape[0], A.shape[1]
    lo, lo_c = 1 << row_bit, 1 << column_bit
    hi, hi_c = n // (2 * lo), n // (2 * lo_c)
    A7 = A.reshape(G, hi, 2, lo, hi_c, 2, lo_c)
    return [A7[:, :, :, :, :, s, :].transpose(0, 1, 3, 2, 4, 5).reshape(G, hi, lo, 2, -1)
            for s in (0, 1)]


def _next_blocks(r0, r1):
    """The next level's blocks (2G, n/2, n/2) from the rank-one rows r0, r1
    (G, hi, lo, n/2) of a level: the two halves of R become blocks 2g (bit
    0) and 2g + 1, rows in (hi, lo) order."""
    G, m = r0.shape[0], r0.shape[-1]
    return np.stack([r0.reshape(G, m, m), r1.reshape(G, m, m)], axis=1).reshape(2 * G, m, m)


def _split_losses(A, row_bit, column_bits):
    """For rows paired on local bit ``row_bit`` of the blocks A (G, n, n):
    the energy the level's best rank-one splits leave out (the sum of the
    second singular values squared of the 2 x (n/2) blocks) when the
    columns are split on each local bit of ``column_bits``. One pass of
    products, then every column bit's half sums at once, as a product with
    the 0/1 matrix of the columns' bits (called on one BLAS thread: sums
    that do not depend on the thread count; a Gaussian n = 1024 searched its
    bit orders in 0.3 s this way, 2.1 s with a reduction per bit)."""
    G, n = A.shape[0], A.shape[1]
    lo = 1 << row_bit
    A5 = A.reshape(G, n // (2 * lo), 2, lo, n)
    u, v = A5[:, :, 0], A5[:, :, 1]          # the paired rows (G, hi, lo, n)
    column = np.arange(n)
    # column j of W: the columns whose bit c is s, for (c, s) in order
    W = np.stack([((column >> c) & 1) == s for c in column_bits for s in (0, 1)],
                 axis=1).astype(np.float64)
    a, d = ((np.abs(x) ** 2).reshape(-1, n) @ W for x in (u, v))
    b = (u * np.conjugate(v)).reshape(-1, n)
    b = b.real @ W + 1j * (b.imag @ W) if b.dtype.kind == "c" else b @ W
    top = (a + d) / 2 + np.sqrt(((a - d) / 2) ** 2 + np.abs(b) ** 2)
    lost = np.maximum(a + d - top, 0.0).sum(axis=0)
    return [float(lost[2 * i] + lost[2 * i + 1]) for i in range(len(column_bits))]


def bit_permutations(M, bits, rows=False, columns=True, give_up=None):
    """Row and column orders under which M is closest to a butterfly: the
    index-bit permutations (the bit reversal, the even/odd split of any
    level, the perfect shuffle, and all their compositions), found greedily
    level by level.

    :func:`factor_butterfly` peels the stage of bit ``bits[L-1]`` first,
    pairing rows and splitting columns on that bit. Here each level instead
    tries every remaining row bit (with ``rows``) and every remaining column
    bit (with ``columns``) and keeps the pair whose rank-one splits leave
    out the least energy; ties keep the bit itself. A butterfly whose rows
    and columns were reordered by bit permutations is unscrambled exactly;
    each level costs O(N^2) per pair tried (at most L^2 pairs, L with one
    side free).

    Returns
    -------
    row_order, col_order : ndarray of int64 of shape (N,)
        ``M[row_order][:, col_order]`` is to be fitted by
        ``factor_butterfly(., bits)``; identity orders for a side not free.

    Raises
    ------
    GiveUp
        When ``give_up`` (a squared Frobenius norm) is given and the levels'
        best splits have left out more energy than that.
    """
    M = np.asarray(M)
    N = M.shape[0]
    L = N.bit_length() - 1
    A = M.astype(np.result_type(M.dtype, np.float64))[np.newaxis]
    energy = float(np.vdot(A, A).real)
    row_free, col_free = list(range(L)), list(range(L))   # bits of M, in local order
    row_of, col_of = {}, {}                                  # stage bit -> bit of M
    lost_total = 0.0
    with single_blas_thread():   # the split losses' products
        for k in range(L - 1, -1, -1):
            b = bits[k]
            # the bit itself first (when still free), so that a tie keeps it
            row_choices = sorted(row_free, key=lambda c: c != b) if rows else [b]
            col_choices = sorted(col_free, key=lambda c: c != b) if columns else [b]
            best = None
            for rb in row_choices:
                losses = _split_losses(A, row_free.index(rb),
                                       [col_free.index(c) for c in col_choices])
                for cb, lost in zip(col_choices, losses):
                    if best is None or lost < best[0] - 1e-13 * energy:
                        best = (lost, rb, cb)
            lost, rb, cb = best
            lost_total += lost
            if give_up is not None and lost_total > give_up:
                raise GiveUp
            halves = _level_blocks(A, row_free.index(rb), col_free.index(cb))
            A = _next_blocks(_top_vectors(halves[0])[1], _top_vectors(halves[1])[1])
            row_of[b], col_of[b] = rb, cb
            row_free.remove(rb)
            col_free.remove(cb)
    index = np.arange(N, dtype=np.int64)
    orders = []
    for of in (row_of, col_of):
        order = np.zeros(N, dtype=np.int64)
        for b, c in of.items():
            order |= ((index >> b) & 1) << c
        orders.append(order)
    return orders[0], orders[1]


def factor_butterfly(M, bits, residuals=None, give_up=None):
    """Stage blocks of the butterfly closest (greedily) to M.

    Parameters
    ----------
    M : ndarray of shape (N, N), N = 2**L
    bits : sequence of the L distinct bits, in application order
    residuals : list or None
        If given, receives the squared Frobenius norm each level's rank-one
        splits leave out (the pairs' second singular values), from the last
        stage peeled to the first: where M departs from the structure.
    give_up : float or None
        A squared Frobenius norm: once the levels have left out more, stop
        (the fit's error would be above its square root).

    Returns
    -------
    stages : ndarray of shape (L, N // 2, 2, 2)
        stages[k] mixes bits[k], in the pair layout of KMatrix.twiddles.

    Raises
    ------
    GiveUp
        See ``give_up``.
    """
    M = np.asarray(M)
    N = M.shape[0]
    L = N.bit_length() - 1
    if M.shape != (N, N) or N != 1 << L or L < 1:
        raise ValueError(f"M must be square with a power-of-two size, got {M.shape}")
    if sorted(bits) != list(range(L)):
        raise ValueError(f"bits must be a permutation of range({L}), got {bits!r}")
    dtype = np.result_type(M.dtype, np.float64)
    stages = np.zeros((L, N // 2, 2, 2), dtype=dtype)
    A = M.astype(dtype)[np.newaxis]         # blocks (G, n, n)
    fixed = np.zeros(1, dtype=np.int64)     # value of the peeled bits of each block
    remaining = list(range(L))              # free bits, ascending = local index bits
    lost = 0.0
    for k in range(L - 1, -1, -1):
        b = bits[k]
        beta = remaining.index(b)
        n = A.shape[1]
        lo = 1 << beta
        hi = n // (2 * lo)
        halves = _level_blocks(A, beta, beta)
        (p0, r0), (p1, r1) = _top_vectors(halves[0]), _top_vectors(halves[1])
        if residuals is not None or give_up is not None:
            kept = sum(float(np.vdot(r, r).real) for r in (r0, r1))
            total = sum(float(np.vdot(h, h).real) for h in halves)
            lost += max(total - kept, 0.0)
            if residuals is not None:
                residuals.append(max(total - kept, 0.0))
            if give_up is not None and lost > give_up:
                raise GiveUp
        # global lower positions u of the pairs (G, hi, lo)
        local = (np.arange(hi)[:, None] * (2 * lo) + np.arange(lo)[None, :]).ravel()
        pos = np.zeros(local.size, dtype=np.int64)
        for i, bit in enumerate(remaining):
            pos |= ((local >> i) & 1) << bit
        u = (fixed[:, None] + pos[None, :]).ravel()
        pair = pair_index(u, b)
        stages[k, pair, :, 0] = p0.reshape(-1, 2)
        stages[k, pair, :, 1] = p1.reshape(-1, 2)
        A = _next_blocks(r0, r1)
        fixed = np.stack([fixed, fixed | (1 << b)], axis=1).ravel()
        remaining.remove(b)
    # R is now diagonal: R[j, j] = A[g] at position fixed[g]; scale the
    # columns of the first stage by it
    diag = np.empty(N, dtype=dtype)
    diag[fixed] = A[:, 0, 0]
    b = bits[0]
    u = lower_positions(L, b)
    stages[0, :, :, 0] *= diag[u][:, None]
    stages[0, :, :, 1] *= diag[u + (1 << b)][:, None]
    return stages


def half_bits(L, half):
    """The bits a half of a width-1 network mixes, in application order
    (0: the B* half, L-1..0; 1: the B half, 0..L-1)."""
    return list(range(L)) if half == 1 else list(range(L - 1, -1, -1))


def half_butterfly_twiddles(M, half=1, residuals=None, give_up=None):
    """Twiddles (1, 2, L, N // 2, 2, 2) of a width-1 K-matrix whose ``half``
    (0: the B* half, bits L-1..0; 1: the B half, bits 0..L-1) fits M and whose
    other half is the identity (``residuals``, ``give_up`` as for
    :func:`factor_butterfly`)."""
    N = np.asarray(M).shape[0]
    L = N.bit_length() - 1
    stages = factor_butterfly(M, half_bits(L, half), residuals, give_up)
    tw = identity_twiddles(L, 1, stages.dtype)
    tw[0, half] = stages
    return tw


def _bit_of(u, j):
    return (u >> j) & 1


def bit_reversed_twiddles(stages):
    """Width-1 twiddles of ``P_br S_{L-1} ... S_0``, P_br the bit reversal.

    ``stages`` (L, N // 2, 2, 2) is a butterfly whose stage s mixes bit
    ``L-1-s`` (the order of the B* half, as returned by
    ``factor_butterfly(M, range(L)[::-1])``); its blocks may be arbitrary.
    Run in place, it leaves the output of step s at bit position ``L-1-s``,
    and the bit reversal that follows is a full Benes permutation, not one
    half of BB*. Width 1 suffices all the same, by relabelling bits with
    XORs (as :func:`kmatrix._constructors.dft_twiddles` does for the FFT):
    pair the positions ``a = L-1-t`` and ``b = t`` for ``t < L // 2``;

    * B* half, stage on ``a`` (step t): the original block, rows swapped
      when bit ``b`` is 1, leaving ``k_t XOR n_b`` at ``a``;
    * B* half, stage on ``b``: a swap when bit ``a`` is 1, so ``b`` holds
      ``k_t``; the middle bit of an odd L is its own step, in place;
    * B half, stage on ``a`` (step ``L-1-t``): the original block, columns
      swapped when bit ``b`` is 1 (the input bit it sums out is ``n_t =
      bit a XOR bit b``); it leaves ``k_{L-1-t}`` at ``a``. Stages on ``b``
      and the middle bit are the identity.

    Every block may depend on the other bits (its context); the original
    context of each step is read back from the relabelled bits.
    """
    stages = np.asarray(stages)
    L, half_n = stages.shape[:2]
    tw = identity_twiddles(L, 1, stages.dtype)
    rows = np.arange(2)
    P = L // 2

    def orig_block(s, orig_u):
        q = L - 1 - s
        return stages[s, pair_index(orig_u, q)]

    # B* half: stage k mixes bit L-1-k
    for k in range(L):
        p = L - 1 - k
        u = lower_positions(L, p)
        if p >= L - P:  # a = a_t, step t
            t = L - 1 - p
            orig_u = u.copy()
            for t2 in range(t):  # processed a-positions hold k XOR n_b
                orig_u ^= _bit_of(u, t2) << (L - 1 - t2)
            blocks = orig_block(t, orig_u)
            swap = _bit_of(u, t)[:, None]
            tw[0, 0, k] = blocks[np.arange(half_n)[:, None], rows[None, :] ^ swap]
        elif p == P and L % 2 == 1:  # the middle bit: step P, in place
            orig_u = u.copy()
            for t2 in range(P):
                orig_u ^= _bit_of(u, t2) << (L - 1 - t2)
            tw[0, 0, k] = orig_block(P, orig_u)
        else:  # b = b_t: swap when bit a is 1
            a_bit = _bit_of(u, L - 1 - p)
            blk = np.zeros((half_n, 2, 2), dtype=stages.dtype)
            blk[:, 0, 0] = blk[:, 1, 1] = 1 - a_bit
            blk[:, 0, 1] = blk[:, 1, 0] = a_bit
            tw[0, 0, k] = blk
    # B half: stage k mixes bit k; only the a-positions do work
    for k in range(L - P, L):
        t = L - 1 - k  # position a_t = k, step L-1-t
        u = lower_positions(L, k)
        orig_u = np.zeros_like(u)
        for t2 in range(P):  # original a-positions hold k_t2: now at b_t2
            orig_u |= _bit_of(u, t2) << (L - 1 - t2)
        if L % 2 == 1:
            orig_u |= _bit_of(u, P) << P
        for t2 in range(P):
            if t2 > t:  # processed: original b-position holds what a holds now
                orig_u |= _bit_of(u, L - 1 - t2) << t2
            elif t2 < t:  # unprocessed: n_t2 = bit a XOR bit b
                orig_u |= (_bit_of(u, L - 1 - t2) ^ _bit_of(u, t2)) << t2
        blocks = orig_block(L - 1 - t, orig_u)
        swap = _bit_of(u, t)[:, None]
        tw[0, 1, k] = blocks[np.arange(half_n)[:, None, None], rows[None, :, None],
                             rows[None, None, :] ^ swap[:, :, None]]
    return tw


def recurrence_fit(T):
    """Per row of T (n_rows, m >= 3), ``(p, q, misfit)``: the least-squares
    ``T[:, k + 1] = p T[:, k] - q T[:, k - 1]``, the recurrence of a sampled
    (damped) sinusoid ``Re(s x^k)`` (``p = 2 Re x``, ``q = |x|^2``), and the
    relative Frobenius misfit of all rows to it (0 for such rows, about 1
    for noise). A row with collinear columns is a real geometric sequence
    (ratio r: ``p = 2r``, ``q = r^2``)."""
    a, b, c = T[:, 2:], T[:, 1:-1], T[:, :-2]
    bb, bc, cc = (np.einsum("ij,ij->i", u, v) for u, v in ((b, b), (b, c), (c, c)))
    ab, ac = np.einsum("ij,ij->i", a, b), np.einsum("ij,ij->i", a, c)
    det = bb * cc - bc * bc
    regular = det > 1e-12 * bb * cc
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        p = np.where(regular, (ab * cc - ac * bc) / det, 0.0)
        q = np.where(regular, -(ac * bb - ab * bc) / det, 0.0)
        r = np.where(T[:, 0] != 0, T[:, 1] / T[:, 0], 0.0)
        p, q = np.where(regular, p, 2 * r), np.where(regular, q, r * r)
        residual = a - p[:, None] * b + q[:, None] * c
        misfit = np.sqrt(np.sum(np.abs(residual) ** 2) / max(np.sum(np.abs(a) ** 2), 1e-300))
    return p, q, float(misfit) if np.isfinite(misfit) else np.inf


def analytic_completion(M, N, sign):
    """A complex N x N matrix whose real part extends M: each row's analytic
    signal.

    Row i of M (length m) is extended to length 2m by its mirror image times
    ``sign`` (+1: even, -1: odd extension), and replaced by its analytic
    signal (negative frequencies of the length-2m DFT removed, positive ones
    doubled), which has the extension as its real part. A sampled cosine
    whose even (or sine whose odd) extension is periodic becomes a complex
    exponential: the rows of the DCT-II (DST-II) become rows of a DFT of size
    2m, a butterfly, so a real M whose rows are such cosines is the real part
    of a butterfly the hierarchical factorization recovers exactly. Returns
    None when 2m > N (no room for the extension).
    """
    n_out, m = M.shape
    if 2 * m > N or n_out > N:
        return None
    extended = np.concatenate([M, sign * M[:, ::-1]], axis=1)
    spectrum = np.fft.fft(extended, axis=1)
    spectrum[:, 1:m] *= 2
    spectrum[:, m + 1:] = 0
    T = np.zeros((N, N), dtype=np.result_type(M.dtype, np.complex64))
    T[:n_out, :2 * m] = np.fft.ifft(spectrum, axis=1)
    return T


def _inv2(X):
    """Inverses of stacked 2 x 2 matrices (inf/nan where singular)."""
    det = X[..., 0, 0] * X[..., 1, 1] - X[..., 0, 1] * X[..., 1, 0]
    adj = np.empty_like(X)
    adj[..., 0, 0], adj[..., 1, 1] = X[..., 1, 1], X[..., 0, 0]
    adj[..., 0, 1], adj[..., 1, 0] = -X[..., 0, 1], -X[..., 1, 0]
    return adj / det[..., None, None], np.abs(det)


def _mul2(X, Y):
    """Products of stacked 2 x 2 matrices (broadcast), without matmul's
    per-matrix overhead."""
    X0, X1 = X[..., 0, :], X[..., 1, :]
    Y0, Y1 = Y[..., :, 0], Y[..., :, 1]
    out = np.empty(np.broadcast_shapes(X.shape, Y.shape), dtype=np.result_type(X, Y))
    out[..., 0, 0] = X0[..., 0] * Y0[..., 0] + X0[..., 1] * Y0[..., 1]
    out[..., 0, 1] = X0[..., 0] * Y1[..., 0] + X0[..., 1] * Y1[..., 1]
    out[..., 1, 0] = X1[..., 0] * Y0[..., 0] + X1[..., 1] * Y0[..., 1]
    out[..., 1, 1] = X1[..., 0] * Y1[..., 0] + X1[..., 1] * Y1[..., 1]
    return out


def _top_eigenvector(gram):
    """Unit eigenvector of the largest eigenvalue of stacked 2 x 2 Gram matrices."""
    return np.linalg.eigh(gram)[1][..., :, 1]


def _row_directions(R):
    """For R (G, i, j, r, q): the unit direction of the rows R[g, :, j, r]
    (2-vectors over q), dominant over all i: (G, j, r, q)."""
    return _top_eigenvector(np.einsum("gijra,gijrb->gjrab", R, np.conjugate(R)))


def _column_directions(Q):
    """For Q (G, i, j, p, r): the unit direction of the columns Q[g, i, :, :, r]
    (2-vectors over p), dominant over all j: (G, i, p, r)."""
    return np.swapaxes(_top_eigenvector(np.einsum("gijar,gijbr->girab", Q, np.conjugate(Q))),
                       -1, -2)


def _parallel_misfit(a, b):
    """|sin| of the angle between the 2-vectors a and b (0: parallel)."""
    cross = np.abs(a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0])
    return cross / (np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1) + 1e-300)


def factor_kmatrix(M, n_candidates=4, n_refine=3, give_up=None):
    """Twiddles (1, 2, L, N // 2, 2, 2) of a width-1 K-matrix (both halves)
    equal to M when M is one in general position.

    A width-1 K-matrix is ``M = T_out diag(M_0, M_1) T_in``: the first stage
    of the B* half (T_in) and the last of the B half (T_out) mix the top
    bit, and nothing between them does, so the inner network is two
    independent width-1 K-matrices of half the size. For the row pair i
    (rows i, i + N/2) and the column pair j, the 2 x 2 block of M is
    ``E_ij = O_i diag(M_0[i, j], M_1[i, j]) I_j`` with O_i, I_j the blocks
    of T_out, T_in. Hence for any k, j, j'

        Y_i = E_ij E_kj^-1 E_kj' E_ij'^-1 = O_i Lambda O_i^-1,

    Lambda diagonal: O_i's columns are the eigenvectors of Y_i (of a few
    choices of (k, j, j') the one with the best separated eigenvalues), in
    an order matched to one reference row pair. Then, ``n_refine`` times, the
    rows of ``O_i^-1 E_ij`` are multiples of I_j's rows (their dominant
    direction over all i gives I_j) and the columns of ``E_ij I_j^-1``
    multiples of O_i's (over all j): this uses every entry and removes the
    rounding of the 2 x 2 eigenproblems. The coefficients along I_j's rows
    are M_0 and M_1, factored the same way, all blocks of a level at once;
    a level costs O(N^2) and halves the next: O(N^2) in all. At size 2 the
    block goes to the B half. A matrix that is not such a product (or is
    degenerate: a Hadamard matrix, whose blocks are all equal, defeats the
    eigenvectors; a zero-padded one has singular blocks in its padding) gets
    some finite approximation, measured by the caller. With ``give_up``
    (a squared Frobenius norm), :class:`GiveUp` is raised when the first
    level's blocks ``O_i diag(M_0, M_1) I_j`` miss M's by more than that (a
    Gaussian n = 1024 is abandoned there, in half the time of the whole
    factorization).
    """
    M = np.asarray(M)
    N = M.shape[0]
    L = N.bit_length() - 1
    if M.shape != (N, N) or N != 1 << L or L < 1:
        raise ValueError(f"M must be square with a power-of-two size, got {M.shape}")
    dtype = np.result_type(M.dtype, np.float64)
    tw = identity_twiddles(L, 1, dtype)
    A = M.astype(dtype)[np.newaxis]
    fixed = np.zeros(1, dtype=np.int64)   # value of the peeled (top) bits of each block
    with np.errstate(all="ignore"):
        for d in range(L - 1):
            b = L - 1 - d
            G, n = A.shape[:2]
            h = n // 2
            g, gi, ii = np.arange(G), np.arange(G)[:, None], np.arange(h)[None, :]
            E = A.reshape(G, 2, h, 2, h).transpose(0, 2, 4, 1, 3)   # (G, i, j, p, q)
            E_inv, det = _inv2(E)
            columns = np.argsort(-det.sum(axis=1), axis=1)            # best conditioned first
            best_sep = np.full((G, h), -1.0)
            O = np.broadcast_to(np.eye(2, dtype=dtype), (G, h, 2, 2)).copy()
            for c in range(min(n_candidates, h)):
                j1, j2 = columns[:, c], columns[:, (c + 1) % h]
                k = np.argsort(-det[g, :, j1] * det[g, :, j2], axis=1)[:, c % h]
                middle = _mul2(E_inv[g, k, j1], E[g, k, j2])[:, None]
                Y = _mul2(_mul2(E[gi, ii, j1[:, None]], middle), E_inv[gi, ii, j2[:, None]])
                ok = np.all(np.isfinite(Y), axis=(-2, -1))
                w, V = np.linalg.eig(np.where(ok[..., None, None], Y, np.eye(2)))
                sep = np.abs(w[..., 0] - w[..., 1]) / (np.abs(w[..., 0]) + np.abs(w[..., 1]))
                if dtype.kind != "c":  # a real block has real eigenvectors
                    ok &= np.all(w.imag == 0, axis=-1)
                    V = V.real
                sep = np.where(ok & np.isfinite(sep), sep, -0.5)
                better = sep > best_sep
                best_sep = np.where(better, sep, best_sep)
                O[better] = V[better]
            # order the eigenvectors alike: rows of O_i^-1 E_ij (at the best
            # column) parallel to those of a reference row pair
            R = _mul2(_inv2(O)[0][:, :, None], E)
            j1 = columns[:, 0]
            ref = R[g, np.argmax(best_sep, axis=1), j1]                # (G, r, q)
            Rj = R[gi, ii, j1[:, None]]
            keep = (_parallel_misfit(Rj[..., 0, :], ref[:, None, 0])
                    + _parallel_misfit(Rj[..., 1, :], ref[:, None, 1]))
            swap = (_parallel_misfit(Rj[..., 1, :], ref[:, None, 0])
                    + _parallel_misfit(Rj[..., 0, :], ref[:, None, 1]))
            O = np.where((swap < keep)[..., None, None], O[..., ::-1], O)
            R = _mul2(_inv2(O)[0][:, :, None], E)
            # row pairs whose eigenvectors are unreliable do not vote for I
            # until their O_i has been recomputed from I
            trusted = best_sep > 1e-6 * best_sep.max(axis=1, keepdims=True)
            R = np.where(trusted[:, :, None, None, None], R, 0)
            for _ in range(n_refine):
                # I_j's rows (unit): dominant direction of rows r of R over i
                I = _row_directions(R)                                 # (G, j, r, q)
                O = _column_directions(_mul2(E, _inv2(I)[0][:, None]))  # (G, i, p, r)
                R = _mul2(_inv2(O)[0][:, :, None], E)
            I = _row_directions(R)
            coef = np.einsum("gijrq,gjrq->grij", R, np.conjugate(I))  # M_r[i, j]
            if give_up is not None and d == 0:
                # the first level's blocks against M's own (deeper levels
                # work on coefficients, not on M's scale)
                miss = E - np.einsum("gipr,grij,gjrq->gijpq", O, coef, I)
                if not float(np.vdot(miss, miss).real) <= give_up:   # NaN too
                    raise GiveUp
            lower = (fixed[:, None] + np.arange(h)[None, :]).ravel()
            tw[0, 0, d, pair_index(lower, b)] = I.reshape(-1, 2, 2)    # B* stage on bit b
            tw[0, 1, b, pair_index(lower, b)] = O.reshape(-1, 2, 2)    # B stage on bit b
            A = coef.reshape(2 * G, h, h)
            fixed = np.stack([fixed, fixed | (1 << b)], axis=1).ravel()
    tw[0, 1, 0, pair_index(fixed, 0)] = A       # size 2: the whole block in the B half
    if not np.all(np.isfinite(tw)):
        tw[~np.isfinite(tw)] = 0
    return tw
