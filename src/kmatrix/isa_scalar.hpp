// Per-ISA kernel header: compiled into every (instruction set, scalar type)
// kernel unit, inside namespace KMATRIX_ISA_NS. May include: isa_*.hpp,
// kernel_interface.hpp, standard headers without out-of-line code.
//
// The scalar type of a kernel translation unit, from KMATRIX_DTYPE (0 float,
// 1 double, 2 complex<float>, 3 complex<double>), set by the build for each
// of isa_apply.cpp and isa_vjp.cpp.
#ifndef KMATRIX_ISA_SCALAR_HPP
#define KMATRIX_ISA_SCALAR_HPP

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

#endif  // KMATRIX_ISA_SCALAR_HPP
