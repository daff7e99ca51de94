"""Slow, independent reference for kmatrix's K-matrices.

Everything here is plain NumPy on dense matrices and follows the twiddle
layout documented in ``kmatrix/_kmatrix.py`` literally, stage by stage, so
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


def expanded_columns(twiddles, n_cols):
    """The first ``n_cols`` columns of E, stage by stage.

    Each stage maps rows ``(u, v)`` of the partial product to ``(a E[u] +
    b E[v], c E[u] + d E[v])`` with ``u``, ``v`` and ``[[a, b], [c, d]]``
    exactly as ``stage_matrix`` places them, so the result is
    ``dense_expanded(twiddles)[:, :n_cols]`` without the N x N products
    (it is checked against ``dense_kmatrix`` in the tests).
    """
    width, two, L, half_n = twiddles.shape[:4]
    assert two == 2 and twiddles.shape[4:] == (2, 2)
    N = 2 * half_n
    assert N == 1 << L
    E = np.eye(N, n_cols, dtype=twiddles.dtype)
    p = np.arange(half_n)
    for i in range(width):
        for h in range(2):
            for k in range(L):
                bit = stage_bit(L, h, k)
                s = 1 << bit
                u = ((p >> bit) << (bit + 1)) | (p & (s - 1))
                v = u + s
                blocks = twiddles[i, h, k]
                a, b = blocks[:, 0, 0, None], blocks[:, 0, 1, None]
                c, d = blocks[:, 1, 0, None], blocks[:, 1, 1, None]
                Eu, Ev = E[u], E[v]
                E[u], E[v] = a * Eu + b * Ev, c * Eu + d * Ev
    return E


def dense_operator(twiddles, n_in, n_out, trans="N", real_part=False):
    """The matrix of op(K) for a K-matrix of these twiddles and shape
    (n_out, n_in): K for "N", K^T for "T", K^H for "H"; with ``real_part``
    (complex twiddles) the real part Re(K), whose adjoint is its transpose.
    Plain NumPy in the twiddles' precision."""
    M = expanded_columns(twiddles, n_in)[:n_out]
    if real_part:
        M = M.real
    if trans == "T":
        return M.T
    if trans == "H":
        return M.conj().T
    return M
