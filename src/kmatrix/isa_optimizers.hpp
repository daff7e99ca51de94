// Per-ISA kernel header: compiled into every (instruction set, scalar type)
// apply unit, inside namespace KMATRIX_ISA_NS. May include: isa_*.hpp,
// kernel_interface.hpp, standard headers without out-of-line code.
//
// One Adam step on a block of real parameters (kmatrix_adam_step), with the
// roundings of NumPy's passes in kmatrix._core.optimizers: the moments, the
// square root and the quotient in R, the product by the step in double,
// rounded to R. The apply units are compiled without contracted
// multiply-adds, so nothing fuses; each entry is computed on its own.
#ifndef KMATRIX_ISA_OPTIMIZERS_HPP
#define KMATRIX_ISA_OPTIMIZERS_HPP

#include <cmath>

#include "isa_simd.hpp"

namespace kmatrix {
namespace KMATRIX_ISA_NS {

template <class T>
void adam_block(typename real_of<T>::type* __restrict p,
                const typename real_of<T>::type* __restrict g,
                typename real_of<T>::type* __restrict m, typename real_of<T>::type* __restrict v,
                const AdamStep<typename real_of<T>::type>& s, index_t e0, index_t e1) {
    using R = typename real_of<T>::type;
    if constexpr (!kernel_types<T>::is_complex) {
        for (index_t e = e0; e < e1; ++e) {
            const R gi = g[e];
            const R mi = m[e] * s.beta_1 + gi * s.one_minus_beta_1;
            const R vi = v[e] * s.beta_2 + (gi * gi) * s.one_minus_beta_2;
            m[e] = mi;
            v[e] = vi;
            const R ratio = mi / (std::sqrt(vi) + s.epsilon);
            p[e] -= R(double(ratio) * s.step);
        }
    }
}

}  // namespace KMATRIX_ISA_NS
}  // namespace kmatrix

#endif  // KMATRIX_ISA_OPTIMIZERS_HPP
