"""km.Circuit and KMatrix.from_circuit: any linear algorithm becomes an exact K-matrix.

Tests kmatrix._builders.circuit (the front end) and kmatrix._builders.compiler
(a circuit into twiddles, survey Thm 5.5) together, through from_circuit.
"""

from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest

import kmatrix as km


def _fft(x):
    """Radix-2 decimation-in-time FFT on a list (wires or numbers)."""
    n = len(x)
    if n == 1:
        return list(x)
    even, odd = _fft(x[0::2]), _fft(x[1::2])
    out = [None] * n
    for k in range(n // 2):
        t = np.exp(-2j * np.pi * k / n) * odd[k]
        out[k] = even[k] + t
        out[k + n // 2] = even[k] - t
    return out


def _haar(x):
    """Orthonormal multi-level Haar transform on a list: coarse first."""
    if len(x) == 1:
        return list(x)
    s = 1 / np.sqrt(2)
    averages = [(a + b) * s for a, b in zip(x[0::2], x[1::2])]
    details = [(a - b) * s for a, b in zip(x[0::2], x[1::2])]
    return _haar(averages) + details


def _haar_numpy(X):
    """The same transform on the rows of X, written directly in NumPy."""
    out, coarse = [], X
    while coarse.shape[1] > 1:
        a, b = coarse[:, 0::2], coarse[:, 1::2]
        out.insert(0, (a - b) / np.sqrt(2))
        coarse = (a + b) / np.sqrt(2)
    return np.concatenate([coarse] + out, axis=1)


def _random_circuit(n, s, depth, rng, complex_=False, n_out=None):
    """s random two-input gates of depth <= depth over n inputs; outputs drawn
    among all wires (repeats, inputs and unused inputs included)."""
    c = km.Circuit(n, dtype=np.complex128 if complex_ else np.float64)
    wires, depths = list(c.inputs), [0] * n
    while c.size < n + s:
        i, j = rng.integers(0, len(wires), 2)
        if max(depths[i], depths[j]) >= depth:
            continue
        a, b = rng.standard_normal(2)
        if complex_:
            a, b = a + 1j * rng.standard_normal(), b + 1j * rng.standard_normal()
        wires.append(c.gate(a, wires[i], b, wires[j]))
        depths.append(1 + max(depths[i], depths[j]))
    c.set_outputs([wires[k] for k in rng.integers(0, len(wires), n_out or n)])
    return c


def _relative_error(K, c):
    M = c.evaluate(np.eye(c.n_in)).T
    return np.linalg.norm(K.todense() - M) / np.linalg.norm(M)


def _bounds_hold(K, c):
    # the documented bounds: width <= 2 (depth + 1), size <= 2 next_pow2(n + s)
    n = max(c.n_in, c.n_out)
    assert K.width <= 2 * (c.depth + 1)
    assert K.size <= 2 * 2 ** int(np.ceil(np.log2(n + c.size)))


@pytest.mark.parametrize("complex_", [False, True], ids=["real", "complex"])
@pytest.mark.parametrize("n, s, depth", [(64, 512, 12), (256, 512, 4), (1024, 8192, 12),
                                         (100, 300, 7)])
def test_random_circuits_are_exact(n, s, depth, complex_):
    rng = np.random.default_rng(n + s + depth)
    c = _random_circuit(n, s, depth, rng, complex_)
    K = km.KMatrix.from_circuit(c)
    assert K.shape == (c.n_out, c.n_in) and K.dtype == c.dtype
    assert _relative_error(K, c) < 1e-12
    _bounds_hold(K, c)
    X = rng.standard_normal((5, n))
    np.testing.assert_allclose(K.apply(X), c.evaluate(X), atol=1e-10 * np.abs(c.evaluate(X)).max())


@pytest.mark.parametrize("n", [8, 256, 1024])
def test_a_traced_fft_is_one_butterfly_and_a_permutation(n):
    c = km.Circuit.trace(_fft, n, dtype=np.complex128)
    K = km.KMatrix.from_circuit(c)
    F = np.fft.fft(np.eye(n), axis=0)
    assert np.linalg.norm(K.todense() - F) / np.linalg.norm(F) < 1e-12
    # pairs of gates reading the same two wires, placed in place: the
    # log2 n levels pack into one butterfly, the input order is one block
    assert (K.width, K.expansion) == (2, 1)
    assert K.n_params <= 2 * km.KMatrix.dft(n).n_params
    x = np.random.default_rng(0).standard_normal(n)
    np.testing.assert_allclose(K @ x, np.fft.fft(x), atol=1e-9 * np.sqrt(n))


@pytest.mark.parametrize("n", [2, 16, 512])
def test_a_traced_haar_transform_equals_numpy(n):
    c = km.Circuit.trace(_haar, n)
    K = km.KMatrix.from_circuit(c)
    X = np.random.default_rng(1).standard_normal((7, n))
    np.testing.assert_allclose(K.apply(X), _haar_numpy(X), atol=1e-12 * np.sqrt(n))
    np.testing.assert_allclose(c.evaluate(X), _haar_numpy(X), atol=1e-12 * np.sqrt(n))
    # orthonormal: an orthogonal K
    D = K.todense()
    np.testing.assert_allclose(D @ D.T, np.eye(n), atol=1e-12)
    # placed from the inputs on, every level computes in place: one
    # butterfly half, then the permutation into the outputs' order
    if n > 2:
        assert (K.width, K.expansion) == (2, 1)


def test_circuit_bookkeeping():
    c = km.Circuit(3)
    x, y, z = c.inputs
    assert (c.size, c.depth, c.n_out) == (3, 0, 0)
    u = c.gate(2.0, x, -1.0, y)            # depth 1
    v = u + 3 * z                          # 3 * z (depth 1), then the sum (depth 2)
    w = -v / 4                             # two unary gates: depth 4
    c.set_outputs([w, u, x])
    assert (c.size, c.depth, c.n_out) == (3 + 5, 4, 3)
    X = np.array([[1.0, 2.0, 3.0], [0.5, -1.0, 2.0]])
    expected = np.stack([-(2 * X[:, 0] - X[:, 1] + 3 * X[:, 2]) / 4,
                         2 * X[:, 0] - X[:, 1], X[:, 0]], axis=1)
    np.testing.assert_allclose(c.evaluate(X), expected)
    np.testing.assert_allclose(c.evaluate(X[0]), expected[0])
    np.testing.assert_allclose(km.KMatrix.from_circuit(c).apply(X), expected, atol=1e-14)
    # sum() starts from 0: the additive identity, not a constant
    c2 = km.Circuit.trace(lambda xs: [sum(xs), sum(xs[:0])], 4)
    np.testing.assert_allclose(c2.evaluate(np.arange(4.0)), [6.0, 0.0])


def test_zero_products_repeats_unused_inputs_and_input_outputs():
    def f(x):
        zero = 0 * x[0]                    # a constant-zero product
        y = x[1] - x[1]                    # cancels to zero
        s = x[0] + x[2]
        return [s, zero, s, x[3], y + x[0], 2 * zero + x[2]]   # x[4] unused

    c = km.Circuit.trace(f, 5)
    K = km.KMatrix.from_circuit(c)
    M = np.array([[1, 0, 1, 0, 0], [0] * 5, [1, 0, 1, 0, 0], [0, 0, 0, 1, 0],
                  [1, 0, 0, 0, 0], [0, 0, 1, 0, 0]], dtype=float)
    np.testing.assert_allclose(K.todense(), M, atol=1e-15)
    np.testing.assert_allclose(c.evaluate(np.eye(5)).T, M)
    # every output an input, or all outputs zero
    for outs in (lambda x: [x[2], x[0], x[2]], lambda x: [0 * x[0], 0]):
        c = km.Circuit.trace(outs, 3)
        np.testing.assert_allclose(km.KMatrix.from_circuit(c).todense(),
                                   c.evaluate(np.eye(3)).T, atol=1e-15)


def test_complex_and_float32_circuits():
    c = km.Circuit.trace(lambda x: [x[0] + 1j * x[1], (1 - 2j) * x[1] - x[0]], 2,
                         dtype=np.complex64)
    K = km.KMatrix.from_circuit(c)
    assert K.dtype == np.complex64
    np.testing.assert_allclose(K.todense(), [[1, 1j], [-1, 1 - 2j]], atol=1e-6)
    c = km.Circuit.trace(_haar, 8, dtype=np.float32)
    K = km.KMatrix.from_circuit(c)
    assert K.dtype == np.float32
    X = np.random.default_rng(2).standard_normal((3, 8)).astype(np.float32)
    np.testing.assert_allclose(K.apply(X), _haar_numpy(X), atol=1e-5)


def test_bad_programs_raise_clear_errors():
    c, other = km.Circuit(2), km.Circuit(2)
    x, y = c.inputs
    with pytest.raises(ValueError, match="different circuits"):
        x + other.inputs[0]
    with pytest.raises(ValueError, match="another circuit"):
        c.gate(1, x, 1, other.inputs[1])
    with pytest.raises(ValueError, match="another circuit"):
        c.set_outputs([other.inputs[0]])
    with pytest.raises(ValueError, match="linear"):
        x * y
    with pytest.raises(ValueError, match="linear"):
        x / y
    with pytest.raises(ValueError, match="linear"):
        1.0 / x
    with pytest.raises(ValueError, match="constant"):
        x + 1
    with pytest.raises(ValueError, match="finite"):
        x * np.inf
    with pytest.raises(ValueError, match="finite"):
        c.gate(np.nan, x)
    with pytest.raises(ValueError, match="zero"):
        x / 0
    with pytest.raises(ValueError, match="complex"):
        1j * x
    with pytest.raises(ValueError, match="Wire"):
        c.gate(1, 3.0)
    with pytest.raises(ValueError, match="no outputs"):
        km.KMatrix.from_circuit(c)
    with pytest.raises(ValueError, match="no outputs"):
        c.evaluate(np.ones((1, 2)))
    with pytest.raises(ValueError, match="at least one output"):
        c.set_outputs([])
    with pytest.raises(ValueError, match="list of wires"):
        km.Circuit.trace(lambda xs: xs[0], 2)
    with pytest.raises(ValueError, match="Circuit"):
        km.KMatrix.from_circuit(np.eye(2))
    c.set_outputs([x])
    with pytest.raises(ValueError, match="rows of 2"):
        c.evaluate(np.ones((1, 3)))


# --------------------------------------------------- weights of any number type --
@pytest.mark.parametrize("weight, expected", [(Fraction(1, 3), 1 / 3), (Decimal("0.5"), 0.5),
                                              (np.float32(2.5), 2.5), (7, 7.0),
                                              (1 + 0j, 1.0), (np.complex64(2), 2.0)])
def test_weights_of_any_number_type(weight, expected):
    c = km.Circuit(2)
    c.set_outputs([weight * c.inputs[0] + c.inputs[1]])
    np.testing.assert_allclose(km.KMatrix.from_circuit(c).todense(), [[expected, 1.0]],
                               rtol=1e-15)


@pytest.mark.parametrize("dtype, weight, match", [
    (np.float64, 10 ** 400, r"gate weight a = 1000.*\.\.\. is not a float64 number"),
    (np.float32, 1e39, "overflows the circuit's float32"),
    (np.float64, 1 + 2j, "complex weight"),
    (np.float64, float("nan"), "gate weight a must be finite"),
    (np.float64, "2", "gate weight a must be a number"),
])
def test_weights_that_do_not_fit_say_so_at_the_gate(dtype, weight, match):
    c = km.Circuit(2, dtype=dtype)
    with pytest.raises(ValueError, match=match):
        c.gate(weight, c.inputs[0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_weights_that_overflow_when_folded_speak_of_the_circuit(dtype):
    # each weight fits, their product along the chain of scalings does not
    c = km.Circuit(2, dtype=dtype)
    y = c.inputs[0]
    for _ in range(12):
        y = 1e30 * y
    c.set_outputs([y + c.inputs[1]])
    with pytest.raises(ValueError, match=f"gate weights, multiplied along its chains of "
                                         f"scalings, overflow {np.dtype(dtype)}"):
        km.KMatrix.from_circuit(c)
