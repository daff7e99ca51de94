// Per-ISA kernel header: compiled into every (instruction set, scalar type)
// kernel unit, inside namespace KMATRIX_ISA_NS. May include: isa_*.hpp,
// kernel_interface.hpp, standard headers without out-of-line code.
//
// Moving a chunk of rows into a tile and back (the batched and vjp paths).
//
// Tile layout: Z[u * planes + p] is one lane vector holding plane p (0: real
// part, 1: imaginary part of a complex network) of position u of every row
// of the chunk, lane i for row row0 + i. Lanes beyond the chunk's rows are
// zero. Included by the kernel translation units only (see isa_simd.hpp).
#ifndef KMATRIX_ISA_TILE_HPP
#define KMATRIX_ISA_TILE_HPP

#include "isa_epilogue.hpp"
#include "isa_simd.hpp"

namespace kmatrix {
namespace KMATRIX_ISA_NS {

// The iterations [it0, it1) of a pass on bits b0.. (it = hi * 2^b0 + lo)
// as runs of one hi: f(hi, lo_begin, lo_end) for each (the passes' units
// are iteration ranges).
template <class F>
KMATRIX_INLINE void for_each_run(int b0, index_t it0, index_t it1, F&& f) {
    const index_t s = index_t(1) << b0;
    for (index_t it = it0; it < it1;) {
        const index_t hi = it >> b0, lo = it & (s - 1);
        const index_t lo_end = (s - lo) < (it1 - it) ? s : lo + (it1 - it);
        f(hi, lo, lo_end);
        it += lo_end - lo;
    }
}

// Which rows and positions of a strided array a load or store touches.
struct TileRange {
    index_t row0, n_rows;  // rows of the chunk (n_rows <= lanes)
    index_t p0, p1;        // positions [p0, p1) of the rows (p0 a multiple of lanes)
    bool real_io;          // the rows are real though the network is complex
    const index_t* perm;   // position -> tile row (load) / tile row read (store)
};

// Positions [p0, p1) of the chunk's rows into the tile; positions at or
// beyond x.len are the zero padding. Full chunks of unit-stride rows go
// through lanes x lanes in-register transposes; the rest element by element.
// Returns false on NaN/inf when check_finite.
template <class T>
KMATRIX_INLINE bool load_tile(typename kernel_types<T>::V* Z, const Rows& x, const TileRange& r,
                              bool check_finite) {
    using K = kernel_types<T>;
    using R = typename K::R;
    using V = typename K::V;
    using M = typename K::M;
    constexpr int C = K::lanes;
    constexpr int P = K::planes;
    const bool cplx_in = K::is_complex && !r.real_io;
    const index_t nr = r.n_rows;
    const index_t data_end = r.p1 < x.len ? r.p1 : x.len;
    const auto row_of = [&](index_t u) __attribute__((always_inline)) {
        return r.perm ? r.perm[u] : u;
    };
    // padding positions: zero tile rows
    for (index_t u = (r.p0 > x.len ? r.p0 : x.len); u < r.p1; ++u)
        for (int pl = 0; pl < P; ++pl) Z[row_of(u) * P + pl] = V{};
    M bad = M{};
    index_t u_done = r.p0;
    if (nr == C && x.col_stride == 1) {
        const R* rows[C];
        const index_t es = cplx_in ? 2 : 1;
        for (int lane = 0; lane < C; ++lane)
            rows[lane] = static_cast<const R*>(x.data) + (r.row0 + lane) * x.row_stride * es;
        for (; u_done + C <= data_end; u_done += C) {
#pragma GCC unroll 2
            for (int pl = 0; pl < P; ++pl) {
                if (K::is_complex && !cplx_in && pl == 1) {
#pragma GCC unroll 16
                    for (int j = 0; j < C; ++j) Z[row_of(u_done + j) * P + 1] = V{};
                    continue;
                }
                V v[C];
#pragma GCC unroll 16
                for (int lane = 0; lane < C; ++lane) {
                    if (cplx_in) {
                        const V w0 = vload<V>(rows[lane] + 2 * u_done);
                        const V w1 = vload<V>(rows[lane] + 2 * u_done + C);
                        v[lane] = deinterleave<T>(w0, w1, pl);
                    } else {
                        v[lane] = vload<V>(rows[lane] + u_done);
                    }
                }
                transpose_square<T>(v);
#pragma GCC unroll 16
                for (int j = 0; j < C; ++j) {
                    Z[row_of(u_done + j) * P + pl] = v[j];
                    if (check_finite) flag_non_finite<T>(bad, v[j]);
                }
            }
        }
    }
    if (u_done < data_end) {
        const index_t es = cplx_in ? 2 : 1;
        const index_t xs = x.col_stride * es;
        for (index_t u = u_done; u < data_end; ++u) {
            R* zr = reinterpret_cast<R*>(Z + row_of(u) * P);
            for (index_t lane = 0; lane < C; ++lane) {
                if (lane < nr) {
                    const R* xr = static_cast<const R*>(x.data) + (r.row0 + lane) * x.row_stride * es;
                    zr[lane] = xr[u * xs];
                    if constexpr (K::is_complex) zr[C + lane] = cplx_in ? xr[u * xs + 1] : R(0);
                } else {
                    zr[lane] = R(0);
                    if constexpr (K::is_complex) zr[C + lane] = R(0);
                }
            }
            if (check_finite)
                for (int pl = 0; pl < P; ++pl) flag_non_finite<T>(bad, Z[row_of(u) * P + pl]);
        }
    }
    return !(check_finite && any_lane<T>(bad));
}

// Output positions [p0, p1) (p1 <= y.len) of the chunk's rows from the tile.
template <class T>
KMATRIX_INLINE void store_tile(const typename kernel_types<T>::V* Z, const OutRows& y,
                               const TileRange& r,
                               const Epilogue<T>& epilogue = Epilogue<T>(),
                               const Gate<T>& gate = Gate<T>()) {
    using K = kernel_types<T>;
    using R = typename K::R;
    using V = typename K::V;
    constexpr int C = K::lanes;
    constexpr int P = K::planes;
    const bool cplx_out = K::is_complex && !r.real_io;
    const index_t es = cplx_out ? 2 : 1;
    const index_t nr = r.n_rows;
    const auto row_of = [&](index_t v) __attribute__((always_inline)) {
        return r.perm ? r.perm[v] : v;
    };
    index_t v_done = r.p0;
    if (nr == C && y.col_stride == 1) {
        R* rows[C];
        for (int lane = 0; lane < C; ++lane)
            rows[lane] = static_cast<R*>(y.data) + (r.row0 + lane) * y.row_stride * es;
        for (; v_done + C <= r.p1; v_done += C) {
            V re[C];
#pragma GCC unroll 16
            for (int j = 0; j < C; ++j) re[j] = Z[row_of(v_done + j) * P];
            transpose_square<T>(re);
            if (cplx_out) {
                V im[C];
#pragma GCC unroll 16
                for (int j = 0; j < C; ++j) im[j] = Z[row_of(v_done + j) * P + 1];
                transpose_square<T>(im);
#pragma GCC unroll 16
                for (int lane = 0; lane < C; ++lane) {
                    vstore(rows[lane] + 2 * v_done, interleave<T>(re[lane], im[lane], 0));
                    vstore(rows[lane] + 2 * v_done + C, interleave<T>(re[lane], im[lane], 1));
                }
            } else if (epilogue.kind != EPILOGUE_NONE) {
                const V off = vload<V>(epilogue.offset + v_done);
#pragma GCC unroll 16
                for (int lane = 0; lane < C; ++lane)
                    vstore(rows[lane] + v_done, epilogue_value<T>(re[lane], off, epilogue));
            } else if (gate.kind != GATE_NONE) {
#pragma GCC unroll 16
                for (int lane = 0; lane < C; ++lane) {
                    const R* a = gate.ref + (r.row0 + lane) * gate.ref_row_stride + v_done;
                    vstore(rows[lane] + v_done, re[lane] * gate_value(vload<V>(a), gate.kind));
                }
            } else {
#pragma GCC unroll 16
                for (int lane = 0; lane < C; ++lane) vstore(rows[lane] + v_done, re[lane]);
            }
        }
    }
    if (v_done < r.p1) {
        const index_t ys = y.col_stride * es;
        for (index_t lane = 0; lane < nr; ++lane) {
            R* yr = static_cast<R*>(y.data) + (r.row0 + lane) * y.row_stride * es;
            for (index_t v = v_done; v < r.p1; ++v) {
                const R* zr = reinterpret_cast<const R*>(Z + row_of(v) * P);
                yr[v * ys] = zr[lane];
                if (cplx_out) yr[v * ys + 1] = zr[C + lane];
            }
            if (epilogue.kind != EPILOGUE_NONE) epilogue_span<T>(yr, v_done, r.p1, epilogue);
            if (gate.kind != GATE_NONE)
                gate_span<T>(yr, gate.ref + (r.row0 + lane) * gate.ref_row_stride, v_done, r.p1,
                             gate.kind);
        }
    }
}

}  // namespace KMATRIX_ISA_NS
}  // namespace kmatrix

#endif  // KMATRIX_ISA_TILE_HPP
