"""The compiled kernels (``KMatrix.apply`` and the products built on it)
against an independent reference.

The reference is ``_reference.reference_apply`` / ``reference_matrix``: the
stages applied one at a time with plain NumPy in float64 / complex128,
straight from the documented twiddle layout (checked against the dense
product of every stage matrix in ``test_reference.py``).

Errors are compared in norm, ``||Y - Yref|| <= rtol * ||Yref||``, with
``rtol = 10 * eps(dtype) * (number of stages)`` and ``eps`` of the result's
own precision (float32 results get a float32 tolerance).
"""

import os
import subprocess

import numpy as np
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

import kmatrix as km
from kmatrix._core import _kernels
from _reference import dense_operator, reference_apply, reference_dtype, reference_matrix
from _helpers import assert_close_in_norm, random_input, rtol_for

DTYPES = [np.float32, np.float64, np.complex64, np.complex128]
DTYPE_IDS = ["float32", "float64", "complex64", "complex128"]

# (n_in, n_out): squares, and rectangles both ways
SHAPES = [(1, 1), (2, 2), (3, 3), (5, 5), (8, 8), (100, 100), (1024, 1024),
          (5, 3), (3, 5), (100, 37), (37, 100)]
SHAPE_IDS = [f"{n_in}to{n_out}" for n_in, n_out in SHAPES]

# largest N whose todense() is compared whole; above it, some columns and products
DENSE_MAX_SIZE = 128


def make_kmatrix(n_in, n_out, width=1, expansion=1, dtype=np.float64, seed=0):
    return km.KMatrix.random(n_out, n_in, width=width, expansion=expansion,
                             dtype=dtype, random_state=seed)


# ------------------------------------------ differential test (hypothesis) --
@st.composite
def apply_cases(draw):
    dtype = np.dtype(draw(st.sampled_from(DTYPES)))
    return dict(
        dtype=dtype,
        real_part=dtype.kind == "c" and draw(st.booleans()),
        n_in=draw(st.integers(1, 80)),
        n_out=draw(st.integers(1, 80)),
        width=draw(st.integers(1, 3)),
        expansion=draw(st.integers(1, 3)),
        init=draw(st.sampled_from(["ortho", "normal"])),
        trans=draw(st.sampled_from(["N", "T", "H"])),
        # 1-3 rows: the row path; 64 or more: tiles that classify their stages
        n_rows=draw(st.sampled_from([1, 2, 3, 4, 5, 9, 16, 17, 40, 64, 70])),
        complex_rows=draw(st.booleans()),
        layout=draw(st.sampled_from(["contiguous", "reversed_rows", "column_stride_2",
                                     "fortran"])),
        isa=draw(st.sampled_from(_kernels.available_isas())),
        seed=draw(st.integers(0, 2**32 - 1)),
    )


def _laid_out(X, layout):
    if layout == "reversed_rows":
        return np.ascontiguousarray(X[::-1])[::-1]
    if layout == "column_stride_2":
        wide = np.zeros((X.shape[0], 2 * X.shape[1]), dtype=X.dtype)
        wide[:, ::2] = X
        return wide[:, ::2]
    if layout == "fortran":
        return np.asfortranarray(X)
    return X


