// Driver (baseline instruction set, part of kmatrix_core). May include:
// driver_pool.hpp, driver_scratch.hpp, the standard library, pthread.
//
// kmatrix's thread team; see driver_pool.hpp for what it promises.
#include "driver_pool.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <new>
#include <system_error>
#include <thread>

#if defined(__linux__)
#include <pthread.h>
#endif

#include "driver_scratch.hpp"

namespace kmatrix {
namespace {

using Clock = std::chrono::steady_clock;

// How long an idle helper polls for the next job before it sleeps: long
// enough to catch the next call of a loop (a solver's matvec, a training
// step), short against the 0.1-0.3 s BLAS pools spin.
constexpr auto kIdleSpin = std::chrono::microseconds(50);
// How long a thread polls a phase barrier or the last helpers before it
// sleeps (freeing its core for a parked thread to finish on).
constexpr auto kWaitSpin = std::chrono::microseconds(20);
// A second thread is worth it from about this much single-thread work, and
// a sleeping helper is worth waking from about this much.
// (Waking a sleeping helper was measured at ~8 us of the caller's time and
// ~5 us until the helper runs, on the 2-core development VM.)
constexpr double kNsPerThread = 8000.0;
constexpr double kNsToWake = 60000.0;
// A job that starts this soon after the previous one ended is part of a
// loop of calls: it wakes the helpers even if short, so that they are
// polling for the calls that follow.
constexpr auto kBurstGap = std::chrono::microseconds(100);

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield" ::: "memory");
#endif
}

// Polls pred() for up to `limit`; true if it held.
template <class Pred>
bool spin_until(Pred pred, Clock::duration limit) {
    const auto t0 = Clock::now();
    for (unsigned i = 1;; ++i) {
        if (pred()) return true;
        if ((i & 63) == 0 && Clock::now() - t0 > limit) return pred();
        cpu_relax();
    }
}

struct Job {
    const TaskSet* set = nullptr;
    std::vector<index_t> ends;  // ends[p]: tasks of phases 0..p
    std::vector<index_t> after;  // after[p]: the last phase before p with tasks, or -1
    index_t total = 0;
    std::atomic<index_t> next{0};
    std::unique_ptr<std::atomic<index_t>[]> done;
    int max_workers = 1;
    int joined = 1;             // under the pool mutex; the caller is worker 0
    std::atomic<int> active{0};  // helpers inside the job (changed under the mutex)
    bool open = true;           // under the pool mutex: helpers may still join
    std::atomic<int> ran{0};

    index_t count(index_t p) const { return ends[p] - (p > 0 ? ends[p - 1] : 0); }
};

class Pool {
public:
    // Runs the job with up to n_threads workers; false if the team is busy
    // with another caller's job.
    bool run(Job& job, int n_threads);

private:
    void helper_main(std::uint64_t seen);
    void work(Job& job, int worker);
    void wait_phase(Job& job, index_t p);
    int ensure_helpers(int n);

