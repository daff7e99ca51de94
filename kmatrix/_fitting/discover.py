"""Discovering unknown row and column permutations of a butterfly.

A butterfly half ``B = S_{L-1} ... S_0`` (stage k mixing bit k) ends with a
stage that pairs the rows ``u`` and ``u + N/2``; what it reads is
``diag(R0, R1)``, two butterflies of half the size on the columns with the
top bit 0 (``J0``) and 1 (``J1``). So the two rows of a pair are parallel
on ``J0`` and parallel on ``J1``: the 2-vectors ``(B[u, c], B[v, c])`` take
just two directions, one per column half. Rows and columns shuffled by
unknown permutations keep this: the pairs are found as the rows whose
column 2-vectors fall in two directions (the most nearly so, mutually), the
column halves as those directions, and each half's rank-one row (the top
singular vector of the pair on it, which averages out noise) gives the two
butterflies of half the size, solved the same way: the first freely, the
second with its rows in the order the first found. This recovers
``P_r B P_c`` to rounding, and a noisy one to its noise, in O(N^3).
This is the rank-one block structure that hierarchical butterfly
factorizations rest on (Le, Zheng, Riccietti, Gribonval), used here to
order the indices instead of assuming the order.
"""

import numpy as np

__all__ = ["discover_permutations", "discover_rows"]


def _split_score(a, b):
    """For rows a (m,) and the candidate partners b (k, m): how far the column
    2-vectors (a[c], b[c]) are from taking two directions (0: exactly two),
    with the column halves (a bool (k, m) array, True for the anchor's)."""
    norms = np.sqrt(np.abs(a) ** 2 + np.abs(b) ** 2) + 1e-300
    # directions relative to the column where the 2-vector is largest
    c0 = np.argmax(norms, axis=1)
    rows = np.arange(b.shape[0])
    a0, b0 = a[c0], b[rows, c0]
    n0 = norms[rows, c0]
    det0 = np.abs(a0[:, None] * b - a[None, :] * b0[:, None]) / (n0[:, None] * norms)
    c1 = np.argmax(det0, axis=1)
    a1, b1 = a[c1], b[rows, c1]
    n1 = norms[rows, c1]
    det1 = np.abs(a1[:, None] * b - a[None, :] * b1[:, None]) / (n1[:, None] * norms)
    first = det0 <= det1
    score = np.where(first, det0, det1) ** 2
    weights = norms ** 2
    return (score * weights).sum(axis=1) / weights.sum(axis=1), first


def _pairs(A, max_score=None):
    """Mutually best partners (u, v) of every row, or None (also when a
    row's best partner scores above ``max_score``)."""
    m = A.shape[0]
    best = np.empty(m, dtype=np.intp)
    for i in range(m):
        score, _ = _split_score(A[i], A)
        score[i] = np.inf
        best[i] = np.argmin(score)
        if max_score is not None and not score[best[i]] <= max_score:
            return None
    if np.any(best[best] != np.arange(m)):
        return None
    return [(u, int(best[u])) for u in range(m) if u < best[u]]


def _halves(A, pairs):
    """The column halves (J0, J1) the pairs agree on (by vote), or None."""
    m = A.shape[1]
    votes = np.zeros(m)
    ref = None
    for u, v in pairs:
        _, first = _split_score(A[u], A[v][None, :])
        first = first[0]
        if ref is None:
            ref = first
        elif (first == ref).sum() < m / 2:   # the same split, named the other way
            first = ~first
        votes += np.where(first, 1.0, -1.0)
    J0 = np.flatnonzero(votes > 0)
    J1 = np.flatnonzero(votes <= 0)
    if len(J0) != m // 2:
        return None
    return J0, J1


def _representative(X):
    """The rank-one row of the 2 x k block X: its top right singular vector
    scaled (p^H X with p the top left singular vector)."""
    gram = X @ np.conjugate(X.T)
    _, vecs = np.linalg.eigh(gram)
    return np.conjugate(vecs[:, -1]) @ X


def _split(A, pairs):
    """(J0, J1, A0, A1): the column halves and the half-size butterflies
    (one rank-one row per pair on each half), or None."""
    split = _halves(A, pairs)
    if split is None:
        return None
    J0, J1 = split
    A0 = np.stack([_representative(A[[u, v]][:, J0]) for u, v in pairs])
    A1 = np.stack([_representative(A[[u, v]][:, J1]) for u, v in pairs])
    return J0, J1, A0, A1


