// Driver (baseline instruction set, part of kmatrix_core). May include:
// butterfly.hpp, driver_*.hpp, kernel_interface.hpp, the standard library.
//
// kmatrix_apply: validates the call, has driver_plan_apply.cpp plan it,
// and executes the plan: the per-call data the kernels read (coefficients,
// pass-ordered twiddles), the phases, and the runs of the kernels' phases
// on kmatrix's thread team. See butterfly.hpp.
#include <algorithm>
#include <complex>
#include <cstddef>
#include <vector>

#include "butterfly.hpp"
#include "driver_common.hpp"
#include "driver_dispatch.hpp"
#include "driver_pass_order.hpp"
#include "driver_plan_apply.hpp"

namespace kmatrix {
namespace {

// The effective entries of block p of a stage applied with `trans` (and
// inverted for a solve).
template <class T>
void effective_block(const T* blk, int trans, bool inverse, T (&e)[4]) {
    e[0] = blk[0];
    e[1] = blk[trans == TRANS_N ? 1 : 2];
    e[2] = blk[trans == TRANS_N ? 2 : 1];
    e[3] = blk[3];
    if constexpr (is_complex_v<T>) {
        if (trans == TRANS_H)
            for (auto& v : e) v = std::conj(v);
    }
    if (inverse) invert_block(&e[0]);
}

// ------------------------------------------------------------- small N --
// One stage's coefficient vectors (see SmallJob): y[i] = A[i] x[i] +
// B[i] x[i ^ 2^bit], stored as A then B, each as real (and imaginary) planes.
template <class T>
void small_coefficients(const StageRef<T>& st, index_t N, int trans, bool inverse,
                        typename real_of<T>::type* c) {
    const index_t s = index_t(1) << st.bit;
    for (index_t i = 0; i < N; ++i) {
        const index_t p = ((i >> (st.bit + 1)) << st.bit) | (i & (s - 1));
        T e[4];
        effective_block(st.twiddles + 4 * p, trans, inverse, e);
        const bool upper = (i & s) != 0;
        const T a = upper ? e[3] : e[0];
        const T b = upper ? e[2] : e[1];
        if constexpr (is_complex_v<T>) {
            c[i] = a.real();
            c[N + i] = a.imag();
            c[2 * N + i] = b.real();
            c[3 * N + i] = b.imag();
        } else {
            c[i] = a;
            c[N + i] = b;
        }
    }
}

template <class T>
int execute_small(const ApplyKernels<T>& K, const ApplyCall<T>& c, const ApplyPlan<T>& plan) {
    using R = typename real_of<T>::type;
    constexpr int P = is_complex_v<T> ? 2 : 1;
    const std::size_t stage_reals = std::size_t(2 * P * c.N);
    R* coef = static_cast<R*>(thread_scratch(1, plan.stages.size() * stage_reals * sizeof(R)));
    if (coef == nullptr) return STATUS_NO_MEMORY;
    std::vector<int> bits(plan.stages.size());
    for (std::size_t k = 0; k < plan.stages.size(); ++k) {
        small_coefficients(plan.stages[k], c.N, c.trans, c.inverse, coef + k * stage_reals);
        bits[k] = plan.stages[k].bit;
    }
    SmallJob<T> job;
    job.coefficients = coef;
    job.bits = bits.data();
    job.n_stages = index_t(bits.size());
    job.N = c.N;
    job.n_rows = c.n_rows;
    job.x = c.x;
    job.y = c.y;
    job.real_io = c.real_io;
    job.check_finite = c.check_finite;
    job.epilogue = c.epilogue;
    const index_t per_task = plan.rows_per_task;
    std::vector<index_t> counts{(c.n_rows + per_task - 1) / per_task};
    Failure failure;
    auto task = [&](index_t, index_t t, int) {
        if (failure.failed()) return;
        const index_t r0 = t * per_task;
        const index_t r1 = std::min(c.n_rows, r0 + per_task);
        if (!K.small_rows(job, r0, r1)) failure.set(STATUS_NON_FINITE);
    };
    record_call(PATH_SMALL, plan.threads.n_threads, run_phases(plan.threads, counts, task));
    return failure.status.load();
}

// ----------------------------------------------------------------- rows --
// Load, then each stage on bits at or above cache_bits as a phase of its
// own, each run of stages below it as one phase (block by block), then store.
template <class T>
std::vector<Phase> row_phases(const ApplyPlan<T>& plan, index_t N, index_t y_len) {
    std::vector<Phase> phases;
    phases.push_back({PHASE_LOAD, 0, 0, (N + plan.io_block - 1) / plan.io_block});
    const index_t n_stages = index_t(plan.stages.size());
    const auto low = [&](index_t k) { return plan.stages[std::size_t(k)].bit < plan.cache_bits; };
    for (index_t k = 0; k < n_stages;) {
        if (!low(k)) {
            phases.push_back({PHASE_GROUP, k, k + 1, plan.group_units});
            ++k;
            continue;
        }
        index_t end = k;
        while (end < n_stages && low(end)) ++end;
        phases.push_back({PHASE_RUN, k, end, N >> plan.cache_bits});
        k = end;
    }
    phases.push_back({PHASE_STORE, 0, 0, (y_len + plan.io_block - 1) / plan.io_block});
    return phases;
}

template <class T>
int execute_rows(const ApplyKernels<T>& K, const ApplyCall<T>& c, const ApplyPlan<T>& plan) {
    using R = typename real_of<T>::type;
    constexpr int P = is_complex_v<T> ? 2 : 1;
    std::vector<RowStage<T>> row_stages(plan.stages.size());
    for (std::size_t i = 0; i < plan.stages.size(); ++i)
        row_stages[i] = {plan.stages[i].twiddles, plan.stages[i].bit};
    R* work = static_cast<R*>(thread_scratch(1, std::size_t(c.n_rows * P * c.N) * sizeof(R)));
    if (work == nullptr) return STATUS_NO_MEMORY;

    RowJob<T> job;
    job.stages = row_stages.data();
    job.N = c.N;
    job.trans = c.trans + (c.inverse ? TRANS_INVERSE : 0);  // the kernels invert the blocks
    job.cache_bits = plan.cache_bits;
    job.n_rows = c.n_rows;
    job.x = c.x;
    job.y = c.y;
    job.real_io = c.real_io;
    job.check_finite = c.check_finite;
    job.work = work;
    job.io_block = plan.io_block;
    job.epilogue = c.epilogue;
    return run_phase_list(plan.threads, row_phases(plan, c.N, c.y.len), PATH_ROWS,
                          [&](const Phase& ph, index_t unit) {
                              return K.row_phase(job, ph, unit, unit + 1);
                          });
}

// ---------------------------------------------------------------- tiles --
// Where each group's twiddles start in pass order; the last entry is the
// total.
template <class T>
std::vector<index_t> pass_order_offsets(const std::vector<StageGroup<T>>& groups, index_t N) {
    std::vector<index_t> offset(groups.size() + 1);
    index_t total = 0;
    for (std::size_t i = 0; i < groups.size(); ++i) {
        offset[i] = total;
        total += groups[i].size * (N / 2) * 4;
    }
    offset.back() = total;
    return offset;
}

// The phases of one chunk: load, each run of two or more groups below
// cache_bits as one phase (block by block), every other group as a phase
// of its own, store.
template <class T>
std::vector<Phase> tile_phases(const ApplyPlan<T>& plan, const ApplyCall<T>& c) {
    const int cache_bits = plan.cache_bits;
    const index_t run_units = cache_bits < c.L ? c.N >> cache_bits : 1;
    const auto& groups = plan.groups;
    const auto low = [&](index_t i) {
        const auto& gr = groups[std::size_t(i)];
        return cache_bits < c.L && gr.low_bit + gr.size <= cache_bits;
    };
    std::vector<Phase> ph;
    ph.push_back({PHASE_LOAD, 0, 0, (c.N + plan.io_block - 1) / plan.io_block});
    const index_t n_groups = index_t(groups.size());
    for (index_t i = 0; i < n_groups;) {
        index_t end = i;
        while (end < n_groups && low(end)) ++end;
        if (end - i >= 2) {
            ph.push_back({PHASE_RUN, i, end, run_units});
            i = end;
        } else {
            ph.push_back({PHASE_GROUP, i, i + 1, plan.group_units});
            ++i;
        }
    }
    ph.push_back({PHASE_STORE, 0, 0, (c.y.len + plan.io_block - 1) / plan.io_block});
    return ph;
}

// PATH_TILES: each task is a whole chunk, on its thread's own tile.
template <class T>
int run_tiles_alone(const ApplyKernels<T>& K, const TileJob<T>& job, const ApplyPlan<T>& plan,
                    const std::vector<Phase>& phases, std::size_t tile_bytes,
                    Failure& failure) {
    std::vector<index_t> counts{plan.n_chunks};
    auto task = [&](index_t, index_t chunk, int) {
        if (failure.failed()) return;
        void* tile = thread_scratch(0, tile_bytes);
        if (tile == nullptr) {
            failure.set(STATUS_NO_MEMORY);
            return;
        }
        for (const Phase& ph : phases) {
            if (!K.tile_phase(job, ph, chunk, tile, 0, ph.n_units)) {
                failure.set(STATUS_NON_FINITE);
                return;
            }
        }
    };
    return run_phases(plan.threads, counts, task);
}

// PATH_TILES_SHARED: the chunks one after the other on one shared tile,
// every phase of each cut into units for all threads.
template <class T>
int run_tiles_shared(const ApplyKernels<T>& K, const TileJob<T>& job, const ApplyPlan<T>& plan,
                     const std::vector<Phase>& phases, void* tile, Failure& failure) {
    const index_t per_chunk = index_t(phases.size());
    std::vector<index_t> counts;
    for (index_t c = 0; c < plan.n_chunks; ++c)
        for (const Phase& ph : phases) counts.push_back(ph.n_units);
    auto task = [&](index_t phase, index_t unit, int) {
        if (failure.failed()) return;
        const Phase& ph = phases[std::size_t(phase % per_chunk)];
        if (!K.tile_phase(job, ph, phase / per_chunk, tile, unit, unit + 1))
            failure.set(STATUS_NON_FINITE);
    };
    return run_phases(plan.threads, counts, task);
}

template <class T>
TileJob<T> tile_job(const ApplyCall<T>& c, const ApplyPlan<T>& plan) {
    TileJob<T> job;
    job.groups = plan.groups.data();
    job.N = c.N;
    job.trans = c.trans;
    job.cache_bits = plan.cache_bits;
    job.n_rows = c.n_rows;
    job.x = c.x;
    job.y = c.y;
    job.real_io = c.real_io;
    job.check_finite = c.check_finite;
    job.load_to = plan.load_to.empty() ? nullptr : plan.load_to.data();
    job.store_from = plan.store_from.empty() ? nullptr : plan.store_from.data();
    job.io_block = plan.io_block;
    job.packed = nullptr;
    job.group_offset = nullptr;
    job.epilogue = c.epilogue;
    return job;
}

template <class T>
int execute_tiles(const ApplyKernels<T>& K, const ApplyCall<T>& c, const ApplyPlan<T>& plan) {
    using R = typename real_of<T>::type;
    constexpr int P = is_complex_v<T> ? 2 : 1;
    const int nt = plan.threads.n_threads;
    const bool shared = plan.path == PATH_TILES_SHARED;
    const std::size_t tile_bytes = std::size_t(c.N * P * K.lanes) * sizeof(R);
    // The passes read the twiddles in pass order, copied once per call
    // (measured: at most ~a chunk's work; a pass then addresses its blocks at
    // constant offsets from one pointer instead of strided ones, which
    // spilled registers: float32 n = 4096, 1024 rows 8.0 ms against 13.6 ms
    // on one thread). The shared tile follows in the scratch, at the next
    // 64-byte boundary (the passes use aligned vector moves).
    const std::vector<index_t> group_offset = pass_order_offsets(plan.groups, c.N);
    const std::size_t tile_offset = (std::size_t(group_offset.back()) * sizeof(T) + 63) / 64 * 64;
    T* packed = static_cast<T*>(thread_scratch(1, tile_offset + (shared ? tile_bytes : 0)));
    if (packed == nullptr) return STATUS_NO_MEMORY;
    {
        const index_t parts = nt > 1 ? 4 * nt : 1;
        std::vector<index_t> counts{parts};
        auto pack = [&](index_t, index_t part, int) {
            pack_pass_order(plan.groups, c.N, group_offset, packed, part, parts, c.inverse);
        };
        run_phases(plan.threads, counts, pack);
    }
    TileJob<T> job = tile_job(c, plan);
    job.packed = packed;
    job.group_offset = group_offset.data();
    const auto phases = tile_phases(plan, c);
    Failure failure;
    const int ran = shared ? run_tiles_shared(K, job, plan, phases,
                                              reinterpret_cast<char*>(packed) + tile_offset,
                                              failure)
                           : run_tiles_alone(K, job, plan, phases, tile_bytes, failure);
    record_call(plan.path, nt, ran);
    return failure.status.load();
}

template <class T>
int execute_apply(const ApplyKernels<T>& K, const ApplyCall<T>& call, const ApplyPlan<T>& plan) {
    switch (plan.path) {
        case PATH_SMALL: return execute_small(K, call, plan);
        case PATH_ROWS: return execute_rows(K, call, plan);
        default: return execute_tiles(K, call, plan);
    }
}

template <class T>
int apply_with(const T* twiddles, index_t width, int log_size, const void* x, index_t n_rows,
               index_t x_len, index_t x_row_stride, index_t x_col_stride, void* y,
               index_t y_len, index_t y_row_stride, index_t y_col_stride, int trans,
               int n_threads, int check_finite, int real_io,
               const Epilogue<T>& epilogue) {
    const bool inverse = trans >= TRANS_INVERSE;
    if (inverse) trans -= TRANS_INVERSE;
    if (log_size < 1 || log_size > 40 || width < 1 || n_rows < 0 || x_len < 0 || y_len < 0 ||
        (trans != TRANS_N && trans != TRANS_T && trans != TRANS_H) ||
        (real_io && !is_complex_v<T>) ||
        (inverse && (x_len != index_t(1) << log_size || y_len != x_len)))
        return STATUS_BAD_ARGUMENT;
    const index_t N = index_t(1) << log_size;
    if (x_len > N || y_len > N) return STATUS_BAD_ARGUMENT;
    record_call(PATH_NONE, 0, 0);
    if (n_rows == 0 || y_len == 0) return STATUS_OK;
    if (!is_complex_v<T> && trans == TRANS_H) trans = TRANS_T;  // real: K^H = K^T

    const ApplyCall<T> call{twiddles,
                            width,
                            N,
                            log_size,
                            n_rows,
                            {x, x_len, x_row_stride, x_col_stride},
                            {y, y_len, y_row_stride, y_col_stride},
                            trans,
                            real_io != 0,
                            check_finite != 0,
                            inverse,
                            epilogue};
    const int nt = resolve_threads(n_threads);
    const ApplyKernels<T>& K = selected_apply_kernels<T>();
    int status;
    try {
        status = execute_apply(K, call, plan_apply(K, call, nt));
    } catch (...) {  // std::bad_alloc from the plans
        status = STATUS_NO_MEMORY;
    }
    trim_thread_scratch();
    return status;
}

}  // namespace

template <class T>
int kmatrix_apply(const T* twiddles, index_t width, int log_size, const void* x, index_t n_rows,
                  index_t x_len, index_t x_row_stride, index_t x_col_stride, void* y,
                  index_t y_len, index_t y_row_stride, index_t y_col_stride, int trans,
                  int n_threads, int check_finite, int real_io) {
    return apply_with(twiddles, width, log_size, x, n_rows, x_len, x_row_stride, x_col_stride,
                      y, y_len, y_row_stride, y_col_stride, trans, n_threads, check_finite,
                      real_io, Epilogue<T>());
}

template <class T>
int kmatrix_apply_epilogue(const T* twiddles, index_t width, int log_size, const T* x,
                           index_t n_rows, index_t x_len, index_t x_row_stride, T* y,
                           index_t y_len, index_t y_row_stride, int kind, const T* offset,
                           T scale, int n_threads, int check_finite) {
    if (offset == nullptr || kind < EPILOGUE_COSINE || kind > EPILOGUE_BIAS_LOGISTIC)
        return STATUS_BAD_ARGUMENT;
    Epilogue<T> epilogue;
    epilogue.kind = kind;
    epilogue.offset = offset;
    epilogue.scale = scale;
    return apply_with(twiddles, width, log_size, x, n_rows, x_len, x_row_stride, index_t(1), y,
                      y_len, y_row_stride, index_t(1), int(TRANS_N), n_threads, check_finite, 0,
                      epilogue);
}

template int kmatrix_apply_epilogue<float>(const float*, index_t, int, const float*, index_t,
                                           index_t, index_t, float*, index_t, index_t, int,
                                           const float*, float, int, int);
template int kmatrix_apply_epilogue<double>(const double*, index_t, int, const double*,
                                            index_t, index_t, index_t, double*, index_t,
                                            index_t, int, const double*, double, int, int);

template <class T>
int kmatrix_cosine_rows(T* y, index_t n_rows, index_t n_cols, index_t row_stride,
                        const T* offset, T scale, int n_threads) {
    if (n_rows < 0 || n_cols < 0 || (n_rows > 1 && row_stride < n_cols)) return STATUS_BAD_ARGUMENT;
    record_call(PATH_NONE, 0, 0);
    if (n_rows == 0 || n_cols == 0) return STATUS_OK;
    const ApplyKernels<T>& K = selected_apply_kernels<T>();
    // blocks of about 2^16 entries (fixed by the row length alone); ~1 ns an entry
    const index_t per_task = std::max<index_t>(1, (index_t(1) << 16) / n_cols);
    const std::vector<index_t> counts{(n_rows + per_task - 1) / per_task};
    const ThreadChoice threads =
        threads_for_work(double(n_rows) * double(n_cols), resolve_threads(n_threads));
    auto task = [&](index_t, index_t t, int) {
        const index_t r0 = t * per_task;
        K.cosine_rows(y, row_stride, n_cols, offset, scale, r0, std::min(n_rows, r0 + per_task));
    };
    record_call(PATH_COSINE, threads.n_threads, run_phases(threads, counts, task));
    return STATUS_OK;
}

template int kmatrix_cosine_rows<float>(float*, index_t, index_t, index_t, const float*, float,
                                        int);
template int kmatrix_cosine_rows<double>(double*, index_t, index_t, index_t, const double*,
                                         double, int);

#define KMATRIX_INSTANTIATE(T)                                                             \
    template int kmatrix_apply<T>(const T*, index_t, int, const void*, index_t, index_t, \
                                  index_t, index_t, void*, index_t, index_t, index_t, int, \
                                  int, int, int);
KMATRIX_INSTANTIATE(float)
KMATRIX_INSTANTIATE(double)
KMATRIX_INSTANTIATE(std::complex<float>)
KMATRIX_INSTANTIATE(std::complex<double>)
#undef KMATRIX_INSTANTIATE

}  // namespace kmatrix
