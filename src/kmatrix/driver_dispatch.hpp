// Driver (baseline instruction set, part of kmatrix_core). May include:
// kernel_interface.hpp. Never included by the per-ISA kernels.
//
// The kernel tables of the instruction set in use (see kernel_interface.hpp).
#ifndef KMATRIX_DRIVER_DISPATCH_HPP
#define KMATRIX_DRIVER_DISPATCH_HPP

#include "kernel_interface.hpp"

namespace kmatrix {

template <class T>
const ApplyKernels<T>& selected_apply_kernels();
template <class T>
const VjpKernels<T>& selected_vjp_kernels();

}  // namespace kmatrix

#endif  // KMATRIX_DRIVER_DISPATCH_HPP
