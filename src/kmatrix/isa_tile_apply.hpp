// Per-ISA kernel header: compiled into every (instruction set, scalar type)
// kernel unit, inside namespace KMATRIX_ISA_NS. May include: isa_*.hpp,
// kernel_interface.hpp, standard headers without out-of-line code.
//
// Fused passes of stages over a tile (the batched path), and the phase
// entry point of the batched apply. Included by the kernel translation
// units only (see isa_simd.hpp).
#ifndef KMATRIX_ISA_TILE_APPLY_HPP
#define KMATRIX_ISA_TILE_APPLY_HPP

#include "isa_tile.hpp"

namespace kmatrix {
namespace KMATRIX_ISA_NS {

// (x_l, x_h) <- op(block) (x_l, x_h) for one pair, by the stage's kind (see
// StageKind). Each kind is apply_block's arithmetic with the known products
// by 0 and 1 left out and exact negations folded into fms/fnma, so it
// rounds as the general code does (up to the sign of zeros), only cheaper.
// With w the free entry, p = w (x) x_h as apply_block computes b (x) x_h:
//   DIT  (a = c = 1, d = -b): (x_l + p, x_l - p)
//   DITC (b = d = 1, c = -a): (fma(w, x_l, x_h), fnma(w, x_l, x_h))
//   DIF  (a = b = 1, d = -c): (x_l + x_h, fms(w, x_l, p'))  with p' = fma(wi, x_li, pr)...
//   DIFR (c = d = 1, b = -a): (fms(w, x_l, p'), x_l + x_h)
// (complex fma(w, x, y) = (fma(wr, xr, fnma(wi, xi, yr)), fma(wr, xi, fma(wi, xr, yi))); the
// DIF/DIFR lines are written out in the code).
template <class T, int Trans, int Kind>
KMATRIX_INLINE void apply_pair(const T* tw, typename kernel_types<T>::V& rl,
                               typename kernel_types<T>::V& il, typename kernel_types<T>::V& rh,
                               typename kernel_types<T>::V& ih) {
    using K = kernel_types<T>;
    using V = typename K::V;
    using M = typename K::M;
    using R = typename K::R;
    R br[4], bi[4];
    load_block<T, Trans>(tw, br, bi);
    if constexpr (Kind == KIND_GENERAL) {
        apply_block<T>(br, bi, rl, il, rh, ih);
    } else if constexpr (Kind == KIND_PERM) {
        // identity or swap: a == 0 means swap
        const M swap = M{} + (br[0] == R(0) ? -1 : 0);
        const V l = rl, h = rh;
        rl = swap ? h : l;
        rh = swap ? l : h;
        if constexpr (K::is_complex) {
            const V li = il, hi = ih;
            il = swap ? hi : li;
            ih = swap ? li : hi;
        }
    } else if constexpr (K::is_complex) {
        const V x0r = rl, x0i = il, x1r = rh, x1i = ih;
        // w (x) x_h as apply_block computes b (x) x_h
        const auto times_h = [&](R wr, R wi, V& pr, V& pi) __attribute__((always_inline)) {
            pr = vfms(wr, x1r, splat<V>(wi) * x1i);
            pi = vfma(wr, x1i, splat<V>(wi) * x1r);
        };
        if constexpr (Kind == KIND_DIT) {
            // d (x) x_h = (-w) (x) x_h = -p exactly
            V pr, pi;
            times_h(br[1], bi[1], pr, pi);
            rl = x0r + pr; il = x0i + pi;
            rh = x0r - pr; ih = x0i - pi;
        } else if constexpr (Kind == KIND_DITC) {
            // b (x) x_h = x_h; c = -a
            const R ar = br[0], ai = bi[0];
            rl = vfma(ar, x0r, vfnma(ai, x0i, x1r));
            il = vfma(ar, x0i, vfma(ai, x0r, x1i));
            rh = vfnma(ar, x0r, vfma(ai, x0i, x1r));
            ih = vfnma(ar, x0i, vfnma(ai, x0r, x1i));
        } else if constexpr (Kind == KIND_DIF) {
            // b (x) x_h = x_h; d (x) x_h = -(c (x) x_h) = -q
            const R cr = br[2], ci = bi[2];
            V qr, qi;
            times_h(cr, ci, qr, qi);
            rl = x0r + x1r; il = x0i + x1i;
            rh = vfms(cr, x0r, vfma(ci, x0i, qr));
            ih = vfma(cr, x0i, vfms(ci, x0r, qi));
        } else {  // KIND_DIFR: b (x) x_h = -(a (x) x_h) = -p; d (x) x_h = x_h
            const R ar = br[0], ai = bi[0];
            V pr, pi;
            times_h(ar, ai, pr, pi);
            rl = vfms(ar, x0r, vfma(ai, x0i, pr));
            il = vfma(ar, x0i, vfms(ai, x0r, pi));
            rh = x0r + x1r; ih = x0i + x1i;
        }
    }
}

// One fused pass of G stages, iterations [it0, it1) of N >> G.
//
// The group acts on bits b0..b0+G-1 with stride s = 2^b0: iteration
// it = hi * s + lo covers positions u = hi * 2^(b0+G) + lo + l * s for the
// local index l < 2^G, and the pair of position u on local bit t is
// p = hi * 2^(b0+G-1) + lo + (l without bit t) * s. The pass reads tile `src`
// and writes tile `Z` (in place, or into another tile in the vjp's forward,
// which keeps its input). With Packed, the twiddles come from `packed`, the
// group's blocks in pass order (see the vjp), instead.
template <class T, int G, bool Desc, int Trans, int Kind, bool Packed = false>
KMATRIX_INLINE void apply_group(typename kernel_types<T>::V* Z,
                                const typename kernel_types<T>::V* src,
                                const StageGroup<T>& group, index_t pair_offset, index_t it0,
                                index_t it1, const T* packed = nullptr) {
    using K = kernel_types<T>;
    using V = typename K::V;
    constexpr int S = 1 << G;
    constexpr int P = K::planes;
    const index_t s = index_t(1) << group.low_bit;
    for_each_run(group.low_bit, it0, it1, [&](index_t hi, index_t lo0, index_t lo_end)
                                              __attribute__((always_inline)) {
        const index_t zoff = hi * (s << G) * P;
        const index_t pbase = hi * (s << (G - 1));
        for (index_t lo = lo0; lo < lo_end; ++lo) {
            V re[S], im[S];
            const V* in = src + zoff + lo * P;
#pragma GCC unroll 16
            for (int l = 0; l < S; ++l) {
                re[l] = in[l * s * P];
                if constexpr (K::is_complex) im[l] = in[l * s * P + 1];
            }
#pragma GCC unroll 4
            for (int j = 0; j < G; ++j) {
                const int t = Desc ? G - 1 - j : j;  // local bit of stage j
                const T* tw = Packed ? packed + 4 * ((hi * s + lo) * G + j) * (S / 2)
                                     : group.twiddles[j] + 4 * (pair_offset + pbase + lo);
#pragma GCC unroll 16
                for (int l = 0; l < S; ++l) {
                    if ((l >> t) & 1) continue;
                    const int h = l | (1 << t);
                    const int l_rm = ((l >> (t + 1)) << t) | (l & ((1 << t) - 1));
                    apply_pair<T, Trans, Kind>(tw + 4 * (Packed ? l_rm : l_rm * s), re[l], im[l],
                                               re[h], im[h]);
                }
            }
            V* out = Z + zoff + lo * P;
#pragma GCC unroll 16
            for (int l = 0; l < S; ++l) {
                out[l * s * P] = re[l];
                if constexpr (K::is_complex) out[l * s * P + 1] = im[l];
            }
        }
    });
}

// apply_group for the group's shape, transposition and kind, reading the
// group's twiddles in pass order from `packed`. The special
// kinds are compiled for TRANS_N and TRANS_T only (the planner classifies
// stages for those; a real network's H is its T), and for real networks
// only permutations (the butterfly kinds save little on real data and would
// double the compile time).
template <class T, int Trans>
KMATRIX_INLINE void apply_one_group(typename kernel_types<T>::V* Z,
                                    const typename kernel_types<T>::V* src,
                                    const StageGroup<T>& gr, index_t pair_offset, index_t it0,
                                    index_t it1, const T* packed) {
    using K = kernel_types<T>;
    const auto run = [&](auto kind) __attribute__((always_inline)) {
        visit_group_shape<T, K::max_group>(gr.size, gr.descending,
                                           [&](auto g, auto desc) __attribute__((always_inline)) {
            apply_group<T, decltype(g)::value, decltype(desc)::value, Trans,
                        decltype(kind)::value, true>(Z, src, gr, pair_offset, it0, it1, packed);
        });
    };
    using std::integral_constant;
    if constexpr (Trans == TRANS_H) {
        run(integral_constant<int, KIND_GENERAL>{});
    } else if constexpr (!K::is_complex) {
        if (gr.kind == KIND_PERM) run(integral_constant<int, KIND_PERM>{});
        else run(integral_constant<int, KIND_GENERAL>{});
    } else {
        switch (gr.kind) {
            case KIND_PERM: run(integral_constant<int, KIND_PERM>{}); break;
            case KIND_DIT: run(integral_constant<int, KIND_DIT>{}); break;
            case KIND_DITC: run(integral_constant<int, KIND_DITC>{}); break;
            case KIND_DIF: run(integral_constant<int, KIND_DIF>{}); break;
            case KIND_DIFR: run(integral_constant<int, KIND_DIFR>{}); break;
            default: run(integral_constant<int, KIND_GENERAL>{}); break;
        }
    }
}

// Iterations [u0 * n / n_units, u1 * n / n_units) of n: the share of units
// [u0, u1) when n things are cut into n_units near-equal parts.
KMATRIX_INLINE void unit_span(index_t n, index_t n_units, index_t u0, index_t u1, index_t& lo,
                              index_t& hi) {
    lo = u0 * n / n_units;
    hi = u1 * n / n_units;
}

template <class T, int Trans>
KMATRIX_INLINE void tile_compute(const TileJob<T>& job, const Phase& ph,
                                 typename kernel_types<T>::V* Z, index_t u0, index_t u1) {
    using K = kernel_types<T>;
    if (ph.type == PHASE_GROUP) {
        const StageGroup<T>& gr = job.groups[ph.first];
        index_t it0, it1;
        unit_span(job.N >> gr.size, ph.n_units, u0, u1, it0, it1);
        apply_one_group<T, Trans>(Z, Z, gr, 0, it0, it1, job.packed + job.group_offset[ph.first]);
        return;
    }
    // PHASE_RUN: consecutive groups on bits below cache_bits act on aligned
    // blocks of 2^cache_bits tile rows independently; a block stays in the
    // core's cache across them
    const index_t block = index_t(1) << job.cache_bits;
    for (index_t blk = u0; blk < u1; ++blk) {
        typename K::V* Zb = Z + blk * block * K::planes;
        for (index_t g = ph.first; g < ph.last; ++g) {
            const StageGroup<T>& gr = job.groups[g];
            // the block's iterations are contiguous in pass order
            const T* packed = job.packed + job.group_offset[g] +
                              blk * (block >> gr.size) * 4 * gr.size * (index_t(1) << (gr.size - 1));
            apply_one_group<T, Trans>(Zb, Zb, gr, blk * (block / 2), 0, block >> gr.size, packed);
        }
    }
}

// Entry of the batched apply: units [u0, u1) of one phase of one chunk.
template <class T>
bool tile_phase(const TileJob<T>& job, const Phase& ph, index_t chunk, void* tile, index_t u0,
                index_t u1) {
    using K = kernel_types<T>;
    using V = typename K::V;
    V* Z = static_cast<V*>(tile);
    TileRange r;
    r.row0 = chunk * K::lanes;
    r.n_rows = job.n_rows - r.row0 < K::lanes ? job.n_rows - r.row0 : K::lanes;
    r.real_io = job.real_io;
    switch (ph.type) {
        case PHASE_LOAD:
            r.p0 = u0 * job.io_block;
            r.p1 = u1 * job.io_block < job.N ? u1 * job.io_block : job.N;
            r.perm = job.load_to;
            return load_tile<T>(Z, job.x, r, job.check_finite);
        case PHASE_STORE:
            r.p0 = u0 * job.io_block;
            r.p1 = u1 * job.io_block < job.y.len ? u1 * job.io_block : job.y.len;
            r.perm = job.store_from;
            if (r.p0 < r.p1) store_tile<T>(Z, job.y, r, job.epilogue);
            return true;
        default:
            switch (job.trans) {
                case TRANS_N: tile_compute<T, TRANS_N>(job, ph, Z, u0, u1); break;
                case TRANS_T: tile_compute<T, TRANS_T>(job, ph, Z, u0, u1); break;
                default:
                    if constexpr (K::is_complex) tile_compute<T, TRANS_H>(job, ph, Z, u0, u1);
                    else tile_compute<T, TRANS_T>(job, ph, Z, u0, u1);
                    break;
            }
            return true;
    }
}

}  // namespace KMATRIX_ISA_NS
}  // namespace kmatrix

#endif  // KMATRIX_ISA_TILE_APPLY_HPP
