// The driver of kmatrix_apply: validates, picks a path (small N, rows,
// tiles), plans it, sizes the thread count by the work, and runs the
// kernels' phases on kmatrix's thread team. See butterfly.hpp.
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


// Single-thread cost of one 2x2 block applied to one row, in ns, for
// float32 (measured with AVX-512 on the development machine, ~0.09 ns on
// the small path, ~0.1 ns on tiles); complex blocks cost ~4x, double ~2x.
// Only the thread count depends on these estimates, never the results.
template <class T>
constexpr double ns_per_update() {
    using R = typename real_of<T>::type;
    constexpr double planes = is_complex_v<T> ? 2.0 : 1.0;
    return 0.1 * planes * planes * double(sizeof(R)) / 4.0;
}
// Rows at or beyond this size are shared by all threads phase by phase.
constexpr int kLongRowBits = 15;
// The row path serves calls of up to max(4, lanes / 2) rows: it reads the
// twiddles once per call, while a tile of a few rows wastes its other lanes
// and copies every twiddle into pass order. Measured on AVX-512 (16 float
// lanes), one thread, n = 512..32768, rows at lanes / 2 (8 float32 or
// complex64, 4 float64 or complex128): the row path took a fraction of the
// tile path's time for float32 (0.39-0.72x), float64 (0.42-0.71x),
// complex64 (0.48-1.06x) and complex128 (0.48-0.70x); with 12 float32 rows
// the tiles win from n = 2048 on (0.73-0.82x the row path's time).



int log2_floor(index_t n) {
    int b = 0;
    while ((index_t(1) << (b + 1)) <= n) ++b;
    return b;
}

// The effective entries of block p of a stage applied with `trans`.
template <class T>
void effective_block(const T* blk, int trans, T (&e)[4]) {
    e[0] = blk[0];
    e[1] = blk[trans == TRANS_N ? 1 : 2];
    e[2] = blk[trans == TRANS_N ? 2 : 1];
    e[3] = blk[3];
    if constexpr (is_complex_v<T>) {
        if (trans == TRANS_H)
            for (auto& v : e) v = std::conj(v);
    }
}

struct Geometry {
    index_t N;
    int L;
    index_t n_rows;
    Rows x;
    OutRows y;
    int trans;
    bool real_io, check_finite;
};

