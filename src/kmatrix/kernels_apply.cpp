// The apply kernels of one instruction set (KMATRIX_ISA) and one scalar type
// (KMATRIX_DTYPE: 0 float, 1 double, 2 complex<float>, 3 complex<double>).
// The build compiles this file once per pair, each with its -march flags.
#include "rows.hpp"
#include "small.hpp"
#include "tile_apply.hpp"

#include "kernel_scalar.hpp"

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
    };
    return table;
}

template const ApplyKernels<kernel_scalar>& apply_kernels<kernel_scalar>();

}  // namespace KMATRIX_ISA_NS
}  // namespace kmatrix
