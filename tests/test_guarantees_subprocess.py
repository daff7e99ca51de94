"""Memory safety at the edges, each batch of cases in a subprocess.

A case that made the kernels read or write outside their arrays could crash
the interpreter, so the cases run in a child Python: a crash fails the test
that ran it (naming the case it stopped in) instead of killing pytest. Every
case must end in a clean Python exception or a correct result, and the child
must exit normally. The child runs outside the source tree, where the
source's ``kmatrix/`` cannot shadow the built package.
"""

import json
import subprocess
import sys
import textwrap

import pytest

# Prepended to every child's cases: case(name, fn) runs fn and reports how
# it ended on one line of stdout.
PRELUDE = '''
import json, os, sys, warnings
import numpy as np
import kmatrix as km
from kmatrix._core import _kernels

def case(name, fn):
    print("START", name, flush=True)
    try:
        fn()
        outcome = {"ok": True}
    except Exception as exc:
        outcome = {"ok": False, "exc": type(exc).__name__, "msg": str(exc)[:300]}
    print("RESULT", name, json.dumps(outcome), flush=True)

def threads_alive():
    return len(os.listdir("/proc/self/task"))
'''


def run_cases(tmp_path, code, timeout=120):
    """Runs PRELUDE + code in a child Python; returns {case name: outcome}.
    Fails, naming the case it stopped in, if the child did not exit normally."""
    script = PRELUDE + textwrap.dedent(code)
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True,
                          text=True, timeout=timeout)
    outcomes, started = {}, None
    for line in done.stdout.splitlines():
        if line.startswith("START "):
            started = line.split(" ", 1)[1]
        elif line.startswith("RESULT "):
            _, name, payload = line.split(" ", 2)
            outcomes[name] = json.loads(payload)
    assert done.returncode == 0, (
        f"the child exited with {done.returncode} in case {started!r}:\n{done.stderr[-3000:]}")
    return outcomes


def assert_ok(outcomes, name):
    outcome = outcomes[name]
    assert outcome["ok"], f"{name}: {outcome.get('exc')}: {outcome.get('msg')}"


def assert_raises(outcomes, name, exc="ValueError"):
    outcome = outcomes[name]
    assert not outcome["ok"], f"{name}: no exception"
    assert outcome["exc"] == exc, f"{name}: {outcome['exc']}: {outcome['msg']}"


# ----------------------------------------------- the twiddles an edit reaches --
TWIDDLE_EDITS = '''
rng = np.random.default_rng(0)
K = km.KMatrix.random(48, 64, dtype=np.float64, init="normal", random_state=0)  # width 1
X = rng.standard_normal((70, 64))
G = rng.standard_normal((70, 48))
x = rng.standard_normal(64)
Y0, V0, dX0, dtw0 = K.apply(X), K @ x, *K.vjp(X, G)
params = K.twiddles.copy()

def intact(K=K):
    # the operator and its parameters are as they were
    assert K.twiddles.shape == params.shape and K.twiddles.dtype == params.dtype
    np.testing.assert_array_equal(K.twiddles, params)
    np.testing.assert_array_equal(K.apply(X), Y0)
    np.testing.assert_array_equal(K @ x, V0)
    dX, dtw = K.vjp(X, G)
    np.testing.assert_array_equal(dX, dX0)
    np.testing.assert_array_equal(dtw, dtw0)

def reshaped_view():
    t = K.twiddles
    t.shape = (2, 1) + t.shape[2:]       # the view only
    assert t.shape[:2] == (2, 1)
    dX, dtw = K.vjp(X, G)
    np.testing.assert_array_equal(dX, dX0)
    np.testing.assert_array_equal(dtw, dtw0)
    np.testing.assert_array_equal(K.apply(X), Y0)
    intact()
case("reshaped_view", reshaped_view)

def retyped_view():
    t = K.twiddles
    t.dtype = np.complex128              # the view only: (..., 2, 1) complex
    np.testing.assert_array_equal(K.apply(X), Y0)
    intact()
case("retyped_view", retyped_view)

def restrided_view():
    t = K.twiddles
    try:
        with warnings.catch_warnings():  # deprecated in NumPy 2.4
            warnings.simplefilter("ignore", DeprecationWarning)
            t.strides = (0,) * t.ndim    # every entry of the view is the first one
    except AttributeError:               # a NumPy where strides cannot be set
        pass
    np.testing.assert_array_equal(K.apply(X), Y0)
    intact()
case("restrided_view", restrided_view)

case("resize_refused", lambda: K.twiddles.resize((3,)))
case("resize_refused_no_refcheck", lambda: K.twiddles.resize((10 ** 6,), refcheck=False))
case("intact_after_resize", intact)

def edit_through_view():
    # writing entries through the view is the documented way to change K
    t = K.twiddles
    t[0, 0, 0, 0] = [[2.0, 0.0], [0.0, 2.0]]
    Y = K.apply(X)
    assert not np.array_equal(Y, Y0)
    t[...] = params
    intact()
case("edit_through_view", edit_through_view)

# the operator's own array, reached through the view's base and mangled in
# place: the operator is broken for good, but every call is an exception
def mangled(edit):
    def run():
        M = km.KMatrix.random(48, 64, dtype=np.float64, init="normal", random_state=0)
        edit(M.twiddles.base)
        calls = (lambda: M.apply(X), lambda: M.vjp(X, G), lambda: M @ x,
                 lambda: M.H.apply(G), lambda: M.todense())
        for call in calls:
            try:
                call()
            except Exception:
                continue
            raise AssertionError("a mangled operator still computed")
    return run

def set_shape(a):
    a.shape = (2, 1) + a.shape[2:]
def set_dtype(a):
    a.dtype = np.complex128
def shrink(a):
    a.resize((10,), refcheck=False)
def shrink_blocks(a):
    a.resize(a.shape[:3] + (8, 2, 2), refcheck=False)
def grow_blocks(a):
    a.resize(a.shape[:3] + (64, 2, 2), refcheck=False)
for edit in (set_shape, set_dtype, shrink, shrink_blocks, grow_blocks):
    case("mangled_" + edit.__name__, mangled(edit))

# a real part shares its complex twiddles: the same edits of its view
C = km.KMatrix.random(64, dtype=np.complex128, random_state=1)
R = C.real
Xr = rng.standard_normal((9, 64))
Yr0 = R.apply(Xr)

def real_part_views():
    t = R.twiddles
    t.shape = (2, 1) + t.shape[2:]
    u = R.twiddles
    u.dtype = np.float64                 # (..., 2, 4) of real numbers
    np.testing.assert_array_equal(R.apply(Xr), Yr0)
    np.testing.assert_array_equal(C.apply(Xr).real, Yr0)
case("real_part_views", real_part_views)
'''


