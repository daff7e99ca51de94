// Driver (baseline instruction set, part of kmatrix_core). May include:
// butterfly.hpp, driver_*.hpp, kernel_interface.hpp, the standard library.
//
// kmatrix_vjp: validates the call, has driver_plan_vjp.cpp plan it, and
// executes the plan: the pass-ordered twiddles, the phases, the runs of the
// kernels' phases on kmatrix's thread team, and the sums of the slots of
// twiddle gradients. See butterfly.hpp.
#include <complex>
#include <cstddef>
#include <cstring>
#include <vector>

#include "butterfly.hpp"
#include "driver_common.hpp"
#include "driver_dispatch.hpp"
#include "driver_pass_order.hpp"
#include "driver_plan_vjp.hpp"

namespace kmatrix {
namespace {

// The phases of one chunk (tiles: the passes are groups) or of the call's
// rows (row path: the passes are stages): load x, forward through every
// pass but the last (its output is not needed), load g, every pass
// backwards, store dx when wanted.
inline std::vector<Phase> vjp_phases(index_t n_passes, index_t N, index_t units,
                                     index_t io_block, const OutRows& dx) {
    const index_t io_units = (N + io_block - 1) / io_block;
    std::vector<Phase> ph;
    ph.push_back({PHASE_LOAD, 0, 0, io_units});
    for (index_t i = 0; i + 1 < n_passes; ++i) ph.push_back({PHASE_FORWARD, i, i + 1, units});
    ph.push_back({PHASE_LOAD_GRAD, 0, 0, io_units});
    for (index_t i = n_passes - 1; i >= 0; --i) ph.push_back({PHASE_BACKWARD, i, i + 1, units});
    if (dx.data != nullptr)
        ph.push_back({PHASE_STORE_DX, 0, 0, (dx.len + io_block - 1) / io_block});
    return ph;
}

// ----------------------------------------------------------------- rows --
template <class T>
int execute_rows(const VjpKernels<T>& K, const VjpCall<T>& c, const VjpPlan<T>& plan) {
    using R = typename real_of<T>::type;
    constexpr int P = is_complex_v<T> ? 2 : 1;
    const std::size_t n_stages = plan.stages.size();
    std::vector<RowStage<T>> row_stages(n_stages);
    std::vector<T*> dtw(n_stages);
    for (std::size_t i = 0; i < n_stages; ++i) {
        row_stages[i] = {plan.stages[i].twiddles, plan.stages[i].bit};
        dtw[i] = c.dtwiddles + (plan.stages[i].twiddles - c.twiddles);
    }
    const std::size_t buffer = std::size_t(c.n_rows * P * c.N);
    R* scratch = static_cast<R*>(thread_scratch(1, (n_stages + 1) * buffer * sizeof(R)));
    if (scratch == nullptr) return STATUS_NO_MEMORY;

    VjpRowJob<T> job;
    job.stages = row_stages.data();
    job.dtw = dtw.data();
    job.N = c.N;
    job.n_rows = c.n_rows;
    job.x = c.x;
    job.g = c.g;
    job.dx = c.dx;
    job.real_io = c.real_io;
    job.check_finite = c.check_finite;
    job.saved = scratch;
    job.grad = scratch + n_stages * buffer;
    job.io_block = plan.io_block;
    job.gate = c.gate;
    const auto phases = vjp_phases(index_t(n_stages), c.N, plan.units, plan.io_block, c.dx);
    return run_phase_list(plan.threads, phases, PATH_VJP_ROWS, [&](const Phase& ph, index_t unit) {
        return K.vjp_row_phase(job, ph, unit, unit + 1);
    });
}

// ---------------------------------------------------------------- tiles --
// Where the twiddles go in pass order: block_at[b] is the twiddle-layout
// index of pass-order block b, group_offset[i] the first pass-order entry
// of group i.
template <class T>
void pass_order_index(const VjpCall<T>& c, const VjpPlan<T>& plan,
                      std::vector<index_t>& block_at, std::vector<index_t>& group_offset) {
    block_at.resize(std::size_t(c.n_params / 4));
    group_offset.resize(plan.groups.size());
    index_t offset = 0;
    for (std::size_t i = 0; i < plan.groups.size(); ++i) {
        group_offset[i] = offset;
        visit_pass_order(plan.groups[i], c.N, offset, c.twiddles,
                         [&](index_t pk, index_t orig) { block_at[std::size_t(pk / 4)] = orig; });
        offset += plan.groups[i].size * (c.N / 2) * 4;
    }
}

// Block b of task t of the copy into pass order and of the slot sums: the
// tasks cut the blocks into independent ranges.
template <class F>
void for_blocks(index_t n_blocks, index_t n_tasks, index_t t, F&& f) {
    for (index_t b = t * n_blocks / n_tasks; b < (t + 1) * n_blocks / n_tasks; ++b) f(b);
}

template <class T>
void copy_to_pass_order(const VjpCall<T>& c, const VjpPlan<T>& plan,
                        const std::vector<index_t>& block_at, T* pk) {
    std::vector<index_t> counts{plan.copy_tasks};
    auto pack = [&](index_t, index_t t, int) {
        for_blocks(c.n_params / 4, plan.copy_tasks, t, [&](index_t b) {
            for (int e = 0; e < 4; ++e) pk[4 * b + e] = c.twiddles[block_at[std::size_t(b)] + e];
        });
    };
    run_phases(plan.threads, counts, pack);
}

// Adds the slots in slot order into the first one (contiguous runs, which
// vectorize; the strided sums per entry took a seventh of a float32
// gradient of 200 rows at n = 1024), then moves the sums back into the
// twiddle layout.
template <class T>
void sum_slots(const VjpCall<T>& c, const VjpPlan<T>& plan, const std::vector<index_t>& block_at,
               T* sl) {
    std::vector<index_t> counts{plan.copy_tasks};
    auto sum = [&](index_t, index_t t, int) {
        const index_t n_blocks = c.n_params / 4;
        const index_t e0 = 4 * (t * n_blocks / plan.copy_tasks);
        const index_t e1 = 4 * ((t + 1) * n_blocks / plan.copy_tasks);
        for (index_t slot = 1; slot < plan.n_slots; ++slot) {
            const T* add = sl + slot * c.n_params;
            for (index_t e = e0; e < e1; ++e) sl[e] += add[e];
        }
        for_blocks(n_blocks, plan.copy_tasks, t, [&](index_t b) {
            for (int e = 0; e < 4; ++e) c.dtwiddles[block_at[std::size_t(b)] + e] = sl[4 * b + e];
        });
    };
    run_phases(plan.threads, counts, sum);
}

// PATH_VJP: each task is a slot, its chunks in order on its thread's own
// saved tiles; the slot's first chunk stores its gradients, the others add.
template <class T>
int run_vjp_alone(const VjpKernels<T>& K, const VjpJob<T>& job, const VjpPlan<T>& plan,
                  const std::vector<Phase>& phases, T* sl, index_t n_params,
                  std::size_t saved_bytes, Failure& failure) {
    std::vector<index_t> counts{plan.n_slots};
    auto task = [&](index_t, index_t slot, int) {
        void* saved = thread_scratch(0, saved_bytes);
        if (saved == nullptr) {
            failure.set(STATUS_NO_MEMORY);
            return;
        }
        T* dtw = sl + slot * n_params;
        for (index_t c = slot; c < plan.n_chunks; c += plan.n_slots) {
            if (failure.failed()) return;
            for (const Phase& ph : phases) {
                if (!K.vjp_phase(job, ph, c, saved, dtw, c == slot, 0, ph.n_units)) {
                    failure.set(STATUS_NON_FINITE);
                    return;
                }
            }
        }
    };
    return run_phases(plan.threads, counts, task);
}

// PATH_VJP_SHARED: the chunks one after the other on shared saved tiles
// and one slot, every phase of each cut into units for all threads.
template <class T>
int run_vjp_shared(const VjpKernels<T>& K, const VjpJob<T>& job, const VjpPlan<T>& plan,
                   const std::vector<Phase>& phases, T* sl, void* saved, Failure& failure) {
    const index_t per_chunk = index_t(phases.size());
    std::vector<index_t> counts;
    for (index_t c = 0; c < plan.n_chunks; ++c)
        for (const Phase& ph : phases) counts.push_back(ph.n_units);
    auto task = [&](index_t phase, index_t unit, int) {
        if (failure.failed()) return;
        const index_t c = phase / per_chunk;
        if (!K.vjp_phase(job, phases[std::size_t(phase % per_chunk)], c, saved, sl, c == 0, unit,
                         unit + 1))
            failure.set(STATUS_NON_FINITE);
    };
    return run_phases(plan.threads, counts, task);
}

template <class T>
VjpJob<T> vjp_job(const VjpCall<T>& c, const VjpPlan<T>& plan,
                  const std::vector<index_t>& group_offset, const T* packed) {
    VjpJob<T> job;
    job.groups = plan.groups.data();
    job.n_groups = index_t(plan.groups.size());
    job.group_offset = group_offset.data();
    job.packed = packed;
    job.N = c.N;
    job.n_rows = c.n_rows;
    job.x = c.x;
    job.g = c.g;
    job.dx = c.dx;
    job.real_io = c.real_io;
    job.check_finite = c.check_finite;
    job.io_block = plan.io_block;
    job.gate = c.gate;
    return job;
}

template <class T>
int execute_tiles(const VjpKernels<T>& K, const VjpCall<T>& c, const VjpPlan<T>& plan) {
    using R = typename real_of<T>::type;
    constexpr int P = is_complex_v<T> ? 2 : 1;
    std::vector<index_t> block_at, group_offset;
    pass_order_index(c, plan, block_at, group_offset);
    // n_params pass-ordered twiddles, then (64-byte aligned) n_slots slots
    const index_t slots_at =
        (c.n_params * index_t(sizeof(T)) + 63) / 64 * 64 / index_t(sizeof(T));
    T* packed = static_cast<T*>(thread_scratch(
        2, (std::size_t(slots_at) + std::size_t(plan.n_slots) * std::size_t(c.n_params)) *
               sizeof(T)));
    if (packed == nullptr) return STATUS_NO_MEMORY;
    T* const sl = packed + slots_at;
    copy_to_pass_order(c, plan, block_at, packed);

    const VjpJob<T> job = vjp_job(c, plan, group_offset, packed);
    const index_t n_groups = job.n_groups;
    const auto phases = vjp_phases(n_groups, c.N, plan.units, plan.io_block, c.dx);
    const std::size_t saved_bytes =
        std::size_t(n_groups + 1) * std::size_t(c.N * P * K.lanes) * sizeof(R);
    Failure failure;
    int ran;
    if (plan.path == PATH_VJP_SHARED) {
        void* saved = thread_scratch(1, saved_bytes);
        if (saved == nullptr) return STATUS_NO_MEMORY;
        ran = run_vjp_shared(K, job, plan, phases, sl, saved, failure);
    } else {
        ran = run_vjp_alone(K, job, plan, phases, sl, c.n_params, saved_bytes, failure);
    }
    record_call(plan.path, plan.threads.n_threads, ran);
    if (failure.failed()) return failure.status.load();
    sum_slots(c, plan, block_at, sl);
    return STATUS_OK;
}

// kmatrix_vjp without its exception guard; kmatrix_vjp trims the scratch
template <class T>
int vjp_impl(const VjpCall<T>& call, int n_threads) {
    const VjpKernels<T>& K = selected_vjp_kernels<T>();
    const VjpPlan<T> plan = plan_vjp(K, call, resolve_threads(n_threads));
    return plan.path == PATH_VJP_ROWS ? execute_rows(K, call, plan)
                                      : execute_tiles(K, call, plan);
}

}  // namespace

template <class T>
int kmatrix_vjp(const T* twiddles, index_t width, int log_size, const void* x, index_t n_rows,
                index_t n_in, index_t x_row_stride, index_t x_col_stride, const void* g,
                index_t n_out, index_t g_row_stride, index_t g_col_stride, void* dx,
                index_t dx_row_stride, index_t dx_col_stride, T* dtwiddles, int n_threads,
                int check_finite, int real_io, int gate_kind, const void* gate_ref,
                index_t gate_row_stride) {
    if (log_size < 1 || log_size > 40 || width < 1 || n_rows < 0 || n_in < 1 || n_out < 1 ||
        (real_io && !is_complex_v<T>))
        return STATUS_BAD_ARGUMENT;
    if (gate_kind != GATE_NONE &&
        (is_complex_v<T> || gate_kind < GATE_RELU || gate_kind > GATE_LOGISTIC ||
         dx == nullptr || gate_ref == nullptr || (n_in > 1 && dx_col_stride != 1)))
        return STATUS_BAD_ARGUMENT;
    const index_t N = index_t(1) << log_size;
    if (n_in > N || n_out > N) return STATUS_BAD_ARGUMENT;
    const index_t n_params = width * 2 * log_size * (N / 2) * 4;
    record_call(PATH_NONE, 0, 0);
    if (n_rows == 0) {
        std::memset(static_cast<void*>(dtwiddles), 0, sizeof(T) * std::size_t(n_params));
        return STATUS_OK;
    }
    const VjpCall<T> call{twiddles,
                          width,
                          N,
                          log_size,
                          n_params,
                          n_rows,
                          {x, n_in, x_row_stride, x_col_stride},
                          {g, n_out, g_row_stride, g_col_stride},
                          {dx, n_in, dx_row_stride, dx_col_stride},
                          dtwiddles,
                          real_io != 0,
                          check_finite != 0,
                          {gate_kind, static_cast<const typename real_of<T>::type*>(gate_ref),
                           gate_row_stride}};
    // the plans and the thread team allocate: out of memory is a status,
    // never an exception through the Cython layer (which cannot take one)
    int status;
    try {
        status = vjp_impl(call, n_threads);
    } catch (...) {
        status = STATUS_NO_MEMORY;
    }
    trim_thread_scratch();
    return status;
}

#define KMATRIX_INSTANTIATE(T)                                                              \
    template int kmatrix_vjp<T>(const T*, index_t, int, const void*, index_t, index_t,      \
                                index_t, index_t, const void*, index_t, index_t, index_t,   \
                                void*, index_t, index_t, T*, int, int, int, int,        \
                                const void*, index_t);
KMATRIX_INSTANTIATE(float)
KMATRIX_INSTANTIATE(double)
KMATRIX_INSTANTIATE(std::complex<float>)
KMATRIX_INSTANTIATE(std::complex<double>)
#undef KMATRIX_INSTANTIATE

}  // namespace kmatrix
