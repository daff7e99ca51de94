"""Every kernel path and instruction set against the slow reference.

The kernels pick a path by the number of rows and the size N (never by the
thread count): "small" (N of a few vectors, rows in registers), "rows" (one
to three rows, vectorized along the row), "tiles" (batches; calls of 64 rows
or more classify their stages), "tiles-shared" (N >= 2**15, threads share
each chunk). The vector width, and so the thresholds, depend on the
instruction set, so each case sweeps sizes and row counts across them and
checks which paths it met. Every instruction set this machine runs is
tested (``_kernels.available_isas()``), not only the one picked at load.
"""

import numpy as np
import pytest
import scipy.fft

import kmatrix as km
from kmatrix._core import _kernels
from _helpers import assert_close_in_norm, nan_like, random_input, rtol_for
from _reference import reference_apply as reference

DTYPES = [np.float32, np.float64, np.complex64, np.complex128]
DTYPE_IDS = ["float32", "float64", "complex64", "complex128"]
ISAS = _kernels.available_isas()


@pytest.fixture(params=ISAS)
def isa(request):
    previous = _kernels._set_isa(request.param)
    yield request.param
    _kernels._set_isa(previous)


def tolerance(dtype, K):
    return rtol_for(np.finfo(dtype).dtype, K) * 4


SIZES = [3, 8, 16, 20, 32, 64, 100, 128, 200, 256, 512, 1024]
ROWS = [1, 2, 3, 4, 5, 17, 63, 64, 65]


@pytest.mark.parametrize("trans", ["N", "T", "H"])
@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_every_path_matches_reference(isa, dtype, trans):
    rng = np.random.default_rng(0)
    seen = set()
    for n in SIZES:
        K = km.KMatrix.random(max(1, n - 1), n, width=2, dtype=dtype, random_state=n)
        in_len = K.n_in if trans == "N" else K.n_out
        for rows in ROWS:
            X = random_input(rng, (rows, in_len), dtype)
            Y = K.apply(X, trans=trans)
            seen.add(_kernels.last_path())
            assert_close_in_norm(Y, reference(K, X, trans), tolerance(dtype, K))
    assert {"small", "rows", "tiles"} <= seen, seen


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_real_part_paths_take_real_rows(isa, dtype):
    # K.real of a complex network: real rows in, real rows out, every path
    rng = np.random.default_rng(1)
    seen = set()
    cdt = np.complex64 if dtype == np.float32 else np.complex128
    for n in [16, 64, 256, 1024]:
        K = km.KMatrix.random(n, dtype=cdt, width=2, random_state=n).real
        for rows in [1, 3, 40, 70]:
            for trans in "NTH":
                X = random_input(rng, (rows, n), dtype)
                Y = K.apply(X, trans=trans)
                seen.add(_kernels.last_path())
                assert Y.dtype == dtype
                assert_close_in_norm(Y, reference(K, X, trans).real, tolerance(dtype, K))
            Xc = random_input(rng, (rows, n), cdt)
            assert_close_in_norm(K.apply(Xc), reference(K, Xc), tolerance(dtype, K))
    assert {"small", "rows", "tiles"} <= seen, seen


def _strided(rng, rows, n, dtype):
    big = random_input(rng, (3 * rows + 1, 2 * n + 1), dtype)
    return {
        "column_stride_2": big[:rows, ::2][:, :n],
        "negative_rows": big[:rows, :n][::-1],
        "negative_columns": big[:rows, :n][:, ::-1],
        "fortran": np.asfortranarray(big[:rows, :n]),
        "row_stride_3": big[::3, :n][:rows],
    }


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_strided_rows_on_every_path(isa, dtype):
    rng = np.random.default_rng(2)
    for n, rows in [(32, 70), (1024, 1), (1024, 3), (1024, 70)]:
        K = km.KMatrix.random(n - 3, n, width=1, dtype=dtype, random_state=3)
        for layout, X in _strided(rng, rows, n, dtype).items():
            Y = K.apply(X)
            assert_close_in_norm(Y, reference(K, X), tolerance(dtype, K))
            # the layout does not change the arithmetic
            np.testing.assert_array_equal(Y, K.apply(np.ascontiguousarray(X)))
            out = np.zeros((rows, 2 * (n - 3)), dtype=Y.dtype)[:, ::-2]
            K.apply(X, out=out)
            np.testing.assert_array_equal(out, Y)


