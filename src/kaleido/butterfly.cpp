// Batched K-matrix products; see butterfly.hpp for the layout and design.
#include "butterfly.hpp"

#include <cstdlib>
#include <cstring>
#include <memory>
#include <type_traits>
#include <vector>

namespace kaleido {
namespace {

#if defined(__GNUC__) || defined(__clang__)
#define KALEIDO_INLINE inline __attribute__((always_inline))
#else
#error "kaleido's kernels use GCC/Clang vector extensions"
#endif

// Runtime dispatch: every hot function below is inlined into the per-dtype
// chunk function, which GCC compiles once per target and picks at load time
// (ifunc). Portable builds thereby still use AVX-512/AVX2+FMA where present.
#if defined(KALEIDO_TARGET_CLONES) && defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define KALEIDO_DISPATCH \
    __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define KALEIDO_DISPATCH
#endif

// ---------------------------------------------------------------- types --
template <class T>
struct scalar_traits {
    using real = T;
    static constexpr bool is_complex = false;
};
template <class R>
struct scalar_traits<std::complex<R>> {
    using real = R;
    static constexpr bool is_complex = true;
};

// One 64-byte lane vector: C real scalars of C rows of the batch.
template <class R>
struct lane_vector;
template <>
struct lane_vector<float> {
    typedef float type __attribute__((vector_size(64)));
    typedef std::int32_t mask __attribute__((vector_size(64)));
};
template <>
struct lane_vector<double> {
    typedef double type __attribute__((vector_size(64)));
    typedef std::int64_t mask __attribute__((vector_size(64)));
};

template <class T>
struct kernel_types {
    using R = typename scalar_traits<T>::real;
    using V = typename lane_vector<R>::type;
    using M = typename lane_vector<R>::mask;
    static constexpr bool is_complex = scalar_traits<T>::is_complex;
    static constexpr int lanes = 64 / sizeof(R);
    static constexpr int planes = is_complex ? 2 : 1;  // tile row = planes * V
};

// A run of 1..4 consecutive stages acting on consecutive bits b0..b0+G-1,
// in decreasing (B* half) or increasing (B half) bit order.
template <class T>
struct StageGroup {
    int size;
    bool descending;
    int low_bit;
    const T* twiddles[4];
};
// Stages fused per pass: 2^G tile rows stay in registers (16 lane vectors
// for real data, 8 pairs of them for complex data).
template <class T>
constexpr int max_group() {
    return scalar_traits<T>::is_complex ? 3 : 4;
}

// The 2x2 block of pair p as op(block) for op = identity, T or H, read as
// real and imaginary parts (std::complex accessors are not inlined into
// target clones, so the hot path sees only real scalars).
template <class T, int Trans>
KALEIDO_INLINE void load_block(const T* t, typename scalar_traits<T>::real (&re)[4],
                               typename scalar_traits<T>::real (&im)[4]) {
    using R = typename scalar_traits<T>::real;
    constexpr bool cplx = scalar_traits<T>::is_complex;
    const R* r = reinterpret_cast<const R*>(t);
    // entry order a, b, c, d; transposing swaps b and c
    constexpr int order[4] = {0, Trans == TRANS_N ? 1 : 2, Trans == TRANS_N ? 2 : 1, 3};
    for (int e = 0; e < 4; ++e) {
        if constexpr (cplx) {
            re[e] = r[2 * order[e]];
            im[e] = Trans == TRANS_H ? -r[2 * order[e] + 1] : r[2 * order[e] + 1];
        } else {
            re[e] = r[order[e]];
            im[e] = R(0);
        }
    }
}

// The 2^G tile rows z[0], z[stride], ... of one pass into registers (real and
// imaginary planes), and back.
template <class T, int S>
KALEIDO_INLINE void load_rows(const typename kernel_types<T>::V* z, index_t stride,
                              typename kernel_types<T>::V (&re)[S],
                              typename kernel_types<T>::V (&im)[S]) {
#pragma GCC unroll 16
    for (int l = 0; l < S; ++l) {
        re[l] = z[l * stride];
        if constexpr (kernel_types<T>::is_complex) im[l] = z[l * stride + 1];
    }
}
template <class T, int S>
KALEIDO_INLINE void store_rows(typename kernel_types<T>::V* z, index_t stride,
                               const typename kernel_types<T>::V (&re)[S],
                               const typename kernel_types<T>::V (&im)[S]) {
#pragma GCC unroll 16
    for (int l = 0; l < S; ++l) {
        z[l * stride] = re[l];
        if constexpr (kernel_types<T>::is_complex) z[l * stride + 1] = im[l];
    }
}

// Calls f(std::integral_constant<int, G>, std::bool_constant<Desc>) for the
// group's size and direction: one switch for every kind of pass. Callers'
// lambdas must be always_inline: a lambda left out of line is compiled for
// the baseline ISA, outside the target clone (measured 20x slower, complex).
template <class T, class F>
KALEIDO_INLINE void visit_group(const StageGroup<T>& gr, F&& f) {
    using std::bool_constant;
    using std::integral_constant;
    switch (gr.size * 2 + (gr.descending ? 1 : 0)) {
        case 2: case 3: f(integral_constant<int, 1>{}, bool_constant<false>{}); break;
        case 4: f(integral_constant<int, 2>{}, bool_constant<false>{}); break;
        case 5: f(integral_constant<int, 2>{}, bool_constant<true>{}); break;
        case 6: f(integral_constant<int, 3>{}, bool_constant<false>{}); break;
        case 7: f(integral_constant<int, 3>{}, bool_constant<true>{}); break;
        case 8:
            if constexpr (!kernel_types<T>::is_complex)
                f(integral_constant<int, 4>{}, bool_constant<false>{});
            break;
        case 9:
            if constexpr (!kernel_types<T>::is_complex)
                f(integral_constant<int, 4>{}, bool_constant<true>{});
            break;
        default: break;  // unreachable: plan_groups bounds the size
    }
}

// (x_l, x_h) <- block (x_l, x_h) on lane vectors; complex values as
// separate real and imaginary planes, the block as real/imaginary parts.
template <class T>
KALEIDO_INLINE void apply_block(const typename kernel_types<T>::R (&br)[4],
                                const typename kernel_types<T>::R (&bi)[4],
                                typename kernel_types<T>::V& rl, typename kernel_types<T>::V& il,
                                typename kernel_types<T>::V& rh, typename kernel_types<T>::V& ih) {
    using V = typename kernel_types<T>::V;
    if constexpr (kernel_types<T>::is_complex) {
        const V x0r = rl, x0i = il, x1r = rh, x1i = ih;
        rl = br[0] * x0r - bi[0] * x0i + br[1] * x1r - bi[1] * x1i;
        il = br[0] * x0i + bi[0] * x0r + br[1] * x1i + bi[1] * x1r;
        rh = br[2] * x0r - bi[2] * x0i + br[3] * x1r - bi[3] * x1i;
        ih = br[2] * x0i + bi[2] * x0r + br[3] * x1i + bi[3] * x1r;
    } else {
        (void)bi; (void)il; (void)ih;
        const V x0 = rl, x1 = rh;
        rl = br[0] * x0 + br[1] * x1;
        rh = br[2] * x0 + br[3] * x1;
    }
}

// One fused pass of G stages over the tile Z (N rows of `planes` vectors).
//
// The group acts on bits b0..b0+G-1 with stride s = 2^b0: positions
// u = hi * 2^(b0+G) + lo + l * s for lo < s and local index l < 2^G. In
// those terms the pair of position u on local bit t is
// p = hi * 2^(b0+G-1) + lo + (l without bit t) * s, so every address is a
// base that moves by one row (one pair) per `lo` plus a per-l offset.
// The pass reads tile `src` and writes tile `Z` (the same tile in place, or
// another one when the input must be kept, as in the vjp).
//
// With Packed (the vjp's forward), the twiddles are read from `packed`, the
// group's twiddles in pass order (see visit_pass_order), instead.
template <class T, int G, bool Desc, int Trans, bool Packed = false>
KALEIDO_INLINE void apply_group(typename kernel_types<T>::V* Z,
                                const typename kernel_types<T>::V* src, index_t N,
                                const StageGroup<T>& group, index_t pair_offset,
                                const T* packed = nullptr) {
    using K = kernel_types<T>;
    using V = typename K::V;
    using R = typename K::R;
    constexpr int S = 1 << G;
    constexpr int P = K::planes;
    const int b0 = group.low_bit;
    const index_t s = index_t(1) << b0;
    const index_t n_hi = N >> (b0 + G);
    for (index_t hi = 0; hi < n_hi; ++hi) {
        const index_t zoff = hi * (s << G) * P;
        const index_t pbase = hi * (s << (G - 1));
        for (index_t lo = 0; lo < s; ++lo) {
            V* const z = Z + zoff + lo * P;
            V re[S], im[S];
            load_rows<T, S>(src + zoff + lo * P, s * P, re, im);
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
                    R br[4], bi[4];  // block entries a, b, c, d
                    load_block<T, Trans>(tw + 4 * (Packed ? l_rm : l_rm * s), br, bi);
                    apply_block<T>(br, bi, re[l], im[l], re[h], im[h]);
                }
            }
            store_rows<T, S>(z, s * P, re, im);
        }
    }
}

