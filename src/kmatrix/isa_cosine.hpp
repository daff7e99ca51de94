// Per-ISA kernel header: compiled into every (instruction set, scalar type)
// apply unit, inside namespace KMATRIX_ISA_NS. May include: isa_*.hpp,
// kernel_interface.hpp, standard headers without out-of-line code.
//
// The random features' epilogue, y <- scale * cos(y + offset[column]), on
// rows of real numbers, vectorized: y + offset = n pi + r with n the nearest
// integer to (y + offset) / pi and r in [-pi/2, pi/2] by a three-part
// (Cody-Waite) reduction whose products n * part are exact, then
// cos = (-1)^n cos r with a Taylor polynomial in r^2 (the first term left
// out: below 2e-17 in double, 5e-9 in float, for |r| <= pi/2; the
// polynomial's multiply-adds fused where the instruction set has FMA). Entries
// whose |n| passes the exact range (2^20 in double, 2^12 in float) or that
// are not finite take std::cos. Every entry is computed on its own, the
// same way in the vector body and the scalar tail, so the result does not
// depend on the thread count or on where a row starts.
#ifndef KMATRIX_ISA_COSINE_HPP
#define KMATRIX_ISA_COSINE_HPP

#include <cmath>
#include <cstdint>
#include <cstring>

#include "isa_simd.hpp"

namespace kmatrix {
namespace KMATRIX_ISA_NS {

template <class R>
struct cosine_constants;

template <>
struct cosine_constants<double> {
    using Int = std::int64_t;
    static constexpr double inv_pi = 0x1.45f306dc9c883p-2;
    // pi = p1 + p2 + p3; p1 and p2 carry 30 significant bits
    static constexpr double p1 = 0x1.921fb54000000p+1;
    static constexpr double p2 = 0x1.10b4611800000p-29;
    static constexpr double p3 = 0x1.313198a2e0370p-60;
    static constexpr double limit = 0x1p20;
    // adding 1.5 * 2^52 rounds to an integer held in the mantissa's low bits
    static constexpr double magic = 0x1.8p52;
    static constexpr int terms = 11;   // (-1)^k / (2k)!, k < terms
};

template <>
struct cosine_constants<float> {
    using Int = std::int32_t;
    static constexpr float inv_pi = 0x1.45f306p-2f;
    // pi = p1 + p2 + p3; p1 and p2 carry 12 significant bits
    static constexpr float p1 = 0x1.92p+1f;
    static constexpr float p2 = 0x1.fb4p-11f;
    static constexpr float p3 = 0x1.4442d2p-23f;
    static constexpr float limit = 0x1p12f;
    static constexpr float magic = 0x1.8p23f;
    static constexpr int terms = 7;
};

// (-1)^k / (2k)! for k = 0, 1, ...
constexpr double kCosineTaylor[11] = {
    1.0, -1.0 / 2, 1.0 / 24, -1.0 / 720, 1.0 / 40320, -1.0 / 3628800, 1.0 / 479001600,
    -1.0 / 87178291200.0, 1.0 / 20922789888000.0, -1.0 / 6402373705728000.0,
    1.0 / 2432902008176640000.0};

// a * b + c rounded as vfma rounds (once where the instruction set has FMA),
// for a lane vector or a scalar alike
template <class X>
KMATRIX_INLINE X mul_add(X a, X b, X c) {
    if constexpr (std::is_floating_point<X>::value) {
#if defined(KMATRIX_X86_FMA)
        return __builtin_fma(a, b, c);
#else
        return a * b + c;
#endif
    } else {
        return vfma(a, b, c);
    }
}

template <>
KMATRIX_INLINE float mul_add<float>(float a, float b, float c) {
#if defined(KMATRIX_X86_FMA)
    return __builtin_fmaf(a, b, c);
#else
    return a * b + c;
#endif
}

// scale * cos(x) by the reduction, for x with |x / pi| < limit (X a scalar R
// or a lane vector V of R, I the matching integer type); the same
// operations in the same order for both, so vector and tail agree.
template <class R, class X, class I>
KMATRIX_INLINE X reduced_cosine(X x, R scale) {
    using C = cosine_constants<R>;
    const X shifted = x * C::inv_pi + C::magic;
    I bits;
    std::memcpy(&bits, &shifted, sizeof(X));
    const X n = shifted - C::magic;
    X r = x - n * C::p1;
    r = r - n * C::p2;
    r = r - n * C::p3;
    const X r2 = r * r;
    X s = X{} + R(kCosineTaylor[C::terms - 1]);
    for (int k = C::terms - 2; k >= 0; --k) s = mul_add(s, r2, X{} + R(kCosineTaylor[k]));
    // (-1)^n: the parity of n is the lowest mantissa bit of `shifted`
    const I odd = bits & 1;
    X sign;
    if constexpr (std::is_same<X, R>::value) {
        sign = odd ? -scale : scale;
    } else {
        sign = scale - R(2) * scale * __builtin_convertvector(odd, X);
    }
    return s * sign;
}

template <class R>
KMATRIX_INLINE R scalar_cosine(R x, R scale) {
    using C = cosine_constants<R>;
    if (!(std::fabs(x * C::inv_pi) < C::limit)) return scale * std::cos(x);
    return reduced_cosine<R, R, typename C::Int>(x, scale);
}

// scale * cos(x) on a lane vector: the reduction where every lane is in
// its range, else lane by lane as scalar_cosine (the same values).
template <class T>
KMATRIX_INLINE typename kernel_types<T>::V cosine_vector(typename kernel_types<T>::V x,
                                                         typename kernel_types<T>::R scale) {
    using K = kernel_types<T>;
    using R = typename K::R;
    using V = typename K::V;
    using M = typename K::M;
    using C = cosine_constants<R>;
    const V t = x * C::inv_pi;
    const M out_of_range = ~((t < C::limit) & (t > -C::limit));   // NaN too
    if (!any_lane<T>(out_of_range)) return reduced_cosine<R, V, M>(x, scale);
    V out;
    for (int l = 0; l < K::lanes; ++l) out[l] = scalar_cosine(x[l], scale);
    return out;
}

}  // namespace KMATRIX_ISA_NS
}  // namespace kmatrix

#endif  // KMATRIX_ISA_COSINE_HPP