@pytest.mark.parametrize("rows", [1, 3, 64, 200])
def test_structured_stages_are_exact_transforms(isa, rows):
    # batches of 64 rows or more classify the stages: identity stages are
    # skipped, permutations fold into the loads and stores, DFT blocks take
    # the butterfly arithmetic; the results stay the transforms
    rng = np.random.default_rng(4)
    for n in [64, 1024]:
        X = random_input(rng, (rows, n), np.complex128)
        F = km.KMatrix.dft(n)
        assert_close_in_norm(F.apply(X), np.fft.fft(X), 1e-13)
        assert_close_in_norm(F.apply(X, trans="H"), n * np.fft.ifft(X), 1e-13)
        Xr = X.real.copy()
        for kind in (2, 3):
            C = km.KMatrix.dct(n, type=kind)
            assert_close_in_norm(C.apply(Xr), scipy.fft.dct(Xr, type=kind, norm="ortho"), 1e-13)
            M = scipy.fft.dct(np.eye(n), type=kind, norm="ortho", axis=0)
            assert_close_in_norm(C.apply(Xr, trans="T"), Xr @ M, 1e-13)
            S = km.KMatrix.dst(n, type=kind, dtype=np.float32)
            assert_close_in_norm(S.apply(Xr.astype(np.float32)),
                                 scipy.fft.dst(Xr, type=kind, norm="ortho"), 2e-5)
        perm = rng.permutation(n - 3)
        P = km.KMatrix.from_permutation(perm)
        np.testing.assert_array_equal(P.apply(Xr[:, :n - 3]), Xr[:, perm])
        np.testing.assert_array_equal(P.apply(Xr[:, :n - 3], trans="T"),
                                      Xr[:, np.argsort(perm)])
        H = km.KMatrix.hadamard(n, dtype=np.complex64)
        assert_close_in_norm(H.apply(X.astype(np.complex64)),
                             X @ scipy.linalg.hadamard(n).T, 1e-5)


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_shared_tile_is_aligned_for_any_twiddle_count(isa, dtype):
    # threads share a chunk when there are few; their tile follows the
    # pass-ordered twiddles in one buffer and must start on a vector boundary
    # whatever the number of stages: float32 at N = 2 with an odd width put
    # it 32 bytes off (a crash on the aligned vector moves)
    K = km.KMatrix.random(2, width=30001, dtype=dtype, random_state=12)   # orthogonal
    X = random_input(np.random.default_rng(13), (3, 2), dtype)   # fewer chunks than threads x 2
    Y1 = K.apply(X, workers=1)
    Y2 = K.apply(X, workers=2, out=nan_like(Y1))
    # a baseline (SSE2) vector holds 2 doubles: N = 2 is one vector of a
    # double row, which the small path takes (a row per task, no tile).
    # The shared layout is planned for two threads (whether the helper wakes
    # for so short a job does not change it)
    one_vector = isa == "baseline" and np.dtype(dtype) in (np.float64, np.complex128)
    assert _kernels.last_path() == ("small" if one_vector else "tiles-shared")
    assert one_vector or _kernels.last_threads()[0] == 2
    np.testing.assert_array_equal(Y2, Y1)
    assert_close_in_norm(Y2[:, :1] * 0 + np.linalg.norm(Y2, axis=1, keepdims=True),
                         np.linalg.norm(X, axis=1, keepdims=True), 1e-3)


@pytest.mark.parametrize("n", [64, 1024, 4096])
def test_a_rows_result_does_not_depend_on_the_batch(isa, n):
    # one row alone (the row path), in a small batch (a tile, stages
    # classified) and in a large one: the same bits, for unstructured
    # K-matrices and for transforms whose stages take the special kinds
    rng = np.random.default_rng(14)
    kmatrices = [km.KMatrix.random(n, width=2, dtype=np.complex64, random_state=1),
                 km.KMatrix.random(n, width=2, dtype=np.float64, random_state=2),
                 km.KMatrix.dft(n), km.KMatrix.dft(n, dtype=np.complex64).H,
                 km.KMatrix.dct(n), km.KMatrix.dst(n, type=3, dtype=np.float32),
                 km.KMatrix.from_permutation(rng.permutation(n)),
                 km.KMatrix.hadamard(n, dtype=np.complex128)]
    for K in kmatrices:
        X = random_input(rng, (150, n), K.dtype)
        for trans in ("N", "T"):
            Y = K.apply(X, trans=trans)
            for rows in (slice(7, 8), slice(3, 20), slice(0, 90)):
                np.testing.assert_array_equal(K.apply(X[rows], trans=trans), Y[rows])
