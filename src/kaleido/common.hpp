// Shared definitions of kaleido's C++ core: index type, status codes and the
// OpenMP shim. This core never includes a Python header: the Cython layer
// turns the status codes below into Python exceptions.
#ifndef KALEIDO_COMMON_HPP
#define KALEIDO_COMMON_HPP

#include <cstdint>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace kaleido {

using index_t = std::int64_t;

// Status codes returned by every entry point (0 means success).
enum Status : int {
    STATUS_OK = 0,
    STATUS_BAD_ARGUMENT = 1,   // inconsistent sizes, strides or flags
    STATUS_NON_FINITE = 2,     // the input held NaN or infinity
    STATUS_NO_MEMORY = 3,      // a scratch allocation failed
};

// How the stored operator is applied: as is, transposed, or conjugate
// transposed (the adjoint). Transposing reverses the order of the stages and
// transposes each 2x2 block, so all three cost the same (transposition
// principle).
enum Trans : int { TRANS_N = 0, TRANS_T = 1, TRANS_H = 2 };

// Number of OpenMP threads an entry point may use: the caller's request when
// positive, else the OpenMP default (which threadpoolctl and OMP_NUM_THREADS
// bound). Always 1 without OpenMP.
inline int resolve_threads(int requested) {
#ifdef _OPENMP
    return requested > 0 ? requested : omp_get_max_threads();
#else
    (void)requested;
    return 1;
#endif
}

inline bool have_openmp() {
#ifdef _OPENMP
    return true;
#else
    return false;
#endif
}

}  // namespace kaleido

#endif  // KALEIDO_COMMON_HPP
