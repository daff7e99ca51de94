// Batched products with a K-matrix: the stages of (BB*)^w_e applied to the
// rows of a strided 2-D array.
//
// Twiddle layout (the same as kaleido.KMatrix.twiddles). A K-matrix of size
// N = 2^L and width w stores its parameters as a C-contiguous array of shape
// (w, 2, L, N/2, 2, 2) of the operator's scalar type:
//   * stage (i, h, k) -- block i, half h, stage k -- mixes index bit
//     b = L-1-k when h == 0 (the B* half: strides N/2, ..., 2, 1) and b = k
//     when h == 1 (the B half: strides 1, 2, ..., N/2): the Benes network;
//   * pair p in [0, N/2) joins positions u = ((p >> b) << (b+1)) | (p mod 2^b)
//     and v = u + 2^b, and its 2x2 block [[a, b], [c, d]] (row-major, the last
//     two axes) maps (x_u, x_v) to (a x_u + b x_v, c x_u + d x_v);
//   * the stages are applied in the flat order (i, h, k) = (0,0,0), (0,0,1), ...
// The operator on rows of length x_len is: zero-pad to N, apply every stage,
// keep the first y_len entries. Each stage's N/2 blocks are contiguous, so a
// pass streams its twiddles once.
//
// Kernel design. Rows are processed in chunks of C rows, C being one 64-byte
// cache line of real scalars (16 floats or 8 doubles). A chunk is transposed
// into a scratch tile Z of shape (N, C) -- complex values as separate real and
// imaginary planes -- so that every stage, whatever its stride, is the same
// SIMD operation: a broadcast 2x2 block times two lane vectors of the batch.
// Up to four (complex: three) consecutive stages of one half act on as many
// consecutive bits, i.e. on 16 (8) tile rows at a time; they are fused into
// one pass that keeps those rows in registers. OpenMP distributes the chunks
// (static schedule). Each row's arithmetic is the same whichever thread or
// lane handles it, so the result does not depend on the number of threads.
#ifndef KALEIDO_BUTTERFLY_HPP
#define KALEIDO_BUTTERFLY_HPP

#include <complex>

#include "common.hpp"

namespace kaleido {

// y[r, :y_len] = op(K) applied to x[r, :x_len] for r < n_rows, op chosen by
// `trans` (TRANS_N, TRANS_T or TRANS_H). Strides are in elements and may be
// negative. For TRANS_N the operator maps length n_in = x_len to
// n_out = y_len; for TRANS_T/H the roles swap. x_len and y_len must not exceed
// N = 2^log_size. With check_finite, returns STATUS_NON_FINITE (y then holds
// unspecified values) if x holds NaN or infinity.
template <class T>
int kmatrix_apply(const T* twiddles, index_t width, int log_size,
                  const T* x, index_t n_rows, index_t x_len,
                  index_t x_row_stride, index_t x_col_stride,
                  T* y, index_t y_len, index_t y_row_stride,
                  index_t y_col_stride, int trans, int n_threads,
                  int check_finite);

// Gradients of the real scalar L = Re(sum(conj(G) * (X K^T))) (rows of X of
// length n_in, rows of G of length n_out): dx = G conj(K) (that is K^H
// applied to every row of G), written when dx is not null, and the twiddle
// gradient dL/dRe + i dL/dIm (real: dL/dtheta) in the twiddle layout,
// overwriting dtwiddles. Costs about three products: each chunk is pushed
// forward saving the tile at the input of every fused pass, then the
// gradient goes back pass by pass, recomputing the pass's inner stages in
// registers (passes of at most three stages here, to limit register spills). Twiddle gradients are summed per fixed slot of chunks in chunk
// order, so they do not depend on the thread count. Scratch: a copy of the
// twiddles in the order the passes read them (iteration, stage, pair), slot
// buffers in that order (up to 16 x the twiddle size, at most 512 MiB; a
// slot's first chunk stores, so nothing is zeroed), and n_passes + 1 tiles
// per thread. Per pair and stage the lane sums of the products go through a
// fixed merge tree into whole vectors, never through scalars.
template <class T>
int kmatrix_vjp(const T* twiddles, index_t width, int log_size,
                const T* x, index_t n_rows, index_t n_in, index_t x_row_stride,
                index_t x_col_stride, const T* g, index_t n_out, index_t g_row_stride,
                index_t g_col_stride, T* dx, index_t dx_row_stride, index_t dx_col_stride,
                T* dtwiddles, int n_threads, int check_finite);

}  // namespace kaleido

#endif  // KALEIDO_BUTTERFLY_HPP