template <class T, int Trans, bool Packed = false>
KALEIDO_INLINE void apply_one_group(typename kernel_types<T>::V* Z,
                                    const typename kernel_types<T>::V* src, index_t N,
                                    const StageGroup<T>& gr, index_t pair_offset,
                                    const T* packed = nullptr) {
    visit_group(gr, [&](auto g, auto desc) __attribute__((always_inline)) {
        apply_group<T, decltype(g)::value, decltype(desc)::value, Trans, Packed>(
            Z, src, N, gr, pair_offset, packed);
    });
}

// Every pass of the plan over the tile. Consecutive passes that only touch
// bits below `cache_bits` act independently on aligned blocks of
// 2^cache_bits tile rows; those are run block by block so that a block
// stays in the core's L2 across the passes (large N only).
template <class T, int Trans>
KALEIDO_INLINE void apply_groups(typename kernel_types<T>::V* Z, index_t N,
                                 const StageGroup<T>* groups, index_t n_groups) {
    using K = kernel_types<T>;
    // ~512 KiB of tile rows per block
    constexpr int cache_bits = K::is_complex ? 12 : 13;
    const index_t block = index_t(1) << cache_bits;
    index_t g = 0;
    while (g < n_groups) {
        index_t end = g;
        while (end < n_groups && N > block &&
               groups[end].low_bit + groups[end].size <= cache_bits)
            ++end;
        if (end - g >= 2) {
            for (index_t blk = 0; blk < N / block; ++blk)
                for (index_t i = g; i < end; ++i)
                    apply_one_group<T, Trans>(Z + blk * block * K::planes,
                                              Z + blk * block * K::planes, block, groups[i],
                                              blk * (block / 2));
            g = end;
        } else {
            apply_one_group<T, Trans>(Z, Z, N, groups[g], 0);
            ++g;
        }
    }
}

