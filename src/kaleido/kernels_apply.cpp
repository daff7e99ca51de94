// The apply kernels of one instruction set (KALEIDO_ISA) and one scalar type
// (KALEIDO_DTYPE: 0 float, 1 double, 2 complex<float>, 3 complex<double>).
// The build compiles this file once per pair, each with its -march flags.
#include "rows.hpp"
#include "small.hpp"
#include "tile_apply.hpp"

#ifndef KALEIDO_DTYPE
#error "KALEIDO_DTYPE must name the scalar type of this translation unit"
#endif

namespace kaleido {
namespace KALEIDO_ISA_NS {

template <class T>
const ApplyKernels<T>& apply_kernels() {
    using K = kernel_types<T>;
    static const ApplyKernels<T> table = {
        K::lanes,
        K::max_group,
        K::lanes,
        small_max_vectors<T>() * K::lanes,
        &tile_phase<T>,
        &row_phase<T>,
        &small_rows<T>,
    };
    return table;
}

#if KALEIDO_DTYPE == 0
template const ApplyKernels<float>& apply_kernels<float>();
#elif KALEIDO_DTYPE == 1
template const ApplyKernels<double>& apply_kernels<double>();
#elif KALEIDO_DTYPE == 2
template const ApplyKernels<std::complex<float>>& apply_kernels<std::complex<float>>();
#else
template const ApplyKernels<std::complex<double>>& apply_kernels<std::complex<double>>();
#endif

}  // namespace KALEIDO_ISA_NS
}  // namespace kaleido
