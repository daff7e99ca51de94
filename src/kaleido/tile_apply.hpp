// Fused passes of stages over a tile (the batched path), and the phase
// entry point of the batched apply. Included by the kernel translation
// units only (see simd.hpp).
#ifndef KALEIDO_TILE_APPLY_HPP
#define KALEIDO_TILE_APPLY_HPP

#include "tile.hpp"

namespace kaleido {
namespace KALEIDO_ISA_NS {

// (x_l, x_h) <- op(block) (x_l, x_h) for one pair, by the stage's kind (see
// StageKind): the special kinds skip multiplications by 0 and 1.
template <class T, int Trans, int Kind>
KALEIDO_INLINE void apply_pair(const T* tw, typename kernel_types<T>::V& rl,
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
    } else {
        // w is the one free entry: b (DIT), a (DITC, DIFR) or c (DIF)
        constexpr int e = Kind == KIND_DIT ? 1 : Kind == KIND_DIF ? 2 : 0;
        const R wr = br[e], wi = bi[e];
        if constexpr (Kind == KIND_DIT || Kind == KIND_DITC) {
            // t = w x_v (DIT) or w x_u (DITC); the other element is added
            const V xr = Kind == KIND_DIT ? rh : rl;
            const V or_ = Kind == KIND_DIT ? rl : rh;
            V tr, ti, xi{}, oi{};
            if constexpr (K::is_complex) {
                xi = Kind == KIND_DIT ? ih : il;
                oi = Kind == KIND_DIT ? il : ih;
                tr = wr * xr - wi * xi;
                ti = wr * xi + wi * xr;
            } else {
                tr = wr * xr;
            }
            if constexpr (Kind == KIND_DIT) {
                rl = or_ + tr;
                rh = or_ - tr;
                if constexpr (K::is_complex) { il = oi + ti; ih = oi - ti; }
            } else {
                rl = tr + or_;
                rh = or_ - tr;
                if constexpr (K::is_complex) { il = ti + oi; ih = oi - ti; }
            }
        } else {
            // DIF: (x_u + x_v, w s); DIFR: (w s, x_u + x_v); s = x_u - x_v
            const V sr = rl - rh, ar = rl + rh;
            V si{}, ai{};
            if constexpr (K::is_complex) { si = il - ih; ai = il + ih; }
            V pr, pi{};
            if constexpr (K::is_complex) {
                pr = wr * sr - wi * si;
                pi = wr * si + wi * sr;
            } else {
                pr = wr * sr;
            }
            if constexpr (Kind == KIND_DIF) {
                rl = ar; rh = pr;
                if constexpr (K::is_complex) { il = ai; ih = pi; }
            } else {
                rl = pr; rh = ar;
                if constexpr (K::is_complex) { il = pi; ih = ai; }
            }
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
KALEIDO_INLINE void apply_group(typename kernel_types<T>::V* Z,
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
KALEIDO_INLINE void apply_one_group(typename kernel_types<T>::V* Z,
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
KALEIDO_INLINE void unit_span(index_t n, index_t n_units, index_t u0, index_t u1, index_t& lo,
                              index_t& hi) {
    lo = u0 * n / n_units;
    hi = u1 * n / n_units;
}

template <class T, int Trans>
KALEIDO_INLINE void tile_compute(const TileJob<T>& job, const Phase& ph,
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
            if (r.p0 < r.p1) store_tile<T>(Z, job.y, r);
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

}  // namespace KALEIDO_ISA_NS
}  // namespace kaleido

#endif  // KALEIDO_TILE_APPLY_HPP
