// kmatrix's thread team: tasks handed out one at a time, waits that yield.
//
// The kernels' work is cut into phases of independent tasks. run_tasks hands
// the tasks to the calling thread and up to n_threads - 1 helper threads, one
// at a time from a shared counter, so a thread the OS has parked (a busy
// machine, a BLAS pool spinning next door) holds at most the task it is on;
// the caller never waits for a helper that has not joined the job. Waits
// (between phases, for the last helpers, for the next job) spin for a few
// tens of microseconds and then sleep, so idle kmatrix threads do not take
// cores from other work. One job runs at a time: a call made while another
// thread's job runs (Python threads, Dask workers) runs on its own thread.
//
// The thread count defaults to OpenMP's (OMP_NUM_THREADS, threadpoolctl) and
// is capped by the CPUs the process may use. Results never depend on it: the
// tasks and their arithmetic are fixed by the work alone.
#ifndef KMATRIX_THREADS_HPP
#define KMATRIX_THREADS_HPP

#include <cstddef>
#include <vector>

#include "types.hpp"

namespace kmatrix {

// CPUs this process may run on (its affinity mask), at least 1.
int available_cpus();

// Threads a call may use: the request when positive, else the OpenMP default
// (1 without OpenMP), capped by max(2, available_cpus()).
int resolve_threads(int requested);

// Whether the core was compiled with OpenMP (which provides the default
// thread count, so that OMP_NUM_THREADS and threadpoolctl bound it).
bool have_openmp();

struct TaskSet {
    const index_t* counts;  // tasks of each phase
    index_t n_phases;
    // runs task `task` of phase `phase` on worker `worker` (0: the caller)
    void (*run)(void* context, index_t phase, index_t task, int worker);
    void* context;
    // whether to wake sleeping helpers: a short job takes only the helpers
    // still polling after the previous one (waking one costs a system call
    // and tens of microseconds before it runs)
    bool wake;
};

// How many threads a job of about `ns` nanoseconds of single-thread work is
// worth, up to n_threads, and whether it should wake sleeping helpers.
struct ThreadChoice {
    int n_threads;
    bool wake;
};
ThreadChoice threads_for_work(double ns, int n_threads);

// Runs every task of every phase on up to n_threads threads; the tasks of
// phase p start once every task of the phases before it has finished (empty
// phases are allowed). Returns the
// number of threads that ran at least one task. Tasks must not throw.
int run_tasks(int n_threads, const TaskSet& tasks);

template <class F>
int run_phases(const ThreadChoice& threads, const std::vector<index_t>& counts, F& f) {
    TaskSet ts;
    ts.wake = threads.wake;
    ts.counts = counts.data();
    ts.n_phases = index_t(counts.size());
    ts.run = [](void* c, index_t phase, index_t task, int worker) {
        (*static_cast<F*>(c))(phase, task, worker);
    };
    ts.context = &f;
    return run_tasks(threads.n_threads, ts);
}

// A 64-byte aligned buffer of at least `bytes` bytes owned by the calling
// thread and reused across calls (slot 0: per-worker tiles, slot 1: a call's
// shared buffers, slot 2: the vjp's pass-ordered twiddles and gradient
// slots); its contents are not kept. Null if allocation fails. Reuse spares
// repeated calls (a training loop) the page faults of fresh buffers.
constexpr int kScratchSlots = 3;
void* thread_scratch(int slot, std::size_t bytes);

// Frees this thread's scratch buffers above the size kept between calls.
void trim_thread_scratch();

// What the calling thread's last kernel call did, for tests that must know
// which path ran and that a second thread really worked: the path (a
// CallPath), the thread count it planned and how many threads ran tasks.
enum CallPath : int { PATH_NONE = 0, PATH_SMALL = 1, PATH_ROWS = 2, PATH_TILES = 3,
                      PATH_TILES_SHARED = 4, PATH_VJP = 5, PATH_VJP_SHARED = 6,
                      PATH_VJP_ROWS = 7 };
void record_call(int path, int planned, int ran);
int last_call_path();
// Calls of the calling thread in which two threads or more ran tasks, since
// it started (a counter for tests of whole fits).
long long shared_calls();
int last_call_threads();
int last_call_planned_threads();

}  // namespace kmatrix

#endif  // KMATRIX_THREADS_HPP
