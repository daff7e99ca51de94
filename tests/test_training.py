"""Tests of the training engine (kmatrix._learning.training) and of the
optimizers it shares with the fits (kmatrix._core.optimizers).

Network.step's loss and gradients are checked against the loss computed
independently (the reference matrix of the twiddles, NumPy activations) and
its central finite differences; the optimizers' single steps against the
updates written out by hand.
"""

import numpy as np
import pytest

import kmatrix as km
from kmatrix._core.optimizers import AdamOptimizer, SGDOptimizer, real_view
from kmatrix._learning.training import (ACTIVATIONS, Layer, Network, _activation_derivative,
                                        activate)
from _reference import reference_matrix


def _single_layer(K, b, out_activation, alpha, optimizer, n_threads=0):
    """The network of one layer g(K x + b) on the squared error."""
    return Network([Layer(K, b)], "relu", out_activation, "squared_error", alpha, optimizer,
                   n_threads=n_threads)


def g_reference(Z, activation):
    """The activations, written independently of ``activate``."""
    return {"identity": lambda z: z, "relu": lambda z: np.where(z > 0, z, 0.0),
            "tanh": np.tanh, "logistic": lambda z: 1 / (1 + np.exp(-z))}[activation](Z)


class Recorder:
    """An optimizer that keeps the gradients it is given (and the arrays)."""

    def __init__(self):
        self.calls = []

    def step(self, grads):
        self.calls.append(([g.copy() for g in grads], list(grads)))


def reference_loss(K, tw, b, X, Y, activation, alpha, w=None):
    """0.5 * weighted mean over rows and targets of (g(X K^T + b) - Y)^2,
    plus alpha / 2 * ||tw||^2 / (sum of weights), from the reference matrix."""
    M = reference_matrix(K, tw)
    Z = X @ M.T + (0 if b is None else b)
    R = g_reference(Z, activation) - Y
    w = np.ones(len(X)) if w is None else w
    total = w.sum()
    loss = 0.5 * np.sum(w[:, None] * R * R) / (total * Y.shape[1])
    return loss + 0.5 * alpha * np.sum(np.abs(tw) ** 2) / total


def finite_difference(f, x, h=1e-6):
    """Central differences of f at x, real and imaginary parts apart
    (complex x: the gradient dL/dRe + i dL/dIm)."""
    g = np.zeros_like(x)
    flat, gflat = x.reshape(-1), g.reshape(-1)
    for i in range(flat.size):
        for unit in ([1, 1j] if x.dtype.kind == "c" else [1]):
            old = flat[i]
            flat[i] = old + h * unit
            up = f()
            flat[i] = old - h * unit
            down = f()
            flat[i] = old
            gflat[i] += unit * (up - down) / (2 * h)
    return g


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("kind", ["real", "real part"])
def test_step_loss_and_gradient_match_finite_differences(kind, activation, weighted):
    rng = np.random.default_rng(ACTIVATIONS.index(activation))
    n_in, n_out, m, alpha = 5, 3, 7, 0.3
    if kind == "real":
        K = km.KMatrix.random(n_out, n_in, width=1, init="normal", random_state=1)
    else:
        K = km.KMatrix.random(n_out, n_in, width=1, dtype=np.complex128, init="normal",
                              random_state=1).real
    b = rng.standard_normal(n_out)
    X = rng.standard_normal((m, n_in))
    Y = rng.standard_normal((m, n_out))
    w = rng.uniform(0.5, 2.0, m) if weighted else None
    tw0, b0 = K.twiddles.copy(), b.copy()
    opt = Recorder()
    trainer = _single_layer(K, b, activation, alpha, opt, n_threads=1)
    loss = trainer.step(X.copy(), Y.copy(), w)
    # the step left the parameters to the optimizer (the recorder moves none)
    np.testing.assert_array_equal(K.twiddles, tw0)
    np.testing.assert_array_equal(b, b0)
    tw, bb = tw0.copy(), b0.copy()

    def f():
        return reference_loss(K, tw, bb, X, Y, activation, alpha, w)

    assert loss == pytest.approx(f(), rel=1e-12)
    (dtw, db), _ = opt.calls[0]
    ref_dtw, ref_db = finite_difference(f, tw), finite_difference(f, bb)
    scale = np.linalg.norm(ref_dtw)
    assert np.linalg.norm(dtw - ref_dtw) <= 1e-6 * scale
    assert np.linalg.norm(db - ref_db) <= 1e-6 * max(np.linalg.norm(ref_db), 1e-3)