@settings(max_examples=200, deadline=None, database=None)
@given(apply_cases())
def test_hypothesis_apply_matches_dense_operator(case):
    # K.apply (every dtype, K.real, N/T/H, any shape, width, expansion, row
    # count, layout and instruction set) against op(K) built column by
    # column from the twiddles in double precision, never through kmatrix
    dtype, trans = case["dtype"], case["trans"]
    K = km.KMatrix.random(case["n_out"], case["n_in"], width=case["width"],
                          expansion=case["expansion"], dtype=dtype, init=case["init"],
                          random_state=case["seed"])
    if case["real_part"]:
        K = K.real
        assert K.dtype == np.finfo(dtype).dtype and K.real_part
    tw = K.twiddles.astype(reference_dtype(K.twiddles.dtype))
    op = dense_operator(tw, K.n_in, K.n_out, trans, K.real_part)
    # rounding errors are bounded through the stages' absolute values:
    # |E_n| ... |E_1| |x|, the scale of a product of non-orthogonal stages
    op_abs = np.abs(dense_operator(np.abs(tw), K.n_in, K.n_out, trans))
    row_dtype = K.dtype
    if case["complex_rows"]:
        row_dtype = np.result_type(K.dtype, np.complex64)
    X = random_input(np.random.default_rng(case["seed"]), (case["n_rows"], op.shape[1]),
                     row_dtype)
    X = _laid_out(X, case["layout"])
    previous = _kernels._set_isa(case["isa"])
    try:
        Y = K.apply(X, trans=trans)
        event(f"path: {_kernels.last_path()}")   # --hypothesis-show-statistics
    finally:
        _kernels._set_isa(previous)
    expected_dtype = np.result_type(K.dtype, row_dtype)
    assert Y.dtype == expected_dtype and Y.shape == (case["n_rows"], op.shape[0])
    Xd = X.astype(np.result_type(reference_dtype(expected_dtype), op.dtype))
    assert_close_in_norm(Y, Xd @ op.T, rtol_for(expected_dtype, K),
                         scale=np.linalg.norm(np.abs(Xd) @ op_abs.T))


# ---------------------------------------------------- apply vs reference --
@pytest.mark.parametrize("trans", ["N", "T", "H"])
@pytest.mark.parametrize("expansion", [1, 2])
@pytest.mark.parametrize("width", [1, 2, 3])
@pytest.mark.parametrize("n_in, n_out", SHAPES, ids=SHAPE_IDS)
@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_apply_matches_reference(dtype, n_in, n_out, width, expansion, trans):
    K = make_kmatrix(n_in, n_out, width, expansion, dtype, seed=n_in + 7 * n_out + width)
    in_len, out_len = (n_in, n_out) if trans == "N" else (n_out, n_in)
    rng = np.random.default_rng(2)
    X = random_input(rng, (19, in_len), dtype)  # 19: not a multiple of a chunk
    Y = K.apply(X, trans=trans)
    assert Y.dtype == np.dtype(dtype)
    assert Y.shape == (19, out_len)
    assert_close_in_norm(Y, reference_apply(K, X, trans), rtol_for(dtype, K))


@pytest.mark.parametrize("init", ["normal", "identity"])
@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_apply_matches_reference_other_inits(dtype, init):
    K = km.KMatrix.random(20, 37, width=2, init=init, dtype=dtype, random_state=3)
    X = random_input(np.random.default_rng(3), (5, 37), dtype)
    assert_close_in_norm(K.apply(X), reference_apply(K, X), rtol_for(dtype, K))


@pytest.mark.parametrize("n_samples", [0, 1, 7, 8, 9, 15, 16, 17, 33, 100])
@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_apply_batch_sizes(dtype, n_samples):
    K = make_kmatrix(30, 12, width=2, dtype=dtype, seed=5)
    X = random_input(np.random.default_rng(n_samples), (n_samples, 30), dtype)
    Y = K.apply(X)
    assert Y.shape == (n_samples, 12)
    assert Y.dtype == np.dtype(dtype)
    if n_samples:
        assert_close_in_norm(Y, reference_apply(K, X), rtol_for(dtype, K))


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_apply_rows_are_independent(dtype):
    # each output row depends on its own input row only (no lane mixing)
    K = make_kmatrix(20, 20, width=2, dtype=dtype, seed=6)
    X = random_input(np.random.default_rng(6), (37, 20), dtype)
    Y = K.apply(X)
    for r in (0, 15, 16, 36):
        np.testing.assert_array_equal(K.apply(X[r:r + 1])[0], Y[r])


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_apply_does_not_modify_input(dtype):
    K = make_kmatrix(9, 5, dtype=dtype, seed=7)
    X = random_input(np.random.default_rng(7), (4, 9), dtype)
    X_before = X.copy()
    K.apply(X)
    K.apply(X[:, :5], trans="T")
    np.testing.assert_array_equal(X, X_before)


def test_apply_returns_new_array():
    K = make_kmatrix(8, 8, seed=8)
    X = np.random.default_rng(8).standard_normal((3, 8))
    Y = K.apply(X)
    assert not np.shares_memory(X, Y)