def _columns(A):
    """The column order making A (rows already in order) a butterfly half."""
    m = A.shape[0]
    if m == 1:
        return np.zeros(1, dtype=np.intp)
    split = _split(A, [(p, p + m // 2) for p in range(m // 2)])
    if split is None:
        return None
    J0, J1, A0, A1 = split
    c0, c1 = _columns(A0), _columns(A1)
    if c0 is None or c1 is None:
        return None
    return np.concatenate([J0[c0], J1[c1]])


def _orders(A, max_score=None):
    """(row order, column order) making A a butterfly half, or None."""
    m = A.shape[0]
    if m == 1:
        return np.zeros(1, dtype=np.intp), np.zeros(1, dtype=np.intp)
    pairs = _pairs(A, max_score)
    if pairs is None or len(pairs) != m // 2:
        return None
    split = _split(A, pairs)
    if split is None:
        return None
    J0, J1, A0, A1 = split
    sub = _orders(A0, max_score)
    if sub is None:
        return None
    r0, c0 = sub
    c1 = _columns(A1[r0])
    if c1 is None:
        return None
    rows = np.array([pairs[p][0] for p in r0] + [pairs[p][1] for p in r0])
    return rows, np.concatenate([J0[c0], J1[c1]])


def discover_permutations(M, max_score=None):
    """Row and column orders ``(rows, cols)`` such that ``M[rows][:, cols]``
    is (close to) a butterfly half whose last stage pairs rows ``u`` and
    ``u + N/2``, or None when M shows no such structure.

    M must be square with a power-of-two size. O(N^3). With ``max_score``
    (for exact fits), None as soon as a row's best partner is further than
    that from splitting the columns in two directions (a mean squared sine):
    a random unitary n = 256 is refused after its first row, in 3 ms
    instead of 0.5 s.
    """
    M = _square_power_of_two(M)
    if M is None:
        return None
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        return _orders(M, max_score)


def _square_power_of_two(M):
    """M in at least float64 when it is square of a power-of-two size >= 2, else None."""
    M = np.asarray(M)
    N = M.shape[0]
    if M.shape != (N, N) or N & (N - 1) or N < 2:
        return None
    return M.astype(np.result_type(M.dtype, np.float64))


def _fixed_pairs(A, max_score):
    """Mutually best partners of A's rows when the column halves are fixed
    (the first and the second half): the pair whose rows are most nearly
    parallel on both halves (squared sines from the halves' Gram
    matrices, O(m^3) in products), or None."""
    m = A.shape[0]
    score = np.zeros((m, m))
    for J in (slice(0, m // 2), slice(m // 2, m)):
        gram = A[:, J] @ np.conjugate(A[:, J].T)
        norms = np.real(np.diag(gram)) + 1e-300
        score += np.maximum(1 - np.abs(gram) ** 2 / np.outer(norms, norms), 0.0)
    np.fill_diagonal(score, np.inf)
    best = np.argmin(score, axis=1)
    if np.any(best[best] != np.arange(m)) or not np.max(score[np.arange(m), best]) <= max_score:
        return None
    return [(u, int(best[u])) for u in range(m) if u < best[u]]


def _row_order(A, max_score):
    m = A.shape[0]
    if m == 1:
        return np.zeros(1, dtype=np.intp)
    pairs = _fixed_pairs(A, max_score)
    if pairs is None or len(pairs) != m // 2:
        return None
    h = m // 2
    A0 = np.stack([_representative(A[[u, v]][:, :h]) for u, v in pairs])
    r0 = _row_order(A0, max_score)
    if r0 is None:
        return None
    # the second half's rows are read in the same order (checked by the caller's fit)
    return np.array([pairs[p][0] for p in r0] + [pairs[p][1] for p in r0])


def discover_rows(M, max_score=1e-8):
    """The row order ``rows`` such that ``M[rows]`` is a butterfly half in
    M's own column order, or None: :func:`discover_permutations` with the
    columns fixed (the last stage's column halves are then M's first and
    second halves). A half's column order is free up to swapping the two
    column halves of a level, so the right factor of ``K1 diag K2^H``
    (an SVD's V) is ordered like the left one this way, with no
    permutation between them. O(N^3), in matrix products."""
    M = _square_power_of_two(M)
    if M is None:
        return None
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        return _row_order(M, max_score)
