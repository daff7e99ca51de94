// The kernel tables of the instruction set in use (see kernels.hpp).
#ifndef KALEIDO_DISPATCH_HPP
#define KALEIDO_DISPATCH_HPP

#include "kernels.hpp"

namespace kaleido {

template <class T>
const ApplyKernels<T>& selected_apply_kernels();
template <class T>
const VjpKernels<T>& selected_vjp_kernels();

}  // namespace kaleido

#endif  // KALEIDO_DISPATCH_HPP
