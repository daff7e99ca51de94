// Driver (baseline instruction set, part of kmatrix_core). May include:
// butterfly.hpp, driver_*.hpp, kernel_interface.hpp, the standard library.
//
// kmatrix_squared_error: the squared error's gradient and row sums, one
// pass by the selected instruction set's kernel (isa_losses.hpp; see
// butterfly.hpp).
#include <algorithm>
#include <vector>

#include "butterfly.hpp"
#include "driver_dispatch.hpp"
#include "driver_pool.hpp"

namespace kmatrix {

// Fixed blocks of rows, each row on its own: the result does not depend on
// the thread count.
template <class R>
int kmatrix_squared_error(R* p, index_t p_stride, const R* y, index_t y_stride, index_t rows,
                          index_t cols, const double* w, R scale, double* row_sums,
                          int n_threads) {
    if (rows < 0 || cols < 0 || p_stride < cols || y_stride < cols) return STATUS_BAD_ARGUMENT;
    record_call(PATH_NONE, 0, 0);
    if (rows == 0) return STATUS_OK;
    const SquaredErrorJob<R> job{p, y, w, row_sums, cols, p_stride, y_stride, scale};
    const ApplyKernels<R>& K = selected_apply_kernels<R>();
    const index_t block = std::max<index_t>(1, (index_t(1) << 14) / std::max<index_t>(cols, 1));
    const std::vector<index_t> counts{(rows + block - 1) / block};
    // ~0.25 ns an entry (two streams read, one written)
    const ThreadChoice threads =
        threads_for_work(0.25 * double(rows) * double(cols), resolve_threads(n_threads));
    auto task = [&](index_t, index_t t, int) {
        K.squared_error_rows(job, t * block, std::min(rows, (t + 1) * block));
    };
    record_call(PATH_NONE, threads.n_threads, run_phases(threads, counts, task));
    return STATUS_OK;
}

template int kmatrix_squared_error<float>(float*, index_t, const float*, index_t, index_t,
                                          index_t, const double*, float, double*, int);
template int kmatrix_squared_error<double>(double*, index_t, const double*, index_t, index_t,
                                           index_t, const double*, double, double*, int);

}  // namespace kmatrix
