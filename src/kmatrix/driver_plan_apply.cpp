// Driver (baseline instruction set, part of kmatrix_core). May include:
// driver_*.hpp, kernel_interface.hpp, the standard library.
//
// The planner of kmatrix_apply; see driver_plan_apply.hpp.
#include "driver_plan_apply.hpp"

#include <algorithm>
#include <complex>
#include <cstddef>
#include <vector>

#include "driver_common.hpp"
#include "driver_machine.hpp"

namespace kmatrix {
namespace {

// Single-thread cost of one 2x2 block applied to one row, in ns, for
// float32 (measured with AVX-512 on the development machine, ~0.09 ns on
// the small path, ~0.1 ns on tiles); complex blocks cost ~4x, double ~2x.
// Only the thread count depends on these estimates, never the results.
template <class T>
constexpr double ns_per_update() {
    using R = typename real_of<T>::type;
    constexpr double planes = is_complex_v<T> ? 2.0 : 1.0;
    return 0.1 * planes * planes * double(sizeof(R)) / 4.0;
}

// ------------------------------------------------------------- small N --
template <class T>
void plan_small(const ApplyCall<T>& c, int n_threads, ApplyPlan<T>& plan) {
    plan.path = PATH_SMALL;
    const auto all = stage_order(c.twiddles, c.width, c.L, c.trans, c.inverse);
    plan.stages.reserve(all.size());
    for (const auto& st : all)
        if (classify_stage(st.twiddles, c.N / 2, c.trans, false) != KIND_IDENTITY)
            plan.stages.push_back(st);
    plan.threads = threads_for_work(double(c.n_rows) * double(c.N / 2) *
                                        double(plan.stages.size()) * ns_per_update<T>(),
                                    n_threads);
    const int nt = plan.threads.n_threads;
    plan.rows_per_task = nt == 1 ? c.n_rows : std::max<index_t>(16, c.n_rows / (8 * nt));
}

// ----------------------------------------------------------------- rows --
template <class T>
void plan_rows(const ApplyKernels<T>& K, const ApplyCall<T>& c, int n_threads,
               ApplyPlan<T>& plan) {
    using R = typename real_of<T>::type;
    constexpr int P = is_complex_v<T> ? 2 : 1;
    const index_t VL = K.lanes;
    plan.path = PATH_ROWS;
    plan.stages = stage_order(c.twiddles, c.width, c.L, c.trans, c.inverse);
    // blocks of about a sixteenth of L2 of the rows' data (the twiddles of
    // the block's stages stream beside it), of at least one vector of pairs
    plan.cache_bits = bits_for_bytes(row_block_bytes(), double(c.n_rows * P * sizeof(R)),
                                     log2_floor(2 * VL), c.L);
    // every call deinterleaves all twiddles once (~4 row updates' worth)
    plan.threads = threads_for_work(double(c.n_rows + 4) * double(c.N / 2) *
                                        double(plan.stages.size()) * ns_per_update<T>(),
                                    n_threads);
    const int nt = plan.threads.n_threads;
    if (nt > 1) {
        // at least two blocks per thread in the runs of low stages
        const int most = c.L - 1 - log2_floor(nt);
        if (plan.cache_bits > most) plan.cache_bits = std::max(most, log2_floor(2 * VL));
    }
    const index_t n_vec = c.N / 2 / VL;
    plan.group_units = nt == 1 ? 1 : std::min<index_t>(n_vec, 4 * nt);
    plan.io_block = io_block_for(c.N, VL, nt);
}

// ---------------------------------------------------------------- tiles --
// Where each input position goes after the first `lead` (permutation)
// stages: load_to[u] is the tile row that position u is loaded into.
template <class T>
std::vector<index_t> load_order(const std::vector<StageRef<T>>& perms, std::size_t lead,
                                index_t N) {
    std::vector<index_t> where(static_cast<std::size_t>(N));
    for (index_t u = 0; u < N; ++u) where[std::size_t(u)] = u;
    for (std::size_t i = 0; i < lead; ++i) permute_by_stage(perms[i], N, where);
    std::vector<index_t> load_to(static_cast<std::size_t>(N));
    for (index_t r = 0; r < N; ++r) load_to[std::size_t(where[std::size_t(r)])] = r;
    return load_to;
}

// Which tile row each output position is stored from after the last
// `trail` (permutation) stages.
template <class T>
std::vector<index_t> store_order(const std::vector<StageRef<T>>& perms, std::size_t trail,
                                 index_t N) {
    std::vector<index_t> store_from(static_cast<std::size_t>(N));
    for (index_t v = 0; v < N; ++v) store_from[std::size_t(v)] = v;
    for (std::size_t i = perms.size() - trail; i < perms.size(); ++i)
        permute_by_stage(perms[i], N, store_from);
    return store_from;
}

// The stages of a batched call, classified, into plan.stages (identity
// stages dropped, leading and trailing permutations folded into the order
// in which the loads and stores visit tile rows); returns their kinds.
// Every batched call classifies its stages: the scan stops at the first
// block of an unstructured stage, and a kind rounds as the general
// arithmetic does, so a row's result does not depend on the batch.
template <class T>
std::vector<int> classify_and_fold(const ApplyCall<T>& c, ApplyPlan<T>& plan) {
    // butterfly kinds exist in the kernels for complex networks, N and T;
    // an inverse keeps the identity and the permutations (their own
    // inverses) and is general otherwise
    const bool butterfly = is_complex_v<T> && c.trans != TRANS_H && !c.inverse;
    std::vector<StageRef<T>> kept;
    std::vector<int> kinds;
    for (const auto& st : stage_order(c.twiddles, c.width, c.L, c.trans, c.inverse)) {
        const int kind = classify_stage(st.twiddles, c.N / 2, c.trans, butterfly);
        if (kind == KIND_IDENTITY) continue;
        kept.push_back(st);
        kinds.push_back(kind);
    }
    std::size_t lead = 0;
    while (lead < kept.size() && kinds[lead] == KIND_PERM) ++lead;
    std::size_t trail = 0;
    while (trail < kept.size() - lead && kinds[kept.size() - 1 - trail] == KIND_PERM) ++trail;
    if (lead > 0) plan.load_to = load_order(kept, lead, c.N);
    if (trail > 0) plan.store_from = store_order(kept, trail, c.N);
    plan.stages.assign(kept.begin() + std::ptrdiff_t(lead), kept.end() - std::ptrdiff_t(trail));
    kinds.erase(kinds.end() - std::ptrdiff_t(trail), kinds.end());
    kinds.erase(kinds.begin(), kinds.begin() + std::ptrdiff_t(lead));
    // (for TRANS_H the tile kernels have no permutation kind: general there)
    if (c.trans == TRANS_H)
        for (auto& k : kinds) k = KIND_GENERAL;
    return kinds;
}

template <class T>
void plan_tiles(const ApplyKernels<T>& K, const ApplyCall<T>& c, int n_threads,
                ApplyPlan<T>& plan) {
    using R = typename real_of<T>::type;
    constexpr int P = is_complex_v<T> ? 2 : 1;
    const index_t C = K.lanes;
    const std::vector<int> kinds = classify_and_fold(c, plan);
    plan.groups = group_stages(plan.stages.data(), kinds.data(), index_t(plan.stages.size()),
                               K.max_group);
    // PHASE_RUN blocks of about half of L2 of tile rows
    plan.cache_bits = bits_for_bytes(tile_block_bytes(), double(C * P * sizeof(R)), 1, c.L);
    plan.n_chunks = (c.n_rows + C - 1) / C;
    double pair_updates = 0;
    for (const auto& gr : plan.groups) pair_updates += gr.size;
    plan.threads = threads_for_work(double(plan.n_chunks * C) * double(c.N / 2) *
                                        (pair_updates + 2) * ns_per_update<T>(),
                                    n_threads);
    const int nt = plan.threads.n_threads;
    // Threads share each chunk phase by phase for long rows, and when there
    // are too few chunks to go round (a chunk per thread would leave one idle)
    const bool shared = nt > 1 && (c.L >= kLongRowBits || plan.n_chunks < 2 * nt);
    plan.path = shared ? PATH_TILES_SHARED : PATH_TILES;
    plan.io_block = shared ? io_block_for(c.N, C, nt) : c.N;
    plan.group_units = shared ? 4 * nt : 1;
}

}  // namespace

// The row path serves calls of up to max(4, lanes / 2) rows: it reads the
// twiddles once per call, while a tile of a few rows wastes its other lanes
// and copies every twiddle into pass order. Measured on AVX-512 (16 float
// lanes), one thread, n = 512..32768, rows at lanes / 2 (8 float32 or
// complex64, 4 float64 or complex128): the row path took a fraction of the
// tile path's time for float32 (0.39-0.72x), float64 (0.42-0.71x),
// complex64 (0.48-1.06x) and complex128 (0.48-0.70x); with 12 float32 rows
// the tiles win from n = 2048 on (0.73-0.82x the row path's time).
template <class T>
ApplyPlan<T> plan_apply(const ApplyKernels<T>& K, const ApplyCall<T>& call, int n_threads) {
    ApplyPlan<T> plan;
    if (call.N >= K.lanes && call.N <= K.small_max)
        plan_small(call, n_threads, plan);
    else if (call.n_rows <= std::max<index_t>(4, K.lanes / 2) && call.N >= 2 * K.lanes)
        plan_rows(K, call, n_threads, plan);
    else
        plan_tiles(K, call, n_threads, plan);
    return plan;
}

template ApplyPlan<float> plan_apply(const ApplyKernels<float>&, const ApplyCall<float>&, int);
template ApplyPlan<double> plan_apply(const ApplyKernels<double>&, const ApplyCall<double>&,
                                      int);
template ApplyPlan<std::complex<float>> plan_apply(const ApplyKernels<std::complex<float>>&,
                                                   const ApplyCall<std::complex<float>>&, int);
template ApplyPlan<std::complex<double>> plan_apply(const ApplyKernels<std::complex<double>>&,
                                                    const ApplyCall<std::complex<double>>&, int);

}  // namespace kmatrix