// ------------------------------------------------------------- small N --
template <class T>
int run_small(const ApplyKernels<T>& K, const T* twiddles, index_t width, const Geometry& g,
              int n_threads) {
    using R = typename real_of<T>::type;
    constexpr int P = is_complex_v<T> ? 2 : 1;
    const index_t N = g.N;
    const auto stages = stage_order(twiddles, width, g.L, g.trans);
    std::vector<int> bits;
    bits.reserve(stages.size());
    const std::size_t stage_reals = std::size_t(2 * P * N);
    R* coef = static_cast<R*>(thread_scratch(1, stages.size() * stage_reals * sizeof(R)));
    if (coef == nullptr) return STATUS_NO_MEMORY;
    R* c = coef;
    for (const auto& st : stages) {
        if (classify_stage(st.twiddles, N / 2, g.trans, false) == KIND_IDENTITY) continue;
        bits.push_back(st.bit);
        const index_t s = index_t(1) << st.bit;
        for (index_t i = 0; i < N; ++i) {
            const index_t p = ((i >> (st.bit + 1)) << st.bit) | (i & (s - 1));
            T e[4];
            effective_block(st.twiddles + 4 * p, g.trans, e);
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
        c += stage_reals;
    }
    SmallJob<T> job;
    job.coefficients = coef;
    job.bits = bits.data();
    job.n_stages = index_t(bits.size());
    job.N = N;
    job.n_rows = g.n_rows;
    job.x = g.x;
    job.y = g.y;
    job.real_io = g.real_io;
    job.check_finite = g.check_finite;
    const ThreadChoice threads = threads_for_work(
        double(g.n_rows) * double(N / 2) * double(bits.size()) * ns_per_update<T>(), n_threads);
    const int nt = threads.n_threads;
    const index_t rows_per_task = nt == 1 ? g.n_rows : std::max<index_t>(16, g.n_rows / (8 * nt));
    std::vector<index_t> counts{(g.n_rows + rows_per_task - 1) / rows_per_task};
    Failure failure;
    auto task = [&](index_t, index_t t, int) {
        if (failure.failed()) return;
        const index_t r0 = t * rows_per_task;
        const index_t r1 = std::min(g.n_rows, r0 + rows_per_task);
        if (!K.small_rows(job, r0, r1)) failure.set(STATUS_NON_FINITE);
    };
    record_call(PATH_SMALL, nt, run_phases(threads, counts, task));
    return failure.status.load();
}

// ----------------------------------------------------------------- rows --
template <class T>
int run_rows(const ApplyKernels<T>& K, const T* twiddles, index_t width, const Geometry& g,
             int n_threads) {
    using R = typename real_of<T>::type;
    constexpr int P = is_complex_v<T> ? 2 : 1;
    const index_t N = g.N;
    const index_t VL = K.lanes;
    const auto stages = stage_order(twiddles, width, g.L, g.trans);
    std::vector<RowStage<T>> row_stages(stages.size());
    for (std::size_t i = 0; i < stages.size(); ++i)
        row_stages[i] = {stages[i].twiddles, stages[i].bit};
    R* work = static_cast<R*>(thread_scratch(1, std::size_t(g.n_rows * P * N) * sizeof(R)));
    if (work == nullptr) return STATUS_NO_MEMORY;

    RowJob<T> job;
    job.stages = row_stages.data();
    job.N = N;
    job.trans = g.trans;
    // blocks of ~64 KiB of the rows' data, of at least one vector of pairs
    job.cache_bits = bits_for_bytes(64 * 1024.0, double(g.n_rows * P * sizeof(R)),
                                    log2_floor(2 * VL), g.L);
    job.n_rows = g.n_rows;
    job.x = g.x;
    job.y = g.y;
    job.real_io = g.real_io;
    job.check_finite = g.check_finite;
    job.work = work;

    // every call deinterleaves all twiddles once (~4 row updates' worth)
    const ThreadChoice threads = threads_for_work(
        double(g.n_rows + 4) * double(N / 2) * double(stages.size()) * ns_per_update<T>(),
        n_threads);
    const int nt = threads.n_threads;
    if (nt > 1) {
        // at least two blocks per thread in the runs of low stages
        const int most = g.L - 1 - log2_floor(nt);
        if (job.cache_bits > most) job.cache_bits = std::max(most, log2_floor(2 * VL));
    }
    const index_t n_vec = N / 2 / VL;
    const index_t group_units = nt == 1 ? 1 : std::min<index_t>(n_vec, 4 * nt);
    job.io_block = nt == 1 ? N : std::max<index_t>(VL, (N / (4 * nt) + VL - 1) / VL * VL);
    std::vector<Phase> phases;
    phases.push_back({PHASE_LOAD, 0, 0, (N + job.io_block - 1) / job.io_block});
    const index_t n_stages = index_t(stages.size());
    for (index_t k = 0; k < n_stages;) {
        if (stages[std::size_t(k)].bit >= job.cache_bits) {
            phases.push_back({PHASE_GROUP, k, k + 1, group_units});
            ++k;
            continue;
        }
        index_t end = k;
        while (end < n_stages && stages[std::size_t(end)].bit < job.cache_bits) ++end;
        phases.push_back({PHASE_RUN, k, end, N >> job.cache_bits});
        k = end;
    }
    phases.push_back({PHASE_STORE, 0, 0, (g.y.len + job.io_block - 1) / job.io_block});

    return run_phase_list(threads, phases, PATH_ROWS, [&](const Phase& ph, index_t unit) {
        return K.row_phase(job, ph, unit, unit + 1);
    });
}

// ---------------------------------------------------------------- tiles --
template <class T>
int run_tiles(const ApplyKernels<T>& K, const T* twiddles, index_t width, const Geometry& g,
              int n_threads) {
    using R = typename real_of<T>::type;
    constexpr int P = is_complex_v<T> ? 2 : 1;
    const index_t N = g.N;
    const index_t C = K.lanes;
    auto stages = stage_order(twiddles, width, g.L, g.trans);
    std::vector<int> kinds(stages.size(), KIND_GENERAL);
    std::vector<index_t> load_to, store_from;
    // Every batched call classifies its stages: the scan stops at the first
    // block of an unstructured stage, and a kind rounds as the general
    // arithmetic does, so a row's result does not depend on the batch.
    {
        // butterfly kinds exist in the kernels for complex networks, N and T
        const bool butterfly = is_complex_v<T> && g.trans != TRANS_H;
        std::vector<StageRef<T>> kept;
        std::vector<int> kept_kinds;
        for (const auto& st : stages) {
            const int kind = classify_stage(st.twiddles, N / 2, g.trans, butterfly);
            if (kind == KIND_IDENTITY) continue;
            kept.push_back(st);
            kept_kinds.push_back(kind);
        }
        // leading and trailing permutation stages become the order in which
        // the loads and stores visit tile rows
        std::size_t lead = 0;
        while (lead < kept.size() && kept_kinds[lead] == KIND_PERM) ++lead;
        std::size_t trail = 0;
        while (trail < kept.size() - lead && kept_kinds[kept.size() - 1 - trail] == KIND_PERM)
            ++trail;
        if (lead > 0) {
            std::vector<index_t> where(static_cast<std::size_t>(N));
            for (index_t u = 0; u < N; ++u) where[std::size_t(u)] = u;
            for (std::size_t i = 0; i < lead; ++i) permute_by_stage(kept[i], N, where);
            load_to.resize(std::size_t(N));
            for (index_t r = 0; r < N; ++r) load_to[std::size_t(where[std::size_t(r)])] = r;
        }
        if (trail > 0) {
            store_from.resize(std::size_t(N));
            for (index_t v = 0; v < N; ++v) store_from[std::size_t(v)] = v;
            for (std::size_t i = kept.size() - trail; i < kept.size(); ++i)
                permute_by_stage(kept[i], N, store_from);
        }
        stages.assign(kept.begin() + std::ptrdiff_t(lead), kept.end() - std::ptrdiff_t(trail));
        kinds.assign(kept_kinds.begin() + std::ptrdiff_t(lead),
                     kept_kinds.end() - std::ptrdiff_t(trail));
    }
    // (for TRANS_H the tile kernels have no permutation kind: general there)
    if (g.trans == TRANS_H)
        for (auto& k : kinds) k = KIND_GENERAL;
    const auto groups = group_stages(stages.data(), kinds.data(), index_t(stages.size()),
                                     K.max_group);

    TileJob<T> job;
    job.groups = groups.data();
    job.N = N;
    job.trans = g.trans;
    // PHASE_RUN blocks of ~512 KiB of tile rows
    job.cache_bits = bits_for_bytes(512 * 1024.0, double(C * P * sizeof(R)), 1, g.L);
    job.n_rows = g.n_rows;
    job.x = g.x;
    job.y = g.y;
    job.real_io = g.real_io;
    job.check_finite = g.check_finite;
    job.load_to = load_to.empty() ? nullptr : load_to.data();
    job.store_from = store_from.empty() ? nullptr : store_from.data();

    const index_t n_chunks = (g.n_rows + C - 1) / C;
    double pair_updates = 0;
    for (const auto& gr : groups) pair_updates += gr.size;
    const ThreadChoice threads = threads_for_work(
        double(n_chunks * C) * double(N / 2) * (pair_updates + 2) * ns_per_update<T>(), n_threads);
    const int nt = threads.n_threads;
    // Threads share each chunk phase by phase for long rows, and when there
    // are too few chunks to go round (a chunk per thread would leave one idle)
    const bool cooperative = nt > 1 && (g.L >= kLongRowBits || n_chunks < 2 * nt);

    // The passes read the twiddles in pass order, copied once per call
    // (measured: at most ~a chunk's work; a pass then addresses its blocks at
    // constant offsets from one pointer instead of strided ones, which
    // spilled registers: float32 n = 4096, 1024 rows 8.0 ms against 13.6 ms
    // on one thread). The shared tile of long rows follows in the scratch.
    std::vector<index_t> group_offset(groups.size() + 1);
    index_t total = 0;
    for (std::size_t i = 0; i < groups.size(); ++i) {
        group_offset[i] = total;
        total += groups[i].size * (N / 2) * 4;
    }
    group_offset.back() = total;
    // (the shared tile starts at the next 64-byte boundary: the passes use
    // aligned vector moves)
    const std::size_t tile_offset = (std::size_t(total) * sizeof(T) + 63) / 64 * 64;
    T* packed = static_cast<T*>(thread_scratch(
        1, tile_offset + (cooperative ? std::size_t(N * P * C) * sizeof(R) : 0)));
    if (packed == nullptr) return STATUS_NO_MEMORY;
    {
        const index_t parts = nt > 1 ? 4 * nt : 1;
        std::vector<index_t> counts{parts};
        auto pack = [&](index_t, index_t part, int) {
            pack_pass_order(groups, N, group_offset, packed, part, parts);
        };
        run_phases(threads, counts, pack);
    }
    job.packed = packed;
    job.group_offset = group_offset.data();

    const index_t run_units = job.cache_bits < g.L ? N >> job.cache_bits : 1;
    const auto make_phases = [&](index_t group_units) {
        std::vector<Phase> ph;
        ph.push_back({PHASE_LOAD, 0, 0, (N + job.io_block - 1) / job.io_block});
        const index_t n_groups = index_t(groups.size());
        for (index_t i = 0; i < n_groups;) {
            index_t end = i;
            while (end < n_groups && job.cache_bits < g.L &&
                   groups[std::size_t(end)].low_bit + groups[std::size_t(end)].size <=
                       job.cache_bits)
                ++end;
            if (end - i >= 2) {
                ph.push_back({PHASE_RUN, i, end, run_units});
                i = end;
            } else {
                ph.push_back({PHASE_GROUP, i, i + 1, group_units});
                ++i;
            }
        }
        ph.push_back({PHASE_STORE, 0, 0, (g.y.len + job.io_block - 1) / job.io_block});
        return ph;
    };

    const std::size_t tile_bytes = std::size_t(N * P * C) * sizeof(R);
    Failure failure;
    int ran = 1;
    if (!cooperative) {
        job.io_block = N;
        const auto phases = make_phases(1);
        std::vector<index_t> counts{n_chunks};
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
        ran = run_phases(threads, counts, task);
    } else {
        void* tile = reinterpret_cast<char*>(packed) + tile_offset;
        job.io_block = std::max<index_t>(C, (N / (4 * nt) + C - 1) / C * C);
        const auto phases = make_phases(4 * nt);
        const index_t per_chunk = index_t(phases.size());
        std::vector<index_t> counts;
        for (index_t c = 0; c < n_chunks; ++c)
            for (const Phase& ph : phases) counts.push_back(ph.n_units);
        auto task = [&](index_t phase, index_t unit, int) {
            if (failure.failed()) return;
            const Phase& ph = phases[std::size_t(phase % per_chunk)];
            if (!K.tile_phase(job, ph, phase / per_chunk, tile, unit, unit + 1))
                failure.set(STATUS_NON_FINITE);
        };
        ran = run_phases(threads, counts, task);
    }
    record_call(cooperative ? PATH_TILES_SHARED : PATH_TILES, nt, ran);
    return failure.status.load();
}

}  // namespace