def test_step_without_intercept_and_its_buffers_are_reused():
    rng = np.random.default_rng(3)
    K = km.KMatrix.random(4, 6, width=2, init="normal", random_state=2)
    X, Y = rng.standard_normal((5, 6)), rng.standard_normal((5, 4))
    opt = Recorder()
    trainer = _single_layer(K, None, "tanh", 0.0, opt)
    tw = K.twiddles.copy()
    loss = trainer.step(X, Y)
    assert loss == pytest.approx(reference_loss(K, tw, None, X, Y, "tanh", 0.0), rel=1e-12)
    (copies, arrays) = opt.calls[0]
    assert len(arrays) == 1 and arrays[0] is trainer.layers[0].grad
    ref = finite_difference(lambda: reference_loss(K, tw, None, X, Y, "tanh", 0.0), tw)
    assert np.linalg.norm(copies[0] - ref) <= 1e-6 * np.linalg.norm(ref)
    # the same batch size: the same buffers, the same gradient array
    buffers = [id(a) for a in trainer._buffers[5]]
    trainer.step(X, Y)
    assert opt.calls[1][1][0] is trainer.layers[0].grad
    assert [id(a) for a in trainer._buffers[5]] == buffers
    np.testing.assert_array_equal(opt.calls[1][0][0], copies[0])   # nothing moved


def test_epoch_is_the_size_weighted_mean_of_its_batches():
    rng = np.random.default_rng(4)
    K = km.KMatrix.random(3, 4, init="normal", random_state=3)
    X, Y = rng.standard_normal((10, 4)), rng.standard_normal((10, 3))
    order = rng.permutation(10)
    trainer = _single_layer(K, np.zeros(3), "relu", 0.0, Recorder())
    tw = K.twiddles.copy()
    expected = sum(len(idx) * reference_loss(K, tw, 0.0, X[idx], Y[idx], "relu", 0.0)
                   for idx in (order[:4], order[4:8], order[8:])) / 10
    assert trainer.epoch(X, Y, 4, order=order) == pytest.approx(expected, rel=1e-12)
    # a batch of zero weight is skipped: no loss, no step
    opt = Recorder()
    w = np.r_[np.ones(4), np.zeros(4), np.ones(2)]
    _single_layer(K, np.zeros(3), "relu", 0.0, opt).epoch(X, Y, 4, sample_weight=w)
    assert len(opt.calls) == 2


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("n_out, n_in, n_rows, path", [
    (16, 16, 5, "small"), (1000, 700, 3, "rows"), (2048, 1500, 1, "rows"),
    (1000, 300, 37, "tiles"), (200, 1024, 201, "tiles")])
def test_fused_bias_and_activation_equal_the_product_then_the_passes(n_out, n_in, n_rows, path,
                                                                      activation, dtype):
    # every path of the product stores through the layer's epilogue: the
    # same values as the product, then + b, then the activation (tails
    # included); bit for bit for the rectifier, tanh within 1.5 ulp
    from kmatrix._core import _kernels

    K = km.KMatrix.random(n_out, n_in, dtype=dtype, random_state=0)
    rng = np.random.default_rng(1)
    X = rng.standard_normal((n_rows, n_in)).astype(dtype)
    b = rng.standard_normal(n_out).astype(dtype)
    Z = np.full((n_rows, n_out), np.nan, dtype=dtype)
    assert K._apply_into(X, Z, 0, b, activation)
    assert _kernels.last_path().startswith(path)
    pre = K.apply(X) + b
    eps = np.finfo(dtype).eps
    if activation in ("identity", "relu"):
        np.testing.assert_array_equal(Z, activate(pre.copy(), activation))
    elif activation == "tanh":
        assert _tanh_ulps(pre, Z).max() <= _TANH_ULPS
    else:   # rounded in the type at each of 0.5 z, tanh, 0.5 t, + 0.5
        exact = 0.5 * np.tanh(0.5 * pre.astype(np.float64)) + 0.5
        assert np.all(np.abs(Z - exact) <= 1.5 * eps)
    if activation == "relu":
        assert (Z == 0).mean() > 0.3
    ref = X.astype(np.float64) @ reference_matrix(K).T.real + b
    ref = g_reference(ref, activation)
    tol = 1e-4 if dtype == np.float32 else 1e-12
    assert np.linalg.norm(Z - ref) <= tol * np.linalg.norm(ref)