// In-register transpose of C lane vectors: r[i][j] <- r[j][i]. Round t
// exchanges bit t of the row index with bit t of the column index, one
// two-source shuffle per output vector (C log2 C shuffles in all).
template <class T>
KALEIDO_INLINE void transpose_square(typename kernel_types<T>::V (&r)[kernel_types<T>::lanes]) {
    using K = kernel_types<T>;
    using V = typename K::V;
    using M = typename K::M;
    constexpr int C = K::lanes;
#pragma GCC unroll 4
    for (int t = 0; (1 << t) < C; ++t) {
        const int h = 1 << t;
        M lo, hi;
#pragma GCC unroll 16
        for (int j = 0; j < C; ++j) {
            const bool low = ((j >> t) & 1) == 0;
            lo[j] = low ? j : C + j - h;
            hi[j] = low ? j + h : C + j;
        }
#pragma GCC unroll 16
        for (int i = 0; i < C; ++i) {
            if ((i >> t) & 1) continue;
            const V a = r[i], b = r[i + h];
            r[i] = __builtin_shuffle(a, b, lo);
            r[i + h] = __builtin_shuffle(a, b, hi);
        }
    }
}

// Lanes 0..C-1 of two vectors holding C interleaved complex values, split
// into real (part 0) or imaginary (part 1) parts; and the inverse.
template <class T>
KALEIDO_INLINE typename kernel_types<T>::V deinterleave(typename kernel_types<T>::V w0,
                                                        typename kernel_types<T>::V w1, int part) {
    using K = kernel_types<T>;
    typename K::M m;
#pragma GCC unroll 16
    for (int j = 0; j < K::lanes; ++j) m[j] = 2 * j + part;
    return __builtin_shuffle(w0, w1, m);
}
template <class T>
KALEIDO_INLINE typename kernel_types<T>::V interleave(typename kernel_types<T>::V re,
                                                      typename kernel_types<T>::V im, int half) {
    using K = kernel_types<T>;
    constexpr int C = K::lanes;
    typename K::M m;
#pragma GCC unroll 16
    for (int j = 0; j < C; ++j) m[j] = (j & 1 ? C : 0) + (half * C + j) / 2;
    return __builtin_shuffle(re, im, m);
}

struct ChunkArgs {
    index_t N, n_groups, row0, n_rows_here;
    index_t x_len, x_rs, x_cs, y_len, y_rs, y_cs;
    int trans;
    bool check_finite;
};

// Read rows row0..row0+nr-1 of x into the tile: Z[u] holds position u of
// every row (lane = row). Full chunks of unit-stride rows go through C x C
// in-register transposes; the rest (the last partial chunk, strided rows,
// the tail of a row) element by element. Returns false on NaN/inf when
// check_finite is set.
template <class T>
KALEIDO_INLINE bool load_tile(typename kernel_types<T>::V* Z, const T* x, const ChunkArgs& a) {
    using K = kernel_types<T>;
    using R = typename K::R;
    using V = typename K::V;
    using M = typename K::M;
    constexpr int C = K::lanes;
    constexpr int P = K::planes;
    R* Zs = reinterpret_cast<R*>(Z);
    const index_t nr = a.n_rows_here;
    // rows beyond x_len are the zero padding; lanes beyond nr are unused
    std::memset(Zs + a.x_len * P * C, 0, sizeof(R) * (a.N - a.x_len) * P * C);
    M bad = M{};  // (v - v) != 0 flags NaN and infinity
    index_t u_done = 0;
    if (nr == C && a.x_cs == 1) {
        const R* rows[C];
        for (int lane = 0; lane < C; ++lane)
            rows[lane] = reinterpret_cast<const R*>(x + (a.row0 + lane) * a.x_rs);
        for (; u_done + C <= a.x_len; u_done += C) {
#pragma GCC unroll 2
            for (int pl = 0; pl < P; ++pl) {
                V r[C];
#pragma GCC unroll 16
                for (int lane = 0; lane < C; ++lane) {
                    if constexpr (K::is_complex) {
                        V w0, w1;
                        std::memcpy(&w0, rows[lane] + 2 * u_done, sizeof(V));
                        std::memcpy(&w1, rows[lane] + 2 * u_done + C, sizeof(V));
                        r[lane] = deinterleave<T>(w0, w1, pl);
                    } else {
                        std::memcpy(&r[lane], rows[lane] + u_done, sizeof(V));
                    }
                }
                transpose_square<T>(r);
#pragma GCC unroll 16
                for (int j = 0; j < C; ++j) {
                    Z[(u_done + j) * P + pl] = r[j];
                    if (a.check_finite) bad |= (r[j] - r[j]) != 0;
                }
            }
        }
    }
    if (u_done < a.x_len) {
        if (nr < C) {
            for (index_t u = u_done; u < a.x_len; ++u)
                for (int pl = 0; pl < P; ++pl)
                    for (int lane = int(nr); lane < C; ++lane) Zs[(u * P + pl) * C + lane] = R(0);
        }
        // complex values are read as (re, im) pairs of reals: strides double
        const index_t xs = K::is_complex ? 2 * a.x_cs : a.x_cs;
        for (index_t lane = 0; lane < nr; ++lane) {
            const R* xr = reinterpret_cast<const R*>(x + (a.row0 + lane) * a.x_rs);
            for (index_t u = u_done; u < a.x_len; ++u) {
                Zs[(u * P) * C + lane] = xr[u * xs];
                if constexpr (K::is_complex) Zs[(u * P + 1) * C + lane] = xr[u * xs + 1];
            }
        }
        if (a.check_finite)
            for (index_t u = u_done; u < a.x_len; ++u)
                for (int pl = 0; pl < P; ++pl) bad |= (Z[u * P + pl] - Z[u * P + pl]) != 0;
    }
    if (a.check_finite)
        for (int j = 0; j < C; ++j)
            if (bad[j]) return false;
    return true;
}

