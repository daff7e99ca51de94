// Per-ISA kernel header: compiled into every (instruction set, scalar type)
// kernel unit, inside namespace KMATRIX_ISA_NS. May include: isa_*.hpp,
// kernel_interface.hpp, standard headers without out-of-line code.
//
// The row path: one or a few rows, vectorized along the row.
//
// Each row is copied into a work buffer of N positions per plane (complex
// values as separate real and imaginary planes). A stage on bit b pairs
// u and v = u + 2^b; VL consecutive pairs (VL scalars per vector) have their
// blocks deinterleaved in registers into vectors of a, b, c and d (and their
// imaginary parts), which then multiply the VL positions u and the VL
// positions v of every row of the call:
// * stride 2^b >= VL: those positions are two contiguous vectors;
// * stride 2^b < VL: the 2 VL positions 2q..2q+2VL-1 hold exactly the pairs
//   q..q+VL-1; two shuffles split them into the u and v vectors and two
//   shuffles put them back.
// Twiddles are read once per call whatever the number of rows, so the cost
// of one vector is one pass over the parameters. Included by the kernel
// translation units only (see isa_simd.hpp).
#ifndef KMATRIX_ISA_ROWS_HPP
#define KMATRIX_ISA_ROWS_HPP

#include "isa_epilogue.hpp"
#include "isa_simd.hpp"