def test_edits_of_the_twiddles_view_leave_the_operator_intact(tmp_path):
    # K.twiddles is a view of the operator's array: reshaping, retyping or
    # restriding it changes that view alone, resizing it is refused; the
    # products, adjoint products and gradients stay those of the parameters.
    # The array itself, reached through the view's base and reshaped,
    # retyped or resized in place, makes every later call an exception
    out = run_cases(tmp_path, TWIDDLE_EDITS)
    for name in ("reshaped_view", "retyped_view", "restrided_view", "intact_after_resize",
                 "edit_through_view", "real_part_views"):
        assert_ok(out, name)
    assert_raises(out, "resize_refused")
    assert_raises(out, "resize_refused_no_refcheck")
    for edit in ("set_shape", "set_dtype", "shrink", "shrink_blocks", "grow_blocks"):
        assert_ok(out, "mangled_" + edit)


# ------------------------------------------------------------ thread counts --
WORKER_COUNTS = '''
K = km.KMatrix.random(4096, width=2, random_state=0)
X = np.random.default_rng(0).standard_normal((300, 4096))
G = np.random.default_rng(1).standard_normal((300, 4096))
Y1 = K.apply(X, workers=1)
dX1, dtw1 = K.vjp(X, G, workers=1)
cap = max(2, _kernels.cpu_count())
before = threads_alive()
print("THREADS_BEFORE", before, flush=True)

def huge(workers):
    def run():
        np.testing.assert_array_equal(K.apply(X, workers=workers), Y1)
        planned = _kernels.last_threads()[0]
        assert 2 <= planned <= cap, planned
        dX, dtw = K.vjp(X, G, workers=workers)
        np.testing.assert_array_equal(dX, dX1)
        np.testing.assert_array_equal(dtw, dtw1)
        assert _kernels.last_threads()[0] <= cap
        with km.set_workers(workers):
            np.testing.assert_array_equal(K @ X.T, Y1.T)
        assert threads_alive() <= before + cap, (threads_alive(), before, cap)
    return run

for workers in (40000, 2 ** 31, 2 ** 63, 10 ** 30):
    case(f"workers_{workers}", huge(workers))

def binding_thread_counts():
    # straight to the binding: any int is a request, capped or the default
    tw = K.twiddles
    for n in (2 ** 31 - 1, 40000, -5, -(2 ** 31)):
        y = np.full((300, 4096), np.nan)
        _kernels.apply(tw, K.log_size, X, y, "N", n, True)
        np.testing.assert_array_equal(y, Y1)
        assert _kernels.last_threads()[0] <= cap
case("binding_thread_counts", binding_thread_counts)
print("THREADS_AFTER", threads_alive(), flush=True)
'''


def test_huge_worker_counts_are_capped(tmp_path):
    out = run_cases(tmp_path, WORKER_COUNTS)
    for workers in (40000, 2 ** 31, 2 ** 63, 10 ** 30):
        assert_ok(out, f"workers_{workers}")
    assert_ok(out, "binding_thread_counts")


