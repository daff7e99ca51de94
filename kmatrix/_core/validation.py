"""Input checks shared by kmatrix's public functions."""

import numbers
import operator
import os

import numpy as np

SUPPORTED_DTYPES = (
    np.dtype(np.float32),
    np.dtype(np.float64),
    np.dtype(np.complex64),
    np.dtype(np.complex128),
)


def check_dtype(dtype, name="dtype"):
    """Return ``dtype`` as one of the four supported dtypes, else ValueError."""
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise ValueError(f"{name} must be a NumPy dtype, got {dtype!r}") from None
    if dt not in SUPPORTED_DTYPES:
        raise ValueError(
            f"{name} must be one of float32, float64, complex64, complex128; got {dt}"
        )
    return dt


def check_int(value, name, minimum=1):
    """Return ``value`` as an int >= minimum, else ValueError naming it."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    value = operator.index(value)
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return value


def next_pow2(n):
    """Smallest power of two >= n (n >= 1)."""
    return 1 << max(0, int(n - 1).bit_length())


def log2_exact(n, name="n"):
    """log2(n) for a power of two n >= 1, else ValueError."""
    n = check_int(n, name)
    if n & (n - 1):
        raise ValueError(f"{name} must be a power of two, got {n}")
    return n.bit_length() - 1


def result_dtype(*dtypes):
    """The kernel dtype for operands of these dtypes (NumPy promotion)."""
    dt = np.result_type(*dtypes)
    if dt.kind not in "fc" or dt.itemsize > 16 or dt == np.float16:
        # integers/bools promote to float64 like NumPy's true division
        dt = np.result_type(dt, np.float64) if dt.kind in "biu" else dt
    if dt == np.float16:
        dt = np.dtype(np.float32)
    if dt not in SUPPORTED_DTYPES:
        raise ValueError(f"cannot compute in dtype {dt}: kmatrix supports float32, "
                         "float64, complex64 and complex128")
    return dt


_PROMOTED = {}


def promoted(op_dtype, x_dtype):
    """result_dtype(op_dtype, x_dtype), memoized (it is on every product's path)."""
    key = (op_dtype, x_dtype)
    dt = _PROMOTED.get(key)
    if dt is None:
        dt = _PROMOTED[key] = result_dtype(op_dtype, x_dtype)
    return dt


def as_numeric_array(X, name="X"):
    """np.asarray(X), rejecting non-numeric dtypes with a ValueError."""
    try:
        arr = np.asarray(X)
    except Exception as exc:  # ragged lists and the like
        raise ValueError(f"{name} could not be converted to an array: {exc}") from None
    if arr.dtype.kind not in "biufc":
        raise ValueError(f"{name} must hold numbers, got an array of dtype {arr.dtype}")
    return arr


def complex_dtype_of(dtype):
    """complex64 for float32/complex64, else complex128."""
    return np.dtype(np.complex64 if np.dtype(dtype) in (np.float32, np.complex64)
                    else np.complex128)


def sum_of_squares(a):
    """sum(|a|^2) in float64 without BLAS, so it never depends on the thread count.

    (``np.vdot``, ``@`` and ``np.linalg.norm`` go through BLAS, which splits
    long sums across its threads.)
    """
    a = np.asarray(a)
    r = np.ascontiguousarray(a).view(a.real.dtype) if a.dtype.kind == "c" else a
    r = r.ravel()
    return float(np.einsum("i,i->", r, r, dtype=np.float64))


def frobenius(a):
    """||a||_F, thread-count independent (see sum_of_squares)."""
    return float(np.sqrt(sum_of_squares(a)))


# the kernels address networks of at most this many stages
MAX_LOG_SIZE = 40


def _physical_memory():
    """Bytes of memory of this machine (None when unknown)."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, OSError, ValueError):  # pragma: no cover - platform dependent
        return None


def _bytes(n):
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:.3g} {unit}"
        n /= 1024


def check_network_size(size, width, dtype, what):
    """ValueError, before anything is allocated, when a width-``width``
    network of ``size`` in ``dtype`` cannot exist: more stages than the
    kernels address, or twiddles larger than this machine's memory."""
    L = max(1, int(size - 1).bit_length())
    if L > MAX_LOG_SIZE:
        raise ValueError(f"{what}: a network of size 2**{L} is beyond kmatrix's limit "
                         f"of 2**{MAX_LOG_SIZE}")
    n_bytes = width * 4 * L * (1 << L) * np.dtype(dtype).itemsize
    memory = _physical_memory()
    if memory is not None and n_bytes > memory:
        raise ValueError(f"{what}: its twiddles (width {width}, size 2**{L}, {np.dtype(dtype)}) "
                         f"would take {_bytes(n_bytes)}, more than this machine's "
                         f"{_bytes(memory)} of memory")


def check_dense_size(n_rows, n_cols, dtype, what):
    """ValueError, before it is allocated, when an (n_rows, n_cols) array of
    ``dtype`` would take more than this machine's memory."""
    n_bytes = int(n_rows) * int(n_cols) * np.dtype(dtype).itemsize
    memory = _physical_memory()
    if memory is not None and n_bytes > memory:
        raise ValueError(f"{what}: its {n_rows} x {n_cols} {np.dtype(dtype)} working matrix "
                         f"would take {_bytes(n_bytes)}, more than this machine's "
                         f"{_bytes(memory)} of memory")
