// The scalar type of a kernel translation unit, from KMATRIX_DTYPE (0 float,
// 1 double, 2 complex<float>, 3 complex<double>), set by the build for each
// of kernels_apply.cpp and kernels_vjp.cpp.
#ifndef KMATRIX_KERNEL_SCALAR_HPP
#define KMATRIX_KERNEL_SCALAR_HPP

#include <complex>

#ifndef KMATRIX_DTYPE
#error "KMATRIX_DTYPE must name the scalar type of this translation unit"
#endif

namespace kmatrix {
#if KMATRIX_DTYPE == 0
using kernel_scalar = float;
#elif KMATRIX_DTYPE == 1
using kernel_scalar = double;
#elif KMATRIX_DTYPE == 2
using kernel_scalar = std::complex<float>;
#else
using kernel_scalar = std::complex<double>;
#endif
}  // namespace kmatrix

#endif  // KMATRIX_KERNEL_SCALAR_HPP
