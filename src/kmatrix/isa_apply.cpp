// Per-ISA kernel unit: compiled once per (instruction set, scalar type) with
// that instruction set's -march flags (meson.build). May include: isa_*.hpp.
//
// The apply kernels of one instruction set (KMATRIX_ISA) and one scalar type
// (KMATRIX_DTYPE: 0 float, 1 double, 2 complex<float>, 3 complex<double>).
// The build compiles this file once per pair, each with its -march flags.
#include "isa_epilogue.hpp"
#include "isa_losses.hpp"
#include "isa_optimizers.hpp"
#include "isa_rows.hpp"
#include "isa_small.hpp"
#include "isa_tile_apply.hpp"

#include "isa_scalar.hpp"

namespace kmatrix {
namespace KMATRIX_ISA_NS {

template <class T>
const ApplyKernels<T>& apply_kernels() {
    using K = kernel_types<T>;
    static const ApplyKernels<T> table = {
        K::lanes,
        K::max_group,
        small_max_vectors<T>() * K::lanes,
        &tile_phase<T>,
        &row_phase<T>,
        &small_rows<T>,
        &cosine_rows<T>,
        &adam_block<T>,
        &squared_error_rows<T>,
    };
    return table;
}

template const ApplyKernels<kernel_scalar>& apply_kernels<kernel_scalar>();

}  // namespace KMATRIX_ISA_NS
}  // namespace kmatrix
