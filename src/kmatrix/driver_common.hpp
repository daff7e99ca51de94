// Driver (baseline instruction set, part of kmatrix_core). May include:
// kernel_interface.hpp, driver_*.hpp, the standard library. Never included
// by the per-ISA kernels.
//
// Small helpers shared by the drivers of apply and vjp.
#ifndef KMATRIX_DRIVER_COMMON_HPP
#define KMATRIX_DRIVER_COMMON_HPP

#include <atomic>
#include <type_traits>
#include <vector>

#include "kernel_interface.hpp"
#include "driver_instrumentation.hpp"
#include "driver_pool.hpp"
#include "driver_scratch.hpp"
#include "driver_thread_count.hpp"

namespace kmatrix {

template <class T>
constexpr bool is_complex_v = !std::is_same<typename real_of<T>::type, T>::value;

// The first failure (a Status) reported by any task of a call.
struct Failure {
    std::atomic<int> status{STATUS_OK};
    void set(int s) {
        int expected = STATUS_OK;
        status.compare_exchange_strong(expected, s);
    }
    bool failed() const { return status.load(std::memory_order_relaxed) != STATUS_OK; }
};

// Runs every unit of `phases` (each phase after the ones before it) on
// `threads`: phase_fn(phase, unit) returns false on non-finite input. Records
// the call under `path` and returns its status (the first failure's).
template <class F>
int run_phase_list(const ThreadChoice& threads, const std::vector<Phase>& phases, int path,
                   F&& phase_fn) {
    std::vector<index_t> counts(phases.size());
    for (std::size_t i = 0; i < phases.size(); ++i) counts[i] = phases[i].n_units;
    Failure failure;
    auto task = [&](index_t phase, index_t unit, int) {
        if (failure.failed()) return;
        if (!phase_fn(phases[std::size_t(phase)], unit)) failure.set(STATUS_NON_FINITE);
    };
    record_call(path, threads.n_threads, run_phases(threads, counts, task));
    return failure.status.load();
}

}  // namespace kmatrix

#endif  // KMATRIX_DRIVER_COMMON_HPP
