"""Thread-count control for kmatrix's kernels (the ``workers`` argument).

The kernels use OpenMP. As in scikit-learn, there is no global setter: the
default number of threads is OpenMP's, which ``OMP_NUM_THREADS`` and
``threadpoolctl.threadpool_limits`` bound. A call may pass ``workers=`` (the
same semantics as :mod:`scipy.fft`), and :func:`set_workers` sets a default for
the calls made inside a ``with`` block, in the current thread only.
"""

import contextlib
import operator
import os
import threading

import threadpoolctl

from . import _kernels

__all__ = ["get_workers", "set_workers"]

_local = threading.local()


def _cpu_count():
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - platform dependent
        return os.cpu_count() or 1


def _normalize(workers):
    """Validate ``workers`` and return a positive count, or None for the default."""
    if workers is None:
        return None
    try:
        workers = operator.index(workers)
    except TypeError:
        raise ValueError(f"workers must be an integer or None, got {workers!r}") from None
    if workers == 0:
        raise ValueError("workers must not be 0 (use None for the default, -1 for all cores)")
    if workers < 0:
        n = _cpu_count() + 1 + workers
        if n <= 0:
            raise ValueError(
                f"workers={workers} asks for fewer than one of the {_cpu_count()} CPUs"
            )
        return n
    return workers


def get_workers():
    """The default number of threads of kmatrix's calls in this thread.

    Returns
    -------
    workers : int or None
        The value set by the innermost :func:`set_workers` block, or None when
        none is active (the kernels then use OpenMP's default).

    See Also
    --------
    set_workers : set it for a ``with`` block.

    Examples
    --------
    >>> import kmatrix as km
    >>> km.get_workers() is None
    True
    >>> with km.set_workers(2):
    ...     km.get_workers()
    2
    """
    return getattr(_local, "workers", None)


@contextlib.contextmanager
def set_workers(workers):
    """Context manager setting the default ``workers`` of kmatrix's calls.

    Parameters
    ----------
    workers : int or None
        Number of threads; -1 means all CPUs, -k all but k-1; None restores
        the OpenMP default. 0 is an error. Counts above the CPUs the process
        may use (at least 2) are capped to them by every call.

    Returns
    -------
    context : context manager
        Sets the default on entry and restores the previous one on exit;
        other Python threads keep their own default.

    Raises
    ------
    ValueError
        If ``workers`` is 0, not an integer, or below minus the CPU count.

    See Also
    --------
    get_workers : the current default.
    threadpoolctl.threadpool_limits : bounds OpenMP's default, which
        kmatrix's kernels follow.

    Examples
    --------
    >>> import numpy as np, kmatrix as km
    >>> K = km.KMatrix.random(64, random_state=0)
    >>> X = np.ones((8, 64))
    >>> with km.set_workers(1):
    ...     Y = K.apply(X)
    >>> bool(np.array_equal(Y, K.apply(X, workers=2)))   # results never depend on it
    True
    """
    value = _normalize(workers)
    old = get_workers()
    _local.workers = value
    try:
        yield
    finally:
        _local.workers = old


def resolve_workers(workers):
    """Thread count for one call: 0 means the OpenMP default.

    The kernels cap any count at the CPUs the process may use (at least 2),
    so a huge request is clipped here to what a C int holds.
    """
    value = _normalize(workers)
    if value is None:
        value = get_workers()
    return 0 if value is None else min(value, _MAX_WORKERS)


_MAX_WORKERS = 1 << 16


def thread_count(workers=None):
    """The threads a call with ``workers`` gets for work of its own (not the
    kernels'): the count it resolves to, or OpenMP's bounded default."""
    n = resolve_workers(workers)
    return n if n > 0 else _kernels.default_threads()


_BLAS_LIMIT_LOCK = threading.Lock()


@contextlib.contextmanager
def single_blas_thread():
    """Run the block with BLAS on one thread (process-wide, one block at a
    time): BLAS's threaded sums depend on the thread count, and training
    and fitting results must not. kmatrix's own OpenMP kernels keep every
    thread."""
    with _BLAS_LIMIT_LOCK, threadpoolctl.threadpool_limits(1, user_api="blas"):
        yield