namespace kmatrix {
namespace KMATRIX_ISA_NS {

// out[e][i] = X[K i + e] for X the concatenation of in[0..K): log2(K)
// rounds of even/odd splits, K shuffles each. Inverse: back (a round of
// interleaves undoes one split; all rounds are the same permutation).
template <class T, int K, bool Inverse = false>
KMATRIX_INLINE void deinterleave_k(typename kernel_types<T>::V (&v)[K]) {
    using KT = kernel_types<T>;
    using V = typename KT::V;
    using M = typename KT::M;
    constexpr int C = KT::lanes;
    M first, second;  // even / odd lanes, or the low / high interleave
#pragma GCC unroll 16
    for (int j = 0; j < C; ++j) {
        first[j] = Inverse ? ((j & 1) ? C + j / 2 : j / 2) : 2 * j;
        second[j] = Inverse ? ((j & 1) ? C + C / 2 + j / 2 : C / 2 + j / 2) : 2 * j + 1;
    }
#pragma GCC unroll 3
    for (int round = 1; round < K; round *= 2) {
        V next[K];
#pragma GCC unroll 8
        for (int j = 0; j < K / 2; ++j) {
            if constexpr (Inverse) {
                next[2 * j] = __builtin_shuffle(v[j], v[K / 2 + j], first);
                next[2 * j + 1] = __builtin_shuffle(v[j], v[K / 2 + j], second);
            } else {
                next[j] = __builtin_shuffle(v[2 * j], v[2 * j + 1], first);
                next[K / 2 + j] = __builtin_shuffle(v[2 * j], v[2 * j + 1], second);
            }
        }
#pragma GCC unroll 8
        for (int j = 0; j < K; ++j) v[j] = next[j];
    }
}

// The effective blocks of pairs q..q+VL-1 as coefficient vectors (real and
// imaginary parts of a, b, c, d of op(block)); for Trans = TRANS_INVERSE +
// op, of op(block)^-1 = [[d, -b], [-c, a]] / (ad - bc).
template <class T, int Trans>
KMATRIX_INLINE void load_block_vectors(const T* tw, typename kernel_types<T>::V (&cr)[4],
                                       typename kernel_types<T>::V (&ci)[4]) {
    if constexpr (Trans >= TRANS_INVERSE) {
        using V = typename kernel_types<T>::V;
        load_block_vectors<T, Trans - TRANS_INVERSE>(tw, cr, ci);
        if constexpr (kernel_types<T>::is_complex) {
            // 1 / det = conj(det) / |det|^2, det scaled by s = |Re| + |Im|
            // first so that |det|^2 neither overflows nor underflows
            const V dr = cr[0] * cr[3] - ci[0] * ci[3] - (cr[1] * cr[2] - ci[1] * ci[2]);
            const V di = cr[0] * ci[3] + ci[0] * cr[3] - (cr[1] * ci[2] + ci[1] * cr[2]);
            const V s = (dr < 0 ? -dr : dr) + (di < 0 ? -di : di);
            const V sr = dr / s, si = di / s;
            const V ms = (sr * sr + si * si) * s;
            const V ir = sr / ms, ii = -si / ms;
            const V ar = cr[3], ai = ci[3];
            const V dr2 = cr[0], di2 = ci[0];
            cr[0] = ar * ir - ai * ii;
            ci[0] = ar * ii + ai * ir;
            cr[3] = dr2 * ir - di2 * ii;
            ci[3] = dr2 * ii + di2 * ir;
            for (int e = 1; e < 3; ++e) {
                const V br = cr[e], bi = ci[e];
                cr[e] = -(br * ir - bi * ii);
                ci[e] = -(br * ii + bi * ir);
            }
        } else {
            const V inv = typename kernel_types<T>::R(1) / (cr[0] * cr[3] - cr[1] * cr[2]);
            const V a = cr[0];
            cr[0] = cr[3] * inv;
            cr[3] = a * inv;
            cr[1] = -cr[1] * inv;
            cr[2] = -cr[2] * inv;
        }
        return;
    }
    using K = kernel_types<T>;
    using V = typename K::V;
    using R = typename K::R;
    constexpr int C = K::lanes;
    const R* r = reinterpret_cast<const R*>(tw);
    constexpr int order[4] = {0, Trans == TRANS_N ? 1 : 2, Trans == TRANS_N ? 2 : 1, 3};
    if constexpr (K::is_complex) {
        V v[8];
#pragma GCC unroll 8
        for (int j = 0; j < 8; ++j) v[j] = vload<V>(r + j * C);
        deinterleave_k<T, 8>(v);
#pragma GCC unroll 4
        for (int e = 0; e < 4; ++e) {
            cr[e] = v[2 * order[e]];
            ci[e] = Trans == TRANS_H ? -v[2 * order[e] + 1] : v[2 * order[e] + 1];
        }
    } else {
        V v[4];
#pragma GCC unroll 4
        for (int j = 0; j < 4; ++j) v[j] = vload<V>(r + j * C);
        deinterleave_k<T, 4>(v);
#pragma GCC unroll 4
        for (int e = 0; e < 4; ++e) {
            cr[e] = v[order[e]];
            ci[e] = V{};
        }
    }
}

// Shuffle masks splitting 2 VL positions into the u and v of their VL pairs
// on bit B (2^B < VL), and joining them back.
template <class T, int B>
struct split_masks {
    using M = typename kernel_types<T>::M;
    M lo, hi, join0, join1;
    KMATRIX_INLINE split_masks() {
        constexpr int C = kernel_types<T>::lanes;
        constexpr int s = 1 << B;
        for (int j = 0; j < C; ++j) {
            const int u = ((j >> B) << (B + 1)) | (j & (s - 1));
            lo[j] = u;
            hi[j] = u + s;
        }
        for (int i = 0; i < 2 * C; ++i) {
            const int p = ((i >> (B + 1)) << B) | (i & (s - 1));  // pair of position i
            const int src = (i & s) ? C + p : p;                    // in (u, v) concatenated
            if (i < C) join0[i] = src; else join1[i - C] = src;
        }
    }
};

// Stage on bit b (Small = b when 2^b < VL, else -1) over pairs [p0, p1)
// (multiples of VL) of every row: from the rows at `src` (the work buffer's
// layout) into the work buffer (src == work: in place).
template <class T, int Trans, int Small>
KMATRIX_INLINE void row_stage_span(const RowJob<T>& job, const T* tw, int b, index_t p0,
                                   index_t p1, const typename kernel_types<T>::R* src) {
    using K = kernel_types<T>;
    using V = typename K::V;
    using R = typename K::R;
    constexpr int C = K::lanes;
    constexpr int P = K::planes;
    const index_t N = job.N;
    const index_t s = index_t(1) << b;
    R* const work = job.work;
    const index_t n_rows = job.n_rows;
    [[maybe_unused]] split_masks<T, (Small < 0 ? 0 : Small)> masks;
    for (index_t q = p0; q < p1; q += C) {
        V cr[4], ci[4];
        load_block_vectors<T, Trans>(tw + 4 * q, cr, ci);
        if constexpr (Small < 0) {
            const index_t u = ((q >> b) << (b + 1)) | (q & (s - 1));
            for (index_t r = 0; r < n_rows; ++r) {
                R* re = work + r * P * N;
                const R* in = src + r * P * N;
                V xr_u = vload<V>(in + u), xr_v = vload<V>(in + u + s), xi_u{}, xi_v{};
                if constexpr (K::is_complex) {
                    xi_u = vload<V>(in + N + u);
                    xi_v = vload<V>(in + N + u + s);
                }
                apply_block<T>(cr, ci, xr_u, xi_u, xr_v, xi_v);
                vstore(re + u, xr_u);
                vstore(re + u + s, xr_v);
                if constexpr (K::is_complex) {
                    vstore(re + N + u, xi_u);
                    vstore(re + N + u + s, xi_v);
                }
            }
        } else {
            const index_t base = 2 * q;
            for (index_t r = 0; r < n_rows; ++r) {
                R* re = work + r * P * N;
                const R* in = src + r * P * N;
                V ur, ui{}, vr, vi{};
                {
                    const V y0 = vload<V>(in + base), y1 = vload<V>(in + base + C);
                    ur = __builtin_shuffle(y0, y1, masks.lo);
                    vr = __builtin_shuffle(y0, y1, masks.hi);
                }
                if constexpr (K::is_complex) {
                    const V y0 = vload<V>(in + N + base), y1 = vload<V>(in + N + base + C);
                    ui = __builtin_shuffle(y0, y1, masks.lo);
                    vi = __builtin_shuffle(y0, y1, masks.hi);
                }
                apply_block<T>(cr, ci, ur, ui, vr, vi);
                vstore(re + base, __builtin_shuffle(ur, vr, masks.join0));
                vstore(re + base + C, __builtin_shuffle(ur, vr, masks.join1));
                if constexpr (K::is_complex) {
                    vstore(re + N + base, __builtin_shuffle(ui, vi, masks.join0));
                    vstore(re + N + base + C, __builtin_shuffle(ui, vi, masks.join1));
                }
            }
        }
    }
}

// f(std::integral_constant<int, Small>) for a stage on bit b: Small = b
// when 2^b < VL (the pairs of a vector interleave), else -1.
template <class T, class F>
KMATRIX_INLINE void visit_row_stride(int b, F&& f) {
    constexpr int C = kernel_types<T>::lanes;
    static_assert(C <= 16, "split masks cover 2^b < 16");
    if ((index_t(1) << b) >= C) {
        f(std::integral_constant<int, -1>{});
        return;
    }
    switch (b) {
        case 0: f(std::integral_constant<int, 0>{}); break;
        case 1:
            if constexpr (C > 2) f(std::integral_constant<int, 1>{});
            break;
        case 2:
            if constexpr (C > 4) f(std::integral_constant<int, 2>{});
            break;
        default:
            if constexpr (C > 8) f(std::integral_constant<int, 3>{});
            break;
    }
}

template <class T, int Trans>
KMATRIX_INLINE void row_stage(const RowJob<T>& job, const RowStage<T>& st, index_t p0,
                              index_t p1, const typename kernel_types<T>::R* src = nullptr) {
    visit_row_stride<T>(st.bit, [&](auto small) __attribute__((always_inline)) {
        row_stage_span<T, Trans, decltype(small)::value>(job, st.twiddles, st.bit, p0, p1,
                                                          src ? src : job.work);
    });
}

template <class T, int Trans>
KMATRIX_INLINE void row_compute(const RowJob<T>& job, const Phase& ph, index_t u0, index_t u1) {
    constexpr int C = kernel_types<T>::lanes;
    if (ph.type == PHASE_GROUP) {
        // one stage over all pairs, cut into units of whole vectors
        const index_t n_vec = job.N / 2 / C;
        const index_t p0 = u0 * n_vec / ph.n_units * C, p1 = u1 * n_vec / ph.n_units * C;
        row_stage<T, Trans>(job, job.stages[ph.first], p0, p1);
        return;
    }
    // PHASE_RUN: stages on bits below cache_bits, block by block; a block's
    // pairs are contiguous in every such stage
    const index_t half_block = index_t(1) << (job.cache_bits - 1);
    for (index_t blk = u0; blk < u1; ++blk)
        for (index_t k = ph.first; k < ph.last; ++k)
            row_stage<T, Trans>(job, job.stages[k], blk * half_block, (blk + 1) * half_block);
}

// Positions [p0, p1) of every row into the work buffer (zero beyond x.len).
template <class T>
KMATRIX_INLINE bool row_load(const RowJob<T>& job, index_t p0, index_t p1) {
    using K = kernel_types<T>;
    using V = typename K::V;
    using M = typename K::M;
    using R = typename K::R;
    constexpr int C = K::lanes;
    constexpr int P = K::planes;
    const bool cplx_in = K::is_complex && !job.real_io;
    const index_t es = cplx_in ? 2 : 1;
    const index_t N = job.N;
    const index_t end = p1 < job.x.len ? p1 : job.x.len;
    M bad = M{};
    for (index_t r = 0; r < job.n_rows; ++r) {
        R* re = job.work + r * P * N;
        R* im = re + N;
        const R* xr = static_cast<const R*>(job.x.data) + r * job.x.row_stride * es;
        index_t u = p0;
        if (job.x.col_stride == 1) {
            for (; u + C <= end; u += C) {
                if (cplx_in) {
                    const V w0 = vload<V>(xr + 2 * u), w1 = vload<V>(xr + 2 * u + C);
                    const V vr = deinterleave<T>(w0, w1, 0), vi = deinterleave<T>(w0, w1, 1);
                    vstore(re + u, vr);
                    vstore(im + u, vi);
                    if (job.check_finite) {
                        flag_non_finite<T>(bad, vr);
                        flag_non_finite<T>(bad, vi);
                    }
                } else {
                    const V v = vload<V>(xr + u);
                    vstore(re + u, v);
                    if constexpr (K::is_complex) vstore(im + u, V{});
                    if (job.check_finite) flag_non_finite<T>(bad, v);
                }
            }
        }
        const index_t xs = job.x.col_stride * es;
        R acc = R(0);
        for (; u < end; ++u) {
            re[u] = xr[u * xs];
            acc += re[u] - re[u];
            if constexpr (K::is_complex) {
                im[u] = cplx_in ? xr[u * xs + 1] : R(0);
                acc += im[u] - im[u];
            }
        }
        if (job.check_finite && acc != R(0)) return false;
        for (u = (p0 > end ? p0 : end); u < p1; ++u) {
            re[u] = R(0);
            if constexpr (K::is_complex) im[u] = R(0);
        }
    }
    return !(job.check_finite && any_lane<T>(bad));
}

// Output positions [p0, p1) (p1 <= y.len) of every row from the work buffer.
template <class T>
KMATRIX_INLINE void row_store(const RowJob<T>& job, index_t p0, index_t p1) {
    using K = kernel_types<T>;
    using V = typename K::V;
    using R = typename K::R;
    constexpr int C = K::lanes;
    constexpr int P = K::planes;
    const bool cplx_out = K::is_complex && !job.real_io;
    const index_t es = cplx_out ? 2 : 1;
    const index_t N = job.N;
    for (index_t r = 0; r < job.n_rows; ++r) {
        const R* re = job.work + r * P * N;
        const R* im = re + N;
        R* yr = static_cast<R*>(job.y.data) + r * job.y.row_stride * es;
        index_t v = p0;
        if (job.y.col_stride == 1) {
            for (; v + C <= p1; v += C) {
                if (cplx_out) {
                    const V vr = vload<V>(re + v), vi = vload<V>(im + v);
                    vstore(yr + 2 * v, interleave<T>(vr, vi, 0));
                    vstore(yr + 2 * v + C, interleave<T>(vr, vi, 1));
                } else {
                    vstore(yr + v, vload<V>(re + v));
                }
            }
        }
        const index_t ys = job.y.col_stride * es;
        for (; v < p1; ++v) {
            yr[v * ys] = re[v];
            if (cplx_out) yr[v * ys + 1] = im[v];
        }
    }
}

// Entry of the row path: units [u0, u1) of one phase.
template <class T>
bool row_phase(const RowJob<T>& job, const Phase& ph, index_t u0, index_t u1) {
    using K = kernel_types<T>;
    switch (ph.type) {
        case PHASE_LOAD: {
            const index_t p1 = u1 * job.io_block < job.N ? u1 * job.io_block : job.N;
            return row_load<T>(job, u0 * job.io_block, p1);
        }
        case PHASE_STORE: {
            const index_t p1 = u1 * job.io_block < job.y.len ? u1 * job.io_block : job.y.len;
            if (u0 * job.io_block < p1) {
                row_store<T>(job, u0 * job.io_block, p1);
                if (job.epilogue.kind != EPILOGUE_NONE)
                    for (index_t r = 0; r < job.n_rows; ++r)
                        epilogue_span<T>(static_cast<typename K::R*>(job.y.data) +
                                             r * job.y.row_stride,
                                         u0 * job.io_block, p1, job.epilogue);
            }
            return true;
        }
        default:
            switch (job.trans) {
                case TRANS_N: row_compute<T, TRANS_N>(job, ph, u0, u1); break;
                case TRANS_T: row_compute<T, TRANS_T>(job, ph, u0, u1); break;
                case TRANS_H:
                    if constexpr (K::is_complex) row_compute<T, TRANS_H>(job, ph, u0, u1);
                    else row_compute<T, TRANS_T>(job, ph, u0, u1);
                    break;
                case TRANS_INVERSE + TRANS_N:
                    row_compute<T, TRANS_INVERSE + TRANS_N>(job, ph, u0, u1);
                    break;
                case TRANS_INVERSE + TRANS_T:
                    row_compute<T, TRANS_INVERSE + TRANS_T>(job, ph, u0, u1);
                    break;
                default:
                    if constexpr (K::is_complex)
                        row_compute<T, TRANS_INVERSE + TRANS_H>(job, ph, u0, u1);
                    else
                        row_compute<T, TRANS_INVERSE + TRANS_T>(job, ph, u0, u1);
                    break;
            }
            return true;
    }
}

}  // namespace KMATRIX_ISA_NS
}  // namespace kmatrix

#endif  // KMATRIX_ISA_ROWS_HPP
