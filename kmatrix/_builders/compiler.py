"""The circuit compiler: a Circuit becomes the twiddles of its exact K-matrix.

Two constructions, the smaller kept (survey Thm 5.5): the survey's own, one
sparse K-matrix per level of the layered form (:func:`circuit_levels`,
Thm 4.5 and 5.7), and placement, which puts the wires of each level on
positions of [0, N) so that paired gates compute in place as butterfly
stages (:func:`placed_factors`). Everything here works on twiddle arrays
(:class:`~kmatrix._core.layout.Network`); the operator layer wraps the
result once.
"""

import numpy as np
import scipy.sparse

from .._core.algebra import embed, scale_inputs, scale_outputs
from .._core.layout import Network, identity_twiddles, pair_index
from .._core.validation import check_network_size, next_pow2
from .circuit import Circuit
from .permutations import permutation_network
from .sparse import check_sparse_args, sparse_plan, sparse_twiddles

__all__ = ["circuit_levels", "circuit_network", "placed_factors", "stage_run_twiddles"]


def circuit_network(circuit):
    """The twiddles of the exact K-matrix of ``circuit`` (a Network).

    See :meth:`KMatrix.from_circuit` for the construction and its bounds.
    Every candidate (two placements, the layered form) is first planned:
    its factors' widths and sizes are known before any twiddles exist, and
    only the smallest is built, straight into its result, so the peak is
    the result and one factor.
    """
    if not isinstance(circuit, Circuit):
        raise ValueError(f"from_circuit needs a kmatrix Circuit, got {type(circuit).__name__}")
    folded = _Folded(circuit)
    dtype = circuit.dtype
    candidates = []
    for backward in (True, False):
        N, factors = placed_factors(circuit, backward, folded)
        candidates.append(_plan_placed(N, factors, dtype))
    # the survey's construction, one sparse K-matrix (width >= 1) per level
    levels, output = circuit_levels(circuit, folded)
    candidates.append(_Plan([_SparseFactor(t, dtype) for t in levels + [output]], None))
    best = min(candidates, key=_Plan.n_entries)
    L = max(f.log_size for f in best.factors)
    check_network_size(1 << L, sum(f.width for f in best.factors), dtype,
                       f"KMatrix.from_circuit of a circuit of {circuit.size} wires")
    return best.build((circuit.n_out, circuit.n_in), dtype)


class _SparseFactor:
    """A factor given by COO triplets, planned (size, width) before it is built."""

    def __init__(self, triplets, dtype):
        rows, cols, values, m, n = triplets
        S = scipy.sparse.coo_matrix((np.asarray(values, dtype=dtype), (rows, cols)),
                                    shape=(m, n))
        self.args = check_sparse_args(S, dtype)
        try:
            self.log_size, self.width = sparse_plan(self.args[0], self.args[1], self.args[3])
        except ValueError as exc:   # the budget of from_sparse, in the circuit's terms
            raise ValueError(f"from_circuit: a level of the circuit ({m} x {n} wires) cannot "
                             f"be built exactly: {exc}") from None

    def build(self):
        rows, cols, values, shape, dtype = self.args
        tw, expansion = sparse_twiddles(rows, cols, values, shape, dtype)
        return Network(tw, shape, expansion)


class _Factor:
    """A factor whose size and width are known up front, built by ``make``."""

    def __init__(self, log_size, width, make):
        self.log_size, self.width, self.build = log_size, width, make


