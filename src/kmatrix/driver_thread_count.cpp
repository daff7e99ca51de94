// Driver (baseline instruction set, part of kmatrix_core). May include:
// driver_thread_count.hpp, the standard library, the system's affinity and
// OpenMP headers.
//
// The default thread count; see driver_thread_count.hpp.
#include "driver_thread_count.hpp"

#include <thread>

#if defined(__linux__)
#include <sched.h>
#endif

#ifdef _OPENMP
#include <omp.h>
#endif

namespace kmatrix {
namespace {

int count_cpus() {
#if defined(__linux__)
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof(set), &set) == 0) {
        const int n = CPU_COUNT(&set);
        if (n > 0) return n;
    }
#endif
    const unsigned n = std::thread::hardware_concurrency();
    return n > 0 ? int(n) : 1;
}

}  // namespace

int available_cpus() {
    static const int n = count_cpus();
    return n;
}

bool have_openmp() {
#ifdef _OPENMP
    return true;
#else
    return false;
#endif
}

int resolve_threads(int requested) {
    int n = requested;
    if (n <= 0) {
#ifdef _OPENMP
        n = omp_get_max_threads();
#else
        n = 1;
#endif
    }
    const int cap = available_cpus() > 2 ? available_cpus() : 2;
    if (n > cap) n = cap;
    return n < 1 ? 1 : n;
}

}  // namespace kmatrix
