"""Twiddles of any sparse matrix as one exact K-matrix of width 1 or 2.

Two constructions; sparse_twiddles takes the one with fewer parameters, and
refuses (ValueError) when both exceed max(16 n_out n_in, 2^20) parameters.

Colouring (width 1). Let S be n_out x n_in with nnz nonzeros and Delta the
largest number of nonzeros in a row or a column, ``2^h >= Delta``. Splitting
the nonzeros h times in halves, each half with at most half the largest
degree, leaves 2^h classes, none with two entries in one row or one column.
A class is a partial matching: ``S_c = P_c D_c`` with D_c
the diagonal of its values (indexed by column) and P_c a permutation sending
each of its columns to its row (completed arbitrarily on the zero columns).
Each ``P_c D_c`` is a width-1 K-matrix (Benes routing, D_c folded into the
first stage), and the sum of the 2^h terms is again width 1 on a network
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

The colouring is h Euler splits (one per bit of the colour), each O(E log E)
in sorts and a connected-components pass, for every pattern: at every row
and column the edges of a class are paired off, and the pairs chain the
edges into paths and even cycles whose edges alternate halves
(:func:`_euler_split`). The alternating-path colouring this replaces took
quadratic time on long alternating cycles (one layer of a random circuit).
"""

import numpy as np
import scipy.sparse
import scipy.sparse.csgraph

from .._core.algebra import scale_stage_inputs
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
from .permutations import benes_route, route_permutation

__all__ = ["check_sparse_args", "edge_colouring", "sparse_network", "sparse_plan",
           "sparse_twiddles"]


def edge_colouring(rows, cols, n_rows, n_cols):
    """Colours in [0, 2^h) for the edges (rows[e], cols[e]) of a bipartite
    graph, 2^h >= Delta its largest degree, such that no two edges of a
    colour share an endpoint; returns ``(colour, 2^h)`` (``(empty, 0)``
    with no edges). O(E log E) for every pattern (module docstring)."""
    n_edges = rows.size
    if n_edges == 0:
        return np.zeros(0, dtype=np.intp), 0
    delta = int(max(np.bincount(rows, minlength=n_rows).max(),
                    np.bincount(cols, minlength=n_cols).max()))
    n_levels = (delta - 1).bit_length()
    colour = np.zeros(n_edges, dtype=np.intp)
    for level in range(n_levels):
        colour |= _euler_split(rows, cols, colour) << level
    return colour, 1 << n_levels


def _euler_split(rows, cols, colour):
    """One Euler split of every colour class: 0 or 1 per edge, so that at
    each (endpoint, colour) the edges split as evenly as they can.

    At each row (and each column) the edges of one class are paired, first
    with second, third with fourth; an edge has at most one partner at each
    end, so the pairs form paths and cycles alternating row and column
    pairs, every cycle of even length. Partners take different halves: the
    2-colouring of those paths and cycles, read from the connected
    components of their double cover (edge e as nodes e and e + E; a pair
    (a, b) joins a to b + E and b to a + E), where e and e + E always fall
    in different components.
    """
    n_edges = rows.size
    firsts, seconds = [], []
    for ends in (rows, cols):
        order = np.lexsort((colour, ends))
        e_sorted, c_sorted = ends[order], colour[order]
        same = (e_sorted[1:] == e_sorted[:-1]) & (c_sorted[1:] == c_sorted[:-1])
        group = np.concatenate([[0], np.cumsum(~same)])
        rank = np.arange(n_edges) - np.flatnonzero(np.concatenate([[True], ~same]))[group]
        first = np.flatnonzero((rank[:-1] % 2 == 0) & same)
        firsts.append(order[first])
        seconds.append(order[first + 1])
    a, b = np.concatenate(firsts), np.concatenate(seconds)
    graph = scipy.sparse.coo_matrix(
        (np.ones(2 * a.size, dtype=np.int8),
         (np.concatenate([a, b]), np.concatenate([b, a]) + n_edges)),
        shape=(2 * n_edges, 2 * n_edges)).tocsr()
    _, labels = scipy.sparse.csgraph.connected_components(graph, directed=False)
    return (labels[:n_edges] < labels[n_edges:]).astype(np.intp)


