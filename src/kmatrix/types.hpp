// Shared by the driver, the per-ISA kernels and the Cython layer: plain
// types only. May include: <cstdint>.
//
// Plain types shared by every part of kmatrix's C++ core: the index type and
// the enumerations passed across the boundaries between the driver, the
// per-ISA kernels and the Cython layer. No functions live here, so the
// translation units compiled for different instruction sets can include it
// without sharing any code.
#ifndef KMATRIX_TYPES_HPP
#define KMATRIX_TYPES_HPP

#include <cstdint>

namespace kmatrix {

using index_t = std::int64_t;

// Status codes returned by every entry point (0 means success).
enum Status : int {
    STATUS_OK = 0,
    STATUS_BAD_ARGUMENT = 1,   // inconsistent sizes, strides or flags
    STATUS_NON_FINITE = 2,     // the input held NaN or infinity
    STATUS_NO_MEMORY = 3,      // a scratch allocation failed
};

// How the stored operator is applied: as is, transposed, or conjugate
// transposed (the adjoint). Transposing reverses the order of the stages and
// transposes each 2x2 block, so all three cost the same (transposition
// principle).
enum Trans : int { TRANS_N = 0, TRANS_T = 1, TRANS_H = 2 };

// The inverse of op(K) for a square network (a solve), as kmatrix_apply's
// `trans`: TRANS_INVERSE + TRANS_N, + TRANS_T or + TRANS_H. The inverse is
// the network run backwards with every 2x2 block inverted, and
// inverse(op(block)) = op(inverse(block)); the row kernels invert each block
// as they load it (their Trans template argument then carries the flag), the
// tile path packs the inverted blocks, the small path's coefficients are
// computed from them.
constexpr int TRANS_INVERSE = 3;

// Instruction sets the kernels are compiled for (x86-64 micro-architecture
// levels; other processors build ISA_BASE only). One is picked at run time.
enum Isa : int { ISA_BASE = 0, ISA_V3 = 1, ISA_V4 = 2 };

// What every 2x2 block of one stage looks like, as the stage is applied
// (after transposition / conjugation). The batched path classifies stages of
// large calls and runs the cheaper arithmetic; other paths treat every stage
// as general.
enum StageKind : int {
    KIND_GENERAL = 0,
    KIND_PERM = 1,   // every block [[1, 0], [0, 1]] or [[0, 1], [1, 0]]
    KIND_DIT = 2,    // [[1, w], [1, -w]]: t = w x_v; (x_u + t, x_u - t)
    KIND_DITC = 3,   // [[w, 1], [-w, 1]]: t = w x_u; (t + x_v, x_v - t)
    KIND_DIF = 4,    // [[1, 1], [w, -w]]: (x_u + x_v, w (x_u - x_v))
    KIND_DIFR = 5,   // [[w, -w], [1, 1]]: (w (x_u - x_v), x_u + x_v)
    KIND_IDENTITY = 6,  // every block the identity: the stage is skipped
};

// What a product with a real network does to every output entry y[v] as it
// is stored (kmatrix_apply_epilogue): nothing, the random features' cosine
// scale * cos(y + offset[v]), a layer's bias y + offset[v], or the bias and
// an activation: a rectifier max(y + offset[v], 0) (NaN stays NaN), tanh,
// or the logistic function as 0.5 tanh(0.5 z) + 0.5.
enum EpilogueKind : int {
    EPILOGUE_NONE = 0,
    EPILOGUE_COSINE = 1,
    EPILOGUE_BIAS = 2,
    EPILOGUE_BIAS_RELU = 3,
    EPILOGUE_BIAS_TANH = 4,
    EPILOGUE_BIAS_LOGISTIC = 5,
};

// A gate on the input gradient of a vjp (kmatrix_vjp): every entry dx[v]
// of a row is multiplied, as it is stored, by the derivative of a layer's
// activation written in terms of that activation's value a[v] (the layer's
// input, a row of another array): 1 if a > 0 else 0 (rectifier), 1 - a^2
// (tanh), a - a^2 (logistic).
enum GateKind : int {
    GATE_NONE = 0,
    GATE_RELU = 1,
    GATE_TANH = 2,
    GATE_LOGISTIC = 3,
};

}  // namespace kmatrix

#endif  // KMATRIX_TYPES_HPP
