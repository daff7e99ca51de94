// Driver (baseline instruction set, part of kmatrix_core). May include:
// the standard library. Declared to Cython through butterfly.hpp.
//
// Test instrumentation: what the calling thread's last kernel call did, for
// tests that must know which path ran and that a second thread really
// worked. Kept apart from the thread team: the drivers record, the team
// only reports how many threads ran tasks.
#ifndef KMATRIX_DRIVER_INSTRUMENTATION_HPP
#define KMATRIX_DRIVER_INSTRUMENTATION_HPP

namespace kmatrix {

// The path of a call (tiles and vjp: which of the two execution modes).
enum CallPath : int { PATH_NONE = 0, PATH_SMALL = 1, PATH_ROWS = 2, PATH_TILES = 3,
                      PATH_TILES_SHARED = 4, PATH_VJP = 5, PATH_VJP_SHARED = 6,
                      PATH_VJP_ROWS = 7, PATH_COSINE = 8 };
// Records the calling thread's call: its path (a CallPath), the thread count
// it planned and how many threads ran tasks.
void record_call(int path, int planned, int ran);
int last_call_path();
// Calls of the calling thread in which two threads or more ran tasks, since
// it started (a counter for tests of whole fits).
long long shared_calls();
int last_call_threads();
int last_call_planned_threads();

}  // namespace kmatrix

#endif  // KMATRIX_DRIVER_INSTRUMENTATION_HPP