# the kernel's tanh: within 1.5 ulp (1.46 measured on every float32 input,
# 1.45 on 6 million float64 samples), against a reference in long double
# where it is wider than double (else np.tanh's own ulp adds)
_TANH_ULPS = 1.5 if np.finfo(np.longdouble).nmant > 60 else 2.5


def _tanh_ulps(x, t):
    """|t - tanh(x)| in ulps of the exact value rounded to t's dtype."""
    exact = np.tanh(x.astype(np.longdouble))
    return (np.abs(t - exact) / np.spacing(np.abs(exact).astype(t.dtype))).astype(np.float64)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fused_tanh_at_its_edges(dtype):
    # through the identity and a bias of -0 (x + -0 is x, even for -0): Z is
    # the epilogue's tanh(x); rows of 256 + 3 entries take the vector body
    # and the scalar tail
    from kmatrix._core import _kernels

    info = np.finfo(dtype)
    special = [0.0, -0.0, info.smallest_subnormal, -info.tiny, 1e-20, 0.1733, -0.1734,
               0.3466, 0.5, 0.5499999, 0.55, -0.5500001, -1.0, 9.0, 9.1, -19.0, 20.0, 40.0,
               41.0, 1e30, -info.max, np.inf, -np.inf, np.nan]
    rng = np.random.default_rng(2)
    body = np.concatenate([special, np.sinh(rng.uniform(-4, 4, 64 * 259 - len(special)))])
    X = body.reshape(64, 259).astype(dtype)
    n = X.shape[1]
    K = km.KMatrix.identity(n, dtype=dtype)
    Z = np.empty_like(X)
    _kernels.apply_epilogue(K._twiddles, K.log_size, X, Z, "bias_tanh",
                            np.full(n, -0.0, dtype), 1.0, 0, False)
    finite = np.isfinite(X)
    assert _tanh_ulps(X[finite], Z[finite]).max() <= _TANH_ULPS
    assert np.array_equal(np.signbit(Z[X == 0]), np.signbit(X[X == 0]))
    assert np.isnan(Z[np.isnan(X)]).all()
    assert (Z[X == np.inf] == 1).all() and (Z[X == -np.inf] == -1).all()
    # every instruction set rounds within the bound; the same set on any row
    for isa in _kernels.available_isas():
        previous = _kernels._set_isa(isa)
        try:
            Zi = np.empty_like(X)
            _kernels.apply_epilogue(K._twiddles, K.log_size, X, Zi, "bias_tanh",
                                    np.full(n, -0.0, dtype), 1.0, 0, False)
        finally:
            _kernels._set_isa(previous)
        assert _tanh_ulps(X[finite], Zi[finite]).max() <= _TANH_ULPS, isa


