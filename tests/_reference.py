"""The slow, independent stage-by-stage reference every test uses.

Plain NumPy, never kmatrix's own twiddle code: it follows the documented
twiddle layout literally. ``twiddles`` has shape ``(width, 2, L, N/2, 2, 2)``;
block ``i`` is ``B_i B*_i`` (half 0, ``B*``, runs first), stage ``k`` of half
``h`` mixes index bit ``L-1-k`` (``B*``) or ``k`` (``B``), and its pair ``p``
joins positions ``u`` (bit clear) and ``v = u + 2**bit`` with the 2x2 block
``[[a, b], [c, d]]``: ``(y[u], y[v]) = (a x[u] + b x[v], c x[u] + d x[v])``.
The K-matrix of shape ``(n_out, n_in)`` is the top-left corner of the
product ``E`` of every stage (first stage rightmost).

Two readings of that definition, checked against each other once
(``tests/test_reference.py``):

- ``dense_expanded``: the dense product of every N x N stage matrix
  (``stage_matrix``), a Python loop over the pairs; O(stages N^3), small N only;
- ``apply_stages``: the stages applied one at a time to columns, vectorized
  over the pairs; O(stages N) per column, any N.

Every other test uses the second, through ``reference_apply`` (op(K) on rows)
and ``reference_matrix`` (the dense matrix of K), both in double precision.
"""

import numpy as np


def stage_bit(L, half, k):
    """Index bit mixed by stage ``k`` of half ``half`` (0: B*, 1: B)."""
    return L - 1 - k if half == 0 else k


def reference_dtype(dtype):
    """The double-precision dtype of the same kind."""
    return np.dtype(np.complex128 if np.dtype(dtype).kind == "c" else np.float64)


# ------------------------------------------ reading 1: dense stage matrices --
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
    """The N x N matrix E = product of every stage matrix (first stage rightmost)."""
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


# ------------------------------------- reading 2: stages applied one by one --
def stages(twiddles, trans="N"):
    """The stages as (bit, blocks (N/2, 2, 2)) in the order op(E) applies
    them: first to last for "N"; for "T" and "H" last to first with the
    blocks transposed (and conjugated for "H")."""
    width, two, L, half_n = twiddles.shape[:4]
    assert two == 2 and twiddles.shape[4:] == (2, 2)
    assert 2 * half_n == 1 << L
    order = [(i, h, k) for i in range(width) for h in range(2) for k in range(L)]
    if trans == "N":
        return [(stage_bit(L, h, k), twiddles[i, h, k]) for i, h, k in order]
    out = []
    for i, h, k in reversed(order):
        blocks = twiddles[i, h, k].swapaxes(-1, -2)
        out.append((stage_bit(L, h, k), np.conjugate(blocks) if trans == "H" else blocks))
    return out


def apply_stage(bit, blocks, Z):
    """One stage applied in place to the columns of Z (shape (N, ...)).

    Viewing Z as (N / 2**(bit+1), 2, 2**bit, ...) puts pair p = hi * 2**bit
    + lo's lower position u at [hi, 0, lo] and its upper v = u + 2**bit at
    [hi, 1, lo].
    """
    N = Z.shape[0]
    rest = Z.shape[1:]
    s = 1 << bit
    blocks = blocks.reshape((N // (2 * s), s, 2, 2) + (1,) * len(rest))
    view = Z.reshape((N // (2 * s), 2, s) + rest)
    lower, upper = view[:, 0].copy(), view[:, 1].copy()
    view[:, 0] = blocks[:, :, 0, 0] * lower + blocks[:, :, 0, 1] * upper
    view[:, 1] = blocks[:, :, 1, 0] * lower + blocks[:, :, 1, 1] * upper
    return Z


def apply_stages(twiddles, Z, trans="N"):
    """op(E) @ Z for Z of shape (N, ...): E, E^T ("T") or E^H ("H"), one
    stage at a time, in the precision of ``result_type(twiddles, Z)``."""
    Z = np.array(Z, dtype=np.result_type(twiddles, Z))
    for bit, blocks in stages(twiddles, trans):
        apply_stage(bit, blocks, Z)
    return Z


def expanded_matrix(twiddles, n_cols=None):
    """The first ``n_cols`` columns of E (all by default), stage by stage."""
    N = 2 * twiddles.shape[3]
    return apply_stages(twiddles, np.eye(N, N if n_cols is None else n_cols,
                                         dtype=twiddles.dtype))


def dense_operator(twiddles, n_in, n_out, trans="N", real_part=False):
    """The matrix of op(K) for a K-matrix of these twiddles and shape
    (n_out, n_in): K for "N", K^T for "T", K^H for "H"; with ``real_part``
    (complex twiddles) the real part Re(K), whose adjoint is its transpose.
    In the twiddles' own precision."""
    M = expanded_matrix(twiddles, n_in)[:n_out]
    if real_part:
        M = M.real
    if trans == "T":
        return M.T
    if trans == "H":
        return M.conj().T
    return M


# ------------------------------------------------ on KMatrix-like objects --
# (they read only the attributes twiddles, n_in, n_out, size, real_part)
def reference_matrix(K, twiddles=None):
    """The dense (n_out, n_in) matrix of K (Re(K) for a real part) in double
    precision; ``twiddles`` replaces K's (e.g. |twiddles| for error scales)."""
    tw = K.twiddles if twiddles is None else np.asarray(twiddles)
    tw = tw.astype(reference_dtype(tw.dtype))
    return dense_operator(tw, K.n_in, K.n_out, real_part=getattr(K, "real_part", False))


def reference_apply(K, X, trans="N"):
    """The rows of X times op(K)^T (op(K) applied to each row), stage by
    stage, in double precision; 1-D X gives 1-D. No dense matrix is built,
    so any N works."""
    X = np.asarray(X)
    real_part = getattr(K, "real_part", False)
    tw = K.twiddles.astype(reference_dtype(K.twiddles.dtype))
    if real_part and trans == "H":
        trans = "T"   # Re(K)^H = Re(K)^T
    out_dtype = np.result_type(reference_dtype(X.dtype),
                               np.float64 if real_part else tw.dtype)
    squeeze = X.ndim == 1
    X2 = np.atleast_2d(X).astype(out_dtype)
    n_out = K.n_out if trans == "N" else K.n_in
    Z = np.zeros((K.size, X2.shape[0]), dtype=out_dtype)
    Z[:X2.shape[1]] = X2.T
    if real_part:   # Re(K) on each of the real and imaginary parts of the rows
        Y = apply_stages(tw, Z.real, trans).real
        if out_dtype.kind == "c":
            Y = Y + 1j * apply_stages(tw, Z.imag, trans).real
    else:
        Y = apply_stages(tw, Z, trans)
    Y = Y[:n_out].T
    return Y[0] if squeeze else Y
