// Per-ISA kernel header: compiled into every (instruction set, scalar type)
// apply unit, inside namespace KMATRIX_ISA_NS. May include: isa_*.hpp,
// kernel_interface.hpp, standard headers without out-of-line code.
//
// The squared error's gradient and loss on rows of predictions
// (kmatrix_squared_error), in one pass: r = p - y and p <- r * scale (times
// the row's weight, in double) with the roundings of NumPy's passes in
// kmatrix._learning.training, and each row's sum of r^2 in double. The sum
// takes the entries into eight accumulators by column mod 8, in column
// order, and adds the eight in a fixed tree, written with generic 8-wide
// vectors, so every instruction set and every thread count gives the same
// bits (the apply units do not contract multiply-adds).
#ifndef KMATRIX_ISA_LOSSES_HPP
#define KMATRIX_ISA_LOSSES_HPP

#include "isa_simd.hpp"

namespace kmatrix {
namespace KMATRIX_ISA_NS {

template <class T>
void squared_error_rows(const SquaredErrorJob<typename real_of<T>::type>& job, index_t r0,
                        index_t r1) {
    using R = typename real_of<T>::type;
    typedef double D8 __attribute__((vector_size(8 * sizeof(double))));
    typedef R R8 __attribute__((vector_size(8 * sizeof(R))));
    if constexpr (!kernel_types<T>::is_complex) {
        for (index_t i = r0; i < r1; ++i) {
            R* p = job.p + i * job.p_stride;
            const R* y = job.y + i * job.y_stride;
            const double w = job.w ? job.w[i] : 1.0;
            D8 acc = D8{};
            index_t j = 0;
            for (; j + 8 <= job.cols; j += 8) {
                R8 pv, yv;
                std::memcpy(&pv, p + j, sizeof(R8));
                std::memcpy(&yv, y + j, sizeof(R8));
                const R8 r = pv - yv;
                const D8 d = __builtin_convertvector(r, D8);
                acc += d * d;
                R8 g = r * job.scale;
                if (job.w) g = __builtin_convertvector(__builtin_convertvector(g, D8) * w, R8);
                std::memcpy(p + j, &g, sizeof(R8));
            }
            for (; j < job.cols; ++j) {
                const R r = p[j] - y[j];
                acc[j & 7] += double(r) * double(r);
                const R g = r * job.scale;
                p[j] = job.w ? R(double(g) * w) : g;
            }
            job.row_sums[i] = ((acc[0] + acc[4]) + (acc[2] + acc[6])) +
                              ((acc[1] + acc[5]) + (acc[3] + acc[7]));
        }
    }
}

}  // namespace KMATRIX_ISA_NS
}  // namespace kmatrix

#endif  // KMATRIX_ISA_LOSSES_HPP
