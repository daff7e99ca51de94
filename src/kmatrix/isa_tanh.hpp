// Per-ISA kernel header: compiled into every (instruction set, scalar type)
// apply unit, inside namespace KMATRIX_ISA_NS. May include: isa_*.hpp,
// kernel_interface.hpp, standard headers without out-of-line code.
//
// tanh for the layers' epilogues, vectorized, within about 1.5 ulp of the
// exact value (float32, measured on every float32 input; float64 sampled).
// With a = |z| (capped: tanh(cap) rounds to 1 in the type):
// - a < 0.55: the odd Taylor series a + a^3 (c_2 + c_3 a^2 + ...), whose
//   terms after the first are under a tenth of it (coefficients from the
//   Bernoulli numbers; terms kept while they reach an eighth of an epsilon);
// - else 1 - 2 / (expm1(2a) + 2), expm1(x) by a two-part (Cody-Waite)
//   reduction x = k ln 2 + r, |r| <= ln 2 / 2, its Taylor polynomial
//   p = expm1(r) (terms below r^8 in float, r^14 in double) and
//   2^k p + (2^k - 1).
// The sign of z is copied back; NaN stays NaN, -0 stays -0. A lane vector
// evaluates only the branches some lane needs, each lane taking its own, and
// the scalar form does the same operations in the same order (multiply-adds
// fused where the instruction set has FMA), so vector body and scalar tail
// agree and nothing depends on the thread count.
#ifndef KMATRIX_ISA_TANH_HPP
#define KMATRIX_ISA_TANH_HPP

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "isa_cosine.hpp"