# ----------------------------------------------------- the binding, directly --
BINDING = '''
L = 5
N = 1 << L
rng = np.random.default_rng(0)
tw = km.KMatrix.random(N, width=2, random_state=0).twiddles.copy()
x = rng.standard_normal((7, N))
y = np.zeros((7, N))

def ref():
    out = np.zeros((7, N))
    _kernels.apply(tw, L, x, out, "N", 0, True)
    return out
Y = ref()

def unaligned(a):
    """A copy of a one byte off its dtype's alignment."""
    buf = np.zeros(a.nbytes + 1, np.uint8)
    out = np.ndarray(a.shape, a.dtype, buf.data, 1)
    out[...] = a
    assert not out.flags.aligned
    return out

def raises(fn):
    def run():
        try:
            fn()
        except ValueError:
            return
        raise AssertionError("no ValueError")
    return run

bad = {
    # twiddles that do not describe the network of log_size L
    "log_size_plus_one": lambda: _kernels.apply(tw, L + 1, x, y, "N", 0, True),
    "log_size_minus_one": lambda: _kernels.apply(tw, L - 1, x, y, "N", 0, True),
    "log_size_zero": lambda: _kernels.apply(tw, 0, x, y, "N", 0, True),
    "log_size_negative": lambda: _kernels.apply(tw, -3, x, y, "N", 0, True),
    "log_size_41": lambda: _kernels.apply(tw, 41, x, y, "N", 0, True),
    "log_size_64": lambda: _kernels.apply(tw, 64, x, y, "N", 0, True),
    "log_size_int_max": lambda: _kernels.apply(tw, 2 ** 31 - 1, x, y, "N", 0, True),
    "twiddles_of_a_smaller_network": lambda: _kernels.apply(tw[:, :, :4, :8].copy(), L, x, y,
                                                            "N", 0, True),
    "twiddles_5d": lambda: _kernels.apply(tw[0].copy(), L, x, y, "N", 0, True),
    "twiddles_width_0": lambda: _kernels.apply(tw[:0].copy(), L, x, y, "N", 0, True),
    "twiddles_half_axis_1": lambda: _kernels.apply(tw[:, :1].copy(), L, x, y, "N", 0, True),
    "twiddles_not_2x2": lambda: _kernels.apply(np.zeros(tw.shape[:5] + (3,)), L, x, y,
                                               "N", 0, True),
    "twiddles_non_contiguous": lambda: _kernels.apply(tw[..., ::-1], L, x, y, "N", 0, True),
    "twiddles_strided_blocks": lambda: _kernels.apply(
        np.zeros(tw.shape[:3] + (2 * tw.shape[3], 2, 2))[:, :, :, ::2], L, x, y, "N", 0, True),
    "twiddles_fortran": lambda: _kernels.apply(np.asfortranarray(tw), L, x, y, "N", 0, True),
    "twiddles_int64": lambda: _kernels.apply(tw.astype(np.int64), L, x.astype(np.int64),
                                             y.astype(np.int64), "N", 0, True),
    "twiddles_float16": lambda: _kernels.apply(tw.astype(np.float16), L, x, y, "N", 0, True),
    "twiddles_object": lambda: _kernels.apply(tw.astype(object), L, x, y, "N", 0, True),
    "twiddles_unaligned": lambda: _kernels.apply(unaligned(tw), L, x, y, "N", 0, True),
    # rows that do not fit the network or the twiddles
    "x_float32": lambda: _kernels.apply(tw, L, x.astype(np.float32), y, "N", 0, True),
    "y_float32": lambda: _kernels.apply(tw, L, x, y.astype(np.float32), "N", 0, True),
    "x_complex": lambda: _kernels.apply(tw, L, x.astype(complex), y.astype(complex), "N", 0,
                                        True),
    "x_too_long": lambda: _kernels.apply(tw, L, np.zeros((7, N + 1)), y, "N", 0, True),
    "y_too_long": lambda: _kernels.apply(tw, L, x, np.zeros((7, N + 1)), "N", 0, True),
    "x_1d": lambda: _kernels.apply(tw, L, x[0], y, "N", 0, True),
    "x_3d": lambda: _kernels.apply(tw, L, x[None], y[None], "N", 0, True),
    "rows_differ": lambda: _kernels.apply(tw, L, x, y[:6], "N", 0, True),
    "y_read_only": lambda: _kernels.apply(tw, L, x, np.broadcast_to(y, y.shape), "N", 0, True),
    "x_unaligned": lambda: _kernels.apply(tw, L, unaligned(x), y, "N", 0, True),
    "trans_bad": lambda: _kernels.apply(tw, L, x, y, "X", 0, True),
    "non_finite_rows": lambda: _kernels.apply(tw, L, np.full((7, N), np.nan), np.zeros((7, N)),
                                              "N", 0, True),
    # the gradient binding
    "vjp_log_size": lambda: _kernels.vjp(tw, L + 1, x, x, None, np.empty_like(tw), 0, True),
    "vjp_dtwiddles_shape": lambda: _kernels.vjp(tw, L, x, x, None, np.empty_like(tw[:1]), 0,
                                                True),
    "vjp_dtwiddles_dtype": lambda: _kernels.vjp(tw, L, x, x, None,
                                                np.empty(tw.shape, np.float32), 0, True),
    "vjp_dtwiddles_strided": lambda: _kernels.vjp(tw, L, x, x, None,
                                                  np.empty(tw.shape + (2,))[..., 0], 0, True),
    "vjp_dtwiddles_read_only": lambda: _kernels.vjp(
        tw, L, x, x, None, np.broadcast_to(np.empty_like(tw), tw.shape), 0, True),
    "vjp_dx_shape": lambda: _kernels.vjp(tw, L, x, x, np.empty((7, N - 1)), np.empty_like(tw),
                                         0, True),
    "vjp_dx_dtype": lambda: _kernels.vjp(tw, L, x, x, np.empty((7, N), np.float32),
                                         np.empty_like(tw), 0, True),
    "vjp_g_too_long": lambda: _kernels.vjp(tw, L, x, np.zeros((7, N + 1)), None,
                                           np.empty_like(tw), 0, True),
    "vjp_x_empty_rows": lambda: _kernels.vjp(tw, L, np.zeros((7, 0)), x, None,
                                             np.empty_like(tw), 0, True),
    "vjp_rows_differ": lambda: _kernels.vjp(tw, L, x, x[:6], None, np.empty_like(tw), 0, True),
}
for name, fn in bad.items():
    case(name, raises(fn))

def still_right():
    # after every refusal: nothing written, and the next call is right
    np.testing.assert_array_equal(y, np.zeros((7, N)))
    np.testing.assert_array_equal(ref(), Y)
case("still_right", still_right)

def empty_rows_are_zero_padding():
    # rows of no entries are the zero vector padded to N: K 0 = 0
    out = np.full((7, N), np.nan)
    _kernels.apply(tw, L, np.zeros((7, 0)), out, "N", 0, True)
    np.testing.assert_array_equal(out, np.zeros((7, N)))
case("empty_rows_are_zero_padding", empty_rows_are_zero_padding)

def aliased_rows():
    # y over x itself (the binding does not copy): still every row's product
    z = x.copy()
    _kernels.apply(tw, L, z, z, "N", 0, True)
    np.testing.assert_allclose(z, Y, rtol=1e-12, atol=1e-12)
case("aliased_rows", aliased_rows)
'''

