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

#include "isa_cosine.hpp"

namespace kmatrix {
namespace KMATRIX_ISA_NS {

// The epilogue of the lane vector y of outputs, whose offsets are `off`
// (kind != EPILOGUE_NONE).
template <class T>
KMATRIX_INLINE typename kernel_types<T>::V epilogue_vector(typename kernel_types<T>::V y,
                                                           typename kernel_types<T>::V off,
                                                           const Epilogue<T>& e) {
    using V = typename kernel_types<T>::V;
    const V z = y + off;
    switch (e.kind) {
        case EPILOGUE_COSINE: return cosine_vector<T>(z, e.scale);
        case EPILOGUE_BIAS_RELU: return z < V{} ? V{} : z;  // NaN stays NaN
        default: return z;
    }
}

template <class T>
KMATRIX_INLINE typename kernel_types<T>::R epilogue_scalar(typename kernel_types<T>::R y,
                                                           typename kernel_types<T>::R off,
                                                           const Epilogue<T>& e) {
    using R = typename kernel_types<T>::R;
    const R z = y + off;
    switch (e.kind) {
        case EPILOGUE_COSINE: return scalar_cosine(z, e.scale);
        case EPILOGUE_BIAS_RELU: return z < R(0) ? R(0) : z;
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
            vstore(row + j, epilogue_vector<T>(vload<V>(row + j), vload<V>(e.offset + j), e));
        for (; j < p1; ++j) row[j] = epilogue_scalar<T>(row[j], e.offset[j], e);
    }
}

// The gate's factor (GateKind, not GATE_NONE) at the activations a, as
// NumPy's passes compute it (the vjp units may fuse a^2 into the
// subtraction: then it is rounded once instead of twice).
template <class T>
KMATRIX_INLINE typename kernel_types<T>::V gate_vector(typename kernel_types<T>::V a, int kind) {
    using V = typename kernel_types<T>::V;
    switch (kind) {
        case GATE_RELU: return a > V{} ? V{} + 1 : V{};
        case GATE_TANH: return V{} + 1 - a * a;
        default: return a - a * a;
    }
}

template <class T>
KMATRIX_INLINE typename kernel_types<T>::R gate_scalar(typename kernel_types<T>::R a, int kind) {
    using R = typename kernel_types<T>::R;
    switch (kind) {
        case GATE_RELU: return a > R(0) ? R(1) : R(0);
        case GATE_TANH: return R(1) - a * a;
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
            vstore(row + j, vload<V>(row + j) * gate_vector<T>(vload<V>(a + j), kind));
        for (; j < p1; ++j) row[j] = row[j] * gate_scalar<T>(a[j], kind);
    }
}

}  // namespace KMATRIX_ISA_NS
}  // namespace kmatrix

#endif  // KMATRIX_ISA_EPILOGUE_HPP
