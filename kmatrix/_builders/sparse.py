"""Twiddles of any sparse matrix as one exact K-matrix of width 1 or 2.

Two constructions; sparse_twiddles takes the one with fewer parameters, and
refuses (ValueError) when both exceed max(16 n_out n_in, 2^20) parameters.

Colouring (width 1). Let S be n_out x n_in with nnz nonzeros and Delta the
largest number of nonzeros in a row or a column. By Koenig's edge-colouring
theorem the nonzeros split into Delta classes, none with two entries in one
row or one column. A class is a partial matching: ``S_c = P_c D_c`` with D_c
the diagonal of its values (indexed by column) and P_c a permutation sending
each of its columns to its row (completed arbitrarily on the zero columns).
Each ``P_c D_c`` is a width-1 K-matrix (Benes routing, D_c folded into the
first stage), and the sum of the Delta terms is again width 1 on a network
of size ``N * 2^h``, ``2^h >= Delta``: the first h stages copy the input
into 2^h blocks, the blocks run the terms side by side on the low bits, the
last h stages add the blocks. Parameters: ``4 N 2^h log2(N 2^h)``, about
``4 n Delta log(n Delta)``: compact when Delta is near the mean count
nnz / n, up to n / mean times larger when rows or columns are uneven (a
dense row makes Delta = n).

Steps (width 2), for uneven rows and columns; the idea of survey Thm 5.7
(Dao et al. 2020: ``S = P1 H P2 V P3`` with horizontal step matrices, width
about 4 ceil(nnz / n)), done on a network of the size of the edge list
instead of a sum of ceil(nnz / n) terms. Give every empty row and column a
zero "edge" and let m be the number of edges, ``N = next_pow2(max(m, n))``.
Then ``S = H D P V``: V copies x[j] to the edges of column j (edges sorted
by column), P reorders the edges by row, D multiplies by the values and H
adds the edges of row i into output i. H is a fan-in whose groups are
consecutive runs of positions, ranked 0, 1, ... in order: after the stages
on bits 0..k, the partial sum of group r over an aligned block of 2^(k+1)
positions sits at offset ``r mod 2^(k+1)`` of the block; the stage on bit k
moves both halves' partial sums of r to the output bit ``bit k of r``, where
they add, and never two groups to one place (the groups meeting a block
have consecutive ranks and at most as many as the block has positions).
So H is one B half (bits ascending), V the transpose of such a fan-in (a B*
half), and P a Benes permutation run in the other order (B then B*: the
routing of ``P_br P P_br``, each stage moved to the mirrored bit), giving
the chain V | P | H D = (B* B)(B* B): width 2 on size N, ``8 N log2 N``
parameters, about ``8 nnz log(nnz)`` however uneven the rows are.

The colouring is König's alternating-path algorithm: an edge (u, v) takes a
colour a free at row u; if a is taken at column v, the path from v whose
edges alternate a and b (b free at v) has its colours swapped, which frees a
at v and never reaches u.
"""

import numpy as np
import scipy.sparse

from .._core.algebra import scale_inputs, scale_stage_inputs
from .._core.layout import (
    Network,
    bit_reversal,
    identity_twiddles,
    lower_positions,
    pair_index,
)
from .._core.validation import (
    as_numeric_array,
    check_dtype,
    check_network_size,
    next_pow2,
    result_dtype,
)
from .permutations import route_permutation

__all__ = ["check_sparse_args", "edge_colouring", "sparse_network", "sparse_twiddles"]


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
    d = np.zeros(N, dtype=dtype)
    d[cols] = values
    return scale_inputs(route_permutation(perm).astype(dtype), d)


