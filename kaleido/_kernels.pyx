# Thin adapters from NumPy arrays to the C++ core: check dtypes and strides,
# release the GIL, call, and turn status codes into exceptions. All input
# clean-up (promotion, shapes, padding sizes) happens in the Python layer.
from libc.stdint cimport int64_t

cimport numpy as cnp
import numpy as np

from kaleido._core cimport (
    kmatrix_apply, kmatrix_vjp, have_openmp, resolve_threads,
    STATUS_OK, STATUS_BAD_ARGUMENT, STATUS_NON_FINITE, STATUS_NO_MEMORY,
    TRANS_N, TRANS_T, TRANS_H,
)

cnp.import_array()

ctypedef float complex complex64_t
ctypedef double complex complex128_t

_TRANS = {"N": TRANS_N, "T": TRANS_T, "H": TRANS_H}


def openmp_enabled():
    """Whether the core was compiled with OpenMP."""
    return bool(have_openmp())


def default_threads():
    """The OpenMP default thread count (bounded by threadpoolctl)."""
    return resolve_threads(0)


cdef int64_t _element_stride(cnp.ndarray a, int axis) except? -1:
    cdef Py_ssize_t s = a.strides[axis]
    cdef Py_ssize_t item = a.itemsize
    if s % item != 0:
        raise ValueError("array strides must be multiples of the item size")
    return s // item


cdef int _dtype_kind(dt) except -1:
    """0..3 for float32, float64, complex64, complex128 (the kernels' order)."""
    if dt == np.float32:
        return 0
    if dt == np.float64:
        return 1
    if dt == np.complex64:
        return 2
    if dt == np.complex128:
        return 3
    raise ValueError(f"unsupported dtype {dt}")


cdef _raise_status(int status):
    if status == STATUS_NON_FINITE:
        raise ValueError("Input contains NaN or infinity.")
    if status == STATUS_NO_MEMORY:
        raise MemoryError("kaleido: could not allocate the kernel's scratch tile")
    if status == STATUS_BAD_ARGUMENT:
        raise ValueError("kaleido: inconsistent arguments passed to the kernel")
    raise RuntimeError(f"kaleido: kernel failed with status {status}")


def apply(cnp.ndarray twiddles, int log_size, cnp.ndarray x, cnp.ndarray y,
          str trans="N", int n_threads=0, bint check_finite=True):
    """y[r] = op(K) x[r] for every row r; see butterfly.hpp.

    twiddles must be C-contiguous of shape (width, 2, L, N/2, 2, 2); x and y
    are 2-D (n_rows, x_len) and (n_rows, y_len) arrays of the same dtype,
    any strides, y writable and not overlapping x.
    """
    if twiddles.ndim != 6 or not twiddles.flags.c_contiguous:
        raise ValueError("twiddles must be a C-contiguous 6-D array")
    if x.ndim != 2 or y.ndim != 2 or x.shape[0] != y.shape[0]:
        raise ValueError("x and y must be 2-D with the same number of rows")
    if x.dtype != twiddles.dtype or y.dtype != twiddles.dtype:
        raise ValueError("x, y and twiddles must share one dtype")
    if not y.flags.writeable:
        raise ValueError("output array is read-only")
    if not (x.flags.aligned and y.flags.aligned):
        raise ValueError("arrays must be aligned")
    if trans not in _TRANS:
        raise ValueError(f"trans must be 'N', 'T' or 'H', got {trans!r}")
    cdef int t = _TRANS[trans]
    cdef int64_t width = twiddles.shape[0]
    cdef int64_t n_rows = x.shape[0]
    cdef int64_t x_len = x.shape[1]
    cdef int64_t y_len = y.shape[1]
    cdef int64_t xrs = _element_stride(x, 0), xcs = _element_stride(x, 1)
    cdef int64_t yrs = _element_stride(y, 0), ycs = _element_stride(y, 1)
    cdef void* tw = cnp.PyArray_DATA(twiddles)
    cdef void* xp = cnp.PyArray_DATA(x)
    cdef void* yp = cnp.PyArray_DATA(y)
    cdef int cf = 1 if check_finite else 0
    cdef int status
    cdef int kind = _dtype_kind(twiddles.dtype)
    with nogil:
        if kind == 0:
            status = kmatrix_apply[float](<const float*>tw, width, log_size,
                <const float*>xp, n_rows, x_len, xrs, xcs,
                <float*>yp, y_len, yrs, ycs, t, n_threads, cf)
        elif kind == 1:
            status = kmatrix_apply[double](<const double*>tw, width, log_size,
                <const double*>xp, n_rows, x_len, xrs, xcs,
                <double*>yp, y_len, yrs, ycs, t, n_threads, cf)
        elif kind == 2:
            status = kmatrix_apply[complex64_t](<const complex64_t*>tw, width, log_size,
                <const complex64_t*>xp, n_rows, x_len, xrs, xcs,
                <complex64_t*>yp, y_len, yrs, ycs, t, n_threads, cf)
        else:
            status = kmatrix_apply[complex128_t](<const complex128_t*>tw, width, log_size,
                <const complex128_t*>xp, n_rows, x_len, xrs, xcs,
                <complex128_t*>yp, y_len, yrs, ycs, t, n_threads, cf)
    if status != STATUS_OK:
        _raise_status(status)
    return y


