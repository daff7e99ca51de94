// Per-ISA kernel unit: compiled once per (instruction set, scalar type) with
// that instruction set's -march flags (meson.build). May include: isa_*.hpp.
//
// The gradient kernels of one instruction set (KMATRIX_ISA) and one scalar
// type (KMATRIX_DTYPE, as in isa_apply.cpp).
#include "isa_vjp_tile.hpp"
#include "isa_vjp_rows.hpp"

#include "isa_scalar.hpp"

namespace kmatrix {
namespace KMATRIX_ISA_NS {

template <class T>
const VjpKernels<T>& vjp_kernels() {
    using K = kernel_types<T>;
    static const VjpKernels<T> table = {K::lanes, K::max_vjp_group, &vjp_phase<T>,
                                        &vjp_row_phase<T>};
    return table;
}

template const VjpKernels<kernel_scalar>& vjp_kernels<kernel_scalar>();

}  // namespace KMATRIX_ISA_NS
}  // namespace kmatrix