def _fan_in(group, N, dtype):
    """Stages (stage k on bit k) of the matrix adding position p into output
    ``group[p]`` (groups: consecutive runs, ranked 0, 1, ...; -1 past the end)."""
    L = N.bit_length() - 1
    holding = np.full(N, -1, dtype=np.intp)
    holding[:group.size] = group
    stages = np.zeros((L, N // 2, 2, 2), dtype=dtype)
    pairs = np.arange(N // 2)
    for k in range(L):
        u = lower_positions(L, k)
        moved = np.full(N, -1, dtype=np.intp)
        for col, pos in ((0, u), (1, u + (1 << k))):
            r = holding[pos]
            has = r >= 0
            row = (r[has] >> k) & 1
            stages[k, pairs[has], row, col] = 1
            dest = u[has] + (row << k)
            if np.any((moved[dest] >= 0) & (moved[dest] != r[has])):
                raise RuntimeError("internal error: two groups met in a fan-in")
            moved[dest] = r[has]
        holding = moved
    return stages


def _mirror_stages(stages, bits):
    """Stages of ``P_br S P_br`` for stages S on ``bits``: each moves to bit
    ``L-1-b`` with its blocks re-indexed by the reversed positions."""
    L = stages.shape[0]
    br = bit_reversal(L)
    out = np.empty_like(stages)
    for j, b in enumerate(bits):
        out[j] = stages[j, pair_index(br[lower_positions(L, L - 1 - b)], b)]
    return out


def _step_size(rows, cols, n_out, n_in):
    m = rows.size + (n_out - np.unique(rows).size) + (n_in - np.unique(cols).size)
    return max(2, next_pow2(max(m, n_out, n_in)))


def _step_twiddles(rows, cols, values, n_out, n_in, dtype):
    """Width-2 twiddles of S = H D P V (module docstring)."""
    empty_rows = np.setdiff1d(np.arange(n_out), rows)
    empty_cols = np.setdiff1d(np.arange(n_in), cols)
    rows = np.concatenate([rows, empty_rows, np.zeros(empty_cols.size, dtype=np.intp)])
    cols = np.concatenate([cols, np.zeros(empty_rows.size, dtype=np.intp), empty_cols])
    values = np.concatenate([values.astype(dtype),
                             np.zeros(empty_rows.size + empty_cols.size, dtype=dtype)])
    m = rows.size
    N = max(2, next_pow2(max(m, n_out, n_in)))
    L = N.bit_length() - 1
    by_row = np.lexsort((cols, rows))
    by_col = np.lexsort((rows, cols))
    tw = identity_twiddles(L, 2, dtype)
    # V: the transpose of the fan-in of the column-sorted edges (stages
    # reversed, blocks transposed): a B* half
    tw[0, 0] = _fan_in(cols[by_col], N, dtype)[::-1].swapaxes(-1, -2)
    # P: column order -> row order, (P z)[i] = z[perm[i]], routed B then B*
    where_in_col = np.empty(m, dtype=np.intp)
    where_in_col[by_col] = np.arange(m)
    perm = np.arange(N)
    perm[:m] = where_in_col[by_row]
    br = bit_reversal(L)
    routed = route_permutation(br[perm[br]]).astype(dtype)
    tw[0, 1] = _mirror_stages(routed[0, 0], range(L - 1, -1, -1))
    tw[1, 0] = _mirror_stages(routed[0, 1], range(L))
    # H D: the fan-in of the row-sorted edges, values on its first stage
    H = _fan_in(rows[by_row], N, dtype)
    d = np.zeros(N, dtype=dtype)
    d[:m] = values[by_row]
    scale_stage_inputs(H[0], 0, d)
    tw[1, 1] = H
    return tw


def check_sparse_args(S, dtype):
    """The nonzeros of S (scipy sparse or dense) and the operator's dtype, else ValueError.

    Returns ``rows, cols, values, shape, dtype``: the nonzero entries (explicit
    zeros dropped, duplicates summed) as intp indices and their values, S's
    shape, and ``dtype`` (by default that of the values; integers and
    booleans become float64).
    """
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
    return rows, cols, values, (n_out, n_in), dtype


def sparse_twiddles(rows, cols, values, shape, dtype):
    """Twiddles of the matrix of this shape with these nonzeros, and its expansion.

    Width 1 (colouring) or 2 (steps), whichever has fewer parameters; the
    expansion is None (the default for the size) for the colouring. A
    ValueError when both exceed the budget of the module docstring.
    """
    n_out, n_in = shape
    N = max(2, next_pow2(max(n_out, n_in)))
    L = N.bit_length() - 1
    if rows.size:
        row_deg = np.bincount(rows, minlength=n_out)
        col_deg = np.bincount(cols, minlength=n_in)
        delta = int(max(row_deg.max(), col_deg.max()))
        size = N * next_pow2(delta)
        colouring_params = 4 * size * (size.bit_length() - 1)
        step_size = _step_size(rows, cols, n_out, n_in)
        step_params = 8 * step_size * (step_size.bit_length() - 1)
        n_params = min(colouring_params, step_params)
        budget = max(16 * n_out * n_in, 1 << 20)
        if n_params > budget:
            raise ValueError(
                f"from_sparse would need {n_params} parameters for {rows.size} nonzeros, "
                f"more than max(16x the dense matrix ({n_out * n_in} entries), 2^20): S is too dense "
                "for an exact K-matrix to pay off. Use KMatrixApproximator or a dense product."
            )
        if step_params < colouring_params:
            tw = _step_twiddles(rows, cols, values, n_out, n_in, dtype)
            return tw, tw.shape[3] * 2 // N
    colour, delta = edge_colouring(rows, cols, n_out, n_in)
    if delta == 0:
        tw = identity_twiddles(L, 1, dtype)
        tw[0, 0, 0] = 0
        return tw, None
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
    return tw, None


def sparse_network(S, dtype):
    """``KMatrix.from_sparse``: S's nonzeros checked, then its exact twiddles."""
    rows, cols, values, shape, dtype = check_sparse_args(S, dtype)
    check_network_size(max(shape), 1, dtype, f"KMatrix.from_sparse of shape {shape}")
    tw, expansion = sparse_twiddles(rows, cols, values, shape, dtype)
    return Network(tw, shape, expansion)