BAD_BINDING_CASES = [
    "log_size_plus_one", "log_size_minus_one", "log_size_zero", "log_size_negative",
    "log_size_41", "log_size_64", "log_size_int_max", "twiddles_of_a_smaller_network",
    "twiddles_5d", "twiddles_width_0", "twiddles_half_axis_1", "twiddles_not_2x2",
    "twiddles_non_contiguous", "twiddles_strided_blocks", "twiddles_fortran", "twiddles_int64",
    "twiddles_float16", "twiddles_object", "twiddles_unaligned", "x_float32", "y_float32",
    "x_complex", "x_too_long", "y_too_long", "x_1d", "x_3d", "rows_differ", "y_read_only",
    "x_unaligned", "trans_bad", "non_finite_rows", "vjp_log_size", "vjp_dtwiddles_shape",
    "vjp_dtwiddles_dtype", "vjp_dtwiddles_strided", "vjp_dtwiddles_read_only", "vjp_dx_shape",
    "vjp_dx_dtype", "vjp_g_too_long", "vjp_x_empty_rows", "vjp_rows_differ",
]


def test_the_binding_refuses_inconsistent_arguments(tmp_path):
    # kmatrix._core._kernels called directly: twiddles that do not describe the
    # network of log_size, wrong layouts and dtypes, rows that do not fit --
    # each a ValueError before the kernel runs
    out = run_cases(tmp_path, BINDING)
    for name in BAD_BINDING_CASES:
        assert_ok(out, name)   # the case is "raises ValueError"
    assert set(BAD_BINDING_CASES) <= set(out)
    for name in ("still_right", "empty_rows_are_zero_padding", "aliased_rows"):
        assert_ok(out, name)


def test_a_crash_is_reported_with_the_case_it_stopped_in(tmp_path):
    # the harness itself: a child killed mid-case fails, naming that case
    code = """
case("fine", lambda: None)
case("dies", os.abort)
"""
    with pytest.raises(AssertionError, match="in case 'dies'"):
        run_cases(tmp_path, code)
