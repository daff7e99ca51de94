// Per-ISA kernel header: compiled into every (instruction set, scalar type)
// kernel unit, inside namespace KMATRIX_ISA_NS. May include: isa_*.hpp,
// kernel_interface.hpp, standard headers without out-of-line code.
//
// Gradients of one or a few rows (the row path, see isa_rows.hpp): the rows are
// pushed forward stage by stage, keeping every stage's input, and the
// gradient goes back stage by stage along the row, vectorized across the
// pairs. A pair's twiddle gradient is the sum over the rows of g conj(x)^T,
// written straight into the twiddle layout: no lanes of padding rows and no
// per-slot sums, so one row costs about three row products. Included by the
// kernel translation units only (see isa_simd.hpp).
#ifndef KMATRIX_ISA_VJP_ROWS_HPP
#define KMATRIX_ISA_VJP_ROWS_HPP

#include "isa_rows.hpp"

namespace kmatrix {
namespace KMATRIX_ISA_NS {

// Stage k backwards over pairs [p0, p1) (multiples of VL): the twiddle
// gradients of those pairs from the stage's saved input and the gradient
// at its output, then the gradient at its input (block^H, in place).
template <class T, int Small>
KMATRIX_INLINE void row_stage_backward(const VjpRowJob<T>& job, index_t k, index_t p0,
                                       index_t p1) {
    using K = kernel_types<T>;
    using V = typename K::V;
    using R = typename K::R;
    constexpr int C = K::lanes;
    constexpr int P = K::planes;
    const index_t N = job.N;
    const RowStage<T>& st = job.stages[k];
    const index_t s = index_t(1) << st.bit;
    const R* const saved = job.saved + k * job.n_rows * P * N;
    [[maybe_unused]] split_masks<T, (Small < 0 ? 0 : Small)> masks;
    // the positions of pairs q..q+VL-1 of one plane as u and v vectors
    const auto load = [&](const R* plane, index_t q, V& u, V& v) __attribute__((always_inline)) {
        if constexpr (Small < 0) {
            const index_t pu = ((q >> st.bit) << (st.bit + 1)) | (q & (s - 1));
            u = vload<V>(plane + pu);
            v = vload<V>(plane + pu + s);
        } else {
            const V y0 = vload<V>(plane + 2 * q), y1 = vload<V>(plane + 2 * q + C);
            u = __builtin_shuffle(y0, y1, masks.lo);
            v = __builtin_shuffle(y0, y1, masks.hi);
        }
    };
    const auto store = [&](R* plane, index_t q, V u, V v) __attribute__((always_inline)) {
        if constexpr (Small < 0) {
            const index_t pu = ((q >> st.bit) << (st.bit + 1)) | (q & (s - 1));
            vstore(plane + pu, u);
            vstore(plane + pu + s, v);
        } else {
            vstore(plane + 2 * q, __builtin_shuffle(u, v, masks.join0));
            vstore(plane + 2 * q + C, __builtin_shuffle(u, v, masks.join1));
        }
    };
    for (index_t q = p0; q < p1; q += C) {
        V cr[4], ci[4];
        load_block_vectors<T, TRANS_H>(st.twiddles + 4 * q, cr, ci);
        V sr[4] = {}, si[4] = {};  // entries a, b, c, d of the pairs' gradients
        for (index_t r = 0; r < job.n_rows; ++r) {
            const R* x = saved + r * P * N;
            R* g = job.grad + r * P * N;
            V xur, xvr, gur, gvr, xui{}, xvi{}, gui{}, gvi{};
            load(x, q, xur, xvr);
            load(g, q, gur, gvr);
            if constexpr (K::is_complex) {
                load(x + N, q, xui, xvi);
                load(g + N, q, gui, gvi);
                // g_row conj(x_col): (re, im)
                sr[0] += gur * xur + gui * xui;
                si[0] += gui * xur - gur * xui;
                sr[1] += gur * xvr + gui * xvi;
                si[1] += gui * xvr - gur * xvi;
                sr[2] += gvr * xur + gvi * xui;
                si[2] += gvi * xur - gvr * xui;
                sr[3] += gvr * xvr + gvi * xvi;
                si[3] += gvi * xvr - gvr * xvi;
            } else {
                sr[0] += gur * xur;
                sr[1] += gur * xvr;
                sr[2] += gvr * xur;
                sr[3] += gvr * xvr;
            }
            apply_block<T>(cr, ci, gur, gui, gvr, gvi);
            store(g, q, gur, gvr);
            if constexpr (K::is_complex) store(g + N, q, gui, gvi);
        }
        R* d = reinterpret_cast<R*>(job.dtw[k] + 4 * q);
        if constexpr (K::is_complex) {
            V v[8] = {sr[0], si[0], sr[1], si[1], sr[2], si[2], sr[3], si[3]};
            deinterleave_k<T, 8, true>(v);
#pragma GCC unroll 8
            for (int j = 0; j < 8; ++j) vstore(d + j * C, v[j]);
        } else {
            V v[4] = {sr[0], sr[1], sr[2], sr[3]};
            deinterleave_k<T, 4, true>(v);
#pragma GCC unroll 4
            for (int j = 0; j < 4; ++j) vstore(d + j * C, v[j]);
        }
    }
}

// Entry of the vjp's row path: units [u0, u1) of one phase.
template <class T>
bool vjp_row_phase(const VjpRowJob<T>& job, const Phase& ph, index_t u0, index_t u1) {
    constexpr int C = kernel_types<T>::lanes;
    constexpr int P = kernel_types<T>::planes;
    const index_t N = job.N;
    const index_t buffer = job.n_rows * P * N;  // reals of one stage's rows
    RowJob<T> rows;  // the row path's view of one buffer
    rows.N = N;
    rows.n_rows = job.n_rows;
    rows.real_io = job.real_io;
    rows.check_finite = job.check_finite;
    rows.io_block = job.io_block;
    const index_t n_vec = N / 2 / C;
    const index_t q0 = u0 * n_vec / ph.n_units * C, q1 = u1 * n_vec / ph.n_units * C;
    switch (ph.type) {
        case PHASE_LOAD:
        case PHASE_LOAD_GRAD: {
            rows.x = ph.type == PHASE_LOAD ? job.x : job.g;
            rows.work = ph.type == PHASE_LOAD ? job.saved : job.grad;
            const index_t p1 = u1 * job.io_block < N ? u1 * job.io_block : N;
            return row_load<T>(rows, u0 * job.io_block, p1);
        }
        case PHASE_STORE_DX: {
            rows.y = job.dx;
            rows.work = job.grad;
            const index_t p1 = u1 * job.io_block < job.dx.len ? u1 * job.io_block : job.dx.len;
            if (u0 * job.io_block < p1) {
                row_store<T>(rows, u0 * job.io_block, p1);
                if (job.gate.kind != GATE_NONE)
                    for (index_t r = 0; r < job.n_rows; ++r)
                        gate_span<T>(static_cast<typename kernel_types<T>::R*>(job.dx.data) +
                                         r * job.dx.row_stride,
                                     job.gate.ref + r * job.gate.ref_row_stride,
                                     u0 * job.io_block, p1, job.gate.kind);
            }
            return true;
        }
        case PHASE_FORWARD: {
            const index_t k = ph.first;
            rows.work = job.saved + (k + 1) * buffer;
            row_stage<T, TRANS_N>(rows, job.stages[k], q0, q1, job.saved + k * buffer);
            return true;
        }
        case PHASE_BACKWARD:
            visit_row_stride<T>(job.stages[ph.first].bit, [&](auto small)
                                                              __attribute__((always_inline)) {
                row_stage_backward<T, decltype(small)::value>(job, ph.first, q0, q1);
            });
            return true;
        default:
            return false;
    }
}

}  // namespace KMATRIX_ISA_NS
}  // namespace kmatrix

#endif  // KMATRIX_ISA_VJP_ROWS_HPP
