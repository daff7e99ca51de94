// Per-ISA kernel header: compiled into every (instruction set, scalar type)
// kernel unit, inside namespace KMATRIX_ISA_NS. May include: isa_*.hpp,
// kernel_interface.hpp, standard headers without out-of-line code.
//
// Lane vectors and the in-register shuffles every kernel shares.
//
// Included only by the kernel translation units (isa_apply.cpp,
// isa_vjp.cpp), which are compiled once per instruction set with
// KMATRIX_ISA set to an Isa value. Everything here lives in a namespace of
// that ISA (isa_base, isa_v3, isa_v4), so the copies built with different
// -march flags never meet at link time: an inline function shared by name
// between TUs of different ISAs could be resolved to the wrong one. For the
// same reason these headers use no standard-library template with code. The vector width is the ISA's native one
// (64 bytes with AVX-512, 32 with AVX2, 16 otherwise), which keeps the code
// GCC emits for each ISA free of emulated wide shuffles.
#ifndef KMATRIX_ISA_SIMD_HPP
#define KMATRIX_ISA_SIMD_HPP

#include <complex>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "kernel_interface.hpp"

#if !defined(__GNUC__) && !defined(__clang__)
#error "kmatrix's kernels use GCC/Clang vector extensions"
#endif

#ifndef KMATRIX_ISA
#error "KMATRIX_ISA must name the instruction set of this translation unit"
#endif

#if KMATRIX_ISA == 2
#define KMATRIX_ISA_NS isa_v4
#define KMATRIX_VECTOR_BYTES 64
#define KMATRIX_VECTOR_REGISTERS 32
#elif KMATRIX_ISA == 1
#define KMATRIX_ISA_NS isa_v3
#define KMATRIX_VECTOR_BYTES 32
#define KMATRIX_VECTOR_REGISTERS 16
#else
#define KMATRIX_ISA_NS isa_base
#define KMATRIX_VECTOR_BYTES 16
#if defined(__aarch64__)
#define KMATRIX_VECTOR_REGISTERS 32
#else
#define KMATRIX_VECTOR_REGISTERS 16
#endif
#endif

#define KMATRIX_INLINE inline __attribute__((always_inline))

#if (KMATRIX_ISA == 1 || KMATRIX_ISA == 2) && (defined(__x86_64__) || defined(__i386__))
#include <immintrin.h>
#define KMATRIX_X86_FMA 1
#endif

