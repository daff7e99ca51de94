// Driver (baseline instruction set, part of kmatrix_core). May include:
// driver_*.hpp, kernel_interface.hpp, the standard library.
//
// The planner of kmatrix_vjp; see driver_plan_vjp.hpp.
#include "driver_plan_vjp.hpp"

#include <algorithm>
#include <complex>
#include <vector>

#include "driver_common.hpp"

namespace kmatrix {
namespace {

constexpr double kRowStageNs = 8000.0;  // the row path's least work per stage for threads
constexpr double kSlotMemory = 512.0 * 1024 * 1024;
constexpr index_t kMaxSlots = 16;
constexpr index_t kChunksPerSlot = 2;

// The row path of the vjp (see isa_vjp_rows.hpp).
template <class T>
void plan_rows(const VjpKernels<T>& K, const VjpCall<T>& c, int n_threads, VjpPlan<T>& plan) {
    using R = typename real_of<T>::type;
    constexpr int P = is_complex_v<T> ? 2 : 1;
    plan.path = PATH_VJP_ROWS;
    const index_t n_stages = index_t(plan.stages.size());
    // forward, backward and the gradient sums: about three row products,
    // and each stage's blocks deinterleaved twice (~8 row updates)
    const double ns = double(3 * c.n_rows + 8) * double(c.N / 2) * double(n_stages) * P * P *
                      double(sizeof(R)) / 4.0 * 0.1;
    // every stage is two phases (barriers): threads pay only on long stages
    // (measured, one row: float32 n = 8192, ~4.5 us a stage, 0.117 ms on one
    // thread, 0.143 on two; n = 16384, 0.296 against 0.232; width 3000 at
    // n = 32 took 3x longer on two)
    plan.threads = ns >= kRowStageNs * double(n_stages) ? threads_for_work(ns, n_threads)
                                                        : ThreadChoice{1, false};
    const int nt = plan.threads.n_threads;
    const index_t n_vec = c.N / 2 / K.lanes;
    plan.units = nt == 1 ? 1 : std::min<index_t>(n_vec, 4 * nt);
    plan.io_block = io_block_for(c.N, K.lanes, nt);
}

// Twiddle gradients are summed per slot (slot s takes chunks s, s + S,
// s + 2S, ... in order; the first one stores, the others add) and the
// slots are then added in slot order. S depends on the batch, N and the
// parameter count only, never on the thread count, so the result is
// bit-identical for any number of threads. Long rows use one slot: all
// threads work on each chunk together.
template <class T>
index_t slot_count(const VjpCall<T>& c, index_t n_chunks, bool long_rows) {
    const double slot_bytes = double(c.n_params) * sizeof(T);
    index_t n_slots = 1;
    if (!long_rows) {
        // at least kChunksPerSlot chunks per slot (a power of two of slots),
        // and two slots whenever there are two chunks: the sums of one slot
        // per chunk were 8-12% of a gradient of 64-200 rows, while each slot
        // is one thread's work at most (200 float32 rows: 4 slots, not 13)
        while (2 * n_slots <= kMaxSlots && 2 * n_slots * kChunksPerSlot <= n_chunks) n_slots *= 2;
        if (n_slots < 2 && n_chunks >= 2) n_slots = 2;
    }
    n_slots = std::min<index_t>(n_slots, index_t(kSlotMemory / slot_bytes));
    return n_slots < 1 ? 1 : n_slots;
}

template <class T>
void plan_tiles(const VjpKernels<T>& K, const VjpCall<T>& c, int n_threads, VjpPlan<T>& plan) {
    using R = typename real_of<T>::type;
    constexpr int P = is_complex_v<T> ? 2 : 1;
    const index_t C = K.lanes;
    const bool long_rows = c.L >= kLongRowBits;
    plan.n_chunks = (c.n_rows + C - 1) / C;
    plan.n_slots = slot_count(c, plan.n_chunks, long_rows);
    // about three products (see driver_plan_apply.cpp for the per-update
    // estimate)
    const double ns = double(plan.n_chunks * C) * double(c.N / 2) * double(c.width * 2 * c.L) *
                      P * P * double(sizeof(R)) / 4.0 * 0.3;
    plan.threads = threads_for_work(ns, n_threads);
    // short rows: a thread per slot at most
    if (!long_rows && plan.threads.n_threads > plan.n_slots)
        plan.threads.n_threads = int(plan.n_slots);
    const int nt = plan.threads.n_threads;
    const bool shared = long_rows && nt > 1;
    plan.path = shared ? PATH_VJP_SHARED : PATH_VJP;
    plan.units = shared ? 4 * nt : 1;
    plan.io_block = shared ? io_block_for(c.N, C, nt) : c.N;
    // the copy into pass order and the slot sums cut into independent
    // blocks of entries, when there are enough
    plan.copy_tasks = nt > 1 && c.n_params > 65536 ? 8 * nt : 1;
}

}  // namespace

// The row path serves calls of fewer rows than a chunk has lanes: a chunk's
// other lanes would be computed for nothing, and the pass-ordered copy and
// the slot sums (three passes over all the parameters) would cost more than
// the rows (measured, float32 n = 16384, one row: 9.6 ms against 0.094 ms
// for its product). Every stage's input is kept: (stages + 1) buffers of the
// call's rows, no more than a chunk's saved tiles when n_rows * stages <=
// lanes * (groups + 1).
template <class T>
VjpPlan<T> plan_vjp(const VjpKernels<T>& K, const VjpCall<T>& call, int n_threads) {
    VjpPlan<T> plan;
    const index_t C = K.lanes;
    plan.stages = stage_order(call.twiddles, call.width, call.L, TRANS_N);
    plan.groups =
        group_stages(plan.stages.data(), nullptr, index_t(plan.stages.size()), K.max_group);
    if (call.n_rows < C && call.N >= 2 * C &&
        call.n_rows * index_t(plan.stages.size()) <= C * (index_t(plan.groups.size()) + 1))
        plan_rows(K, call, n_threads, plan);
    else
        plan_tiles(K, call, n_threads, plan);
    return plan;
}

template VjpPlan<float> plan_vjp(const VjpKernels<float>&, const VjpCall<float>&, int);
template VjpPlan<double> plan_vjp(const VjpKernels<double>&, const VjpCall<double>&, int);
template VjpPlan<std::complex<float>> plan_vjp(const VjpKernels<std::complex<float>>&,
                                               const VjpCall<std::complex<float>>&, int);
template VjpPlan<std::complex<double>> plan_vjp(const VjpKernels<std::complex<double>>&,
                                                const VjpCall<std::complex<double>>&, int);

}  // namespace kmatrix
