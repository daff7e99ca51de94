// Per-ISA kernel header: compiled into every (instruction set, scalar type)
// kernel unit, inside namespace KMATRIX_ISA_NS. May include: isa_*.hpp,
// kernel_interface.hpp, standard headers without out-of-line code.
//
// Gradients through a K-matrix (the batched path): each chunk is pushed
// forward through the groups, saving the tile at the input of every group,
// then the gradient tile goes back group by group, recomputing the group's
// inner stages in registers. Included by the kernel translation units only
// (see isa_simd.hpp).
#ifndef KMATRIX_ISA_VJP_TILE_HPP
#define KMATRIX_ISA_VJP_TILE_HPP

#include "isa_tile_apply.hpp"

namespace kmatrix {
namespace KMATRIX_ISA_NS {

// Lane sums of M product vectors (M a power of two) without leaving the
// vector registers: afterwards lane i of p[o] holds the sum over the C lanes
// of product o*C + i (M >= C), or of product i mod M (M < C: lanes repeat).
// Round H turns two vectors into one whose lanes with bit H clear add the
// first vector's lanes i and i^H and the others the second's: one blend, one
// two-source permute and one add per merge, M - M/C merges in all (about
// 0.75 vector operations per product against ~7 for a shuffle tree per
// product plus scalar extraction). Rounds run H = 1, 2, ... so the products
// of one pair are merged first and few vectors stay live. The tree is fixed
// by M and C alone, so the sums do not depend on the thread count.
template <class T, int H>
KMATRIX_INLINE typename kernel_types<T>::V merge_lanes(typename kernel_types<T>::V a,
                                                       typename kernel_types<T>::V b) {
    using K = kernel_types<T>;
    constexpr int C = K::lanes;
    typename K::M keep, swap;
#pragma GCC unroll 16
    for (int j = 0; j < C; ++j) {
        keep[j] = (j & H) ? C + j : j;
        swap[j] = (j & H) ? C + (j ^ H) : (j ^ H);
    }
    return __builtin_shuffle(a, b, keep) + __builtin_shuffle(a, b, swap);
}
template <class T, int H, int Live, int M>
KMATRIX_INLINE void reduce_lanes(typename kernel_types<T>::V (&p)[M]) {
    if constexpr (H < kernel_types<T>::lanes) {
        if constexpr (Live >= 2) {
#pragma GCC unroll 32
            for (int q = 0; q < Live / 2; ++q) p[q] = merge_lanes<T, H>(p[2 * q], p[2 * q + 1]);
            reduce_lanes<T, 2 * H, Live / 2, M>(p);
        } else {
            p[0] = merge_lanes<T, H>(p[0], p[0]);
            reduce_lanes<T, 2 * H, 1, M>(p);
        }
    }
}

// Store (first chunk of a slot) or add the M reduced sums of one stage of a
// pass to their contiguous place d in the pass-ordered slot buffer.
template <class T, int M>
KMATRIX_INLINE void add_sums(const typename kernel_types<T>::V (&p)[M],
                             typename kernel_types<T>::R* d, bool first) {
    using K = kernel_types<T>;
    using V = typename K::V;
    using R = typename K::R;
    constexpr int C = K::lanes;
    if constexpr (M >= C) {
#pragma GCC unroll 8
        for (int o = 0; o < M / C; ++o) {
            V cur = p[o];
            if (!first) cur = vload<V>(d + o * C) + p[o];
            vstore(d + o * C, cur);
        }
    } else {  // lanes 0..M-1 of p[0]
        typedef R Piece __attribute__((vector_size(M * sizeof(R))));
        Piece part, cur;
        std::memcpy(&part, &p[0], sizeof(Piece));
        if (first) {
            cur = part;
        } else {
            std::memcpy(&cur, d, sizeof(Piece));
            cur += part;
        }
        std::memcpy(d, &cur, sizeof(Piece));
    }
}

// Backpropagate iterations [it0, it1) of one group: `in` is the saved tile
// at the group's input, `grad` holds the gradient at its output and
// receives the gradient at its input. The group's stages are recomputed in
// registers from `in`. For every pair, dL/d(block) = sum over the chunk's
// rows of g conj(x)^T (real: g x^T) is stored (first) or added to `dtw`.
// `tw` and `dtw` are the group's twiddles and gradients in pass order.
template <class T, int G, bool Desc>
KMATRIX_INLINE void backward_group(const typename kernel_types<T>::V* in,
                                   typename kernel_types<T>::V* grad, const StageGroup<T>& group,
                                   const T* tw, T* dtw, bool first, index_t it0, index_t it1) {
    using K = kernel_types<T>;
    using V = typename K::V;
    using R = typename K::R;
    constexpr int S = 1 << G;
    constexpr int P = K::planes;
    constexpr int NP = S / 2;        // pairs per stage and iteration
    constexpr int seg = 4 * P;       // reals of one pair's gradient
    constexpr int step = 4 * G * NP;  // entries per iteration
    const index_t s = index_t(1) << group.low_bit;
    for_each_run(group.low_bit, it0, it1, [&](index_t hi, index_t lo0, index_t lo_end)
                                              __attribute__((always_inline)) {
        const index_t zoff = hi * (s << G) * P;
        for (index_t lo = lo0; lo < lo_end; ++lo) {
            const V* x = in + zoff + lo * P;
            V* gz = grad + zoff + lo * P;
            const T* twi = tw + (hi * s + lo) * step;
            R* dti = reinterpret_cast<R*>(dtw + (hi * s + lo) * step);
            // activations at the input of every stage of the group
            V ar[G][S], ai[G][S];
            V re[S], im[S];
#pragma GCC unroll 16
            for (int l = 0; l < S; ++l) {
                re[l] = x[l * s * P];
                if constexpr (K::is_complex) im[l] = x[l * s * P + 1];
            }
#pragma GCC unroll 4
            for (int j = 0; j < G; ++j) {
                const int t = Desc ? G - 1 - j : j;
#pragma GCC unroll 16
                for (int l = 0; l < S; ++l) {
                    ar[j][l] = re[l];
                    if constexpr (K::is_complex) ai[j][l] = im[l];
                }
                if (j == G - 1) break;  // the last stage's output is not needed
#pragma GCC unroll 16
                for (int l = 0; l < S; ++l) {
                    if ((l >> t) & 1) continue;
                    const int h = l | (1 << t);
                    const int l_rm = ((l >> (t + 1)) << t) | (l & ((1 << t) - 1));
                    R br[4], bi[4];
                    load_block<T, TRANS_N>(twi + 4 * (j * NP + l_rm), br, bi);
                    apply_block<T>(br, bi, re[l], im[l], re[h], im[h]);
                }
            }
            // the output gradient, then the stages in reverse
#pragma GCC unroll 16
            for (int l = 0; l < S; ++l) {
                re[l] = gz[l * s * P];
                if constexpr (K::is_complex) im[l] = gz[l * s * P + 1];
            }
#pragma GCC unroll 4
            for (int j = G - 1; j >= 0; --j) {
                const int t = Desc ? G - 1 - j : j;
                // products of pair l_rm, entry e at prod[l_rm * seg + e]
                V prod[NP * seg];
#pragma GCC unroll 16
                for (int l = 0; l < S; ++l) {
                    if ((l >> t) & 1) continue;
                    const int h = l | (1 << t);
                    const int l_rm = ((l >> (t + 1)) << t) | (l & ((1 << t) - 1));
                    V* pr = prod + l_rm * seg;
                    R br[4], bi[4];
                    load_block<T, TRANS_H>(twi + 4 * (j * NP + l_rm), br, bi);
                    if constexpr (K::is_complex) {
                        const V g0r = re[l], g0i = im[l], g1r = re[h], g1i = im[h];
                        const V a0r = ar[j][l], a0i = ai[j][l], a1r = ar[j][h], a1i = ai[j][h];
                        // entries a, b, c, d: g_row * conj(x_col), (re, im) each
                        pr[0] = g0r * a0r + g0i * a0i; pr[1] = g0i * a0r - g0r * a0i;
                        pr[2] = g0r * a1r + g0i * a1i; pr[3] = g0i * a1r - g0r * a1i;
                        pr[4] = g1r * a0r + g1i * a0i; pr[5] = g1i * a0r - g1r * a0i;
                        pr[6] = g1r * a1r + g1i * a1i; pr[7] = g1i * a1r - g1r * a1i;
                    } else {
                        const V g0 = re[l], g1 = re[h];
                        const V a0 = ar[j][l], a1 = ar[j][h];
                        pr[0] = g0 * a0; pr[1] = g0 * a1; pr[2] = g1 * a0; pr[3] = g1 * a1;
                    }
                    // the gradient through the block: block^H (g_l, g_h)
                    apply_block<T>(br, bi, re[l], im[l], re[h], im[h]);
                }
                reduce_lanes<T, 1, NP * seg>(prod);
                add_sums<T>(prod, dti + j * NP * seg, first);
            }
#pragma GCC unroll 16
            for (int l = 0; l < S; ++l) {
                gz[l * s * P] = re[l];
                if constexpr (K::is_complex) gz[l * s * P + 1] = im[l];
            }
        }
    });
}

// Entry of the vjp: units [u0, u1) of one phase of one chunk. `saved` holds
// n_groups + 1 tiles: the input of every group, then the gradient tile.
template <class T>
bool vjp_phase(const VjpJob<T>& job, const Phase& ph, index_t chunk, void* saved_ptr, T* dtw,
               bool first, index_t u0, index_t u1) {
    using K = kernel_types<T>;
    using V = typename K::V;
    V* saved = static_cast<V*>(saved_ptr);
    const index_t N = job.N;
    const index_t tile = N * K::planes;
    TileRange r;
    r.row0 = chunk * K::lanes;
    r.n_rows = job.n_rows - r.row0 < K::lanes ? job.n_rows - r.row0 : K::lanes;
    r.real_io = job.real_io;
    r.perm = nullptr;
    r.p0 = u0 * job.io_block;
    const auto visit = [&](const StageGroup<T>& gr, auto&& f) __attribute__((always_inline)) {
        visit_group_shape<T, K::max_vjp_group>(gr.size, gr.descending, f);
    };
    switch (ph.type) {
        case PHASE_LOAD:
            r.p1 = u1 * job.io_block < N ? u1 * job.io_block : N;
            return load_tile<T>(saved, job.x, r, job.check_finite);
        case PHASE_LOAD_GRAD:
            r.p1 = u1 * job.io_block < N ? u1 * job.io_block : N;
            return load_tile<T>(saved + job.n_groups * tile, job.g, r, job.check_finite);
        case PHASE_STORE_DX:
            r.p1 = u1 * job.io_block < job.dx.len ? u1 * job.io_block : job.dx.len;
            if (r.p0 < r.p1)
                store_tile<T>(saved + job.n_groups * tile, job.dx, r, Epilogue<T>(), job.gate);
            return true;
        case PHASE_FORWARD: {
            const index_t i = ph.first;
            const StageGroup<T>& gr = job.groups[i];
            index_t it0, it1;
            unit_span(N >> gr.size, ph.n_units, u0, u1, it0, it1);
            const T* packed = job.packed + job.group_offset[i];
            visit(gr, [&](auto g, auto desc) __attribute__((always_inline)) {
                apply_group<T, decltype(g)::value, decltype(desc)::value, TRANS_N, KIND_GENERAL,
                            true>(saved + (i + 1) * tile, saved + i * tile, gr, 0, it0, it1,
                                  packed);
            });
            return true;
        }
        case PHASE_BACKWARD: {
            const index_t i = ph.first;
            const StageGroup<T>& gr = job.groups[i];
            index_t it0, it1;
            unit_span(N >> gr.size, ph.n_units, u0, u1, it0, it1);
            const index_t off = job.group_offset[i];
            visit(gr, [&](auto g, auto desc) __attribute__((always_inline)) {
                backward_group<T, decltype(g)::value, decltype(desc)::value>(
                    saved + i * tile, saved + job.n_groups * tile, gr, job.packed + off, dtw + off,
                    first, it0, it1);
            });
            return true;
        }
        default:
            return false;
    }
}

}  // namespace KMATRIX_ISA_NS
}  // namespace kmatrix

#endif  // KMATRIX_ISA_VJP_TILE_HPP
