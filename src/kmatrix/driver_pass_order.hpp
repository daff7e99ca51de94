// Driver (baseline instruction set, part of kmatrix_core). May include:
// kernel_interface.hpp, the standard library. Never included by the
// per-ISA kernels.
//
// The pass order of the twiddles, into which the executors of apply and vjp
// copy the twiddles once per call for the tile kernels.
#ifndef KMATRIX_DRIVER_PASS_ORDER_HPP
#define KMATRIX_DRIVER_PASS_ORDER_HPP

#include <algorithm>
#include <cstring>
#include <vector>

#include "kernel_interface.hpp"

namespace kmatrix {

// Pass order: the twiddles of a group laid out in the order its backward
// pass reads them -- iteration it = hi * s + lo, then stage j, then pair
// l_rm, 4 entries each -- so that one pointer moving 4 * G * 2^(G-1)
// entries per iteration addresses every block at a constant offset (stride-s
// addresses took more registers than x86 has and spilled), and the pass's
// gradients go to contiguous whole vectors. Calls f(packed, original) for
// the index (in T) of every block.
template <class T, class F>
void visit_pass_order(const StageGroup<T>& gr, index_t N, index_t group_offset,
                      const T* twiddles, F&& f) {
    const int G = gr.size;
    const index_t s = index_t(1) << gr.low_bit;
    const index_t np = index_t(1) << (G - 1);
    const index_t n_it = N >> G;
    for (index_t it = 0; it < n_it; ++it) {
        const index_t hi = it >> gr.low_bit, lo = it & (s - 1);
        const index_t pbase = hi * (s << (G - 1)) + lo;
        for (int j = 0; j < G; ++j)
            for (index_t q = 0; q < np; ++q)
                f(group_offset + 4 * ((it * G + j) * np + q),
                  (gr.twiddles[j] - twiddles) + 4 * (pbase + q * s));
    }
}

// In place: the 2x2 block [[a, b], [c, d]] (row-major) becomes its inverse
// [[d, -b], [-c, a]] / (ad - bc) (infinite or NaN entries for a singular
// block: the caller checks the result).
template <class T>
inline void invert_block(T* e) {
    const T det = e[0] * e[3] - e[1] * e[2];
    const T a = e[0];
    e[0] = e[3] / det;
    e[3] = a / det;
    e[1] = -e[1] / det;
    e[2] = -e[2] / det;
}

// The twiddles of the groups copied into pass order (one after the other,
// group i from offset[i]), cut into n_parts independent parts: part t
// copies the iterations [t * n / n_parts, (t + 1) * n / n_parts) of each
// group (n of them). Within one `hi` the iterations read, for each stage
// and pair, a contiguous run of blocks: copied run by run (with `inverse`,
// every block inverted on the way: a solve's tiles).
template <class T>
void pack_pass_order(const std::vector<StageGroup<T>>& groups, index_t N,
                     const std::vector<index_t>& offset, T* packed, index_t part,
                     index_t n_parts, bool inverse = false) {
    for (std::size_t i = 0; i < groups.size(); ++i) {
        const StageGroup<T>& gr = groups[i];
        const int G = gr.size;
        const index_t s = index_t(1) << gr.low_bit;
        const index_t np = index_t(1) << (G - 1);
        const index_t n_it = N >> G;
        const index_t step = 4 * G * np;  // entries per iteration
        T* const out = packed + offset[i];
        const index_t it_end = (part + 1) * n_it / n_parts;
        for (index_t it = part * n_it / n_parts; it < it_end;) {
            const index_t hi = it >> gr.low_bit, lo0 = it & (s - 1);
            const index_t run = std::min<index_t>(s - lo0, it_end - it);  // same hi
            for (int j = 0; j < G; ++j) {
                for (index_t q = 0; q < np; ++q) {
                    const T* src = gr.twiddles[j] + 4 * (hi * (s << (G - 1)) + q * s + lo0);
                    T* dst = out + it * step + 4 * (j * np + q);
                    for (index_t r = 0; r < run; ++r, src += 4, dst += step) {
                        std::memcpy(static_cast<void*>(dst), src, 4 * sizeof(T));
                        if (inverse) invert_block(dst);
                    }
                }
            }
            it += run;
        }
    }
}

}  // namespace kmatrix

#endif  // KMATRIX_DRIVER_PASS_ORDER_HPP
