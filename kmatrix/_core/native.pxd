# Declarations of kmatrix's C++ core (src/kmatrix). No Python objects here.
from libc.stdint cimport int64_t


cdef extern from "types.hpp" namespace "kmatrix":
    int STATUS_OK
    int STATUS_BAD_ARGUMENT
    int STATUS_NON_FINITE
    int STATUS_NO_MEMORY
    int TRANS_N
    int TRANS_T
    int TRANS_H
    int TRANS_INVERSE
    int ISA_BASE
    int ISA_V3
    int ISA_V4
    int EPILOGUE_COSINE
    int EPILOGUE_BIAS
    int EPILOGUE_BIAS_RELU
    int EPILOGUE_BIAS_TANH
    int EPILOGUE_BIAS_LOGISTIC
    int GATE_RELU
    int GATE_TANH
    int GATE_LOGISTIC


cdef extern from "butterfly.hpp" namespace "kmatrix":
    int kmatrix_apply[T](const T* twiddles, int64_t width, int log_size,
                         const void* x, int64_t n_rows, int64_t x_len,
                         int64_t x_row_stride, int64_t x_col_stride,
                         void* y, int64_t y_len, int64_t y_row_stride,
                         int64_t y_col_stride, int trans, int n_threads,
                         int check_finite, int real_io) nogil
    int kmatrix_vjp[T](const T* twiddles, int64_t width, int log_size,
                       const void* x, int64_t n_rows, int64_t n_in,
                       int64_t x_row_stride, int64_t x_col_stride,
                       const void* g, int64_t n_out, int64_t g_row_stride,
                       int64_t g_col_stride, void* dx, int64_t dx_row_stride,
                       int64_t dx_col_stride, T* dtwiddles, int n_threads,
                       int check_finite, int real_io, int gate_kind, const void* gate_ref,
                       int64_t gate_row_stride) nogil
    int kmatrix_apply_epilogue[T](const T* twiddles, int64_t width, int log_size, const T* x,
                                  int64_t n_rows, int64_t x_len, int64_t x_row_stride, T* y,
                                  int64_t y_len, int64_t y_row_stride, int kind,
                                  const T* offset, T scale, int n_threads,
                                  int check_finite) nogil
    int kmatrix_cosine_rows[T](T* y, int64_t n_rows, int64_t n_cols, int64_t row_stride,
                               const T* offset, T scale, int n_threads) nogil
    int kmatrix_adam_step[R](R* p, const R* g, R* m, R* v, int64_t n, double step, R beta_1,
                             R one_minus_beta_1, R beta_2, R one_minus_beta_2, R epsilon,
                             int n_threads) nogil
    int kmatrix_squared_error[R](R* p, int64_t p_stride, const R* y, int64_t y_stride,
                                 int64_t rows, int64_t cols, const double* w, R scale,
                                 double* row_sums, int n_threads) nogil
    void kmatrix_machine_tuning(int64_t* caches, int* from_os, double* blocks)
    void kmatrix_kernel_shape[T](int* lanes, int* max_group, int* max_vjp_group,
                                 int* small_max)
    int kernel_isa()
    int set_kernel_isa(int isa)
    bint isa_available(int isa)
    bint have_openmp()
    int resolve_threads(int requested)
    int available_cpus()
    int last_call_path()
    long long shared_calls()
    int last_call_threads()
    int last_call_planned_threads()