def test_a_network_trains_the_same_with_and_without_the_fused_kernels(monkeypatch):
    # bias and rectifier in the product's store, the rectifier's derivative
    # in the store of dx, the squared error's pass and Adam's compiled pass
    # round as the NumPy passes they replace: three layers trained both ways
    # end bit for bit equal
    from kmatrix._core import losses, optimizers
    from kmatrix._operator.kmatrix import KMatrix

    rng = np.random.default_rng(4)
    X = rng.standard_normal((300, 64)).astype(np.float32)
    Y = rng.standard_normal((300, 16)).astype(np.float32)

    def train():
        layers = [Layer(km.KMatrix.random(n_out, n_in, dtype=np.float32, random_state=k),
                        np.full(n_out, 0.1, np.float32))
                  for k, (n_out, n_in) in enumerate([(64, 64), (32, 64), (16, 32)])]
        net = Network(layers, "relu", "identity", "squared_error", 1e-4, None)
        net.optimizer = AdamOptimizer(net.params, learning_rate=1e-2)
        losses = [net.epoch(X, Y, 100, order=rng.permutation(300)) for _ in range(3)]
        return losses, [p.copy() for p in net.params]

    fused_losses, fused = train()
    apply_into, gradient_into = KMatrix._apply_into, KMatrix._twiddle_gradient_into
    monkeypatch.setattr(KMatrix, "_apply_into",
                        lambda self, X, out, n, bias=None, activation="identity":
                        (apply_into(self, X, out, n), bias is None or out.__iadd__(bias),
                         activation == "identity")[2])
    monkeypatch.setattr(KMatrix, "_twiddle_gradient_into",
                        lambda self, X, G, dtw, n, dX=None, gate=None:
                        gradient_into(self, X, G, dtw, n, dX))
    monkeypatch.setattr(optimizers, "_compiled", lambda *arrays: False)
    monkeypatch.setattr(losses, "_compiled", lambda *arrays: False)
    rng = np.random.default_rng(4)
    rng.standard_normal((300, 64)), rng.standard_normal((300, 16))
    apart_losses, apart = train()
    # the squared error's row sums add in another order than einsum's
    np.testing.assert_allclose(fused_losses, apart_losses, rtol=1e-12)
    for a, b in zip(fused, apart):
        np.testing.assert_array_equal(a, b)


def test_fused_relu_keeps_nan_and_the_epilogue_is_checked():
    from kmatrix._core import _kernels

    K = km.KMatrix.random(64, dtype=np.float32, random_state=0)
    X = np.ones((20, 64), dtype=np.float32)
    X[3, 5] = np.nan
    Z = np.empty((20, 64), dtype=np.float32)
    K._apply_into(X, Z, 0, np.zeros(64, np.float32), "relu")
    assert np.isnan(Z[3]).all() and not np.isnan(np.delete(Z, 3, axis=0)).any()
    with pytest.raises(ValueError, match="unknown epilogue"):
        _kernels.apply_epilogue(K._twiddles, K.log_size, X, Z, "gelu", np.zeros(64, np.float32))
    Kc = km.KMatrix.random(64, dtype=np.complex64, random_state=0)
    with pytest.raises(ValueError, match="real float32 or float64"):
        _kernels.apply_epilogue(Kc._twiddles, Kc.log_size, X, Z, "bias",
                                np.zeros(64, np.float32))


@pytest.mark.parametrize("activation", ["relu", "tanh", "logistic"])
def test_activations_and_their_derivatives(activation):
    Z = np.linspace(-4, 4, 41).reshape(1, -1) + 0.01   # no kink of relu at a point
    A = activate(Z.copy(), activation)
    np.testing.assert_allclose(A, g_reference(Z, activation), rtol=1e-14, atol=1e-15)
    D = _activation_derivative(A, np.empty_like(A), activation)
    h = 1e-6
    fd = (g_reference(Z + h, activation) - g_reference(Z - h, activation)) / (2 * h)
    np.testing.assert_allclose(D, fd, rtol=1e-7, atol=1e-8)
    # logistic far out: no overflow warning (pytest turns warnings into errors)
    big = activate(np.array([-1000.0, 1000.0]), activation)
    assert np.all(np.isfinite(big))


def test_unknown_activation():
    with pytest.raises(ValueError, match="unknown activation"):
        activate(np.zeros(2), "softplus")
    with pytest.raises(ValueError, match="no derivative"):
        _activation_derivative(np.zeros(2), np.zeros(2), "identity")


