// Driver (baseline instruction set, part of kmatrix_core). May include:
// kernel_interface.hpp, driver_*.hpp, the standard library. Never included
// by the per-ISA kernels.
//
// Planning a gradient (kmatrix_vjp): the row path or the tiles, the fused
// passes, the slots of chunks the twiddle gradients are summed in, and how
// many threads the work is worth; driver_vjp.cpp executes the plan
// (pass-order copy, phases, the execution modes, the slot sums). The path,
// the passes and the slots depend on the call's shape alone, never on the
// thread count, so results do not either.
#ifndef KMATRIX_DRIVER_PLAN_VJP_HPP
#define KMATRIX_DRIVER_PLAN_VJP_HPP

#include <vector>

#include "driver_instrumentation.hpp"
#include "driver_pool.hpp"
#include "driver_stages.hpp"
#include "kernel_interface.hpp"

namespace kmatrix {

// One call's operands, validated (see kmatrix_vjp in butterfly.hpp).
template <class T>
struct VjpCall {
    const T* twiddles;
    index_t width;
    index_t N;
    int L;
    index_t n_params;  // entries of the twiddles (and of their gradient)
    index_t n_rows;
    Rows x, g;
    OutRows dx;        // data null: not wanted
    T* dtwiddles;
    bool real_io, check_finite;
    Gate<T> gate;      // on dx as it is stored
};

template <class T>
struct VjpPlan {
    // PATH_VJP_ROWS, PATH_VJP (each thread runs whole slots of chunks) or
    // PATH_VJP_SHARED (all threads share each chunk's phases)
    int path = PATH_NONE;
    // every stage in application order (what the row path runs), and the
    // fused passes (what the tiles run; their count picks the path)
    std::vector<StageRef<T>> stages;
    std::vector<StageGroup<T>> groups;
    // tiles: the chunks of `lanes` rows and the slots (slot s sums the
    // twiddle gradients of chunks s, s + n_slots, ...)
    index_t n_chunks = 0;
    index_t n_slots = 1;
    // tasks of the pass-order copy and of the slot sums
    index_t copy_tasks = 1;
    ThreadChoice threads{1, false};
    // units of a stage or group phase; positions per load / store unit
    index_t units = 1;
    index_t io_block = 0;
};

// Plans a call for the kernels K on up to n_threads threads (n_rows > 0).
// May throw std::bad_alloc.
template <class T>
VjpPlan<T> plan_vjp(const VjpKernels<T>& K, const VjpCall<T>& call, int n_threads);

}  // namespace kmatrix

#endif  // KMATRIX_DRIVER_PLAN_VJP_HPP
