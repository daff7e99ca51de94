// Driver (baseline instruction set, part of kmatrix_core). May include:
// the standard library. Declared to Cython through butterfly.hpp.
//
// How many threads a call may use. The default is OpenMP's
// (OMP_NUM_THREADS, threadpoolctl), capped by the CPUs the process may use;
// the threads themselves are kmatrix's own team (driver_pool.hpp), so this
// is the only unit that needs OpenMP. Results never depend on the count:
// the tasks and their arithmetic are fixed by the work alone.
#ifndef KMATRIX_DRIVER_THREAD_COUNT_HPP
#define KMATRIX_DRIVER_THREAD_COUNT_HPP

namespace kmatrix {

// CPUs this process may run on (its affinity mask), at least 1.
int available_cpus();

// Threads a call may use: the request when positive, else the OpenMP default
// (1 without OpenMP), capped by max(2, available_cpus()).
int resolve_threads(int requested);

// Whether the core was compiled with OpenMP (which provides the default
// thread count, so that OMP_NUM_THREADS and threadpoolctl bound it).
bool have_openmp();

}  // namespace kmatrix

#endif  // KMATRIX_DRIVER_THREAD_COUNT_HPP