def vjp(cnp.ndarray twiddles, int log_size, cnp.ndarray x, cnp.ndarray g,
        dx, cnp.ndarray dtwiddles, int n_threads=0, bint check_finite=True):
    """Gradients of Re(sum(conj(g) * K x)); see kmatrix_vjp in butterfly.hpp.

    x (n_rows, n_in), g (n_rows, n_out) and dx (n_rows, n_in, or None) any
    strides; dtwiddles a C-contiguous array shaped like twiddles; one dtype.
    """
    if twiddles.ndim != 6 or not twiddles.flags.c_contiguous:
        raise ValueError("twiddles must be a C-contiguous 6-D array")
    if (dtwiddles.ndim != 6 or not dtwiddles.flags.c_contiguous
            or (<object>dtwiddles).shape != (<object>twiddles).shape
            or not dtwiddles.flags.writeable):
        raise ValueError("dtwiddles must be a writable C-contiguous array shaped like twiddles")
    if x.ndim != 2 or g.ndim != 2 or x.shape[0] != g.shape[0]:
        raise ValueError("x and g must be 2-D with the same number of rows")
    cdef cnp.ndarray dxa
    if dx is not None:
        dxa = dx
        if dxa.ndim != 2 or dxa.shape[0] != x.shape[0] or dxa.shape[1] != x.shape[1]:
            raise ValueError("dx must have the shape of x")
        if not dxa.flags.writeable or not dxa.flags.aligned:
            raise ValueError("dx must be writable and aligned")
    else:
        dxa = x  # only for the dtype check below; not written
    dt = twiddles.dtype
    if x.dtype != dt or g.dtype != dt or dtwiddles.dtype != dt or dxa.dtype != dt:
        raise ValueError("x, g, dx, twiddles and dtwiddles must share one dtype")
    if not (x.flags.aligned and g.flags.aligned):
        raise ValueError("arrays must be aligned")
    cdef int64_t width = twiddles.shape[0]
    cdef int64_t n_rows = x.shape[0], n_in = x.shape[1], n_out = g.shape[1]
    cdef int64_t xrs = _element_stride(x, 0), xcs = _element_stride(x, 1)
    cdef int64_t grs = _element_stride(g, 0), gcs = _element_stride(g, 1)
    cdef int64_t drs = 0, dcs = 0
    cdef void* dxp = NULL
    if dx is not None:
        drs = _element_stride(dxa, 0)
        dcs = _element_stride(dxa, 1)
        dxp = cnp.PyArray_DATA(dxa)
    cdef void* tw = cnp.PyArray_DATA(twiddles)
    cdef void* dtw = cnp.PyArray_DATA(dtwiddles)
    cdef void* xp = cnp.PyArray_DATA(x)
    cdef void* gp = cnp.PyArray_DATA(g)
    cdef int cf = 1 if check_finite else 0
    cdef int status
    cdef int kind = _dtype_kind(dt)
    with nogil:
        if kind == 0:
            status = kmatrix_vjp[float](<const float*>tw, width, log_size,
                <const float*>xp, n_rows, n_in, xrs, xcs, <const float*>gp, n_out, grs, gcs,
                <float*>dxp, drs, dcs, <float*>dtw, n_threads, cf)
        elif kind == 1:
            status = kmatrix_vjp[double](<const double*>tw, width, log_size,
                <const double*>xp, n_rows, n_in, xrs, xcs, <const double*>gp, n_out, grs, gcs,
                <double*>dxp, drs, dcs, <double*>dtw, n_threads, cf)
        elif kind == 2:
            status = kmatrix_vjp[complex64_t](<const complex64_t*>tw, width, log_size,
                <const complex64_t*>xp, n_rows, n_in, xrs, xcs, <const complex64_t*>gp, n_out,
                grs, gcs, <complex64_t*>dxp, drs, dcs, <complex64_t*>dtw, n_threads, cf)
        else:
            status = kmatrix_vjp[complex128_t](<const complex128_t*>tw, width, log_size,
                <const complex128_t*>xp, n_rows, n_in, xrs, xcs, <const complex128_t*>gp, n_out,
                grs, gcs, <complex128_t*>dxp, drs, dcs, <complex128_t*>dtw, n_threads, cf)
    if status != STATUS_OK:
        _raise_status(status)
    return dtwiddles
