"""Linear straight-line programs (circuits) and their exact K-matrices.

A :class:`Circuit` records a linear algorithm as a DAG of gates
``w = a u + b v`` over its input wires. :func:`circuit_levels` turns it into
the survey's layered form (Dao et al., Thm 4.5): unary gates (scalings) are
folded into the weights of the gates that read them, dead gates dropped,
and the remaining two-input gates grouped by depth; level ``l`` is a sparse
matrix with at most two entries per row (a gate) or one (a wire passed
through to a later level), and the circuit's matrix is the product of the
levels and a final selection of the outputs. Every sparse matrix is
exactly a K-matrix (Thm 5.7), and K-matrices are closed under products:
so is the circuit (Thm 5.5).
"""

import numbers

import numpy as np

from ._constructors import identity_twiddles, pair_index
from ._validation import check_dtype, check_int, next_pow2

__all__ = ["Circuit", "Wire", "circuit_levels", "placed_factors", "stage_run_twiddles"]


class Wire:
    """A wire of a :class:`Circuit`: an input, or the output of a gate.

    Wires combine with ``+``, ``-``, unary ``-`` and with ``*`` and ``/`` by
    scalars (real or complex constants); each operation records a gate in
    the circuit. ``0 + w`` is ``w`` (so ``sum(wires)`` works); any other
    constant term, or a product of two wires, is not linear and is refused.
    """

    __slots__ = ("circuit", "index")

    def __init__(self, circuit, index):
        self.circuit = circuit
        self.index = index

    def __repr__(self):
        kind = "input" if self.index < self.circuit.n_in else "gate"
        return f"<Wire {self.index} ({kind}) of {self.circuit!r}>"

    def _other(self, other, what):
        if isinstance(other, Wire):
            if other.circuit is not self.circuit:
                raise ValueError(f"{what}: the wires belong to different circuits")
            return other
        if _is_number(other) and other == 0:
            return None
        if _is_number(other):
            raise ValueError(f"{what} a constant {other!r}: a circuit is linear (no constant "
                             "terms); multiply wires by constants instead")
        return NotImplemented

    def __add__(self, other):
        other = self._other(other, "cannot add")
        if other is NotImplemented:
            return other
        return self if other is None else self.circuit.gate(1, self, 1, other)

    __radd__ = __add__

    def __sub__(self, other):
        other = self._other(other, "cannot subtract")
        if other is NotImplemented:
            return other
        return self if other is None else self.circuit.gate(1, self, -1, other)

    def __rsub__(self, other):
        other = self._other(other, "cannot subtract")
        if other is NotImplemented:
            return other
        return self.circuit.gate(-1, self) if other is None else self.circuit.gate(1, other, -1,
                                                                                   self)

    def __neg__(self):
        return self.circuit.gate(-1, self)

    def __pos__(self):
        return self

    def __mul__(self, other):
        if isinstance(other, Wire):
            raise ValueError("cannot multiply two wires: a circuit is linear (multiply wires "
                             "by constants only)")
        if not _is_number(other):
            return NotImplemented
        return self.circuit.gate(other, self)

    __rmul__ = __mul__

    def __truediv__(self, other):
        if isinstance(other, Wire):
            raise ValueError("cannot divide by a wire: a circuit is linear")
        if not _is_number(other):
            return NotImplemented
        if other == 0:
            raise ValueError("cannot divide a wire by zero")
        return self.circuit.gate(1 / other, self)

    def __rtruediv__(self, other):
        raise ValueError("cannot divide by a wire: a circuit is linear")


def _is_number(value):
    return isinstance(value, numbers.Number) or (isinstance(value, np.generic)
                                                 and np.issubdtype(type(value), np.number))


