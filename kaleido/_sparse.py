"""Any sparse matrix as one exact K-matrix of width 1.

Construction. Let S be n_out x n_in with nnz nonzeros and Delta the largest
number of nonzeros in a row or a column. By Koenig's edge-colouring theorem
the nonzeros split into Delta classes, none with two entries in one row or
one column. A class is a partial matching: ``S_c = P_c D_c`` with D_c the
diagonal of its values (indexed by column) and P_c a permutation sending each
of its columns to its row (completed arbitrarily on the zero columns). Each
``P_c D_c`` is a width-1 K-matrix (Benes routing, D_c folded into the first
stage), and the sum of the Delta terms is again width 1 on a network of size
``N * 2^h``, ``2^h >= Delta``: the first h stages copy the input into 2^h
blocks, the blocks run the terms side by side on the low bits, the last h
stages add the blocks. Parameters: ``4 N 2^h log2(N 2^h)``, i.e. about
``4 n Delta log(n Delta)`` (up to the rounding of n and Delta to powers of
two). That is ``O(nnz log n)`` like the survey's construction (Dao et al.
2020, Thm 5.7: width about 4 nnz / n) only when Delta is close to the mean
count nnz / n; for random sparse matrices Delta is 2-3x the mean, and uneven
rows or columns (a dense row makes Delta = n) cost up to n / mean times more.
Above 16x the dense matrix's size from_sparse raises a ValueError.

The colouring is König's alternating-path algorithm: an edge (u, v) takes a
colour a free at row u; if a is taken at column v, the path from v whose
edges alternate a and b (b free at v) has its colours swapped, which frees a
at v and never reaches u.
"""

import numpy as np
import scipy.sparse

from ._constructors import identity_twiddles, route_permutation
from ._validation import next_pow2

__all__ = ["edge_colouring", "from_sparse"]


def edge_colouring(rows, cols, n_rows, n_cols):
    """Colours in [0, Delta) for the edges (rows[e], cols[e]) of a simple
    bipartite graph such that no two edges of a colour share an endpoint."""
    n_edges = rows.size
    if n_edges == 0:
        return np.zeros(0, dtype=np.intp), 0
    delta = int(max(np.bincount(rows, minlength=n_rows).max(),
                    np.bincount(cols, minlength=n_cols).max()))
    # at_row[u, c] = edge of colour c at row u (or -1); likewise at_col
    at_row = np.full((n_rows, delta), -1, dtype=np.intp)
    at_col = np.full((n_cols, delta), -1, dtype=np.intp)
    colour = np.full(n_edges, -1, dtype=np.intp)
    for e in range(n_edges):
        u, v = int(rows[e]), int(cols[e])
        a = int(np.argmax(at_row[u] < 0))  # free at u (u has < delta edges so far)
        if at_col[v, a] >= 0:
            b = int(np.argmax(at_col[v] < 0))  # free at v
            # walk the a/b path from v: col -a-> row -b-> col -a-> ...
            path = []
            node, is_col, want = v, True, a
            while True:
                f = at_col[node, want] if is_col else at_row[node, want]
                if f < 0:
                    break
                path.append(f)
                node = int(rows[f]) if is_col else int(cols[f])
                is_col = not is_col
                want = b if want == a else a
            for f in path:  # clear, then re-add with swapped colours
                at_row[rows[f], colour[f]] = -1
                at_col[cols[f], colour[f]] = -1
            for f in path:
                colour[f] = b if colour[f] == a else a
                at_row[rows[f], colour[f]] = f
                at_col[cols[f], colour[f]] = f
        colour[e] = a
        at_row[u, a] = e
        at_col[v, a] = e
    return colour, delta


def _term_twiddles(rows, cols, values, N, dtype):
    """Twiddles of P D on size N: (P D x)[rows] = values * x[cols]."""
    perm = np.full(N, -1, dtype=np.int64)
    perm[rows] = cols
    free_rows = np.flatnonzero(perm < 0)
    used = np.zeros(N, dtype=bool)
    used[cols] = True
    perm[free_rows] = np.flatnonzero(~used)  # the zero columns, any order
    from ._kmatrix import KMatrix
    from ._transforms import scale_inputs

    K = KMatrix(route_permutation(perm).astype(dtype))
    d = np.zeros(N, dtype=dtype)
    d[cols] = values
    return scale_inputs(K, d).twiddles