# ---------------------------------------------------- layouts and strides --
def _layouts(rng, n_rows, n_cols, dtype):
    """Inputs of shape (n_rows, n_cols) with various memory layouts."""
    big = random_input(rng, (3 * n_rows, 2 * n_cols), dtype)
    return {
        "c_contiguous": np.ascontiguousarray(big[:n_rows, :n_cols]),
        "column_stride_2": big[:n_rows, ::2],
        "row_stride_3": big[::3, :n_cols],
        "both_strided": big[::3, ::2],
        "fortran": np.asfortranarray(big[:n_rows, :n_cols]),
        "negative_rows": big[:n_rows, :n_cols][::-1],
        "negative_columns": big[:n_rows, :n_cols][:, ::-1],
        "negative_both": big[n_rows - 1::-1, 2 * n_cols - 1::-2],
        "transposed_view": random_input(rng, (n_cols, n_rows), dtype).T,
        "broadcast_rows": np.broadcast_to(big[0, :n_cols], (n_rows, n_cols)),
        "read_only": _read_only(big[:n_rows, :n_cols].copy()),
    }


def _read_only(a):
    a.flags.writeable = False
    return a


LAYOUTS = ["c_contiguous", "column_stride_2", "row_stride_3", "both_strided",
           "fortran", "negative_rows", "negative_columns", "negative_both",
           "transposed_view", "broadcast_rows", "read_only"]


@pytest.mark.parametrize("trans", ["N", "H"])
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_apply_strided_and_ordered_inputs(dtype, layout, trans):
    K = make_kmatrix(13, 6, width=2, dtype=dtype, seed=9)
    in_len = 13 if trans == "N" else 6
    X = _layouts(np.random.default_rng(9), 21, in_len, dtype)[layout]
    assert X.shape == (21, in_len)
    Y = K.apply(X, trans=trans)
    assert_close_in_norm(Y, reference_apply(K, X, trans), rtol_for(dtype, K))
    # the layout must not change the arithmetic
    np.testing.assert_array_equal(Y, K.apply(np.ascontiguousarray(X), trans=trans))


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("x_dtype", [np.complex64, np.complex128])
@pytest.mark.parametrize("k_dtype", [np.float32, np.float64])
def test_real_kmatrix_on_strided_complex_inputs(k_dtype, x_dtype, layout):
    K = make_kmatrix(13, 6, width=2, dtype=k_dtype, seed=10)
    X = _layouts(np.random.default_rng(10), 21, 13, x_dtype)[layout]
    Y = K.apply(X)
    out = np.result_type(k_dtype, x_dtype)
    assert Y.dtype == out
    assert_close_in_norm(Y, reference_apply(K, X), rtol_for(out, K))


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_apply_unaligned_input(dtype):
    dtype = np.dtype(dtype)
    K = make_kmatrix(7, 7, dtype=dtype, seed=11)
    X = random_input(np.random.default_rng(11), (5, 7), dtype)
    buf = np.zeros(X.nbytes + 1, dtype=np.uint8)
    Xu = buf[1:].view(dtype).reshape(X.shape)
    Xu[...] = X
    assert not Xu.flags.aligned
    np.testing.assert_array_equal(K.apply(Xu), K.apply(X))


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_apply_struct_field_real_input(dtype):
    # a field of a record array: aligned, strides a multiple of the item size
    K = make_kmatrix(5, 3, width=2, dtype=dtype, seed=11)
    rec = np.zeros((6, 5), dtype=[("a", np.float64), ("x", dtype)])
    rec["x"] = random_input(np.random.default_rng(11), (6, 5), dtype)
    X = rec["x"]
    assert_close_in_norm(K.apply(X), reference_apply(K, X), rtol_for(dtype, K))


@pytest.mark.parametrize("dtype", [np.complex64, np.complex128], ids=["complex64", "complex128"])
def test_apply_struct_field_complex_input(dtype):
    K = make_kmatrix(5, 3, width=2, dtype=dtype, seed=11)
    real = np.float32 if dtype == np.complex64 else np.float64
    rec = np.zeros((6, 5), dtype=[("a", real), ("z", dtype)])  # packed: stride 3 reals
    rec["z"] = random_input(np.random.default_rng(11), (6, 5), dtype)
    X = rec["z"]
    assert X.flags.aligned and X.strides[1] % X.itemsize != 0
    assert_close_in_norm(K.apply(X), reference_apply(K, X), rtol_for(dtype, K))