// Write positions 0..y_len-1 of the tile back to rows row0..row0+nr-1 of y.
template <class T>
KALEIDO_INLINE void store_tile(const typename kernel_types<T>::V* Z, T* y, const ChunkArgs& a) {
    using K = kernel_types<T>;
    using R = typename K::R;
    using V = typename K::V;
    constexpr int C = K::lanes;
    constexpr int P = K::planes;
    const R* Zs = reinterpret_cast<const R*>(Z);
    const index_t nr = a.n_rows_here;
    index_t v_done = 0;
    if (nr == C && a.y_cs == 1) {
        R* rows[C];
        for (int lane = 0; lane < C; ++lane)
            rows[lane] = reinterpret_cast<R*>(y + (a.row0 + lane) * a.y_rs);
        for (; v_done + C <= a.y_len; v_done += C) {
            V re[C];
#pragma GCC unroll 16
            for (int j = 0; j < C; ++j) re[j] = Z[(v_done + j) * P];
            transpose_square<T>(re);
            if constexpr (K::is_complex) {
                V im[C];
#pragma GCC unroll 16
                for (int j = 0; j < C; ++j) im[j] = Z[(v_done + j) * P + 1];
                transpose_square<T>(im);
#pragma GCC unroll 16
                for (int lane = 0; lane < C; ++lane) {
                    const V w0 = interleave<T>(re[lane], im[lane], 0);
                    const V w1 = interleave<T>(re[lane], im[lane], 1);
                    std::memcpy(rows[lane] + 2 * v_done, &w0, sizeof(V));
                    std::memcpy(rows[lane] + 2 * v_done + C, &w1, sizeof(V));
                }
            } else {
#pragma GCC unroll 16
                for (int lane = 0; lane < C; ++lane)
                    std::memcpy(rows[lane] + v_done, &re[lane], sizeof(V));
            }
        }
    }
    const index_t ys = K::is_complex ? 2 * a.y_cs : a.y_cs;
    for (index_t lane = 0; lane < nr; ++lane) {
        R* yr = reinterpret_cast<R*>(y + (a.row0 + lane) * a.y_rs);
        for (index_t v = v_done; v < a.y_len; ++v) {
            yr[v * ys] = Zs[(v * P) * C + lane];
            if constexpr (K::is_complex) yr[v * ys + 1] = Zs[(v * P + 1) * C + lane];
        }
    }
}

// Transpose a chunk of rows into the tile, run every stage, transpose back.
// Returns false if the chunk's input held NaN or infinity (when checked).
template <class T>
KALEIDO_INLINE bool run_chunk(const StageGroup<T>* groups, const T* x, T* y,
                              typename kernel_types<T>::V* Z, const ChunkArgs& a) {
    if (!load_tile<T>(Z, x, a)) return false;
    switch (a.trans) {
        case TRANS_N: apply_groups<T, TRANS_N>(Z, a.N, groups, a.n_groups); break;
        case TRANS_T: apply_groups<T, TRANS_T>(Z, a.N, groups, a.n_groups); break;
        default: apply_groups<T, TRANS_H>(Z, a.N, groups, a.n_groups); break;
    }
    store_tile<T>(Z, y, a);
    return true;
}