def from_sparse(S, dtype=None):
    """The K-matrix equal to S (scipy sparse or dense), width 1."""
    from ._kmatrix import KMatrix
    from ._validation import as_numeric_array, check_dtype, result_dtype

    if scipy.sparse.issparse(S):
        S = scipy.sparse.coo_array(S)
        if S.ndim != 2:
            raise ValueError(f"S must be 2-D, got {S.ndim}-D")
        if S.dtype.kind not in "biufc":
            raise ValueError(f"S must hold numbers, got dtype {S.dtype}")
        S.sum_duplicates()
        rows, cols, values = S.row, S.col, S.data
    else:
        A = as_numeric_array(S, "S")
        if A.ndim != 2:
            raise ValueError(f"S must be 2-D, got shape {A.shape}")
        rows, cols = np.nonzero(A)
        values = A[rows, cols]
        S = A
    n_out, n_in = S.shape
    if n_out < 1 or n_in < 1:
        raise ValueError(f"S must have at least one row and one column, got shape {S.shape}")
    if not np.all(np.isfinite(values)):
        raise ValueError("S contains NaN or infinity")
    keep = values != 0
    rows, cols, values = rows[keep].astype(np.intp), cols[keep].astype(np.intp), values[keep]
    dtype = result_dtype(values.dtype if dtype is None else check_dtype(dtype))
    if values.dtype.kind == "c" and dtype.kind != "c":
        raise ValueError(f"a complex S needs a complex dtype, got {dtype}")
    N = max(2, next_pow2(max(n_out, n_in)))
    L = N.bit_length() - 1
    if rows.size:
        row_deg = np.bincount(rows, minlength=n_out)
        col_deg = np.bincount(cols, minlength=n_in)
        delta = int(max(row_deg.max(), col_deg.max()))
        size = N * next_pow2(delta)
        n_params = 4 * size * (size.bit_length() - 1)
        budget = max(16 * n_out * n_in, 1 << 20)
        if n_params > budget:
            where = (f"row {int(row_deg.argmax())}" if row_deg.max() >= col_deg.max()
                     else f"column {int(col_deg.argmax())}")
            raise ValueError(
                f"from_sparse would need {n_params} parameters (size {size}): {where} holds "
                f"{delta} nonzeros and the construction grows with the busiest row or "
                f"column; that exceeds 16x the dense matrix ({n_out * n_in} entries). Use "
                "KMatrixApproximator, or split the dense rows/columns off."
            )
    colour, delta = edge_colouring(rows, cols, n_out, n_in)
    if delta == 0:
        tw = identity_twiddles(L, 1, dtype)
        tw[0, 0, 0] = 0
        return KMatrix(tw, (n_out, n_in))
    h = max(0, (delta - 1).bit_length())
    n_blocks = 1 << h
    half = N // 2
    tw = identity_twiddles(L + h, 1, dtype)
    copy = np.array([[1, 0], [1, 0]], dtype=dtype)   # (x_u, x_v) -> (x_u, x_u)
    add = np.array([[1, 1], [0, 0]], dtype=dtype)    # (x_u, x_v) -> (x_u + x_v, 0)
    tw[0, 0, :h] = copy       # B* half: the high bits first
    tw[0, 1, L:] = add        # B half: the high bits last
    for c in range(delta):
        sel = colour == c
        term = _term_twiddles(rows[sel], cols[sel], values[sel], N, dtype)
        block = slice(c * half, (c + 1) * half)  # pairs whose high bits are c
        tw[0, 0, h:, block] = term[0, 0]
        tw[0, 1, :L, block] = term[0, 1]
    if delta < n_blocks:
        # unused blocks receive a copy of the input too: zero it on arrival
        tw[0, 0, h, delta * half:] = 0
    return KMatrix(tw, (n_out, n_in))
