// Per-ISA kernel header: compiled into every (instruction set, scalar type)
// kernel unit, inside namespace KMATRIX_ISA_NS. May include: isa_*.hpp,
// kernel_interface.hpp, standard headers without out-of-line code.
//
// The epilogues of a product (EpilogueKind): what every output entry
// becomes as it is stored, on a lane vector of entries or along a row.
// Each entry is computed on its own, so the values are those of a separate
// pass over the output, whatever the path and the thread count.
#ifndef KMATRIX_ISA_EPILOGUE_HPP
#define KMATRIX_ISA_EPILOGUE_HPP

#include <type_traits>

#include "isa_cosine.hpp"
#include "isa_tanh.hpp"

namespace kmatrix {
namespace KMATRIX_ISA_NS {

// tanh of a lane vector or of one scalar (isa_tanh.hpp).
template <class T, class X>
KMATRIX_INLINE X tanh_of(X z) {
    using K = kernel_types<T>;
    using R = typename K::R;
    if constexpr (std::is_same_v<X, R>)
        return tanh_value<R, X, typename tanh_constants<R>::Int>(z);
    else
        return tanh_value<R, X, typename K::M>(z);
}

// The epilogue of outputs y (a lane vector V or one scalar R) whose
// offsets are `off` (kind != EPILOGUE_NONE); the same arithmetic for both.
template <class T, class X>
KMATRIX_INLINE X epilogue_value(X y, X off, const Epilogue<T>& e) {
    const X z = y + off;
    switch (e.kind) {
        case EPILOGUE_COSINE:
            if constexpr (std::is_same_v<X, typename kernel_types<T>::R>)
                return scalar_cosine(z, e.scale);
            else
                return cosine_vector<T>(z, e.scale);
        case EPILOGUE_BIAS_RELU: return z < X{} ? X{} : z;  // NaN stays NaN
        case EPILOGUE_BIAS_TANH: return tanh_of<T>(z);
        case EPILOGUE_BIAS_LOGISTIC: {
            // NumPy's passes: 0.5 z, tanh, 0.5 t, + 0.5 (nothing contracts here)
            using R = typename kernel_types<T>::R;
            return tanh_of<T>(z * R(0.5)) * R(0.5) + R(0.5);
        }
        default: return z;
    }
}

// In place on positions [p0, p1) of one contiguous row of outputs: lane
// vectors, then a scalar tail (the same values).
template <class T>
KMATRIX_INLINE void epilogue_span(typename kernel_types<T>::R* row, index_t p0, index_t p1,
                                  const Epilogue<T>& e) {
    using K = kernel_types<T>;
    using V = typename K::V;
    if constexpr (!K::is_complex) {
        index_t j = p0;
        for (; j + K::lanes <= p1; j += K::lanes)
            vstore(row + j, epilogue_value<T>(vload<V>(row + j), vload<V>(e.offset + j), e));
        for (; j < p1; ++j) row[j] = epilogue_value<T>(row[j], e.offset[j], e);
    }
}

// The gate's factor (GateKind, not GATE_NONE) at the activations a (a lane
// vector or one scalar), as NumPy's passes compute it (the vjp units may
// fuse a^2 into the subtraction: then it is rounded once instead of twice).
template <class X>
KMATRIX_INLINE X gate_value(X a, int kind) {
    switch (kind) {
        case GATE_RELU: return a > X{} ? X{} + 1 : X{};
        case GATE_TANH: return X{} + 1 - a * a;
        default: return a - a * a;
    }
}

// In place on positions [p0, p1) of one contiguous row of dx, whose
// activations are the row `a`: dx <- dx * factor(a).
template <class T>
KMATRIX_INLINE void gate_span(typename kernel_types<T>::R* row,
                              const typename kernel_types<T>::R* a, index_t p0, index_t p1,
                              int kind) {
    using K = kernel_types<T>;
    using V = typename K::V;
    if constexpr (!K::is_complex) {
        index_t j = p0;
        for (; j + K::lanes <= p1; j += K::lanes)
            vstore(row + j, vload<V>(row + j) * gate_value(vload<V>(a + j), kind));
        for (; j < p1; ++j) row[j] = row[j] * gate_value(a[j], kind);
    }
}

// Rows [r0, r1) of y (row_stride apart, n_cols each): y <- scale * cos(y +
// offset), the cosine epilogue as a pass of its own (the same values).
template <class T>
void cosine_rows(typename kernel_types<T>::R* y, index_t row_stride, index_t n_cols,
                 const typename kernel_types<T>::R* offset, typename kernel_types<T>::R scale,
                 index_t r0, index_t r1) {
    Epilogue<T> e;
    e.kind = EPILOGUE_COSINE;
    e.offset = offset;
    e.scale = scale;
    for (index_t r = r0; r < r1; ++r) epilogue_span<T>(y + r * row_stride, 0, n_cols, e);
}

}  // namespace KMATRIX_ISA_NS
}  // namespace kmatrix

#endif  // KMATRIX_ISA_EPILOGUE_HPP