namespace kmatrix {
namespace KMATRIX_ISA_NS {

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

template <class R>
struct lane_vector;
template <>
struct lane_vector<float> {
    typedef float type __attribute__((vector_size(KMATRIX_VECTOR_BYTES)));
    typedef std::int32_t mask __attribute__((vector_size(KMATRIX_VECTOR_BYTES)));
};
template <>
struct lane_vector<double> {
    typedef double type __attribute__((vector_size(KMATRIX_VECTOR_BYTES)));
    typedef std::int64_t mask __attribute__((vector_size(KMATRIX_VECTOR_BYTES)));
};

template <class T>
struct kernel_types {
    using R = typename scalar_traits<T>::real;
    using V = typename lane_vector<R>::type;
    using M = typename lane_vector<R>::mask;
    static constexpr bool is_complex = scalar_traits<T>::is_complex;
    static constexpr int lanes = KMATRIX_VECTOR_BYTES / sizeof(R);
    static constexpr int planes = is_complex ? 2 : 1;
    // stages fused per tile pass: 2^G tile rows (x planes) stay in registers
    static constexpr int max_group =
        KMATRIX_VECTOR_REGISTERS >= 32 ? (is_complex ? 3 : 4) : (is_complex ? 2 : 3);
    // the backward keeps every stage's activations of a pass live: one
    // stage fewer with 16 registers
    static constexpr int max_vjp_group = KMATRIX_VECTOR_REGISTERS >= 32 ? 3 : 2;
};

template <class V>
KMATRIX_INLINE V vload(const void* p) {
    V v;
    std::memcpy(&v, p, sizeof(V));
    return v;
}
template <class V>
KMATRIX_INLINE void vstore(void* p, const V& v) {
    std::memcpy(p, &v, sizeof(V));
}

// A lane vector with every lane s (a scalar coefficient), or v itself.
// (s - 0 is s exactly, the sign of a zero included, and GCC emits it as a
// plain broadcast; s + 0 would turn -0 into +0.)
template <class V, class S>
KMATRIX_INLINE V splat(S s) {
    if constexpr (std::is_same<S, V>::value) {
        return s;
    } else {
        return s - V{};
    }
}

// a * b + c with one rounding where the instruction set has FMA (x86-64-v3
// and v4), else two. The kernel translation units are compiled with
// -ffp-contract=off so that these are the only fused operations: every
// path then computes the same roundings in the same order (see
// apply_block), whatever the batch around a row.
template <class V, class A>
KMATRIX_INLINE V vfma(A a_, V b, V c) {
    const V a = splat<V>(a_);
#if defined(KMATRIX_X86_FMA)
    constexpr bool f32 = sizeof(b[0]) == 4;
    if constexpr (sizeof(V) == 64 && f32)
        return (V)_mm512_fmadd_ps((__m512)a, (__m512)b, (__m512)c);
    else if constexpr (sizeof(V) == 64)
        return (V)_mm512_fmadd_pd((__m512d)a, (__m512d)b, (__m512d)c);
    else if constexpr (sizeof(V) == 32 && f32)
        return (V)_mm256_fmadd_ps((__m256)a, (__m256)b, (__m256)c);
    else if constexpr (sizeof(V) == 32)
        return (V)_mm256_fmadd_pd((__m256d)a, (__m256d)b, (__m256d)c);
    else
        return a * b + c;
#else
    return a * b + c;
#endif
}

// a * b - c and c - a * b, rounded as vfma rounds (once with FMA): the
// negated coefficients stay plain broadcasts, which the FMA instructions
// take straight from memory.
template <class V, class A>
KMATRIX_INLINE V vfms(A a_, V b, V c) {
    const V a = splat<V>(a_);
#if defined(KMATRIX_X86_FMA)
    constexpr bool f32 = sizeof(b[0]) == 4;
    if constexpr (sizeof(V) == 64 && f32)
        return (V)_mm512_fmsub_ps((__m512)a, (__m512)b, (__m512)c);
    else if constexpr (sizeof(V) == 64)
        return (V)_mm512_fmsub_pd((__m512d)a, (__m512d)b, (__m512d)c);
    else if constexpr (sizeof(V) == 32 && f32)
        return (V)_mm256_fmsub_ps((__m256)a, (__m256)b, (__m256)c);
    else if constexpr (sizeof(V) == 32)
        return (V)_mm256_fmsub_pd((__m256d)a, (__m256d)b, (__m256d)c);
    else
        return a * b - c;
#else
    return a * b - c;
#endif
}
template <class V, class A>
KMATRIX_INLINE V vfnma(A a_, V b, V c) {
    const V a = splat<V>(a_);
#if defined(KMATRIX_X86_FMA)
    constexpr bool f32 = sizeof(b[0]) == 4;
    if constexpr (sizeof(V) == 64 && f32)
        return (V)_mm512_fnmadd_ps((__m512)a, (__m512)b, (__m512)c);
    else if constexpr (sizeof(V) == 64)
        return (V)_mm512_fnmadd_pd((__m512d)a, (__m512d)b, (__m512d)c);
    else if constexpr (sizeof(V) == 32 && f32)
        return (V)_mm256_fnmadd_ps((__m256)a, (__m256)b, (__m256)c);
    else if constexpr (sizeof(V) == 32)
        return (V)_mm256_fnmadd_pd((__m256d)a, (__m256d)b, (__m256d)c);
    else
        return c - a * b;
#else
    return c - a * b;
#endif
}

// The effective 2x2 block [[a, b], [c, d]] of op(block), op = identity, T or
// H, as real and imaginary parts (std::complex accessors are avoided so the
// hot path sees only real scalars).
template <class T, int Trans>
KMATRIX_INLINE void load_block(const T* t, typename scalar_traits<T>::real (&re)[4],
                               typename scalar_traits<T>::real (&im)[4]) {
    using R = typename scalar_traits<T>::real;
    constexpr bool cplx = scalar_traits<T>::is_complex;
    const R* r = reinterpret_cast<const R*>(t);
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

// (x_l, x_h) <- [[a, b], [c, d]] (x_l, x_h) on lane vectors; complex values
// as separate real and imaginary planes. C is the coefficient type: a real
// scalar (broadcast) or a lane vector.
//
// The one arithmetic of every path (tiles, rows): the x_h products first,
// then the x_l terms fused onto them,
//   real:     y_l = fma(a, x_l, b x_h)
//   complex:  p = b (x) x_h = (fms(br, x_hr, bi x_hi), fma(br, x_hi, bi x_hr)),
//             y_l = (fma(ar, x_lr, fnma(ai, x_li, pr)), fma(ar, x_li, fma(ai, x_lr, pi))),
// (fms(a, b, c) = a b - c, fnma(a, b, c) = c - a b, each rounded once) and
// likewise y_h from c and d. A multiplication by 0 or 1, a sum with 0 and a
// negation are exact here, so the stage kinds (isa_tile_apply.hpp) that leave
// them out give the same results up to the sign of zeros: a row's result
// never depends on the other rows of a call.
template <class T, class C>
KMATRIX_INLINE void apply_block(const C (&br)[4], const C (&bi)[4],
                                typename kernel_types<T>::V& rl, typename kernel_types<T>::V& il,
                                typename kernel_types<T>::V& rh, typename kernel_types<T>::V& ih) {
    using V = typename kernel_types<T>::V;
    if constexpr (kernel_types<T>::is_complex) {
        const V x0r = rl, x0i = il, x1r = rh, x1i = ih;
        const V pr = vfms(br[1], x1r, splat<V>(bi[1]) * x1i);
        const V pi = vfma(br[1], x1i, splat<V>(bi[1]) * x1r);
        const V qr = vfms(br[3], x1r, splat<V>(bi[3]) * x1i);
        const V qi = vfma(br[3], x1i, splat<V>(bi[3]) * x1r);
        rl = vfma(br[0], x0r, vfnma(bi[0], x0i, pr));
        il = vfma(br[0], x0i, vfma(bi[0], x0r, pi));
        rh = vfma(br[2], x0r, vfnma(bi[2], x0i, qr));
        ih = vfma(br[2], x0i, vfma(bi[2], x0r, qi));
    } else {
        (void)bi; (void)il; (void)ih;
        const V x0 = rl, x1 = rh;
        rl = vfma(br[0], x0, splat<V>(br[1]) * x1);
        rh = vfma(br[2], x0, splat<V>(br[3]) * x1);
    }
}

// In-register transpose of C lane vectors: r[i][j] <- r[j][i]. Round t
// exchanges bit t of the row index with bit t of the column index, one
// two-source shuffle per output vector (C log2 C shuffles in all).
template <class T>
KMATRIX_INLINE void transpose_square(typename kernel_types<T>::V (&r)[kernel_types<T>::lanes]) {
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
KMATRIX_INLINE typename kernel_types<T>::V deinterleave(typename kernel_types<T>::V w0,
                                                        typename kernel_types<T>::V w1, int part) {
    using K = kernel_types<T>;
    typename K::M m;
#pragma GCC unroll 16
    for (int j = 0; j < K::lanes; ++j) m[j] = 2 * j + part;
    return __builtin_shuffle(w0, w1, m);
}
template <class T>
KMATRIX_INLINE typename kernel_types<T>::V interleave(typename kernel_types<T>::V re,
                                                      typename kernel_types<T>::V im, int half) {
    using K = kernel_types<T>;
    constexpr int C = K::lanes;
    typename K::M m;
#pragma GCC unroll 16
    for (int j = 0; j < C; ++j) m[j] = (j & 1 ? C : 0) + (half * C + j) / 2;
    return __builtin_shuffle(re, im, m);
}

// Flags NaN and infinity: (v - v) is nonzero exactly for them.
template <class T>
KMATRIX_INLINE void flag_non_finite(typename kernel_types<T>::M& bad,
                                    const typename kernel_types<T>::V& v) {
    bad |= (v - v) != 0;
}
template <class T>
KMATRIX_INLINE bool any_lane(const typename kernel_types<T>::M& m) {
    std::uint64_t words[KMATRIX_VECTOR_BYTES / 8];
    std::memcpy(words, &m, sizeof(words));
    std::uint64_t any = 0;
    for (int j = 0; j < KMATRIX_VECTOR_BYTES / 8; ++j) any |= words[j];
    return any != 0;
}

// Calls f(std::integral_constant<int, G>, std::bool_constant<Desc>) for a
// group's size and direction. Callers' lambdas must be always_inline: a
// lambda left out of line is compiled without the kernel's inlining context.
template <class T, int MaxG, class F>
KMATRIX_INLINE void visit_group_shape(int size, bool descending, F&& f) {
    using std::bool_constant;
    using std::integral_constant;
    switch (size * 2 + (descending ? 1 : 0)) {
        case 2: case 3: f(integral_constant<int, 1>{}, bool_constant<false>{}); break;
        case 4: f(integral_constant<int, 2>{}, bool_constant<false>{}); break;
        case 5: f(integral_constant<int, 2>{}, bool_constant<true>{}); break;
        case 6:
            if constexpr (MaxG >= 3) f(integral_constant<int, 3>{}, bool_constant<false>{});
            break;
        case 7:
            if constexpr (MaxG >= 3) f(integral_constant<int, 3>{}, bool_constant<true>{});
            break;
        case 8:
            if constexpr (MaxG >= 4) f(integral_constant<int, 4>{}, bool_constant<false>{});
            break;
        case 9:
            if constexpr (MaxG >= 4) f(integral_constant<int, 4>{}, bool_constant<true>{});
            break;
        default: break;  // unreachable: the planner bounds the size
    }
}

}  // namespace KMATRIX_ISA_NS
}  // namespace kmatrix

#endif  // KMATRIX_ISA_SIMD_HPP
