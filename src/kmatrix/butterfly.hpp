// Driver side, public: the entry points of the C++ core, declared to Cython
// by kmatrix/_core.pxd under this header's name. May include: types.hpp,
// driver_thread_count.hpp, driver_instrumentation.hpp (also declared there).
//
// Products with a K-matrix: the stages of (BB*)^w_e applied to the rows of
// a strided 2-D array, and their gradients. The entry points of kmatrix's
// C++ core (no Python here: the Cython layer turns status codes into
// exceptions).
//
// Twiddle layout (the same as kmatrix.KMatrix.twiddles). A K-matrix of size
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
// keep the first y_len entries.
//
// Three paths, chosen by the number of rows and N alone (never by the thread
// count, so results do not depend on it):
//   * small N (a few lane vectors): each row stays in registers through
//     every stage, with per-call coefficient vectors (isa_small.hpp);
//   * one or a few rows: vectorized along the row, twiddles deinterleaved in
//     registers, read once per call whatever the number of rows (isa_rows.hpp);
//   * batches: chunks of rows transposed into tiles, up to four stages fused
//     per pass, stages of large calls classified (identity stages skipped,
//     permutations folded into the loads and stores, butterfly blocks with
//     fewer multiplications) (isa_tile_apply.hpp).
// Long rows (N >= 2^15) are shared by all threads phase by phase, so two
// threads stream the twiddles once between them.
#ifndef KMATRIX_BUTTERFLY_HPP
#define KMATRIX_BUTTERFLY_HPP

#include <complex>

#include "driver_instrumentation.hpp"
#include "driver_thread_count.hpp"
#include "types.hpp"