namespace kmatrix {
namespace KMATRIX_ISA_NS {

template <class R>
struct tanh_constants;

template <>
struct tanh_constants<float> {
    using Int = std::int32_t;
    static constexpr float cap = 20.0f;
    static constexpr float inv_ln2 = 0x1.715476p+0f;
    // ln 2 = hi + lo, hi with 16 significant bits: k hi is exact for |k| < 2^8
    static constexpr float ln2_hi = 0x1.62e4p-1f;
    static constexpr float ln2_lo = 0x1.7f7d1cp-20f;
    static constexpr float magic = 0x1.8p23f;
    static constexpr Int magic_bits = 0x4B400000;
    static constexpr Int exponent_bias = 127;
    static constexpr int mantissa_bits = 23;
    static constexpr int expm1_terms = 8;   // r^j / j! for 2 <= j < expm1_terms
    static constexpr int series_terms = 9;  // c_1 .. c_9 of the odd series
};

template <>
struct tanh_constants<double> {
    using Int = std::int64_t;
    static constexpr double cap = 40.0;
    static constexpr double inv_ln2 = 0x1.71547652b82fep+0;
    // ln 2 = hi + lo, hi with 32 significant bits
    static constexpr double ln2_hi = 0x1.62e42fefp-1;
    static constexpr double ln2_lo = 0x1.473de6af278edp-34;
    static constexpr double magic = 0x1.8p52;
    static constexpr Int magic_bits = 0x4338000000000000LL;
    static constexpr Int exponent_bias = 1023;
    static constexpr int mantissa_bits = 52;
    static constexpr int expm1_terms = 14;
    static constexpr int series_terms = 19;
};

// where the series hands over to expm1
constexpr double kTanhSeriesEnd = 0.55;

// 1 / j! for j = 0, 1, ...
constexpr double kInverseFactorial[14] = {
    1.0, 1.0, 1.0 / 2, 1.0 / 6, 1.0 / 24, 1.0 / 120, 1.0 / 720, 1.0 / 5040, 1.0 / 40320,
    1.0 / 362880, 1.0 / 3628800, 1.0 / 39916800, 1.0 / 479001600, 1.0 / 6227020800.0};

// tanh z = sum over n >= 1 of c_n z^(2n - 1), c_n = 2^(2n) (2^(2n) - 1) B_2n / (2n)!
// (B the Bernoulli numbers), rounded to double
constexpr double kTanhSeries[19] = {
    0x1.0000000000000p+0,  -0x1.5555555555555p-2, 0x1.1111111111111p-3,
    -0x1.ba1ba1ba1ba1cp-5, 0x1.664f4882c10fap-6,  -0x1.226e355e6c23dp-7,
    0x1.d6d3d0e157de0p-9,  -0x1.7da36452b75e3p-10, 0x1.3558248036744p-11,
    -0x1.f57d7734d1664p-13, 0x1.967e18afcafadp-14, -0x1.497d8eea25259p-15,
    0x1.0b132d39a6050p-16, -0x1.b0f72d3ee24e9p-18, 0x1.5ef2da474e5b7p-19,
    -0x1.1c77df95c1c0dp-20, 0x1.cd299de4ae6bbp-22, -0x1.75cde6563fed9p-23,
    0x1.2efe8db3aff1fp-24};

// tanh(a) for 0 <= a < kTanhSeriesEnd by the series
template <class R, class X>
KMATRIX_INLINE X tanh_series(X a) {
    using C = tanh_constants<R>;
    const X a2 = a * a;
    X s = X{} + R(kTanhSeries[C::series_terms - 1]);
    for (int n = C::series_terms - 2; n >= 1; --n) s = mul_add(s, a2, X{} + R(kTanhSeries[n]));
    return mul_add(a * a2, s, a);
}

// tanh(a) for kTanhSeriesEnd <= a <= cap (a finite) by expm1(2a)
template <class R, class X, class I>
KMATRIX_INLINE X tanh_by_expm1(X a) {
    using C = tanh_constants<R>;
    const X x = R(2) * a;
    // x = k ln 2 + r, k the integer nearest to x / ln 2 (in the low bits of
    // `shifted`), 0 <= k <= 2 cap / ln 2: 2^k is a normal number
    const X shifted = x * C::inv_ln2 + C::magic;
    I bits;
    std::memcpy(&bits, &shifted, sizeof(X));
    const X k = shifted - C::magic;
    X r = x - k * C::ln2_hi;
    r = r - k * C::ln2_lo;
    X q = X{} + R(kInverseFactorial[C::expm1_terms - 1]);
    for (int j = C::expm1_terms - 2; j >= 2; --j)
        q = mul_add(q, r, X{} + R(kInverseFactorial[j]));
    const X p = mul_add(q, r * r, r);                 // expm1(r)
    const I two_k_bits = ((bits - C::magic_bits) + C::exponent_bias) << C::mantissa_bits;
    X two_k;
    std::memcpy(&two_k, &two_k_bits, sizeof(X));
    const X e = mul_add(two_k, p, two_k - R(1));       // expm1(x) >= 1.2
    return R(1) - R(2) / (e + R(2));
}

// tanh(z) for X a scalar R or a lane vector of R (I the matching integers).
template <class R, class X, class I>
KMATRIX_INLINE X tanh_value(X z) {
    using C = tanh_constants<R>;
    X t;
    if constexpr (std::is_same<X, R>::value) {
        if (!(z == z)) return z;                       // NaN
        X a = z < 0 ? -z : z;
        a = a > C::cap ? C::cap : a;
        t = a < R(kTanhSeriesEnd) ? tanh_series<R, X>(a) : tanh_by_expm1<R, X, I>(a);
        return z < 0 ? -t : (z > 0 ? t : z);           // z itself for 0 and -0
    } else {
        X a = z < X{} ? -z : z;
        a = a > C::cap ? X{} + C::cap : a;
        a = a == a ? a : X{};                          // NaN lanes: any finite a
        const I small = a < R(kTanhSeriesEnd);
        if (!any_lane<R>(~small)) {
            t = tanh_series<R, X>(a);
        } else if (!any_lane<R>(small)) {
            t = tanh_by_expm1<R, X, I>(a);
        } else {
            t = small ? tanh_series<R, X>(a) : tanh_by_expm1<R, X, I>(a);
        }
        return z < X{} ? -t : (z > X{} ? t : z);       // z itself for 0, -0 and NaN
    }
}

}  // namespace KMATRIX_ISA_NS
}  // namespace kmatrix

#endif  // KMATRIX_ISA_TANH_HPP
