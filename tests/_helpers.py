"""Helpers shared by the test modules: tolerances, comparisons, inputs."""

import numpy as np

# rtol = SAFETY * eps(dtype) * number of stages
SAFETY = 10


def n_stages(K):
    return 2 * K.width * int(np.log2(K.size))


def rtol_for(dtype, K):
    """Norm-wise relative tolerance for a result of ``dtype`` through ``K``."""
    return SAFETY * np.finfo(dtype).eps * n_stages(K)


def vjp_rtol(dtype, K):
    """Norm-wise relative tolerance of a vjp's gradients (about three products)."""
    return 50 * np.finfo(dtype).eps * n_stages(K)


def rel_error(a, b):
    """||a - b|| / ||b|| over every entry."""
    return np.linalg.norm((a - b).ravel()) / max(np.linalg.norm(b.ravel()), 1e-300)


def assert_close_in_norm(Y, Yref, rtol, scale=None):
    """||Y - Yref|| <= rtol * scale, scale defaulting to ||Yref||."""
    Y, Yref = np.asarray(Y), np.asarray(Yref)
    assert Y.shape == Yref.shape, (Y.shape, Yref.shape)
    err = np.linalg.norm((Y - Yref).ravel())
    if scale is None:
        scale = np.linalg.norm(Yref.ravel())
    assert err <= rtol * scale, f"error {err:.3e} > rtol {rtol:.3e} * scale {scale:.3e}"


def random_input(rng, shape, dtype):
    """Random rows of any dtype (complex: both parts random)."""
    dtype = np.dtype(dtype)
    if dtype.kind == "c":
        X = rng.standard_normal(shape) + 1j * rng.standard_normal(shape)
    elif dtype.kind == "b":
        X = rng.integers(0, 2, size=shape)
    elif dtype.kind in "iu":
        X = rng.integers(0, 5, size=shape)
    else:
        X = rng.standard_normal(shape)
    return X.astype(dtype)


def run_two_threads(fn, tries=100):
    """fn() -- a kernel call with workers=2 or under a 2-thread limit --
    repeated until a call in which the kernel planned two threads and a
    second thread really ran tasks (a helper may be late on a busy machine).
    Fails if the call plans fewer than two threads: too little work to test
    anything about threads."""
    import pytest
    from kmatrix._core import _kernels

    for _ in range(tries):
        out = fn()
        planned, ran = _kernels.last_threads()
        assert planned == 2, f"the call planned {planned} thread(s): too little work for the test"
        if ran == 2:
            return out
    pytest.fail("a second thread never ran a task")


class SharedCalls:
    """Counts the kernel calls of a block in which two threads ran tasks."""

    def __enter__(self):
        from kmatrix._core import _kernels

        self._start = _kernels.shared_call_count()
        return self

    def __exit__(self, *exc):
        from kmatrix._core import _kernels

        self.count = _kernels.shared_call_count() - self._start
        return False


def until_shared(fn, tries=20):
    """fn() -- a whole fit under a 2-thread limit -- repeated until a second
    thread really ran tasks in one of its kernel calls (on a busy machine a
    helper may be late for every call of a short fit)."""
    import pytest

    for _ in range(tries):
        with SharedCalls() as shared:
            out = fn()
        if shared.count > 0:
            return out
    pytest.fail("a second thread never ran a task")


def nan_like(Y):
    """An output array of Y's shape and dtype holding NaN in every entry
    (both parts of a complex one): passed as ``out=``, any position a kernel
    task failed to write stays NaN, where a fresh ``np.empty`` may happen to
    reuse memory that held the right answer."""
    Y = np.asarray(Y)
    fill = complex(np.nan, np.nan) if Y.dtype.kind == "c" else np.nan
    return np.full(Y.shape, fill, dtype=Y.dtype)