# ------------------------------------------------------------ optimizers --
@pytest.mark.parametrize("dtype", [np.float64, np.complex128])
def test_adam_two_steps_by_hand(dtype):
    rng = np.random.default_rng(5)
    p = rng.standard_normal(6).astype(dtype)
    if p.dtype.kind == "c":
        p += 1j * rng.standard_normal(6)
    grads = [rng.standard_normal(6) + (1j * rng.standard_normal(6) if p.dtype.kind == "c" else 0)
             for _ in range(2)]
    lr, b1, b2, eps = 0.01, 0.8, 0.99, 1e-8
    opt = AdamOptimizer([p], learning_rate=lr, beta_1=b1, beta_2=b2, epsilon=eps)
    # by hand, on the real and imaginary parts as independent parameters
    x = real_view(p.copy()).copy()
    m = np.zeros_like(x)
    v = np.zeros_like(x)
    for t, g in enumerate(grads, start=1):
        gr = real_view(np.asarray(g, dtype=dtype))
        m = b1 * m + (1 - b1) * gr
        v = b2 * v + (1 - b2) * gr * gr
        x = x - lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t) * m / (np.sqrt(v) + eps)
        opt.step([np.asarray(g, dtype=dtype)])
        np.testing.assert_allclose(real_view(p), x, rtol=1e-14, atol=1e-15)
    assert opt.t == 2


@pytest.mark.parametrize("hyper", [float, np.float64])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex64])
def test_adams_compiled_step_rounds_as_its_numpy_passes(dtype, hyper, monkeypatch):
    # the one-pass kernel against the twelve NumPy passes it replaces, bit
    # for bit, over 100,003 entries (blocks of 2^15, a partial one)
    from kmatrix._core import optimizers

    rng = np.random.default_rng(3)
    p0 = rng.standard_normal(100_003).astype(dtype)
    grads = [(rng.standard_normal(p0.shape) * 10.0 ** -k).astype(dtype) for k in range(4)]
    runs = {}
    for name, compiled in (("kernel", optimizers._compiled), ("numpy", lambda *arrays: False)):
        monkeypatch.setattr(optimizers, "_compiled", compiled)
        p = p0.copy()
        # NumPy float64 hyperparameters (a grid search's) round like Python floats
        opt = AdamOptimizer([p], learning_rate=0.003, beta_1=hyper(0.85), beta_2=hyper(0.995),
                            epsilon=hyper(1e-8))
        for g in grads:
            opt.step([g])
        runs[name] = (p, opt.ms[0], opt.vs[0])
    for a, b in zip(runs["kernel"], runs["numpy"]):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(runs["kernel"][0], p0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_adams_compiled_step_is_the_same_on_two_threads(dtype):
    # fixed blocks of entries: two threads that both ran give the one-thread bits
    from kmatrix._core import _kernels
    from _helpers import run_two_threads

    rng = np.random.default_rng(5)
    # 1,500,003 entries: enough work (~0.5 ms) for a sleeping helper to wake
    # and take blocks even beside a busy neighbour
    p0, g, m0, v0 = (rng.standard_normal(1_500_003).astype(dtype) for _ in range(4))
    v0 = np.abs(v0)
    runs = []
    for threads in (1, 2):
        p, m, v = p0.copy(), m0.copy(), v0.copy()

        def call():
            p[...], m[...], v[...] = p0, m0, v0
            _kernels.adam_step(p, g, m, v, 0.003, 0.85, 0.995, 1e-8, threads)

        run_two_threads(call) if threads == 2 else call()
        runs.append((p, m, v))
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(runs[0][0], p0)


@pytest.mark.parametrize("nesterov", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.complex128])
def test_sgd_two_steps_by_hand(dtype, nesterov):
    rng = np.random.default_rng(6)
    p = np.asarray(rng.standard_normal(5), dtype=dtype)
    grads = [np.asarray(rng.standard_normal(5) + 1j * rng.standard_normal(5)
                        if p.dtype.kind == "c" else rng.standard_normal(5), dtype=dtype)
             for _ in range(2)]
    lr, mu = 0.1, 0.7
    opt = SGDOptimizer([p], learning_rate=lr, momentum=mu, nesterov=nesterov)
    x, vel = p.copy(), np.zeros_like(p)
    for g in grads:
        vel = mu * vel - lr * g
        x = x + (mu * vel - lr * g if nesterov else vel)
        opt.step([g])
        np.testing.assert_allclose(p, x, rtol=1e-14, atol=1e-15)


