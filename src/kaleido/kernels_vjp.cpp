// The gradient kernels of one instruction set (KALEIDO_ISA) and one scalar
// type (KALEIDO_DTYPE, as in kernels_apply.cpp).
#include "vjp.hpp"

#ifndef KALEIDO_DTYPE
#error "KALEIDO_DTYPE must name the scalar type of this translation unit"
#endif

namespace kaleido {
namespace KALEIDO_ISA_NS {

template <class T>
const VjpKernels<T>& vjp_kernels() {
    using K = kernel_types<T>;
    static const VjpKernels<T> table = {K::lanes, K::max_vjp_group, &vjp_phase<T>};
    return table;
}

#if KALEIDO_DTYPE == 0
template const VjpKernels<float>& vjp_kernels<float>();
#elif KALEIDO_DTYPE == 1
template const VjpKernels<double>& vjp_kernels<double>();
#elif KALEIDO_DTYPE == 2
template const VjpKernels<std::complex<float>>& vjp_kernels<std::complex<float>>();
#else
template const VjpKernels<std::complex<double>>& vjp_kernels<std::complex<double>>();
#endif

}  // namespace KALEIDO_ISA_NS
}  // namespace kaleido