class Circuit:
    """A linear straight-line program over ``n_in`` inputs.

    Every gate computes ``a u + b v`` from one or two earlier wires with
    constant weights; :meth:`KMatrix.from_circuit` turns the program into an
    exact K-matrix (the survey's Thm 5.5).

    Parameters
    ----------
    n_in : int
        Number of inputs.
    dtype : dtype, default=np.float64
        The working dtype: float32/float64, or complex64/complex128 when the
        weights are complex.

    Attributes
    ----------
    inputs : list of Wire
    n_in, n_out : int
    size : int
        Gates, including the inputs.
    depth : int
        The longest path from an input to an output, in gates.

    Examples
    --------
    >>> import numpy as np, kmatrix as km
    >>> c = km.Circuit(2)
    >>> x, y = c.inputs
    >>> c.set_outputs([x + y, (x - y) / 2])
    >>> c.evaluate(np.array([[3.0, 1.0]]))
    array([[4., 1.]])
    >>> c.size, c.depth, c.n_out
    (5, 2, 2)
    """

    def __init__(self, n_in, dtype=np.float64):
        self.n_in = check_int(n_in, "n_in")
        self.dtype = check_dtype(dtype)
        # gate i: a tuple of (weight, wire index) terms (none for an input
        # or the constant zero); depth[i] in gates from the inputs
        self._terms = [()] * self.n_in
        self._depth = [0] * self.n_in
        self.inputs = [Wire(self, i) for i in range(self.n_in)]
        self._outputs = None

    def __repr__(self):
        return f"Circuit(n_in={self.n_in}, size={self.size}, dtype={self.dtype})"

    @property
    def size(self):
        """Gates, including the inputs."""
        return len(self._terms)

    @property
    def n_out(self):
        return 0 if self._outputs is None else len(self._outputs)

    @property
    def outputs(self):
        """The output wires (a list), or None before :meth:`set_outputs`."""
        return None if self._outputs is None else [Wire(self, i) for i in self._outputs]

    @property
    def depth(self):
        """The longest path from an input to an output (to any wire before
        :meth:`set_outputs`), in gates."""
        wires = self._outputs if self._outputs is not None else range(self.size)
        return max((self._depth[i] for i in wires), default=0)

    def _weight(self, value, name):
        if not _is_number(value):
            raise ValueError(f"{name} must be a number, got {value!r}")
        if not np.isfinite(value):
            raise ValueError(f"{name} must be finite, got {value!r}")
        if np.iscomplexobj(value) and np.imag(value) != 0 and self.dtype.kind != "c":
            raise ValueError(f"a complex weight {value!r} in a {self.dtype} circuit: create it "
                             "with a complex dtype")
        return value

    def _wire(self, w, name):
        if not isinstance(w, Wire):
            raise ValueError(f"{name} must be a Wire of this circuit, got {w!r}")
        if w.circuit is not self:
            raise ValueError(f"{name} is a wire of another circuit")
        return w.index

    def gate(self, a, u, b=0, v=None):
        """A new wire ``a u + b v`` (``a u`` when ``v`` is None).

        Parameters
        ----------
        a, b : number
            Finite weights (complex only in a complex circuit).
        u, v : Wire
            Wires of this circuit.

        Returns
        -------
        Wire
        """
        terms = [(self._weight(a, "a"), self._wire(u, "u"))]
        if v is not None:
            terms.append((self._weight(b, "b"), self._wire(v, "v")))
        elif b != 0:
            raise ValueError("b is given without v")
        depth = 1 + max(self._depth[i] for _, i in terms)
        self._terms.append(tuple(terms))
        self._depth.append(depth)
        return Wire(self, len(self._terms) - 1)

    def set_outputs(self, wires):
        """Set the output wires (repeats and inputs allowed)."""
        wires = list(wires)
        if not wires:
            raise ValueError("a circuit needs at least one output")
        self._outputs = [self._wire(w, f"output {k}") for k, w in enumerate(wires)]

    def _check_outputs(self):
        if self._outputs is None:
            raise ValueError("the circuit has no outputs: call set_outputs first")

    def evaluate(self, X):
        """Run the program on the rows of X: a slow reference.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_in) or (n_in,)

        Returns
        -------
        Y : ndarray of shape (n_samples, n_out) or (n_out,)
        """
        self._check_outputs()
        X = np.asarray(X)
        squeeze = X.ndim == 1
        X = np.atleast_2d(X)
        if X.ndim != 2 or X.shape[1] != self.n_in:
            raise ValueError(f"X must have rows of {self.n_in} inputs, got shape {X.shape}")
        dtype = np.result_type(X.dtype, self.dtype, np.float64 if self.dtype.kind == "f"
                               else np.complex128)
        values = [None] * self.size
        for i in range(self.n_in):
            values[i] = X[:, i].astype(dtype)
        for i in range(self.n_in, self.size):
            acc = np.zeros(X.shape[0], dtype=dtype)
            for weight, j in self._terms[i]:
                acc += weight * values[j]
            values[i] = acc
        Y = np.stack([values[i] for i in self._outputs], axis=1)
        return Y[0] if squeeze else Y

    @classmethod
    def trace(cls, f, n_in, dtype=np.float64):
        """Record the program that ``f`` runs on wires.

        ``f(list_of_wires) -> list_of_wires`` is called once with the
        circuit's inputs; any Python (recursion, slicing, list building)
        works, as long as the wires are only added, subtracted and scaled.
        An output that is the number 0 (e.g. an empty sum) is the zero wire.

        Returns
        -------
        Circuit
        """
        c = cls(n_in, dtype)
        outs = f(list(c.inputs))
        try:
            outs = list(outs)
        except TypeError:
            raise ValueError(f"f must return a list of wires, got {type(outs).__name__}") from None
        c.set_outputs([c._zero() if (_is_number(w) and w == 0) else w for w in outs])
        return c

    def _zero(self):
        """A wire holding the constant 0."""
        return self.gate(0, self.inputs[0])


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


def circuit_levels(c):
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
    f = _Folded(c)
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
def placed_factors(c, backward=True):
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
    f = _Folded(c)
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


def stage_run_twiddles(run, N, dtype):
    """Twiddles of a run of in-place levels (``("stages", run)`` of
    :func:`placed_factors`), packed into as few BB* blocks as the stage
    order of a K-matrix allows: a block's B* half mixes bits L-1 ... 0 and
    its B half bits 0 ... L-1, and the stages of one level commute."""
    L = N.bit_length() - 1
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
    tw = identity_twiddles(L, block + 1, dtype)
    for b, k, bit, blocks in slots:
        half, stage = (0, k) if k < L else (1, k - L)
        for p, q, m in blocks:
            m = np.array(m, dtype=dtype)
            if p > q:
                p, q, m = q, p, m[::-1, ::-1]
            tw[b, half, stage, pair_index(p, bit)] = m
    return tw
