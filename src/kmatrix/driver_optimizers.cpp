// Driver (baseline instruction set, part of kmatrix_core). May include:
// butterfly.hpp, driver_*.hpp, kernel_interface.hpp, the standard library.
//
// kmatrix_adam_step: one Adam update of a parameter array, in one pass over
// its entries by the selected instruction set's kernel (isa_optimizers.hpp;
// see butterfly.hpp).
#include <algorithm>
#include <vector>

#include "butterfly.hpp"
#include "driver_dispatch.hpp"
#include "driver_pool.hpp"

namespace kmatrix {

// Fixed blocks of entries, each entry on its own: the result does not
// depend on the thread count.
template <class R>
int kmatrix_adam_step(R* p, const R* g, R* m, R* v, index_t n, double step, R beta_1,
                      R one_minus_beta_1, R beta_2, R one_minus_beta_2, R epsilon,
                      int n_threads) {
    if (n < 0) return STATUS_BAD_ARGUMENT;
    record_call(PATH_NONE, 0, 0);
    if (n == 0) return STATUS_OK;
    const AdamStep<R> s{step, beta_1, one_minus_beta_1, beta_2, one_minus_beta_2, epsilon};
    const ApplyKernels<R>& K = selected_apply_kernels<R>();
    constexpr index_t kBlock = index_t(1) << 15;
    const std::vector<index_t> counts{(n + kBlock - 1) / kBlock};
    // ~0.3 ns an entry (four streams read, three written)
    const ThreadChoice threads = threads_for_work(0.3 * double(n), resolve_threads(n_threads));
    auto task = [&](index_t, index_t t, int) {
        K.adam_block(p, g, m, v, s, t * kBlock, std::min(n, (t + 1) * kBlock));
    };
    record_call(PATH_NONE, threads.n_threads, run_phases(threads, counts, task));
    return STATUS_OK;
}

template int kmatrix_adam_step<float>(float*, const float*, float*, float*, index_t, double,
                                      float, float, float, float, float, int);
template int kmatrix_adam_step<double>(double*, const double*, double*, double*, index_t,
                                       double, double, double, double, double, double, int);

}  // namespace kmatrix