class _Plan:
    """Factors in the order they apply (and an output scaling): their product
    is assembled into one array of the summed width, factor by factor."""

    def __init__(self, factors, scale):
        self.factors, self.scale = factors, scale

    def n_entries(self):
        L = max(f.log_size for f in self.factors)
        return sum(f.width for f in self.factors) * 2 * L * (1 << (L - 1)) * 4

    def build(self, shape, dtype):
        L = max(f.log_size for f in self.factors)
        N = 1 << L
        out = np.empty((sum(f.width for f in self.factors), 2, L, N // 2, 2, 2), dtype=dtype)
        at = 0
        for k, factor in enumerate(self.factors):
            F = factor.build()
            w = F.twiddles.shape[0]
            out[at:at + w] = embed(F.twiddles, L)
            if k and F.shape[1] < N:
                # the factor before truncates to F's n_in outputs and F pads
                # them again: that projection is folded into F's first stage
                scale_inputs(out[at:at + w], (np.arange(N) < F.shape[1]).astype(dtype))
            at += w
            del F
        if self.scale is not None:
            scale_outputs(out, self.scale.astype(dtype))
        return Network(out, shape)


def _plan_placed(N, factors, dtype):
    """The plan of a placement's factors (:func:`placed_factors`)."""
    L = N.bit_length() - 1
    planned, scale = [], None
    for kind, data in factors:
        if kind == "perm":
            planned.append(_Factor(L, 1, lambda data=data: permutation_network(data, dtype)))
        elif kind == "stages":
            n_blocks = _stage_slots(data, L)[1]
            planned.append(_Factor(L, n_blocks, lambda data=data: Network(
                stage_run_twiddles(data, N, dtype), (N, N))))
        elif kind == "scale":
            scale = data
        else:
            planned.append(_SparseFactor(data, dtype))
    if not planned:
        planned.append(_Factor(L, 1, lambda: Network(identity_twiddles(L, 1, dtype), (N, N))))
    return _Plan(planned, scale)


class _Folded:
    """A circuit with its unary gates folded into the weights of their
    readers, its dead gates dropped, and its two-input gates by depth.

    ``terms[g]`` are the two (weight, wire) terms of gate g; ``outputs`` the
    (scale, wire) of every output (wire -1: the constant zero); ``live[l]``
    the wires alive after level l (level 0: every input), gates of depth l
    last; ``last_read[w]`` the last level that reads w (d + 1 for outputs).
    """

    def __init__(self, c):
        c._check_outputs()
        n_in = c.n_in
        # rep[i] = (scale, base) with base an input, a two-input gate, or -1
        rep = [(1, i) for i in range(n_in)]
        terms, depth = {}, {i: 0 for i in range(n_in)}
        for i in range(n_in, c.size):
            merged = {}
            for weight, j in c._terms[i]:
                scale, base = rep[j]
                if base >= 0 and weight * scale != 0:
                    merged[base] = merged.get(base, 0) + weight * scale
            merged = [(w, b) for b, w in merged.items() if w != 0]
            if not merged:
                rep.append((0, -1))
            elif len(merged) == 1:
                rep.append(merged[0])
            else:
                rep.append((1, i))
                terms[i] = merged
                depth[i] = 1 + max(depth[b] for _, b in merged)
        self.outputs = [rep[i] for i in c._outputs]
        needed, stack = set(), [b for _, b in self.outputs if b >= 0]
        while stack:
            i = stack.pop()
            if i not in needed:
                needed.add(i)
                stack.extend(b for _, b in terms.get(i, ()))
        self.terms = {g: t for g, t in terms.items() if g in needed}
        # folding multiplies weights along chains of scalings: judged once here
        limit = float(np.finfo(c.dtype).max)
        if (any(abs(w) > limit for t in self.terms.values() for w, _ in t)
                or any(abs(w) > limit for w, _ in self.outputs)):
            raise ValueError(f"from_circuit: the circuit's gate weights, multiplied along its "
                             f"chains of scalings, overflow {c.dtype}")
        self.depth = depth
        self.d = d = max((depth[i] for i in needed), default=0)
        last_read = {}
        for g, t in self.terms.items():
            for _, b in t:
                last_read[b] = max(last_read.get(b, 0), depth[g])
        for _, b in self.outputs:
            if b >= 0:
                last_read[b] = d + 1
        self.last_read = last_read
        by_depth = [[] for _ in range(d + 1)]
        for g in sorted(self.terms):
            by_depth[depth[g]].append(g)
        self.live = [list(range(n_in))]
        for level in range(1, d + 1):
            self.live.append([w for w in self.live[-1] if last_read.get(w, -1) > level]
                             + by_depth[level])
        self.by_depth = by_depth


def circuit_levels(c, folded=None):
    """The layered form of a circuit (Thm 4.5), after folding its scalings.

    Returns
    -------
    levels : list of (rows, cols, values, n_rows, n_cols)
        Level ``l`` maps the live wires of level ``l - 1`` (level 0: the
        ``n_in`` inputs) to those of level ``l``, as COO triplets: a gate's
        row holds its two weights, a wire passed through to a later level a
        single 1.
    output : (rows, cols, values, n_out, n_cols)
        The outputs as scaled live wires of the last level.
    """
    f = _Folded(c) if folded is None else folded
    levels = []
    for level in range(1, f.d + 1):
        position = {w: k for k, w in enumerate(f.live[level - 1])}
        levels.append(_sparse_level(f, level, range(len(f.live[level])), position))
    position = {w: k for k, w in enumerate(f.live[f.d])}
    return levels, _output_selection(f, position, len(f.live[f.d]))


def _sparse_level(f, level, rows_of, position):
    """COO triplets of level ``level``: row ``rows_of[k]`` for its k-th live
    wire, column ``position[w]`` for a wire w of the level before."""
    rows, cols, values = [], [], []
    for r, w in zip(rows_of, f.live[level]):
        if f.depth.get(w, 0) == level and w in f.terms:
            for weight, b in f.terms[w]:
                rows.append(r)
                cols.append(position[b])
                values.append(weight)
        else:
            rows.append(r)
            cols.append(position[w])
            values.append(1)
    return rows, cols, values, max(rows_of, default=-1) + 1, max(position.values()) + 1


def _output_selection(f, position, n_cols):
    rows, cols, values = [], [], []
    for r, (scale, b) in enumerate(f.outputs):
        if b >= 0 and scale != 0:
            rows.append(r)
            cols.append(position[b])
            values.append(scale)
    return rows, cols, values, len(f.outputs), n_cols


# ---------------------------------------------------------------- placement --
def placed_factors(c, backward=True, folded=None):
    """The circuit as factors on positions of [0, N), levels placed in place.

    Wires are placed level by level so that a level whose gates come in
    pairs reading the same two wires (``y1 = a u + b v``, ``y2 = c u + d v``,
    as in every FFT-like algorithm; a lone gate ``a u + b v`` pairs with a
    slot that dies) computes in place: its pairs become the 2 x 2 blocks of
    butterfly stages, one stage per bit their positions differ in, instead
    of a sparse K-matrix. Placing ``backward`` starts from the outputs in
    their order and ends with a permutation of the inputs; forward starts
    from the inputs and ends with a permutation of the outputs (a radix-2
    FFT is in place either way; a multi-level Haar transform only forward).
    A level that cannot be placed (a wire read by several pairs or also
    later, positions that differ in more than one bit) is a sparse factor,
    and the placement starts afresh after it.

    Returns
    -------
    N : int
        The network size.
    factors : list, in the order they apply
        ``("perm", perm)`` (``(P x)[k] = x[perm[k]]``), ``("stages",
        [{bit: [(p, q, block)]}, ...])`` (a run of in-place levels),
        ``("sparse", (rows, cols, values, n_rows, n_cols))``, ``("scale",
        d)`` (the outputs are positions ``0..n_out-1``, scaled by d) or
        ``("select", triplets)`` (the outputs from the last positions).
    """
    f = _Folded(c) if folded is None else folded
    n_out, n_in = len(f.outputs), c.n_in
    N = max(2, next_pow2(max(max(len(live) for live in f.live), n_out, n_in)))
    bases = [b for _, b in f.outputs]
    one_to_one = (len(set(bases)) == len(bases) == len(f.live[f.d])) and min(bases) >= 0
    factors = []

    def flush(run):
        if run:
            factors.append(("stages", run))
        return []

    if backward:
        if one_to_one:
            pos = {b: k for k, b in enumerate(bases)}
            factors.append(("scale", np.array([s for s, _ in f.outputs])))
        else:
            pos = {w: k for k, w in enumerate(f.live[f.d])}
            factors.append(("select", _output_selection(f, pos, N)))
        run = []
        for level in range(f.d, 0, -1):
            placed = _backward(f, level, pos, N)
            if placed is not None:
                pos, stages = placed
                run.insert(0, stages)
                continue
            run = flush(run)
            prev = {w: k for k, w in enumerate(f.live[level - 1])}
            rows_of = [pos[w] for w in f.live[level]]
            factors.append(("sparse", _sparse_level(f, level, rows_of, prev)[:3] + (N, N)))
            pos = prev
        flush(run)
        _permutation(factors, [pos[i] for i in range(n_in)], N, inputs=True)
        return N, factors[::-1]
    pos = {i: i for i in range(n_in)}
    run = []
    for level in range(1, f.d + 1):
        placed = _forward(f, level, pos, N)
        if placed is not None:
            pos, stages = placed
            run.append(stages)
            continue
        run = flush(run)
        new = {w: k for k, w in enumerate(f.live[level])}
        factors.append(("sparse", _sparse_level(f, level, range(len(new)), pos)[:3] + (N, N)))
        pos = new
    flush(run)
    if one_to_one:
        _permutation(factors, [pos[b] for b in bases], N, inputs=False)
        factors.append(("scale", np.array([s for s, _ in f.outputs])))
    else:
        factors.append(("select", _output_selection(f, pos, N)))
    return N, factors


def _permutation(factors, positions, N, inputs):
    """Append the permutation taking item k to ``positions[k]`` (inputs) or
    position ``positions[k]`` to k (outputs), unless it is the identity."""
    if all(p == k for k, p in enumerate(positions)):
        return
    perm = np.full(N, -1, dtype=np.int64)
    if inputs:
        for k, p in enumerate(positions):
            perm[p] = k
    else:
        perm[:len(positions)] = positions
    perm[perm < 0] = np.setdiff1d(np.arange(N), perm[perm >= 0])
    factors.append(("perm", perm))


def _pairs(f, level):
    """The gates of a level grouped by the two wires they read, or None when
    a level cannot compute in place (a wire read by several groups, or
    three gates on the same two wires)."""
    gates = [g for g in f.live[level] if g in f.terms and f.depth[g] == level]
    readers, groups = {}, {}
    for g in gates:
        for _, b in f.terms[g]:
            readers.setdefault(b, []).append(g)
        groups.setdefault(frozenset(b for _, b in f.terms[g]), []).append(g)
    for key, members in groups.items():
        if len(members) > 2 or any(len(readers[b]) != len(members) for b in key):
            return None
    passed = [w for w in f.live[level - 1] if f.last_read.get(w, -1) > level]
    if any(w in readers for w in passed):
        return None                      # read here and later: cannot be overwritten
    return groups, passed


def _block(f, g, u, v):
    weights = {b: w for w, b in f.terms[g]}
    return [weights[u], weights[v]]


def _backward(f, level, pos, N):
    """(positions of the wires of level - 1, {bit: blocks}) computing level
    ``level`` in place into ``pos`` (positions of its live wires), or None."""
    found = _pairs(f, level)
    if found is None:
        return None
    groups, passed = found
    after = set(pos.values())            # positions live after the level
    new = {w: pos[w] for w in passed}
    taken = set(new.values())
    stages = {}
    for key, members in sorted(groups.items(), key=lambda item: -len(item[1])):
        u, v = sorted(key)
        if len(members) == 2:
            g1, g2 = members
            p, q = pos[g1], pos[g2]
            rows = [_block(f, g1, u, v), _block(f, g2, u, v)]
        else:
            g = members[0]
            p = pos[g]
            bits = sorted(stages) + [b for b in range(N.bit_length() - 1) if b not in stages]
            q = next((p ^ (1 << b) for b in bits if p ^ (1 << b) not in taken
                      and p ^ (1 << b) not in after), None)
            if q is None:
                return None
            rows = [_block(f, g, u, v), [0, 0]]
        x = p ^ q
        if x & (x - 1) or p in taken or q in taken:
            return None
        new[u], new[v] = p, q
        taken.update((p, q))
        stages.setdefault(x.bit_length() - 1, []).append((p, q, rows))
    # inputs nobody reads (level 1 only): any position free on both sides
    free = (k for k in range(N) if k not in taken and k not in after)
    for w in f.live[level - 1]:
        if w not in new:
            k = next(free, None)
            if k is None:
                return None
            new[w] = k
            taken.add(k)
    return new, stages


def _forward(f, level, pos, N):
    """(positions of the live wires of ``level``, {bit: blocks}) computing
    the level in place from ``pos`` (positions of the level before), or None."""
    found = _pairs(f, level)
    if found is None:
        return None
    groups, passed = found
    new = {w: pos[w] for w in passed}
    stages = {}
    for key, members in groups.items():
        u, v = sorted(key)
        p, q = pos[u], pos[v]
        x = p ^ q
        if x & (x - 1):
            return None
        new[members[0]] = p
        rows = [_block(f, members[0], u, v), [0, 0]]
        if len(members) == 2:
            new[members[1]] = q
            rows[1] = _block(f, members[1], u, v)
        stages.setdefault(x.bit_length() - 1, []).append((p, q, rows))
    return new, stages


def _stage_slots(run, L):
    """``(slots, n_blocks)`` of a run of in-place levels: the slot
    ``(block, k, bit, blocks)`` of every level's bit (:func:`stage_run_twiddles`)."""
    slots = []                           # (block, half, k) per level's bit
    block, cursor = 0, 0
    for stages in run:
        def slot_of(bit, start):
            for k in (L - 1 - bit, L + bit):
                if k >= start:
                    return k
            return None
        chosen = {bit: slot_of(bit, cursor) for bit in stages}
        if any(k is None for k in chosen.values()):
            block, cursor = block + 1, 0
            chosen = {bit: slot_of(bit, 0) for bit in stages}
        for bit, k in chosen.items():
            slots.append((block, k, bit, stages[bit]))
        cursor = max(chosen.values(), default=cursor - 1) + 1
    return slots, block + 1


def stage_run_twiddles(run, N, dtype):
    """Twiddles of a run of in-place levels (``("stages", run)`` of
    :func:`placed_factors`), packed into as few BB* blocks as the stage
    order of a K-matrix allows: a block's B* half mixes bits L-1 ... 0 and
    its B half bits 0 ... L-1, and the stages of one level commute."""
    L = N.bit_length() - 1
    slots, n_blocks = _stage_slots(run, L)
    tw = identity_twiddles(L, n_blocks, dtype)
    for b, k, bit, blocks in slots:
        half, stage = (0, k) if k < L else (1, k - L)
        for p, q, m in blocks:
            m = np.array(m, dtype=dtype)
            if p > q:
                p, q, m = q, p, m[::-1, ::-1]
            tw[b, half, stage, pair_index(p, bit)] = m
    return tw

