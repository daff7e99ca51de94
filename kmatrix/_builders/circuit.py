"""Linear straight-line programs (circuits): the front end users write in.

A :class:`Circuit` records a linear algorithm as a DAG of gates
``w = a u + b v`` over its input wires. :mod:`.compiler` turns it into
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

from .._core.validation import check_dtype, check_int

__all__ = ["Circuit", "Wire"]


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

    Raises
    ------
    ValueError
        If ``n_in`` is not a positive integer or ``dtype`` is not supported.

    Attributes
    ----------
    inputs : list of Wire
    n_in, n_out : int
    size : int
        Gates, including the inputs.
    depth : int
        The longest path from an input to an output, in gates.

    See Also
    --------
    KMatrix.from_circuit : the exact K-matrix of a circuit.

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
        """Gates, including the inputs.

        Examples
        --------
        >>> import kmatrix as km
        >>> c = km.Circuit(3)
        >>> a, b, _ = c.inputs
        >>> w = a + 2 * b                 # two gates: 2 * b, then the sum
        >>> c.size
        5
        """
        return len(self._terms)

    @property
    def n_out(self):
        """Number of outputs (0 before :meth:`set_outputs`).

        Examples
        --------
        >>> import kmatrix as km
        >>> c = km.Circuit(3)
        >>> c.set_outputs(c.inputs[::-1] + [sum(c.inputs)])
        >>> c.n_out
        4
        """
        return 0 if self._outputs is None else len(self._outputs)

    @property
    def outputs(self):
        """The output wires (a list), or None before :meth:`set_outputs`.

        Examples
        --------
        >>> import kmatrix as km
        >>> c = km.Circuit(2)
        >>> c.outputs is None
        True
        >>> c.set_outputs([c.inputs[1]])
        >>> c.outputs
        [<Wire 1 (input) of Circuit(n_in=2, size=2, dtype=float64)>]
        """
        return None if self._outputs is None else [Wire(self, i) for i in self._outputs]

    @property
    def depth(self):
        """The longest path from an input to an output (to any wire before
        :meth:`set_outputs`), in gates.

        Examples
        --------
        >>> import kmatrix as km
        >>> c = km.Circuit(4)
        >>> a, b, x, y = c.inputs
        >>> c.set_outputs([(a + b) + (x + y), a - b])
        >>> c.depth
        2
        """
        wires = self._outputs if self._outputs is not None else range(self.size)
        return max((self._depth[i] for i in wires), default=0)

    def _weight(self, value, name):
        """The gate weight ``value`` as a Python float or complex, checked
        against the circuit's dtype (any number type: int, Fraction, Decimal,
        NumPy scalars)."""
        if not _is_number(value):
            raise ValueError(f"the gate weight {name} must be a number, got {value!r}")
        is_complex = isinstance(value, numbers.Complex) and not isinstance(value, numbers.Real)
        try:
            number = complex(value) if is_complex else float(value)
        except (OverflowError, TypeError, ValueError):
            shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
            raise ValueError(f"the gate weight {name} = {shown} is not a {self.dtype} "
                             "number (too large, or not convertible)") from None
        if not np.isfinite(number):
            raise ValueError(f"the gate weight {name} must be finite, got {value!r}")
        if is_complex and number.imag != 0 and self.dtype.kind != "c":
            raise ValueError(f"a complex weight {value!r} in a {self.dtype} circuit: create it "
                             "with a complex dtype")
        if is_complex and self.dtype.kind != "c":
            number = number.real   # a complex number with no imaginary part, in a real circuit
        if abs(number) > float(np.finfo(self.dtype).max):
            raise ValueError(f"the gate weight {name} = {value!r} overflows the circuit's "
                             f"{self.dtype}")
        return number

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
            The new wire.

        Raises
        ------
        ValueError
            If a weight is not a finite number (or is complex in a real
            circuit), a wire belongs to another circuit, or ``b`` is given
            without ``v``.

        Examples
        --------
        >>> import numpy as np, kmatrix as km
        >>> c = km.Circuit(2)
        >>> x, y = c.inputs
        >>> c.set_outputs([c.gate(2, x, -1, y), c.gate(0.5, y)])
        >>> c.evaluate(np.array([1.0, 4.0]))
        array([-2.,  2.])
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
        """Set the output wires (repeats and inputs allowed).

        Parameters
        ----------
        wires : iterable of Wire
            The outputs, in order; the circuit's matrix has one row per wire.

        Returns
        -------
        None

        Raises
        ------
        ValueError
            If ``wires`` is empty or holds something other than wires of this
            circuit.

        Examples
        --------
        >>> import kmatrix as km
        >>> c = km.Circuit(2)
        >>> x, y = c.inputs
        >>> c.set_outputs([y, x, x + y, x])
        >>> c.n_out
        4
        """
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
            In float64 or complex128 (or the wider of X's and the circuit's
            dtype).

        Raises
        ------
        ValueError
            If the circuit has no outputs or the rows of ``X`` do not have
            ``n_in`` entries.

        Examples
        --------
        >>> import numpy as np, kmatrix as km
        >>> c = km.Circuit.trace(lambda x: [x[0] - x[1], x[0] + x[1]], 2)
        >>> c.evaluate(np.array([[1.0, 2.0], [3.0, 5.0]]))
        array([[-1.,  3.],
               [-2.,  8.]])
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

        Parameters
        ----------
        f : callable
            ``f(list_of_wires) -> list_of_wires``, a linear function written
            with ``+``, ``-`` and scalings by constants.
        n_in : int
            Number of inputs.
        dtype : dtype, default=np.float64
            The working dtype; complex weights need a complex dtype.

        Returns
        -------
        Circuit
            With its outputs set to what ``f`` returned.

        Raises
        ------
        ValueError
            If ``f`` does not return a list of wires, or its operations are
            not linear (a product of two wires, a constant term).

        Examples
        --------
        >>> import cmath, numpy as np, kmatrix as km
        >>> def fft(x):                    # a textbook radix-2 FFT on lists
        ...     n = len(x)
        ...     if n == 1:
        ...         return list(x)
        ...     even, odd = fft(x[0::2]), fft(x[1::2])
        ...     t = [cmath.exp(-2j * cmath.pi * k / n) * odd[k] for k in range(n // 2)]
        ...     return ([even[k] + t[k] for k in range(n // 2)]
        ...             + [even[k] - t[k] for k in range(n // 2)])
        >>> c = km.Circuit.trace(fft, 16, dtype=np.complex128)
        >>> c.depth
        8
        >>> x = np.random.default_rng(0).standard_normal(16)
        >>> bool(np.allclose(c.evaluate(x), np.fft.fft(x)))
        True
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