def _write_term(rows, cols, values, N, halves):
    """Write P D on size N, ``(P D x)[rows] = values * x[cols]``, into the
    stages ``halves`` (B* half, B half; views of the sum's network)."""
    perm = np.full(N, -1, dtype=np.intp)
    perm[rows] = cols
    free_rows = np.flatnonzero(perm < 0)
    used = np.zeros(N, dtype=bool)
    used[cols] = True
    perm[free_rows] = np.flatnonzero(~used)  # the zero columns, any order
    L = N.bit_length() - 1
    benes_route(perm, L, into=halves)
    d = np.zeros(N, dtype=halves[0].dtype)
    d[cols] = values
    scale_stage_inputs(halves[0][0], L - 1, d)


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


def sparse_plan(rows, cols, shape):
    """``(log2 size, width)`` of the network :func:`sparse_twiddles` builds
    for these nonzeros, known before it is built; a ValueError when both
    constructions exceed the budget of the module docstring."""
    n_out, n_in = shape
    N = max(2, next_pow2(max(n_out, n_in)))
    if not rows.size:
        return N.bit_length() - 1, 1
    row_deg = np.bincount(rows, minlength=n_out)
    col_deg = np.bincount(cols, minlength=n_in)
    size = N * next_pow2(int(max(row_deg.max(), col_deg.max())))
    colouring_params = 4 * size * (size.bit_length() - 1)
    step_size = _step_size(rows, cols, n_out, n_in)
    step_params = 8 * step_size * (step_size.bit_length() - 1)
    n_params = min(colouring_params, step_params)
    budget = max(16 * n_out * n_in, 1 << 20)
    if n_params > budget:
        raise ValueError(
            f"an exact K-matrix would need {n_params} parameters for {rows.size} nonzeros, "
            f"more than max(16x the dense matrix ({n_out * n_in} entries), 2^20): the matrix is "
            "too dense for an exact K-matrix to pay off. Use KMatrixApproximator or a dense "
            "product."
        )
    if step_params < colouring_params:
        return step_size.bit_length() - 1, 2
    return size.bit_length() - 1, 1


def sparse_twiddles(rows, cols, values, shape, dtype):
    """Twiddles of the matrix of this shape with these nonzeros, and its expansion.

    Width 1 (colouring) or 2 (steps), whichever has fewer parameters
    (:func:`sparse_plan`); the expansion is None (the default for the size)
    for the colouring. A ValueError when both exceed the budget.
    """
    n_out, n_in = shape
    N = max(2, next_pow2(max(n_out, n_in)))
    L = N.bit_length() - 1
    if sparse_plan(rows, cols, shape)[1] == 2:
        tw = _step_twiddles(rows, cols, values, n_out, n_in, dtype)
        return tw, tw.shape[3] * 2 // N
    colour, n_colours = edge_colouring(rows, cols, n_out, n_in)
    if n_colours == 0:
        tw = identity_twiddles(L, 1, dtype)
        tw[0, 0, 0] = 0
        return tw, None
    h = (n_colours - 1).bit_length()
    half = N // 2
    tw = identity_twiddles(L + h, 1, dtype)
    copy = np.array([[1, 0], [1, 0]], dtype=dtype)   # (x_u, x_v) -> (x_u, x_u)
    add = np.array([[1, 1], [0, 0]], dtype=dtype)    # (x_u, x_v) -> (x_u + x_v, 0)
    tw[0, 0, :h] = copy       # B* half: the high bits first
    tw[0, 1, L:] = add        # B half: the high bits last
    by_colour = np.argsort(colour, kind="stable")
    bounds = np.searchsorted(colour[by_colour], np.arange(n_colours + 1))
    for c in range(n_colours):
        block = slice(c * half, (c + 1) * half)  # pairs whose high bits are c
        sel = by_colour[bounds[c]:bounds[c + 1]]
        if sel.size == 0:
            # an unused block receives a copy of the input too: zero it on arrival
            tw[0, 0, h, block] = 0
            continue
        _write_term(rows[sel], cols[sel], values[sel], N,
                    (tw[0, 0, h:, block], tw[0, 1, :L, block]))
    return tw, None


def sparse_network(S, dtype):
    """``KMatrix.from_sparse``: S's nonzeros checked, then its exact twiddles."""
    rows, cols, values, shape, dtype = check_sparse_args(S, dtype)
    what = f"KMatrix.from_sparse of shape {shape}"
    check_network_size(max(shape), 1, dtype, what)
    try:
        log_size, width = sparse_plan(rows, cols, shape)
    except ValueError as exc:
        raise ValueError(f"{what}: {exc}") from None
    check_network_size(1 << log_size, width, dtype, what)
    tw, expansion = sparse_twiddles(rows, cols, values, shape, dtype)
    return Network(tw, shape, expansion)
