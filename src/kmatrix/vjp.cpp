// The driver of kmatrix_vjp (see butterfly.hpp): pass-ordered twiddles,
// fixed slots of chunks for the twiddle-gradient sums, and the phases of
// each chunk on kmatrix's thread team.
#include <algorithm>
#include <atomic>
#include <cstring>
#include <type_traits>
#include <vector>

#include "butterfly.hpp"
#include "driver_common.hpp"
#include "driver_dispatch.hpp"
#include "driver_pass_order.hpp"
#include "driver_stages.hpp"

namespace kmatrix {
namespace {

constexpr double kRowStageNs = 8000.0;  // the row path's least work per stage for threads
constexpr double kSlotMemory = 512.0 * 1024 * 1024;

// The row path of the vjp (see isa_vjp_rows.hpp) for calls of fewer rows than
// a chunk has lanes: a chunk's other lanes would be computed for nothing,
// and the pass-ordered copy and the slot sums (three passes over all the
// parameters) would cost more than the rows (measured, float32 n = 16384,
// one row: 9.6 ms against 0.094 ms for its product). Every stage's input is
// kept: (stages + 1) buffers of the call's rows, no more than a chunk's
// saved tiles when n_rows * stages <= lanes * (groups + 1).
template <class T>
int vjp_rows(const VjpKernels<T>& K, const T* twiddles, const std::vector<StageRef<T>>& stages,
             int log_size, const Rows& x, const Rows& g, const OutRows& dx, index_t n_rows,
             T* dtwiddles, int n_threads, bool check_finite, bool real_io) {
    using R = typename real_of<T>::type;
    constexpr int P = is_complex_v<T> ? 2 : 1;
    const index_t N = index_t(1) << log_size;
    const index_t VL = K.lanes;
    const index_t n_stages = index_t(stages.size());
    std::vector<RowStage<T>> row_stages(stages.size());
    std::vector<T*> dtw(stages.size());
    for (std::size_t i = 0; i < stages.size(); ++i) {
        row_stages[i] = {stages[i].twiddles, stages[i].bit};
        dtw[i] = dtwiddles + (stages[i].twiddles - twiddles);
    }
    const std::size_t buffer = std::size_t(n_rows * P * N);
    R* scratch = static_cast<R*>(thread_scratch(1, (std::size_t(n_stages) + 1) * buffer * sizeof(R)));
    if (scratch == nullptr) return STATUS_NO_MEMORY;

    VjpRowJob<T> job;
    job.stages = row_stages.data();
    job.dtw = dtw.data();
    job.N = N;
    job.n_rows = n_rows;
    job.x = x;
    job.g = g;
    job.dx = dx;
    job.real_io = real_io;
    job.check_finite = check_finite;
    job.saved = scratch;
    job.grad = scratch + std::size_t(n_stages) * buffer;

    // forward, backward and the gradient sums: about three row products,
    // and each stage's blocks deinterleaved twice (~8 row updates)
    const double ns = double(3 * n_rows + 8) * double(N / 2) * double(n_stages) * P * P *
                      double(sizeof(R)) / 4.0 * 0.1;
    // every stage is two phases (barriers): threads pay only on long stages
    // (measured, one row: float32 n = 8192, ~4.5 us a stage, 0.117 ms on one
    // thread, 0.143 on two; n = 16384, 0.296 against 0.232; width 3000 at
    // n = 32 took 3x longer on two)
    const ThreadChoice threads = ns >= kRowStageNs * double(n_stages)
                                     ? threads_for_work(ns, resolve_threads(n_threads))
                                     : ThreadChoice{1, false};
    const int nt = threads.n_threads;
    const index_t n_vec = N / 2 / VL;
    const index_t units = nt == 1 ? 1 : std::min<index_t>(n_vec, 4 * nt);
    job.io_block = nt == 1 ? N : std::max<index_t>(VL, (N / (4 * nt) + VL - 1) / VL * VL);
    const index_t io_units = (N + job.io_block - 1) / job.io_block;
    std::vector<Phase> phases;
    phases.push_back({PHASE_LOAD, 0, 0, io_units});
    // the last stage's output is not needed
    for (index_t k = 0; k + 1 < n_stages; ++k) phases.push_back({PHASE_FORWARD, k, k + 1, units});
    phases.push_back({PHASE_LOAD_GRAD, 0, 0, io_units});
    for (index_t k = n_stages - 1; k >= 0; --k) phases.push_back({PHASE_BACKWARD, k, k + 1, units});
    if (dx.data != nullptr)
        phases.push_back({PHASE_STORE_DX, 0, 0, (dx.len + job.io_block - 1) / job.io_block});

    return run_phase_list(threads, phases, PATH_VJP_ROWS, [&](const Phase& ph, index_t unit) {
        return K.vjp_row_phase(job, ph, unit, unit + 1);
    });
}

// kmatrix_vjp without its exception guard; kmatrix_vjp trims the scratch
template <class T>
int vjp_impl(const T* twiddles, index_t width, int log_size, const void* x, index_t n_rows,
             index_t n_in, index_t x_row_stride, index_t x_col_stride, const void* g,
             index_t n_out, index_t g_row_stride, index_t g_col_stride, void* dx,
             index_t dx_row_stride, index_t dx_col_stride, T* dtwiddles, int n_threads,
             int check_finite, int real_io) {
    using R = typename real_of<T>::type;
    constexpr int P = is_complex_v<T> ? 2 : 1;
    if (log_size < 1 || log_size > 40 || width < 1 || n_rows < 0 || n_in < 1 || n_out < 1 ||
        (real_io && !is_complex_v<T>))
        return STATUS_BAD_ARGUMENT;
    const index_t N = index_t(1) << log_size;
    if (n_in > N || n_out > N) return STATUS_BAD_ARGUMENT;
    const index_t n_params = width * 2 * log_size * (N / 2) * 4;
    record_call(PATH_NONE, 0, 0);
    if (n_rows == 0) {
        std::memset(static_cast<void*>(dtwiddles), 0, sizeof(T) * std::size_t(n_params));
        return STATUS_OK;
    }
    const VjpKernels<T>& K = selected_vjp_kernels<T>();
    const index_t C = K.lanes;
    const index_t n_chunks = (n_rows + C - 1) / C;
    const bool long_rows = log_size >= kLongRowBits;
    // Twiddle gradients are summed per slot (slot s takes chunks s, s + S,
    // s + 2S, ... in order; the first one stores, the others add) and the
    // slots are then added in slot order. S depends on the batch, N and the
    // parameter count only, never on the thread count, so the result is
    // bit-identical for any number of threads. Long rows use one slot: all
    // threads work on each chunk together.
    const double slot_bytes = double(n_params) * sizeof(T);
    index_t n_slots = long_rows ? 1 : std::min<index_t>(n_chunks, 16);
    n_slots = std::min<index_t>(n_slots, index_t(kSlotMemory / slot_bytes));
    if (n_slots < 1) n_slots = 1;

    std::vector<StageGroup<T>> groups;
    std::vector<index_t> block_at, group_offset;  // pass-order block -> twiddle-layout index
    // n_params pass-ordered twiddles, then (64-byte aligned) n_slots slots
    T* packed = nullptr;
    const index_t slots_at = (n_params * index_t(sizeof(T)) + 63) / 64 * 64 / index_t(sizeof(T));
    try {
        const auto stages = stage_order(twiddles, width, log_size, TRANS_N);
        groups = group_stages(stages.data(), nullptr, index_t(stages.size()), K.max_group);
        if (n_rows < C && N >= 2 * C &&
            n_rows * index_t(stages.size()) <= C * (index_t(groups.size()) + 1))
            return vjp_rows(K, twiddles, stages, log_size, {x, n_in, x_row_stride, x_col_stride},
                            {g, n_out, g_row_stride, g_col_stride},
                            {dx, n_in, dx_row_stride, dx_col_stride}, n_rows, dtwiddles,
                            n_threads, check_finite != 0, real_io != 0);
        block_at.resize(std::size_t(n_params / 4));
        packed = static_cast<T*>(thread_scratch(
            2, (std::size_t(slots_at) + std::size_t(n_slots) * std::size_t(n_params)) * sizeof(T)));
    } catch (...) {
        return STATUS_NO_MEMORY;
    }
    if (packed == nullptr) return STATUS_NO_MEMORY;
    const index_t n_groups = index_t(groups.size());
    group_offset.resize(std::size_t(n_groups));
    {
        index_t offset = 0;
        for (index_t i = 0; i < n_groups; ++i) {
            group_offset[std::size_t(i)] = offset;
            visit_pass_order(groups[std::size_t(i)], N, offset, twiddles,
                             [&](index_t pk, index_t orig) { block_at[std::size_t(pk / 4)] = orig; });
            offset += groups[std::size_t(i)].size * (N / 2) * 4;
        }
    }
    // about three products (see driver_plan_apply.cpp for the per-update estimate)
    const double ns = double(n_chunks * C) * double(N / 2) * double(width * 2 * log_size) * P *
                      P * double(sizeof(R)) / 4.0 * 0.3;
    ThreadChoice threads = threads_for_work(ns, resolve_threads(n_threads));
    if (!long_rows && threads.n_threads > n_slots) threads.n_threads = int(n_slots);
    const int nt = threads.n_threads;
    const bool cooperative = long_rows && nt > 1;

    // copy the twiddles into pass order, and sum the slots back; both cut
    // into independent blocks of entries
    const index_t n_blocks = n_params / 4;
    const index_t copy_tasks = nt > 1 && n_params > 65536 ? 8 * nt : 1;
    T* const pk = packed;
    T* const sl = packed + slots_at;
    {
        std::vector<index_t> counts{copy_tasks};
        auto pack = [&](index_t, index_t t, int) {
            for (index_t b = t * n_blocks / copy_tasks; b < (t + 1) * n_blocks / copy_tasks; ++b)
                for (int e = 0; e < 4; ++e) pk[4 * b + e] = twiddles[block_at[std::size_t(b)] + e];
        };
        run_phases(threads, counts, pack);
    }

    VjpJob<T> job;
    job.groups = groups.data();
    job.n_groups = n_groups;
    job.group_offset = group_offset.data();
    job.packed = pk;
    job.N = N;
    job.n_rows = n_rows;
    job.x = {x, n_in, x_row_stride, x_col_stride};
    job.g = {g, n_out, g_row_stride, g_col_stride};
    job.dx = {dx, n_in, dx_row_stride, dx_col_stride};
    job.real_io = real_io != 0;
    job.check_finite = check_finite != 0;

    const std::size_t tile_reals = std::size_t(N * P * C);
    const std::size_t saved_bytes = std::size_t(n_groups + 1) * tile_reals * sizeof(R);
    const auto make_phases = [&](index_t units, index_t io_units) {
        std::vector<Phase> ph;
        ph.push_back({PHASE_LOAD, 0, 0, io_units});
        for (index_t i = 0; i + 1 < n_groups; ++i) ph.push_back({PHASE_FORWARD, i, i + 1, units});
        ph.push_back({PHASE_LOAD_GRAD, 0, 0, io_units});
        for (index_t i = n_groups - 1; i >= 0; --i) ph.push_back({PHASE_BACKWARD, i, i + 1, units});
        if (dx != nullptr)
            ph.push_back({PHASE_STORE_DX, 0, 0, (n_in + job.io_block - 1) / job.io_block});
        return ph;
    };
    Failure failure;
    int ran = 1;
    if (!cooperative) {
        job.io_block = N;
        const auto phases = make_phases(1, 1);
        std::vector<index_t> counts{n_slots};
        auto task = [&](index_t, index_t slot, int) {
            void* saved = thread_scratch(0, saved_bytes);
            if (saved == nullptr) {
                failure.set(STATUS_NO_MEMORY);
                return;
            }
            T* dtw = sl + slot * n_params;
            for (index_t c = slot; c < n_chunks; c += n_slots) {
                if (failure.failed()) return;
                for (const Phase& ph : phases) {
                    if (!K.vjp_phase(job, ph, c, saved, dtw, c == slot, 0, ph.n_units)) {
                        failure.set(STATUS_NON_FINITE);
                        return;
                    }
                }
            }
        };
        ran = run_phases(threads, counts, task);
    } else {
        void* saved = thread_scratch(1, saved_bytes);
        if (saved == nullptr) return STATUS_NO_MEMORY;
        job.io_block = std::max<index_t>(C, (N / (4 * nt) + C - 1) / C * C);
        const auto phases = make_phases(4 * nt, (N + job.io_block - 1) / job.io_block);
        const index_t per_chunk = index_t(phases.size());
        std::vector<index_t> counts;
        for (index_t c = 0; c < n_chunks; ++c)
            for (const Phase& ph : phases) counts.push_back(ph.n_units);
        auto task = [&](index_t phase, index_t unit, int) {
            if (failure.failed()) return;
            const index_t c = phase / per_chunk;
            if (!K.vjp_phase(job, phases[std::size_t(phase % per_chunk)], c, saved, sl, c == 0,
                             unit, unit + 1))
                failure.set(STATUS_NON_FINITE);
        };
        ran = run_phases(threads, counts, task);
    }
    record_call(cooperative ? PATH_VJP_SHARED : PATH_VJP, nt, ran);
    if (failure.failed()) return failure.status.load();
    // add the slots in order, back into the twiddle layout
    {
        std::vector<index_t> counts{copy_tasks};
        auto sum = [&](index_t, index_t t, int) {
            for (index_t b = t * n_blocks / copy_tasks; b < (t + 1) * n_blocks / copy_tasks; ++b) {
                for (int e = 0; e < 4; ++e) {
                    T total = sl[4 * b + e];
                    for (index_t slot = 1; slot < n_slots; ++slot)
                        total += sl[slot * n_params + 4 * b + e];
                    dtwiddles[block_at[std::size_t(b)] + e] = total;
                }
            }
        };
        run_phases(threads, counts, sum);
    }
    return STATUS_OK;
}

}  // namespace

template <class T>
int kmatrix_vjp(const T* twiddles, index_t width, int log_size, const void* x, index_t n_rows,
                index_t n_in, index_t x_row_stride, index_t x_col_stride, const void* g,
                index_t n_out, index_t g_row_stride, index_t g_col_stride, void* dx,
                index_t dx_row_stride, index_t dx_col_stride, T* dtwiddles, int n_threads,
                int check_finite, int real_io) {
    // the plans and the thread team allocate: out of memory is a status,
    // never an exception through the Cython layer (which cannot take one)
    int status;
    try {
        status = vjp_impl(twiddles, width, log_size, x, n_rows, n_in, x_row_stride,
                          x_col_stride, g, n_out, g_row_stride, g_col_stride, dx, dx_row_stride,
                          dx_col_stride, dtwiddles, n_threads, check_finite, real_io);
    } catch (...) {
        status = STATUS_NO_MEMORY;
    }
    trim_thread_scratch();
    return status;
}

#define KMATRIX_INSTANTIATE(T)                                                              \
    template int kmatrix_vjp<T>(const T*, index_t, int, const void*, index_t, index_t,      \
                                index_t, index_t, const void*, index_t, index_t, index_t,   \
                                void*, index_t, index_t, T*, int, int, int);
KMATRIX_INSTANTIATE(float)
KMATRIX_INSTANTIATE(double)
KMATRIX_INSTANTIATE(std::complex<float>)
KMATRIX_INSTANTIATE(std::complex<double>)
#undef KMATRIX_INSTANTIATE

}  // namespace kmatrix
