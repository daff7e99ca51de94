// Per-ISA kernel header: compiled into every (instruction set, scalar type)
// apply unit, inside namespace KMATRIX_ISA_NS. May include: isa_*.hpp,
// kernel_interface.hpp, standard headers without out-of-line code.
//
// tanh for the layers' epilogues, vectorized: with a = min(|z|, cap),
// e = expm1(-2a) and tanh|z| = -e / (e + 2), the sign of z copied back.
// expm1(x), x in [-2 cap, 0]: x = k ln 2 + r by a two-part (Cody-Waite)
// reduction, |r| <= ln 2 / 2, p = expm1(r) by its Taylor polynomial (terms
// below r^8 in float, r^14 in double: the rest is under a quarter of an
// epsilon of r), then 2^k p + (2^k - 1), exact for k = 0 and without
// cancellation below. About 2 ulp against a correctly rounded tanh (the
// quotient's sensitivity to e is at most 2). tanh(cap) rounds to 1 in the
// type, so the clamp changes nothing; NaN stays NaN, -0 stays -0. The
// scalar and vector forms do the same operations in the same order (the
// polynomial's multiply-adds fused where the instruction set has FMA), so
// vector body and scalar tail agree and nothing depends on the thread count.
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
    static constexpr int terms = 8;   // r^j / j! for 2 <= j < terms
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
    static constexpr int terms = 14;
};

// 1 / j! for j = 0, 1, ...
constexpr double kInverseFactorial[14] = {
    1.0, 1.0, 1.0 / 2, 1.0 / 6, 1.0 / 24, 1.0 / 120, 1.0 / 720, 1.0 / 5040, 1.0 / 40320,
    1.0 / 362880, 1.0 / 3628800, 1.0 / 39916800, 1.0 / 479001600, 1.0 / 6227020800.0};

// tanh(z) for X a scalar R or a lane vector of R (I the matching integers).
template <class R, class X, class I>
KMATRIX_INLINE X tanh_value(X z) {
    using C = tanh_constants<R>;
    constexpr bool scalar = std::is_same<X, R>::value;
    X a;  // min(|z|, cap); NaN stays NaN
    if constexpr (scalar) {
        a = z < 0 ? -z : z;
        a = a > C::cap ? C::cap : a;
    } else {
        a = z < X{} ? -z : z;
        a = a > C::cap ? X{} + C::cap : a;
    }
    const X x = R(-2) * a;
    // x = k ln 2 + r, k the integer nearest to x / ln 2 (in the low bits of `shifted`)
    const X shifted = x * C::inv_ln2 + C::magic;
    I bits;
    std::memcpy(&bits, &shifted, sizeof(X));
    const X k = shifted - C::magic;
    X r = x - k * C::ln2_hi;
    r = r - k * C::ln2_lo;
    X q = X{} + R(kInverseFactorial[C::terms - 1]);
    for (int j = C::terms - 2; j >= 2; --j) q = mul_add(q, r, X{} + R(kInverseFactorial[j]));
    const X p = mul_add(q, r * r, r);                 // expm1(r)
    const I two_k_bits = ((bits - C::magic_bits) + C::exponent_bias) << C::mantissa_bits;
    X two_k;
    std::memcpy(&two_k, &two_k_bits, sizeof(X));
    const X e = mul_add(two_k, p, two_k - R(1));       // expm1(x) in (-1, 0]
    const X t = -e / (e + R(2));
    if constexpr (scalar)
        return z < 0 ? -t : (z > 0 ? t : z);           // z itself for 0, -0 and NaN
    else
        return z < X{} ? -t : (z > X{} ? t : z);
}

}  // namespace KMATRIX_ISA_NS
}  // namespace kmatrix

#endif  // KMATRIX_ISA_TANH_HPP
