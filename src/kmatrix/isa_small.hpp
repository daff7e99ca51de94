// Per-ISA kernel header: compiled into every (instruction set, scalar type)
// kernel unit, inside namespace KMATRIX_ISA_NS. May include: isa_*.hpp,
// kernel_interface.hpp, standard headers without out-of-line code.
//
// Small operators (N up to a few lane vectors): a row is loaded into
// registers once and every stage runs on it there,
//   y[i] = A[i] x[i] + B[i] x[i ^ 2^b],
// with the coefficient vectors A and B of each stage precomputed for the
// call (L1-resident) and the partner x[i ^ 2^b] another register (2^b >=
// VL) or an in-register permutation (2^b < VL). No transposes, no tile.
// Included by the kernel translation units only (see isa_simd.hpp).
#ifndef KMATRIX_ISA_SMALL_HPP
#define KMATRIX_ISA_SMALL_HPP

#include "isa_epilogue.hpp"
#include "isa_simd.hpp"

namespace kmatrix {
namespace KMATRIX_ISA_NS {

// lane i <- lane i ^ 2^B
template <class T, int B>
KMATRIX_INLINE typename kernel_types<T>::V swap_lanes(const typename kernel_types<T>::V& v) {
    using K = kernel_types<T>;
    typename K::M m;
#pragma GCC unroll 16
    for (int j = 0; j < K::lanes; ++j) m[j] = j ^ (1 << B);
    return __builtin_shuffle(v, m);
}

// p[k] = x[k] with lane i taken from lane i ^ 2^B: another vector (2^B >=
// VL) or a lane permutation. B is a template parameter so that the row's
// vectors stay in registers (a runtime index would force them to memory).
template <class T, int NV, int B>
KMATRIX_INLINE void small_partners_b(const typename kernel_types<T>::V (&x)[NV],
                                     typename kernel_types<T>::V (&p)[NV]) {
    constexpr int C = kernel_types<T>::lanes;
    if constexpr ((1 << B) >= C) {
        constexpr int d = (1 << B) / C;
#pragma GCC unroll 16
        for (int k = 0; k < NV; ++k) p[k] = x[(k ^ d) < NV ? (k ^ d) : k];
    } else {
#pragma GCC unroll 16
        for (int k = 0; k < NV; ++k) p[k] = swap_lanes<T, B>(x[k]);
    }
}

// Calls f(std::integral_constant<int, b>) for a stage bit b < log2(NV * VL).
template <class T, int NV, class F>
KMATRIX_INLINE void visit_small_bit(int b, F&& f) {
    constexpr int L = [] {
        int l = 0;
        while ((1 << l) < NV * kernel_types<T>::lanes) ++l;
        return l;
    }();
    using std::integral_constant;
    switch (b) {
        case 0: f(integral_constant<int, 0>{}); break;
        case 1: if constexpr (L > 1) f(integral_constant<int, 1>{}); break;
        case 2: if constexpr (L > 2) f(integral_constant<int, 2>{}); break;
        case 3: if constexpr (L > 3) f(integral_constant<int, 3>{}); break;
        case 4: if constexpr (L > 4) f(integral_constant<int, 4>{}); break;
        case 5: if constexpr (L > 5) f(integral_constant<int, 5>{}); break;
        case 6: if constexpr (L > 6) f(integral_constant<int, 6>{}); break;
        case 7: if constexpr (L > 7) f(integral_constant<int, 7>{}); break;
        case 8: if constexpr (L > 8) f(integral_constant<int, 8>{}); break;
        default: break;  // the driver sends N <= 256 * VL / 16
    }
}

// One row into registers (zero-padded), NV vectors per plane.
template <class T, int NV>
KMATRIX_INLINE void small_load(const SmallJob<T>& job, index_t r, typename kernel_types<T>::V (&xr)[NV],
                               typename kernel_types<T>::V (&xi)[NV], bool direct, bool cplx_in) {
    using K = kernel_types<T>;
    using V = typename K::V;
    using R = typename K::R;
    constexpr int C = K::lanes;
    constexpr int N = NV * C;
    const index_t es = cplx_in ? 2 : 1;
    const R* src = static_cast<const R*>(job.x.data) + r * job.x.row_stride * es;
    if (direct) {
#pragma GCC unroll 16
        for (int k = 0; k < NV; ++k) {
            if (K::is_complex && cplx_in) {
                const V w0 = vload<V>(src + 2 * k * C), w1 = vload<V>(src + 2 * k * C + C);
                xr[k] = deinterleave<T>(w0, w1, 0);
                xi[k] = deinterleave<T>(w0, w1, 1);
            } else {
                xr[k] = vload<V>(src + k * C);
                xi[k] = V{};
            }
        }
        return;
    }
    R buf[2][N];
    const index_t xs = job.x.col_stride * es;
    for (index_t u = 0; u < N; ++u) {
        const bool in = u < job.x.len;
        buf[0][u] = in ? src[u * xs] : R(0);
        buf[1][u] = in && cplx_in ? src[u * xs + 1] : R(0);
    }
#pragma GCC unroll 16
    for (int k = 0; k < NV; ++k) {
        xr[k] = vload<V>(&buf[0][k * C]);
        xi[k] = vload<V>(&buf[1][k * C]);
    }
}

template <class T, int NV>
KMATRIX_INLINE void small_store(const SmallJob<T>& job, index_t r,
                                const typename kernel_types<T>::V (&xr)[NV],
                                const typename kernel_types<T>::V (&xi)[NV], bool direct,
                                bool cplx_out) {
    using K = kernel_types<T>;
    using R = typename K::R;
    constexpr int C = K::lanes;
    constexpr int N = NV * C;
    const index_t es = cplx_out ? 2 : 1;
    R* dst = static_cast<R*>(job.y.data) + r * job.y.row_stride * es;
    if (direct) {
#pragma GCC unroll 16
        for (int k = 0; k < NV; ++k) {
            if (K::is_complex && cplx_out) {
                vstore(dst + 2 * k * C, interleave<T>(xr[k], xi[k], 0));
                vstore(dst + 2 * k * C + C, interleave<T>(xr[k], xi[k], 1));
            } else {
                vstore(dst + k * C, xr[k]);
            }
        }
        return;
    }
    R buf[2][N];
#pragma GCC unroll 16
    for (int k = 0; k < NV; ++k) {
        vstore(&buf[0][k * C], xr[k]);
        vstore(&buf[1][k * C], xi[k]);
    }
    const index_t ys = job.y.col_stride * es;
    for (index_t v = 0; v < job.y.len; ++v) {
        dst[v * ys] = buf[0][v];
        if (cplx_out) dst[v * ys + 1] = buf[1][v];
    }
}

// RB rows at a time through every stage, NV vectors per plane per row: the
// stage's coefficient vectors are loaded once for the RB rows.
template <class T, int NV, int RB>
KMATRIX_INLINE void small_block(const SmallJob<T>& job, index_t r0, bool direct_in,
                                bool direct_out, typename kernel_types<T>::M& bad) {
    using K = kernel_types<T>;
    using V = typename K::V;
    using R = typename K::R;
    constexpr int C = K::lanes;
    constexpr int P = K::planes;
    constexpr int N = NV * C;
    const bool cplx = K::is_complex && !job.real_io;
    V xr[RB][NV], xi[RB][NV];
#pragma GCC unroll 8
    for (int q = 0; q < RB; ++q) small_load<T, NV>(job, r0 + q, xr[q], xi[q], direct_in, cplx);
    if (job.check_finite) {
#pragma GCC unroll 8
        for (int q = 0; q < RB; ++q) {
#pragma GCC unroll 16
            for (int k = 0; k < NV; ++k) {
                flag_non_finite<T>(bad, xr[q][k]);
                if constexpr (K::is_complex) flag_non_finite<T>(bad, xi[q][k]);
            }
        }
    }
    const R* coef = job.coefficients;
    for (index_t st = 0; st < job.n_stages; ++st, coef += 2 * P * N) {
        visit_small_bit<T, NV>(job.bits[st], [&](auto bit) __attribute__((always_inline)) {
#pragma GCC unroll 8
        for (int q = 0; q < RB; ++q) {
            V pr[NV], pi[NV];
            small_partners_b<T, NV, decltype(bit)::value>(xr[q], pr);
            if constexpr (K::is_complex) small_partners_b<T, NV, decltype(bit)::value>(xi[q], pi);
#pragma GCC unroll 16
            for (int k = 0; k < NV; ++k) {
                // y = A x + B partner: one product, the rest fused (the
                // small path's own fixed order; every call at this N takes it)
                if constexpr (K::is_complex) {
                    const V ar = vload<V>(coef + k * C), ai = vload<V>(coef + N + k * C);
                    const V br = vload<V>(coef + 2 * N + k * C), bi = vload<V>(coef + 3 * N + k * C);
                    const V yr = vfma(ar, xr[q][k], vfnma(ai, xi[q][k], vfms(br, pr[k], bi * pi[k])));
                    const V yi = vfma(ar, xi[q][k], vfma(ai, xr[q][k], vfma(br, pi[k], bi * pr[k])));
                    xr[q][k] = yr;
                    xi[q][k] = yi;
                } else {
                    const V a = vload<V>(coef + k * C), bb = vload<V>(coef + N + k * C);
                    xr[q][k] = vfma(a, xr[q][k], bb * pr[k]);
                }
            }
        }
        });
    }
#pragma GCC unroll 8
    for (int q = 0; q < RB; ++q) {
        small_store<T, NV>(job, r0 + q, xr[q], xi[q], direct_out, cplx);
        if (job.epilogue.kind != EPILOGUE_NONE)
            epilogue_span<T>(static_cast<typename kernel_types<T>::R*>(job.y.data) +
                                 (r0 + q) * job.y.row_stride,
                             0, job.y.len, job.epilogue);
    }
}

// Rows [row0, row1): blocks of rows sharing the coefficient loads, as many
// as the registers hold (RB rows of NV vectors per plane), then the rest
// one by one.
template <class T, int NV>
KMATRIX_INLINE bool small_rows_nv(const SmallJob<T>& job, index_t row0, index_t row1) {
    using K = kernel_types<T>;
    constexpr int budget = KMATRIX_VECTOR_REGISTERS / 4;
    constexpr int RB = budget / (NV * K::planes) > 1 ? budget / (NV * K::planes) : 1;
    const bool direct_in = job.x.col_stride == 1 && job.x.len == NV * K::lanes;
    const bool direct_out = job.y.col_stride == 1 && job.y.len == NV * K::lanes;
    typename K::M bad{};  // NaN/inf seen (checked once: the call fails as a whole)
    index_t r = row0;
    for (; r + RB <= row1; r += RB) small_block<T, NV, RB>(job, r, direct_in, direct_out, bad);
    for (; r < row1; ++r) small_block<T, NV, 1>(job, r, direct_in, direct_out, bad);
    return !(job.check_finite && any_lane<T>(bad));
}

// Largest N of the small path: rows of up to 16 (complex: 8) vectors per
// plane stay in registers with room for the coefficients (measured, v4,
// 1024 rows: f32 N = 256 222 ns per row here against 342 ns on the tile
// path; 32 vectors spill and take 1.1 us against ~0.75 us).
template <class T>
constexpr int small_max_vectors() {
    return kernel_types<T>::is_complex ? 8 : 16;
}

template <class T>
bool small_rows(const SmallJob<T>& job, index_t row0, index_t row1) {
    using K = kernel_types<T>;
    constexpr int C = K::lanes;
    switch (job.N / C) {
        case 1: return small_rows_nv<T, 1>(job, row0, row1);
        case 2: return small_rows_nv<T, 2>(job, row0, row1);
        case 4: return small_rows_nv<T, 4>(job, row0, row1);
        case 8: return small_rows_nv<T, 8>(job, row0, row1);
        case 16:
            if constexpr (small_max_vectors<T>() >= 16) return small_rows_nv<T, 16>(job, row0, row1);
            return false;
        default: return false;  // the driver sends only these sizes
    }
}

}  // namespace KMATRIX_ISA_NS
}  // namespace kmatrix

#endif  // KMATRIX_ISA_SMALL_HPP