def test_first_adam_step_moves_each_part_by_the_learning_rate():
    # after one step m / sqrt(v) = sign(g) on each real part (epsilon 0)
    p = np.zeros(2, dtype=np.complex128)
    AdamOptimizer([p], learning_rate=0.5, epsilon=0.0).step([np.array([2 - 1j, -3 + 4j])])
    np.testing.assert_allclose(p, [-0.5 + 0.5j, 0.5 - 0.5j], rtol=1e-12)


def _squared_error_passes(P, Y, w, scale):
    """The NumPy passes the compiled squared error replaces (and the row
    sums in float64 by einsum)."""
    R = P.copy()
    R -= Y
    sq = np.einsum("ij,ij->i", R.astype(np.float64), R.astype(np.float64))
    R *= scale
    if w is not None:
        R *= w[:, np.newaxis]
    return R, sq


@pytest.mark.parametrize("weights", [None, np.float32, np.float64])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_squared_error_kernel_rounds_as_its_numpy_passes(dtype, weights):
    # bit for bit the gradient of the passes, on every instruction set and
    # on one or two threads; the row sums within a few float64 roundings
    from kmatrix._core import _kernels
    from _helpers import run_two_threads

    rng = np.random.default_rng(7)
    m, k = 1203, 1027      # not multiples of 8 or of the row blocks
    P0 = (rng.standard_normal((m, k)) * 3).astype(dtype)
    Y = rng.standard_normal((m, k)).astype(dtype)
    w = None if weights is None else rng.random(m).astype(weights)
    scale = 1.0 / (0.7 * m * k)
    R, sq = _squared_error_passes(P0, Y, w, scale)
    runs = []
    for isa in _kernels.available_isas():
        previous = _kernels._set_isa(isa)
        try:
            for threads in (1, 2):
                P = P0.copy()

                def call():
                    P[...] = P0
                    return _kernels.squared_error(P, Y, w, scale, threads)

                # two threads: repeated until a second thread ran
                sums = run_two_threads(call) if threads == 2 else call()
                runs.append((P.copy(), sums))
        finally:
            _kernels._set_isa(previous)
    for P, sums in runs:
        np.testing.assert_array_equal(P, R)
        np.testing.assert_array_equal(sums, runs[0][1])
    np.testing.assert_allclose(runs[0][1], sq, rtol=1e-13)


def test_squared_error_kernel_refuses_bad_arrays():
    from kmatrix._core import _kernels

    P = np.zeros((4, 6), np.float32)
    Y = np.zeros((4, 6), np.float32)
    cases = [(P, Y.astype(np.float64), None, "one dtype"),
             (P.astype(np.int32), Y, None, "one dtype"),
             (P, Y[:3], None, "one shape"),
             (P[:, ::2], Y[:, ::2], None, "unit column stride"),
             (P, P, None, "share memory"),
             (P, Y, np.ones(3), "one weight per row")]
    P64, Y64 = np.zeros((4, 4)), np.zeros((4, 4))
    cases.append((P64, Y64, P64[0], "w must not share memory"))
    for p, y, w, message in cases:
        with pytest.raises(ValueError, match=message):
            _kernels.squared_error(p, y, w, 1.0)
    P.flags.writeable = False
    with pytest.raises(ValueError, match="writable"):
        _kernels.squared_error(P, Y, None, 1.0)
    # no columns: every row's sum is zero; no rows (NumPy gives strides of 0)
    assert _kernels.squared_error(np.zeros((3, 0)), np.zeros((3, 0)), None, 1.0).tolist() == [0] * 3
    assert _kernels.squared_error(np.zeros((0, 5)), np.zeros((0, 5)), None, 1.0).shape == (0,)
