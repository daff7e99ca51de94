# Declarations of kaleido's C++ core (src/kaleido). No Python objects here.
from libc.stdint cimport int64_t


cdef extern from "common.hpp" namespace "kaleido":
    int STATUS_OK
    int STATUS_BAD_ARGUMENT
    int STATUS_NON_FINITE
    int STATUS_NO_MEMORY
    int TRANS_N
    int TRANS_T
    int TRANS_H
    bint have_openmp()
    int resolve_threads(int requested)


cdef extern from "butterfly.hpp" namespace "kaleido":
    int kmatrix_apply[T](const T* twiddles, int64_t width, int log_size,
                         const T* x, int64_t n_rows, int64_t x_len,
                         int64_t x_row_stride, int64_t x_col_stride,
                         T* y, int64_t y_len, int64_t y_row_stride,
                         int64_t y_col_stride, int trans, int n_threads,
                         int check_finite) nogil
    int kmatrix_vjp[T](const T* twiddles, int64_t width, int log_size,
                       const T* x, int64_t n_rows, int64_t n_in,
                       int64_t x_row_stride, int64_t x_col_stride,
                       const T* g, int64_t n_out, int64_t g_row_stride,
                       int64_t g_col_stride, T* dx, int64_t dx_row_stride,
                       int64_t dx_col_stride, T* dtwiddles, int n_threads,
                       int check_finite) nogil