# ------------------------------------------------------------- 1-D input --
@pytest.mark.parametrize("trans", ["N", "T", "H"])
@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_apply_one_dimensional_input(dtype, trans):
    K = make_kmatrix(11, 4, width=2, dtype=dtype, seed=12)
    in_len, out_len = (11, 4) if trans == "N" else (4, 11)
    x = random_input(np.random.default_rng(12), (in_len,), dtype)
    y = K.apply(x, trans=trans)
    assert y.shape == (out_len,)
    assert_close_in_norm(y, reference_apply(K, x, trans), rtol_for(dtype, K))
    assert_close_in_norm(K.apply(x[::-1], trans=trans),
                         reference_apply(K, x[::-1], trans), rtol_for(dtype, K))


# -------------------------------------------------------- dtype promotion --
INPUT_DTYPES = [np.bool_, np.int8, np.uint8, np.int16, np.int32, np.int64,
                np.uint64, np.float16, np.float32, np.float64, np.complex64,
                np.complex128]


@pytest.mark.parametrize("x_dtype", INPUT_DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("k_dtype", DTYPES, ids=DTYPE_IDS)
def test_dtype_promotion_table(k_dtype, x_dtype):
    K = make_kmatrix(10, 6, width=2, dtype=k_dtype, seed=13)
    X = random_input(np.random.default_rng(13), (5, 10), x_dtype)
    expected = np.result_type(np.dtype(k_dtype), np.dtype(x_dtype))
    for Y, trans in ((K.apply(X), "N"), (K.apply(X[:, :6], trans="T"), "T"),
                     (K.apply(X[:, :6], trans="H"), "H")):
        assert Y.dtype == expected, (trans, Y.dtype, expected)
        Xin = X if trans == "N" else X[:, :6]
        assert_close_in_norm(Y, reference_apply(K, Xin, trans), rtol_for(expected, K))


def test_dtype_promotion_examples():
    # the cases the contract singles out, spelled out
    f32 = make_kmatrix(4, 4, dtype=np.float32)
    c64 = make_kmatrix(4, 4, dtype=np.complex64)
    c128 = make_kmatrix(4, 4, dtype=np.complex128)
    f64 = make_kmatrix(4, 4, dtype=np.float64)
    assert f32.apply(np.ones((1, 4), np.float32)).dtype == np.float32
    assert f32.apply(np.ones((1, 4), np.float64)).dtype == np.float64
    assert f32.apply(np.ones((1, 4), np.int64)).dtype == np.float64
    assert f32.apply(np.ones((1, 4), np.int8)).dtype == np.float32
    assert f32.apply(np.ones((1, 4), bool)).dtype == np.float32
    assert f32.apply(np.ones((1, 4), np.complex64)).dtype == np.complex64
    assert f32.apply(np.ones((1, 4), np.complex128)).dtype == np.complex128
    assert f64.apply(np.ones((1, 4), np.complex64)).dtype == np.complex128
    assert c64.apply(np.ones((1, 4), np.float32)).dtype == np.complex64
    assert c64.apply(np.ones((1, 4), np.float64)).dtype == np.complex128
    assert c128.apply(np.ones((1, 4), np.float32)).dtype == np.complex128


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_apply_python_lists(dtype):
    K = make_kmatrix(3, 2, dtype=dtype, seed=14)
    X = [[1, 2, 3], [4, 5, 6]]
    Y = K.apply(X)
    # a list of Python ints is an int64 array to NumPy
    expected = np.result_type(np.dtype(dtype), np.asarray(X).dtype)
    assert Y.dtype == expected
    assert_close_in_norm(Y, reference_apply(K, np.array(X)), rtol_for(expected, K))


# -------------------------------------------------------- matmul operators --
@pytest.mark.parametrize("n_in, n_out", [(1, 1), (5, 3), (3, 5), (100, 37)])
@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_matmul_vector_and_matrix(dtype, n_in, n_out):
    K = make_kmatrix(n_in, n_out, width=2, dtype=dtype, seed=15)
    M = reference_matrix(K)
    rng = np.random.default_rng(15)
    rtol = rtol_for(dtype, K)
    v = random_input(rng, (n_in,), dtype)
    V = random_input(rng, (n_in, 6), dtype)
    w = random_input(rng, (n_out,), dtype)
    W = random_input(rng, (4, n_out), dtype)
    assert (K @ v).shape == (n_out,)
    assert_close_in_norm(K @ v, M @ v, rtol)
    assert (K @ V).shape == (n_out, 6)
    assert_close_in_norm(K @ V, M @ V, rtol)
    assert (w @ K).shape == (n_in,)
    assert_close_in_norm(w @ K, w @ M, rtol)
    assert (W @ K).shape == (4, n_in)
    assert_close_in_norm(W @ K, W @ M, rtol)
    assert_close_in_norm(K.dot(V), M @ V, rtol)


def test_matmul_promotes_like_numpy():
    K = make_kmatrix(6, 4, dtype=np.float32, seed=16)
    M = reference_matrix(K)
    v = np.arange(6)  # int64
    assert (K @ v).dtype == np.float64
    assert_close_in_norm(K @ v, M @ v, rtol_for(np.float64, K))
    z = (np.arange(4) + 1j).astype(np.complex64)
    assert (z @ K).dtype == np.complex64
    assert_close_in_norm(z @ K, z @ M, rtol_for(np.complex64, K))


def test_matmul_with_python_list():
    K = make_kmatrix(3, 3, seed=17)
    M = reference_matrix(K)
    assert_close_in_norm(K @ [1.0, 2.0, 3.0], M @ [1.0, 2.0, 3.0], rtol_for(np.float64, K))
    assert_close_in_norm([1.0, 2.0, 3.0] @ K, np.array([1.0, 2.0, 3.0]) @ M,
                         rtol_for(np.float64, K))


def test_matmul_strided_matrix_operand():
    K = make_kmatrix(9, 5, width=2, dtype=np.complex128, seed=18)
    M = reference_matrix(K)
    V = random_input(np.random.default_rng(18), (18, 14), np.complex128)[::2, ::-2]
    assert_close_in_norm(K @ V, M @ V, rtol_for(np.complex128, K))
    W = np.asfortranarray(random_input(np.random.default_rng(19), (3, 5), np.complex128))
    assert_close_in_norm(W @ K, W @ M, rtol_for(np.complex128, K))


# ---------------------------------------------------------------- todense --
# width 3 at n = 1024 is left out to keep the suite fast (width 1 covers it)
TODENSE_CASES = [pytest.param(n_in, n_out, width, id=f"{sid}-w{width}")
                 for (n_in, n_out), sid in zip(SHAPES, SHAPE_IDS) for width in (1, 3)
                 if not (n_in == 1024 and width == 3)]


@pytest.mark.parametrize("n_in, n_out, width", TODENSE_CASES)
@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_todense_matches_reference(dtype, n_in, n_out, width):
    K = make_kmatrix(n_in, n_out, width=width, dtype=dtype, seed=20)
    D = K.todense()
    assert isinstance(D, np.ndarray)
    assert D.shape == (n_out, n_in)
    assert D.dtype == np.dtype(dtype)
    if K.size <= DENSE_MAX_SIZE:
        assert_close_in_norm(D, reference_matrix(K), rtol_for(dtype, K))
    else:
        # too big for a dense reference: check some columns, and D on vectors
        cols = [0, 1, n_in // 2, n_in - 1]
        E = np.eye(n_in)[cols]
        assert_close_in_norm(D[:, cols], reference_apply(K, E).T, rtol_for(dtype, K))
        X = random_input(np.random.default_rng(20), (3, n_in), np.float64)
        assert_close_in_norm(X @ D.T.astype(reference_dtype(dtype)),
                             reference_apply(K, X), rtol_for(dtype, K))
    np.testing.assert_array_equal(K.toarray(), D)


def test_todense_of_identity_init_is_identity_corner():
    for n_in, n_out in [(3, 5), (5, 3), (8, 8)]:
        K = km.KMatrix.random(n_out, n_in, init="identity", width=2, expansion=2)
        np.testing.assert_array_equal(K.todense(), np.eye(n_out, n_in))


# ------------------------------------------------------------------ out= --
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_apply_out_writes_in_place(dtype):
    K = make_kmatrix(37, 20, width=2, dtype=dtype, seed=5)
    X = np.random.default_rng(0).standard_normal((19, 37)).astype(dtype)
    expected = reference_apply(K, X)
    out = np.full((19, 20), np.nan, dtype=dtype)
    Y = K.apply(X, out=out)
    assert Y is out
    assert_close_in_norm(out, expected, rtol_for(dtype, K))
    # strided out, 1-D X with 1-D out
    big = np.zeros((19, 40), dtype=dtype)
    K.apply(X, out=big[:, ::2])
    assert_close_in_norm(big[:, ::2], expected, rtol_for(dtype, K))
    assert not big[:, 1::2].any()
    v = np.zeros(20, dtype=dtype)
    assert K.apply(X[3], out=v) is v
    assert_close_in_norm(v, expected[3], rtol_for(dtype, K))


def test_apply_out_overlapping_input_is_safe():
    K = make_kmatrix(16, 16, width=1, dtype=np.float64, seed=6)
    X = np.random.default_rng(1).standard_normal((33, 16))
    expected = reference_apply(K, X)
    K.apply(X, out=X)
    assert_close_in_norm(X, expected, rtol_for(np.float64, K))


@pytest.mark.parametrize("bad, match", [
    (np.zeros((5, 4)), "shape"),
    (np.zeros((5, 3), dtype=np.float32), "dtype"),
    ([[0.0] * 3] * 5, "NumPy array"),
])
def test_apply_out_rejects_bad_arrays(bad, match):
    K = make_kmatrix(6, 3, width=1, dtype=np.float64, seed=7)
    with pytest.raises(ValueError, match=match):
        K.apply(np.ones((5, 6)), out=bad)


def test_apply_out_rejects_read_only():
    K = make_kmatrix(6, 3, width=1, dtype=np.float64, seed=7)
    out = np.zeros((5, 3))
    out.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        K.apply(np.ones((5, 6)), out=out)


def test_the_tuning_comes_from_this_machines_caches():
    # the planners' cache blocks follow the L2 the system reports (half of
    # it for the tiles, a sixteenth for the row path, clamped), so they hold
    # on processors other than the one the library was tuned on
    t = _kernels.tuning()
    # what the system reports (glibc's sysconf first, then sysfs, which may
    # disagree in a VM): the L2 is one of them
    reported = set()
    sysfs = "/sys/devices/system/cpu/cpu0/cache"
    for index in (os.listdir(sysfs) if os.path.isdir(sysfs) else []):
        try:
            with open(f"{sysfs}/{index}/level") as f, open(f"{sysfs}/{index}/size") as g:
                level, size = int(f.read()), g.read().strip()
        except (OSError, ValueError):
            continue
        if level == 2 and size.endswith("K"):
            reported.add(int(size[:-1]) << 10)
    try:
        getconf = subprocess.run(["getconf", "LEVEL2_CACHE_SIZE"], capture_output=True,
                                 text=True, timeout=10).stdout.strip()
        if getconf.isdigit() and int(getconf) > 0:
            reported.add(int(getconf))
    except (OSError, subprocess.SubprocessError):
        pass
    if reported:
        assert t["caches_from_os"] and t["l2_bytes"] in reported
    assert t["l2_bytes"] > 0 and t["l1d_bytes"] > 0
    assert t["tile_block_bytes"] == int(min(max(t["l2_bytes"] / 2, 128 << 10), 2 << 20))
    assert t["row_block_bytes"] == int(min(max(t["l2_bytes"] / 16, 32 << 10), 256 << 10))
    assert t["isa"] in _kernels.available_isas()
    for dtype, lanes in t["lanes"].items():
        item = np.dtype(dtype).itemsize // (2 if dtype.startswith("complex") else 1)
        assert lanes * item in (16, 32, 64)        # one SSE, AVX or AVX-512 vector
        assert 2 <= t["max_vjp_group"][dtype] <= t["max_group"][dtype] <= 4
        assert t["small_max"][dtype] >= lanes