namespace kmatrix {

// y[r, :y_len] = op(K) applied to x[r, :x_len] for r < n_rows, op chosen by
// `trans` (TRANS_N, TRANS_T or TRANS_H). Strides are in elements and may be
// negative. For TRANS_N the operator maps length n_in = x_len to
// n_out = y_len; for TRANS_T/H the roles swap. x_len and y_len must not exceed
// N = 2^log_size. real_io (complex T only): x and y hold real rows (of the
// real type of T) and the operator is the real part Re(op(K)) applied to
// them. With check_finite, returns STATUS_NON_FINITE (y then holds
// unspecified values) if x holds NaN or infinity. TRANS_INVERSE + op applies
// op(K)^-1 instead (x_len = y_len = N: a solve), each 2x2 block inverted as
// it is read; a singular block gives infinities or NaN in y, for the caller
// to check.
template <class T>
int kmatrix_apply(const T* twiddles, index_t width, int log_size, const void* x, index_t n_rows,
                  index_t x_len, index_t x_row_stride, index_t x_col_stride, void* y,
                  index_t y_len, index_t y_row_stride, index_t y_col_stride, int trans,
                  int n_threads, int check_finite, int real_io);

// Gradients of the real scalar L = Re(sum(conj(G) * (X K^T))) (rows of X of
// length n_in, rows of G of length n_out): dx = G conj(K) (that is K^H
// applied to every row of G), written when dx is not null, and the twiddle
// gradient dL/dRe + i dL/dIm (real: dL/dtheta) in the twiddle layout,
// overwriting dtwiddles. real_io (complex T only): X, G and dx are real rows
// and L = sum(G * Re(X K^T)). Costs about three products: each chunk is
// pushed forward saving the tile at the input of every fused pass, then the
// gradient goes back pass by pass, recomputing the pass's inner stages in
// registers. Twiddle gradients are summed per fixed slot of chunks in chunk
// order (one slot for long rows), so they do not depend on the thread
// count. Per pair and stage the lane sums go through a fixed merge tree.
// gate_kind (GateKind; real T, dx wanted with contiguous rows): every
// entry of dx is multiplied, as it is stored, by the activation derivative
// at gate_ref[r * gate_row_stride + v] (n_rows rows of n_in entries of T):
// a layer's backward step without a pass of its own.
template <class T>
int kmatrix_vjp(const T* twiddles, index_t width, int log_size, const void* x, index_t n_rows,
                index_t n_in, index_t x_row_stride, index_t x_col_stride, const void* g,
                index_t n_out, index_t g_row_stride, index_t g_col_stride, void* dx,
                index_t dx_row_stride, index_t dx_col_stride, T* dtwiddles, int n_threads,
                int check_finite, int real_io, int gate_kind, const void* gate_ref,
                index_t gate_row_stride);

// kmatrix_apply (TRANS_N, real T, rows of contiguous entries) with an
// epilogue fused into the store (EpilogueKind `kind`, not EPILOGUE_NONE):
// every output entry y[v] becomes scale * cos(y + offset[v]) (the random
// features; the cosine of kmatrix_cosine_rows below, the same values),
// y + offset[v] (a layer's bias), or the bias and an activation: max(.,
// 0), tanh (isa_tanh.hpp, within about 1.5 ulp) or 0.5 tanh(0.5 .) + 0.5
// (the logistic function), while its tile is in registers. Each entry is
// computed on its own, the same way on every path and for any thread count
// (the bias and the rectifier as separate NumPy passes would give them).
template <class T>
int kmatrix_apply_epilogue(const T* twiddles, index_t width, int log_size, const T* x,
                           index_t n_rows, index_t x_len, index_t x_row_stride, T* y,
                           index_t y_len, index_t y_row_stride, int kind, const T* offset,
                           T scale, int n_threads, int check_finite);

// The random features' epilogue on n_rows rows of y (row_stride apart,
// n_cols each; T float or double): y <- scale * cos(y + offset), offset of
// n_cols entries. Fixed blocks of rows, each entry computed on its own
// (isa_cosine.hpp): the result does not depend on the thread count.
template <class T>
int kmatrix_cosine_rows(T* y, index_t n_rows, index_t n_cols, index_t row_stride,
                        const T* offset, T scale, int n_threads);

// One Adam step on n real parameters p with gradient g and moments m, v
// (R float or double), in place: m <- beta_1 m + (1 - beta_1) g,
// v <- beta_2 v + (1 - beta_2) g^2, p <- p - step * m / (sqrt(v) + epsilon),
// with the roundings of the NumPy passes of kmatrix._core.optimizers (the
// product by the step in double). Each entry on its own: the result does
// not depend on the thread count.
template <class R>
int kmatrix_adam_step(R* p, const R* g, R* m, R* v, index_t n, double step, R beta_1,
                      R one_minus_beta_1, R beta_2, R one_minus_beta_2, R epsilon,
                      int n_threads);

// The squared error's gradient, in place, and its rows' sums: for rows of
// cols entries (R float or double; p_stride and y_stride apart),
// r = p - y, p <- r * scale (then times w[row] in double, w may be null)
// and row_sums[row] = the sum of r^2 in double, with the roundings of the
// NumPy passes it replaces (kmatrix._learning.training) and a fixed order
// of summation (isa_losses.hpp): the result does not depend on the thread
// count or the instruction set.
template <class R>
int kmatrix_squared_error(R* p, index_t p_stride, const R* y, index_t y_stride, index_t rows,
                          index_t cols, const double* w, R scale, double* row_sums,
                          int n_threads);

// The instruction set the kernels run with (an Isa), chosen at load time.
int kernel_isa();
// Forces a compiled instruction set the processor supports (for tests);
// returns STATUS_BAD_ARGUMENT otherwise.
int set_kernel_isa(int isa);
// Whether this build compiled kernels for `isa` and the processor runs them.
bool isa_available(int isa);

// What the planners chose for this machine (the benchmarks print it):
// caches[0..2] the L1d, L2 and L3 sizes in bytes (0: unknown), from_os 0
// when the system told none and defaults serve; blocks[0..1] the bytes of
// a PHASE_RUN block of the tiles and of the row path (driver_machine.hpp).
void kmatrix_machine_tuning(index_t* caches, int* from_os, double* blocks);
// The selected kernels' shape for scalar type T: lanes (rows per tile
// chunk), stages fused per tile pass (apply and vjp), largest small-path N.
template <class T>
void kmatrix_kernel_shape(int* lanes, int* max_group, int* max_vjp_group, int* small_max);

}  // namespace kmatrix

#endif  // KMATRIX_BUTTERFLY_HPP