    std::mutex m_;
    std::condition_variable cv_work_, cv_done_, cv_phase_;
    std::vector<std::thread> threads_;  // detached; never joined
    Job* job_ = nullptr;
    std::atomic<std::uint64_t> generation_{0};
    int sleepers_ = 0;
    std::atomic<int> phase_sleepers_{0};
    std::atomic<bool> busy_{false};
    std::atomic<Clock::rep> last_end_{0};  // when the last job ended
};

std::atomic<Pool*> g_pool{nullptr};

#if defined(__linux__)
// In a forked child the helper threads do not exist: start a new team (the
// old one is leaked, its mutex possibly held by a thread that is gone).
void forget_pool_in_child() { g_pool.store(nullptr); }
#endif

Pool& pool() {
    Pool* p = g_pool.load(std::memory_order_acquire);
    if (p != nullptr) return *p;
#if defined(__linux__)
    static std::once_flag registered;
    std::call_once(registered, [] { pthread_atfork(nullptr, nullptr, forget_pool_in_child); });
#endif
    Pool* fresh = new Pool();
    Pool* expected = nullptr;
    if (!g_pool.compare_exchange_strong(expected, fresh)) {
        delete fresh;
        return *expected;
    }
    return *fresh;
}

void Pool::work(Job& job, int worker) {
    bool ran = false;
    index_t phase = 0;
    for (;;) {
        const index_t t = job.next.fetch_add(1, std::memory_order_relaxed);
        if (t >= job.total) break;
        while (t >= job.ends[phase]) ++phase;
        if (job.after[std::size_t(phase)] >= 0) wait_phase(job, job.after[std::size_t(phase)]);
        const index_t local = t - (phase > 0 ? job.ends[phase - 1] : 0);
        job.set->run(job.set->context, phase, local, worker);
        ran = true;
        if (job.done[phase].fetch_add(1) + 1 == job.count(phase) &&
            phase_sleepers_.load() > 0) {
            std::lock_guard<std::mutex> lk(m_);
            cv_phase_.notify_all();
        }
    }
    if (ran) job.ran.fetch_add(1);
}

void Pool::wait_phase(Job& job, index_t p) {
    const index_t n = job.count(p);
    const auto complete = [&] { return job.done[p].load() >= n; };
    if (spin_until(complete, kWaitSpin)) return;
    std::unique_lock<std::mutex> lk(m_);
    phase_sleepers_.fetch_add(1);
    cv_phase_.wait(lk, complete);
    phase_sleepers_.fetch_sub(1);
}

// `seen`: the generation when the helper was created, so that the job
// published right after its creation is not missed.
void Pool::helper_main(std::uint64_t seen) {
    for (;;) {
        const bool news = spin_until([&] { return generation_.load() != seen; }, kIdleSpin);
        std::unique_lock<std::mutex> lk(m_);
        if (!news) {
            ++sleepers_;
            cv_work_.wait(lk, [&] { return generation_.load() != seen; });
            --sleepers_;
        }
        seen = generation_.load();
        Job* job = job_;
        if (job == nullptr || !job->open || job->joined >= job->max_workers) continue;
        const int worker = job->joined++;
        job->active.fetch_add(1);
        lk.unlock();
        work(*job, worker);
        // a helper's share of a big job may have grown its scratch, as the
        // caller's call does (which the entry points trim)
        trim_thread_scratch();
        lk.lock();
        if (job->active.fetch_sub(1) == 1) cv_done_.notify_all();
    }
}

int Pool::ensure_helpers(int n) {
    while (int(threads_.size()) < n) {
        try {
            const std::uint64_t seen = generation_.load();
            threads_.emplace_back([this, seen] { helper_main(seen); });
            threads_.back().detach();
        } catch (...) {  // no more threads: work with those there are
            break;
        }
    }
    return int(threads_.size());
}

bool Pool::run(Job& job, int n_threads) {
    if (busy_.exchange(true, std::memory_order_acquire)) return false;
    int helpers = 0;
    {
        std::lock_guard<std::mutex> lk(m_);
        helpers = ensure_helpers(n_threads - 1);
        job.max_workers = 1 + (helpers < n_threads - 1 ? helpers : n_threads - 1);
        job_ = &job;
        generation_.fetch_add(1);
        if (sleepers_ > 0) {
            const auto since = Clock::now().time_since_epoch().count() - last_end_.load();
            if (job.set->wake || Clock::duration(since) < kBurstGap) cv_work_.notify_all();
        }
    }
    work(job, 0);
    {
        std::unique_lock<std::mutex> lk(m_);
        job_ = nullptr;
        job.open = false;
        if (job.active.load() > 0) {
            lk.unlock();
            if (!spin_until([&] { return job.active.load() == 0; }, kWaitSpin)) {
                lk.lock();
                cv_done_.wait(lk, [&] { return job.active.load() == 0; });
            }
        }
    }
    last_end_.store(Clock::now().time_since_epoch().count());
    busy_.store(false, std::memory_order_release);
    return true;
}

}  // namespace

ThreadChoice threads_for_work(double ns, int n_threads) {
    ThreadChoice c;
    const double by_work = ns / kNsPerThread;
    c.n_threads = double(n_threads) > by_work ? int(by_work) : n_threads;
    if (c.n_threads < 1) c.n_threads = 1;
    c.wake = ns >= kNsToWake;
    return c;
}

int run_tasks(int n_threads, const TaskSet& tasks) {
    Job job;
    job.set = &tasks;
    job.ends.resize(std::size_t(tasks.n_phases));
    job.after.resize(std::size_t(tasks.n_phases));
    index_t total = 0, last = -1;
    for (index_t p = 0; p < tasks.n_phases; ++p) {
        job.after[std::size_t(p)] = last;  // empty phases are not waited for
        total += tasks.counts[p];
        job.ends[std::size_t(p)] = total;
        if (tasks.counts[p] > 0) last = p;
    }
    job.total = total;
    if (total == 0) return 0;
    if (n_threads > 1 && total > 1) {
        job.done.reset(new (std::nothrow) std::atomic<index_t>[std::size_t(tasks.n_phases)]);
        if (job.done) {
            for (index_t p = 0; p < tasks.n_phases; ++p) job.done[p].store(0);
            if (pool().run(job, n_threads)) return job.ran.load();
        }
    }
    // serially on this thread: phase order is task order
    index_t phase = 0;
    for (index_t t = 0; t < total; ++t) {
        while (t >= job.ends[std::size_t(phase)]) ++phase;
        tasks.run(tasks.context, phase, t - (phase > 0 ? job.ends[std::size_t(phase - 1)] : 0), 0);
    }
    return 1;
}

}  // namespace kmatrix
