"""Slow, independent reference for kaleido's K-matrices.

Everything here is plain NumPy on dense matrices and follows the twiddle
layout documented in ``kaleido/_kmatrix.py`` literally, stage by stage, so
that the compiled kernels are checked against a second, obvious reading of the
same definition.
"""

import numpy as np


def stage_bit(L, half, k):
    """Index bit mixed by stage ``k`` of half ``half`` (0: B*, 1: B)."""
    return L - 1 - k if half == 0 else k


def stage_matrix(blocks, bit, N):
    """Dense N x N butterfly factor matrix from its N/2 2x2 blocks."""
    s = 1 << bit
    F = np.zeros((N, N), dtype=blocks.dtype)
    for p in range(N // 2):
        u = ((p >> bit) << (bit + 1)) | (p & (s - 1))
        v = u + s
        (a, b), (c, d) = blocks[p]
        F[u, u], F[u, v], F[v, u], F[v, v] = a, b, c, d
    return F


def dense_expanded(twiddles):
    """The N x N matrix E = product of every stage (first stage rightmost)."""
    width, two, L, half_n = twiddles.shape[:4]
    assert two == 2 and twiddles.shape[4:] == (2, 2)
    N = 2 * half_n
    assert N == 1 << L
    E = np.eye(N, dtype=twiddles.dtype)
    for i in range(width):
        for h in range(2):
            for k in range(L):
                E = stage_matrix(twiddles[i, h, k], stage_bit(L, h, k), N) @ E
    return E


def dense_kmatrix(twiddles, n_in, n_out):
    """The (n_out, n_in) matrix of a K-matrix: top-left corner of E."""
    return dense_expanded(twiddles)[:n_out, :n_in]


def apply_stages(twiddles, x):
    """E @ x for x of shape (N, ...), one stage at a time, vectorized.

    For a stage on bit b, viewing x as (N / 2**(b+1), 2, 2**b, ...) puts the
    pair's lower position u at [hi, 0, lo] and its upper v = u + 2**b at
    [hi, 1, lo], with pair index p = hi * 2**b + lo.
    """
    width, _, L, half_n = twiddles.shape[:4]
    N = 2 * half_n
    rest = x.shape[1:]
    y = np.array(x, dtype=np.result_type(twiddles, x))
    for i in range(width):
        for h in range(2):
            for k in range(L):
                b = L - 1 - k if h == 0 else k
                s = 1 << b
                blocks = twiddles[i, h, k].reshape(N // (2 * s), s, 2, 2)
                blocks = blocks.reshape(blocks.shape + (1,) * len(rest))
                view = y.reshape((N // (2 * s), 2, s) + rest)
                lower, upper = view[:, 0], view[:, 1]
                a, bb = blocks[:, :, 0, 0], blocks[:, :, 0, 1]
                c, d = blocks[:, :, 1, 0], blocks[:, :, 1, 1]
                view[:, 0], view[:, 1] = (a * lower + bb * upper,
                                          c * lower + d * upper)
    return y