// ------------------------------------------------------------ backward --
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
KALEIDO_INLINE typename kernel_types<T>::V merge_lanes(typename kernel_types<T>::V a,
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
KALEIDO_INLINE void reduce_lanes(typename kernel_types<T>::V (&p)[M]) {
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
KALEIDO_INLINE void add_sums(const typename kernel_types<T>::V (&p)[M],
                             typename kernel_types<T>::R* d, bool first) {
    using K = kernel_types<T>;
    using V = typename K::V;
    using R = typename K::R;
    constexpr int C = K::lanes;
    if constexpr (M >= C) {
#pragma GCC unroll 8
        for (int o = 0; o < M / C; ++o) {
            V cur = p[o];
            if (!first) {
                std::memcpy(&cur, d + o * C, sizeof(V));
                cur += p[o];
            }
            std::memcpy(d + o * C, &cur, sizeof(V));
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

// Pass order (vjp only): the twiddles of a group laid out in the order its
// backward pass reads them -- iteration it = hi * s + lo, then stage j, then
// pair l_rm, 4 entries each -- so that one pointer moving 4 * G * 2^(G-1)
// entries per iteration addresses every block at a constant offset (stride-s
// addresses took more registers than x86 has and spilled), and the pass's
// gradients go to contiguous whole vectors. Calls f(packed, original) for
// the index (in T) of every block.
template <class T, class F>
void visit_pass_order(const StageGroup<T>& gr, index_t N, index_t group_offset,
                      const T* twiddles, F&& f) {
    const int G = gr.size;
    const index_t s = index_t(1) << gr.low_bit;
    const index_t np = index_t(1) << (G - 1);
    const index_t n_it = N >> G;
    for (index_t it = 0; it < n_it; ++it) {
        const index_t hi = it >> gr.low_bit, lo = it & (s - 1);
        const index_t pbase = hi * (s << (G - 1)) + lo;
        for (int j = 0; j < G; ++j)
            for (index_t q = 0; q < np; ++q)
                f(group_offset + 4 * ((it * G + j) * np + q),
                  (gr.twiddles[j] - twiddles) + 4 * (pbase + q * s));
    }
}

// Backpropagate through one group: `in` is the saved tile at the group's
// input, `grad` holds the gradient at its output and receives the gradient
// at its input. The group's stages are recomputed in registers from `in`.
// For every pair, dL/d(block) = sum over the chunk's rows of
// g conj(x)^T (real: g x^T) is stored (first) or added to `dtw`. `tw` and
// `dtw` are the group's twiddles and gradients in pass order.
template <class T, int G, bool Desc>
KALEIDO_INLINE void backward_group(const typename kernel_types<T>::V* in,
                                   typename kernel_types<T>::V* grad, index_t N,
                                   const StageGroup<T>& group, const T* tw, T* dtw,
                                   bool first) {
    using K = kernel_types<T>;
    using V = typename K::V;
    using R = typename K::R;
    constexpr int S = 1 << G;
    constexpr int P = K::planes;
    constexpr int NP = S / 2;        // pairs per stage and iteration
    constexpr int seg = 4 * P;       // reals of one pair's gradient
    constexpr int step = 4 * G * NP;  // entries per iteration
    const int b0 = group.low_bit;
    const index_t s = index_t(1) << b0;
    const index_t n_hi = N >> (b0 + G);
    for (index_t hi = 0; hi < n_hi; ++hi) {
        const index_t zoff = hi * (s << G) * P;
        for (index_t lo = 0; lo < s; ++lo) {
            const V* x = in + zoff + lo * P;
            V* gz = grad + zoff + lo * P;
            const T* twi = tw + (hi * s + lo) * step;
            R* dti = reinterpret_cast<R*>(dtw + (hi * s + lo) * step);
            // activations at the input of every stage of the group
            V ar[G][S], ai[G][S];
            V re[S], im[S];
            load_rows<T, S>(x, s * P, re, im);
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
            load_rows<T, S>(gz, s * P, re, im);
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
            store_rows<T, S>(gz, s * P, re, im);
        }
    }
}

template <class T>
KALEIDO_INLINE void backward_one_group(const typename kernel_types<T>::V* in,
                                       typename kernel_types<T>::V* grad, index_t N,
                                       const StageGroup<T>& gr, const T* tw, T* dtw,
                                       bool first) {
    visit_group(gr, [&](auto g, auto desc) __attribute__((always_inline)) {
        backward_group<T, decltype(g)::value, decltype(desc)::value>(in, grad, N, gr, tw, dtw,
                                                                     first);
    });
}

struct VjpArgs {
    ChunkArgs x;      // rows of X (x fields) and of dX (y fields)
    ChunkArgs g;      // rows of G (x fields)
    bool want_dx;
    bool first;       // the slot's first chunk: store twiddle gradients, not add
};

// vjp of one chunk: forward through the groups saving each group's input
// tile, then the gradient tile backwards through them. `saved` holds
// n_groups + 1 tiles (the last is the gradient tile). `packed` holds the
// twiddles and dtw_base (this chunk's slot buffer) the gradients in pass
// order, group after group.
template <class T>
KALEIDO_INLINE bool vjp_chunk(const StageGroup<T>* groups, const T* packed, const T* x,
                              const T* g, T* dx, T* dtw_base,
                              typename kernel_types<T>::V* saved, const VjpArgs& a) {
    using K = kernel_types<T>;
    using V = typename K::V;
    const index_t N = a.x.N;
    const index_t tile = N * K::planes;
    const index_t n_groups = a.x.n_groups;
    if (!load_tile<T>(saved, x, a.x)) return false;
    index_t offset = 0;  // of the group's entries in pass order
    for (index_t i = 0; i + 1 < n_groups; ++i) {
        apply_one_group<T, TRANS_N, true>(saved + (i + 1) * tile, saved + i * tile, N,
                                          groups[i], 0, packed + offset);
        offset += groups[i].size * (N / 2) * 4;
    }
    V* grad = saved + n_groups * tile;
    if (!load_tile<T>(grad, g, a.g)) return false;
    for (index_t i = n_groups - 1; i >= 0; --i) {
        backward_one_group<T>(saved + i * tile, grad, N, groups[i], packed + offset,
                              dtw_base + offset, a.first);
        if (i > 0) offset -= groups[i - 1].size * (N / 2) * 4;
    }
    if (a.want_dx) store_tile<T>(grad, dx, a.x);
    return true;
}

// One entry per dtype, compiled per target (see KALEIDO_DISPATCH).
#define KALEIDO_CHUNK_FN(NAME, T)                                                   \
    KALEIDO_DISPATCH bool NAME(const StageGroup<T>* g, const T* x, T* y,           \
                               typename kernel_types<T>::V* Z, const ChunkArgs& a) { \
        return run_chunk<T>(g, x, y, Z, a);                                         \
    }
#define KALEIDO_VJP_FN(NAME, T)                                                       \
    KALEIDO_DISPATCH bool NAME(const StageGroup<T>* gr, const T* tw, const T* x, const T* g, \
                               T* dx, T* dtw, typename kernel_types<T>::V* saved,         \
                               const VjpArgs& a) {                                      \
        return vjp_chunk<T>(gr, tw, x, g, dx, dtw, saved, a);                           \
    }
KALEIDO_VJP_FN(vjp_f32, float)
KALEIDO_VJP_FN(vjp_f64, double)
KALEIDO_VJP_FN(vjp_c64, std::complex<float>)
KALEIDO_VJP_FN(vjp_c128, std::complex<double>)
#undef KALEIDO_VJP_FN

KALEIDO_CHUNK_FN(chunk_f32, float)
KALEIDO_CHUNK_FN(chunk_f64, double)
KALEIDO_CHUNK_FN(chunk_c64, std::complex<float>)
KALEIDO_CHUNK_FN(chunk_c128, std::complex<double>)
#undef KALEIDO_CHUNK_FN

inline bool chunk(const StageGroup<float>* g, const float* x, float* y,
                  kernel_types<float>::V* Z, const ChunkArgs& a) { return chunk_f32(g, x, y, Z, a); }
inline bool chunk(const StageGroup<double>* g, const double* x, double* y,
                  kernel_types<double>::V* Z, const ChunkArgs& a) { return chunk_f64(g, x, y, Z, a); }
inline bool chunk(const StageGroup<std::complex<float>>* g, const std::complex<float>* x,
                  std::complex<float>* y, kernel_types<std::complex<float>>::V* Z,
                  const ChunkArgs& a) { return chunk_c64(g, x, y, Z, a); }
inline bool chunk(const StageGroup<std::complex<double>>* g, const std::complex<double>* x,
                  std::complex<double>* y, kernel_types<std::complex<double>>::V* Z,
                  const ChunkArgs& a) { return chunk_c128(g, x, y, Z, a); }

inline bool vjp_dispatch(const StageGroup<float>* gr, const float* tw, const float* x,
                         const float* g, float* dx, float* dtw,
                         kernel_types<float>::V* saved, const VjpArgs& a) {
    return vjp_f32(gr, tw, x, g, dx, dtw, saved, a);
}
inline bool vjp_dispatch(const StageGroup<double>* gr, const double* tw, const double* x,
                         const double* g, double* dx, double* dtw,
                         kernel_types<double>::V* saved, const VjpArgs& a) {
    return vjp_f64(gr, tw, x, g, dx, dtw, saved, a);
}
inline bool vjp_dispatch(const StageGroup<std::complex<float>>* gr, const std::complex<float>* tw,
                         const std::complex<float>* x, const std::complex<float>* g,
                         std::complex<float>* dx, std::complex<float>* dtw,
                         kernel_types<std::complex<float>>::V* saved, const VjpArgs& a) {
    return vjp_c64(gr, tw, x, g, dx, dtw, saved, a);
}
inline bool vjp_dispatch(const StageGroup<std::complex<double>>* gr, const std::complex<double>* tw,
                         const std::complex<double>* x, const std::complex<double>* g,
                         std::complex<double>* dx, std::complex<double>* dtw,
                         kernel_types<std::complex<double>>::V* saved, const VjpArgs& a) {
    return vjp_c128(gr, tw, x, g, dx, dtw, saved, a);
}

// The stages in application order (reversed for TRANS_T/H), cut into runs of
// up to max_size (default max_group<T>()) stages on consecutive bits.
template <class T>
std::vector<StageGroup<T>> plan_groups(const T* twiddles, index_t width, int L, int trans,
                                       int max_size = max_group<T>()) {
    const index_t n_stages = width * 2 * L;
    const index_t stage_size = (index_t(1) << (L - 1)) * 4;
    std::vector<StageGroup<T>> groups;
    StageGroup<T> cur{0, false, 0, {nullptr, nullptr, nullptr, nullptr}};
    int last_bit = -1;
    for (index_t s = 0; s < n_stages; ++s) {
        const index_t q = (trans == TRANS_N) ? s : n_stages - 1 - s;
        const int half = int((q / L) % 2);
        const int k = int(q % L);
        const int bit = half == 0 ? L - 1 - k : k;
        const T* tw = twiddles + q * stage_size;
        const bool extends = cur.size > 0 && cur.size < max_size &&
                             ((cur.size == 1 && (bit == last_bit - 1 || bit == last_bit + 1)) ||
                              (cur.size > 1 && cur.descending && bit == last_bit - 1) ||
                              (cur.size > 1 && !cur.descending && bit == last_bit + 1));
        if (extends) {
            if (cur.size == 1) cur.descending = bit < last_bit;
            cur.twiddles[cur.size++] = tw;
            if (bit < cur.low_bit) cur.low_bit = bit;
        } else {
            if (cur.size > 0) groups.push_back(cur);
            cur = StageGroup<T>{1, false, bit, {tw, nullptr, nullptr, nullptr}};
        }
        last_bit = bit;
    }
    if (cur.size > 0) groups.push_back(cur);
    return groups;
}

}  // namespace

template <class T>
int kmatrix_apply(const T* twiddles, index_t width, int log_size,
                  const T* x, index_t n_rows, index_t x_len,
                  index_t x_row_stride, index_t x_col_stride,
                  T* y, index_t y_len, index_t y_row_stride,
                  index_t y_col_stride, int trans, int n_threads,
                  int check_finite) {
    using K = kernel_types<T>;
    using V = typename K::V;
    if (log_size < 1 || log_size > 40 || width < 1 || n_rows < 0 || x_len < 0 || y_len < 0 ||
        (trans != TRANS_N && trans != TRANS_T && trans != TRANS_H))
        return STATUS_BAD_ARGUMENT;
    const index_t N = index_t(1) << log_size;
    if (x_len > N || y_len > N) return STATUS_BAD_ARGUMENT;
    if (n_rows == 0 || y_len == 0) return STATUS_OK;

    std::vector<StageGroup<T>> groups;
    try {
        groups = plan_groups<T>(twiddles, width, log_size, trans);
    } catch (...) {
        return STATUS_NO_MEMORY;
    }
    constexpr int C = K::lanes;
    const index_t n_chunks = (n_rows + C - 1) / C;
    int nt = resolve_threads(n_threads);
    if (index_t(nt) > n_chunks) nt = int(n_chunks);
    // below ~64k butterfly operations a second thread costs more than it saves
    if (double(n_chunks) * double(N) * double(groups.size()) < 65536.0) nt = 1;
    if (nt < 1) nt = 1;
    const std::size_t tile_bytes = std::size_t(N) * K::planes * sizeof(V);

    int status = STATUS_OK;
#ifdef _OPENMP
#pragma omp parallel num_threads(nt) if (nt > 1)
#endif
    {
        V* Z = static_cast<V*>(std::aligned_alloc(64, tile_bytes));
        bool finite = true;
        if (Z == nullptr) {
#ifdef _OPENMP
#pragma omp atomic write
#endif
            status = STATUS_NO_MEMORY;
        }
#ifdef _OPENMP
#pragma omp for schedule(static)
#endif
        for (index_t c = 0; c < n_chunks; ++c) {
            if (Z == nullptr || !finite) continue;
            ChunkArgs a;
            a.N = N;
            a.n_groups = index_t(groups.size());
            a.row0 = c * C;
            a.n_rows_here = (n_rows - a.row0) < C ? (n_rows - a.row0) : C;
            a.x_len = x_len; a.x_rs = x_row_stride; a.x_cs = x_col_stride;
            a.y_len = y_len; a.y_rs = y_row_stride; a.y_cs = y_col_stride;
            a.trans = trans;
            a.check_finite = check_finite != 0;
            if (!chunk(groups.data(), x, y, Z, a)) finite = false;
        }
        if (!finite) {
#ifdef _OPENMP
#pragma omp atomic write
#endif
            status = STATUS_NON_FINITE;
        }
        std::free(Z);
    }
    return status;
}

template <class T>
int kmatrix_vjp(const T* twiddles, index_t width, int log_size,
                const T* x, index_t n_rows, index_t n_in, index_t x_row_stride,
                index_t x_col_stride, const T* g, index_t n_out, index_t g_row_stride,
                index_t g_col_stride, T* dx, index_t dx_row_stride, index_t dx_col_stride,
                T* dtwiddles, int n_threads, int check_finite) {
    using K = kernel_types<T>;
    using V = typename K::V;
    if (log_size < 1 || log_size > 40 || width < 1 || n_rows < 0 || n_in < 1 || n_out < 1)
        return STATUS_BAD_ARGUMENT;
    const index_t N = index_t(1) << log_size;
    if (n_in > N || n_out > N) return STATUS_BAD_ARGUMENT;
    const index_t n_params = width * 2 * log_size * (N / 2) * 4;
    if (n_rows == 0) {
        std::memset(static_cast<void*>(dtwiddles), 0, sizeof(T) * std::size_t(n_params));
        return STATUS_OK;
    }
    constexpr int C = K::lanes;
    const index_t n_chunks = (n_rows + C - 1) / C;
    // Twiddle gradients are summed per slot (slot s takes chunks s, s + S,
    // s + 2S, ... in order; the first one stores, the others add) and the
    // slots are then added in slot order. S depends on the batch and the
    // parameter count only, never on the thread count, so the result is
    // bit-identical for any number of threads.
    const double slot_bytes = double(n_params) * sizeof(T);
    index_t n_slots = n_chunks < 16 ? n_chunks : 16;
    const index_t by_memory = index_t((512.0 * 1024 * 1024) / slot_bytes);
    if (n_slots > by_memory) n_slots = by_memory;
    if (n_slots < 1) n_slots = 1;
    struct Free {
        void operator()(void* p) const { std::free(p); }
    };
    const auto alloc = [](std::size_t count) {  // 64-byte aligned, uninitialized
        const std::size_t bytes = (count * sizeof(T) + 63) / 64 * 64;
        return std::unique_ptr<T, Free>(static_cast<T*>(std::aligned_alloc(64, bytes)));
    };
    std::vector<StageGroup<T>> groups;
    std::vector<index_t> block_at;  // pass-order block -> twiddle-layout index
    std::unique_ptr<T, Free> packed, slots;
    try {
        // at most 3 stages per pass here (real types fuse 4 in apply): the
        // backward keeps every stage's activations of a pass live, and with
        // 4 stages x 16 rows they spill; measured float32 n=4096 vjp/apply
        // 3.5-3.9x with 3, 3.9-4.1x with 4 (2 threads, same machine state)
        groups = plan_groups<T>(twiddles, width, log_size, TRANS_N, 3);
        block_at.resize(std::size_t(n_params / 4));
        packed = alloc(std::size_t(n_params));
        slots = alloc(std::size_t(n_slots) * std::size_t(n_params));
    } catch (...) {
        return STATUS_NO_MEMORY;
    }
    if (!packed || !slots) return STATUS_NO_MEMORY;
    const index_t n_groups = index_t(groups.size());
    {
        index_t offset = 0;
        for (const auto& gr : groups) {
            visit_pass_order(gr, N, offset, twiddles,
                             [&](index_t pk, index_t orig) { block_at[pk / 4] = orig; });
            offset += gr.size * (N / 2) * 4;
        }
    }
    const std::size_t saved_bytes = std::size_t(n_groups + 1) * N * K::planes * sizeof(V);
    int nt = resolve_threads(n_threads);
    if (index_t(nt) > n_slots) nt = int(n_slots);
    if (nt < 1) nt = 1;
    const bool big = nt > 1 && n_params > 65536;
    T* const pk = packed.get();
    T* const sl = slots.get();
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(nt) if (big)
#endif
    for (index_t b = 0; b < n_params / 4; ++b)
        for (int e = 0; e < 4; ++e) pk[4 * b + e] = twiddles[block_at[b] + e];

    int status = STATUS_OK;
#ifdef _OPENMP
#pragma omp parallel num_threads(nt) if (nt > 1)
#endif
    {
        V* saved = static_cast<V*>(std::aligned_alloc(64, saved_bytes));
        bool ok = saved != nullptr;
        bool finite = true;
#ifdef _OPENMP
#pragma omp for schedule(static)
#endif
        for (index_t slot = 0; slot < n_slots; ++slot) {
            if (!ok || !finite) continue;
            T* dtw = sl + slot * n_params;
            for (index_t c = slot; c < n_chunks; c += n_slots) {
                VjpArgs a;
                a.x.N = N;
                a.x.n_groups = n_groups;
                a.x.row0 = c * C;
                a.x.n_rows_here = (n_rows - a.x.row0) < C ? (n_rows - a.x.row0) : C;
                a.x.x_len = n_in; a.x.x_rs = x_row_stride; a.x.x_cs = x_col_stride;
                a.x.y_len = n_in; a.x.y_rs = dx_row_stride; a.x.y_cs = dx_col_stride;
                a.x.trans = TRANS_N;
                a.x.check_finite = check_finite != 0;
                a.g = a.x;
                a.g.x_len = n_out; a.g.x_rs = g_row_stride; a.g.x_cs = g_col_stride;
                a.want_dx = dx != nullptr;
                a.first = c == slot;
                if (!vjp_dispatch(groups.data(), pk, x, g, dx, dtw, saved, a)) {
                    finite = false;
                    break;
                }
            }
        }
        if (!ok || !finite) {
#ifdef _OPENMP
#pragma omp atomic write
#endif
            status = ok ? STATUS_NON_FINITE : STATUS_NO_MEMORY;
        }
        std::free(saved);
    }
    if (status != STATUS_OK) return status;
    // add the slots in order, back into the twiddle layout; each entry is
    // independent
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(nt) if (big)
#endif
    for (index_t b = 0; b < n_params / 4; ++b) {
        for (int e = 0; e < 4; ++e) {
            T sum = sl[4 * b + e];
            for (index_t slot = 1; slot < n_slots; ++slot) sum += sl[slot * n_params + 4 * b + e];
            dtwiddles[block_at[b] + e] = sum;
        }
    }
    return STATUS_OK;
}

#define KALEIDO_INSTANTIATE(T)                                                        \
    template int kmatrix_vjp<T>(const T*, index_t, int, const T*, index_t, index_t,   \
                                index_t, index_t, const T*, index_t, index_t, index_t, \
                                T*, index_t, index_t, T*, int, int);                  \
    template int kmatrix_apply<T>(const T*, index_t, int, const T*, index_t, index_t, \
                                  index_t, index_t, T*, index_t, index_t, index_t,    \
                                  int, int, int);
KALEIDO_INSTANTIATE(float)
KALEIDO_INSTANTIATE(double)
KALEIDO_INSTANTIATE(std::complex<float>)
KALEIDO_INSTANTIATE(std::complex<double>)
#undef KALEIDO_INSTANTIATE

}  // namespace kaleido
