// The scalar type of a kernel translation unit, from KALEIDO_DTYPE (0 float,
// 1 double, 2 complex<float>, 3 complex<double>), set by the build for each
// of kernels_apply.cpp and kernels_vjp.cpp.
#ifndef KALEIDO_KERNEL_SCALAR_HPP
#define KALEIDO_KERNEL_SCALAR_HPP

#include <complex>

#ifndef KALEIDO_DTYPE
#error "KALEIDO_DTYPE must name the scalar type of this translation unit"
#endif

namespace kaleido {
#if KALEIDO_DTYPE == 0
using kernel_scalar = float;
#elif KALEIDO_DTYPE == 1
using kernel_scalar = double;
#elif KALEIDO_DTYPE == 2
using kernel_scalar = std::complex<float>;
#else
using kernel_scalar = std::complex<double>;
#endif
}  // namespace kaleido

#endif  // KALEIDO_KERNEL_SCALAR_HPP