template <class T>
int kmatrix_apply(const T* twiddles, index_t width, int log_size, const void* x, index_t n_rows,
                  index_t x_len, index_t x_row_stride, index_t x_col_stride, void* y,
                  index_t y_len, index_t y_row_stride, index_t y_col_stride, int trans,
                  int n_threads, int check_finite, int real_io) {
    if (log_size < 1 || log_size > 40 || width < 1 || n_rows < 0 || x_len < 0 || y_len < 0 ||
        (trans != TRANS_N && trans != TRANS_T && trans != TRANS_H) ||
        (real_io && !is_complex_v<T>))
        return STATUS_BAD_ARGUMENT;
    const index_t N = index_t(1) << log_size;
    if (x_len > N || y_len > N) return STATUS_BAD_ARGUMENT;
    record_call(PATH_NONE, 0, 0);
    if (n_rows == 0 || y_len == 0) return STATUS_OK;
    if (!is_complex_v<T> && trans == TRANS_H) trans = TRANS_T;  // real: K^H = K^T

    Geometry g;
    g.N = N;
    g.L = log_size;
    g.n_rows = n_rows;
    g.x = {x, x_len, x_row_stride, x_col_stride};
    g.y = {y, y_len, y_row_stride, y_col_stride};
    g.trans = trans;
    g.real_io = real_io != 0;
    g.check_finite = check_finite != 0;
    const int nt = resolve_threads(n_threads);
    const ApplyKernels<T>& K = selected_apply_kernels<T>();
    int status;
    try {
        if (N >= K.lanes && N <= K.small_max)
            status = run_small(K, twiddles, width, g, nt);
        else if (n_rows <= std::max<index_t>(4, K.lanes / 2) && N >= 2 * K.lanes)
            status = run_rows(K, twiddles, width, g, nt);
        else
            status = run_tiles(K, twiddles, width, g, nt);
    } catch (...) {  // std::bad_alloc from the plans
        status = STATUS_NO_MEMORY;
    }
    trim_thread_scratch();
    return status;
}

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
