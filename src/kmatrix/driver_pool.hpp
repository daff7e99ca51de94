// Driver (baseline instruction set, part of kmatrix_core). May include:
// types.hpp, the standard library. Never included by the per-ISA kernels.
//
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
// How many threads a call may use is driver_thread_count.hpp's; how many it
// is worth, threads_for_work's below (from what waking a helper costs).
// Results never depend on either: the tasks and their arithmetic are fixed
// by the work alone.
#ifndef KMATRIX_DRIVER_POOL_HPP
#define KMATRIX_DRIVER_POOL_HPP

#include <cstddef>
#include <vector>

#include "types.hpp"

namespace kmatrix {

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

}  // namespace kmatrix

#endif  // KMATRIX_DRIVER_POOL_HPP
