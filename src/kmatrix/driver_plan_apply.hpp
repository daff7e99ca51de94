// Driver (baseline instruction set, part of kmatrix_core). May include:
// kernel_interface.hpp, driver_*.hpp, the standard library. Never included
// by the per-ISA kernels.
//
// Planning a product (kmatrix_apply): which path, which stages, how they
// fuse, where the leading and trailing permutations go, and how many
// threads the work is worth. A plan allocates nothing the kernels write
// to; driver_apply.cpp executes it (packing, phases, the execution modes).
// The path and every arithmetic choice depend on the call's shape and the
// twiddles alone, never on the thread count, so results do not either.
#ifndef KMATRIX_DRIVER_PLAN_APPLY_HPP
#define KMATRIX_DRIVER_PLAN_APPLY_HPP

#include <vector>

#include "driver_instrumentation.hpp"
#include "driver_pool.hpp"
#include "driver_stages.hpp"
#include "kernel_interface.hpp"

namespace kmatrix {

// One call's operands, validated (see kmatrix_apply in butterfly.hpp).
template <class T>
struct ApplyCall {
    const T* twiddles;
    index_t width;
    index_t N;
    int L;
    index_t n_rows;
    Rows x;
    OutRows y;
    int trans;  // TRANS_T for TRANS_H on real networks
    bool real_io, check_finite;
    bool inverse;  // op(K)^-1 (a solve; see TRANS_INVERSE)
    Epilogue<T> epilogue;  // what the stores do to every entry (EpilogueKind)
};

template <class T>
struct ApplyPlan {
    // PATH_SMALL, PATH_ROWS, PATH_TILES (each thread runs whole chunks) or
    // PATH_TILES_SHARED (all threads share each chunk's phases)
    int path = PATH_NONE;
    // the stages to run, in order; small: identity stages dropped; tiles:
    // also the leading and trailing permutations (folded into load_to and
    // store_from)
    std::vector<StageRef<T>> stages;
    ThreadChoice threads{1, false};
    // small: rows per task
    index_t rows_per_task = 0;
    // rows and tiles: PHASE_RUN blocks of 2^cache_bits positions or tile
    // rows, positions per load / store unit, units of a PHASE_GROUP
    int cache_bits = 0;
    index_t io_block = 0;
    index_t group_units = 1;
    // tiles: the fused passes, the chunks of `lanes` rows, the folded
    // permutations (empty: none; see TileJob)
    std::vector<StageGroup<T>> groups;
    index_t n_chunks = 0;
    std::vector<index_t> load_to, store_from;
};

// Plans a call for the kernels K on up to n_threads threads. May throw
// std::bad_alloc.
template <class T>
ApplyPlan<T> plan_apply(const ApplyKernels<T>& K, const ApplyCall<T>& call, int n_threads);

}  // namespace kmatrix

#endif  // KMATRIX_DRIVER_PLAN_APPLY_HPP
