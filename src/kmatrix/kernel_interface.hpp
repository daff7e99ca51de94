// Shared by the driver and the per-ISA kernels: aggregates only, no code.
// May include: types.hpp, <complex>.
//
// The interface between the driver (driver_*: planning, execution, threads,
// scratch) and the compute kernels, which are compiled once per instruction
// set and scalar type (isa_apply.cpp, isa_vjp.cpp) and reached through one
// table of function pointers per (ISA, dtype) (driver_dispatch.cpp).
//
// A call's work is cut into phases of independent units. One thread may run
// every phase of a chunk of rows by itself (short rows), or all threads may
// share each phase of one chunk (long rows); either way every output element
// is computed by the same arithmetic, so results do not depend on the thread
// count. Only aggregates live here (no inline code), so the kernel
// translation units built with other -march flags share nothing with the
// driver but data layouts.
#ifndef KMATRIX_KERNEL_INTERFACE_HPP
#define KMATRIX_KERNEL_INTERFACE_HPP

#include <complex>

#include "types.hpp"

namespace kmatrix {

template <class T>
struct real_of {
    using type = T;
};
template <class R>
struct real_of<std::complex<R>> {
    using type = R;
};

// A run of 1..4 stages on consecutive bits b0..b0+size-1, visited in
// decreasing (B* half) or increasing (B half) order, fused into one pass over
// the data. twiddles[j] is the N/2 blocks of the j-th stage applied.
template <class T>
struct StageGroup {
    int size;
    bool descending;
    int low_bit;
    int kind;  // StageKind shared by the group's stages
    const T* twiddles[4];
};

enum PhaseType : int {
    PHASE_LOAD = 0,       // input rows -> work (units: blocks of input positions)
    PHASE_GROUP = 1,      // one group (tile) or stage (rows) over everything
                          // (units: ranges of its iterations / pairs)
    PHASE_RUN = 2,        // groups or stages [first, last), all on bits below
                          // cache_bits, block by block (units: blocks)
    PHASE_STORE = 3,      // work -> output rows (units: blocks of positions)
    PHASE_FORWARD = 4,    // vjp: group `first` from saved tile first to first + 1
    PHASE_LOAD_GRAD = 5,  // vjp: output gradient rows -> gradient tile
    PHASE_BACKWARD = 6,   // vjp: group `first` backwards (twiddle gradients)
    PHASE_STORE_DX = 7,   // vjp: gradient tile -> input gradient rows
};

struct Phase {
    int type;
    index_t first, last;  // group or stage range
    index_t n_units;
};

// Strided rows: element (r, j) at base + r * row_stride + j * col_stride
// (in elements of the I/O scalar: T, or its real type when real_io).
struct Rows {
    const void* data;
    index_t len, row_stride, col_stride;
};
struct OutRows {
    void* data;
    index_t len, row_stride, col_stride;
};

// ---------------------------------------------------------------- tiles --
// The batched path: a chunk of `lanes` rows is transposed into a tile Z of
// N tile rows (position u of every row of the chunk in one lane vector;
// complex values as a real and an imaginary plane) and every fused pass
// runs on the tile as broadcast 2x2 blocks times lane vectors.
// An optional epilogue of a product with a real network (EpilogueKind):
// every output entry y[v] is transformed with offset[v] (and scale) as it
// is stored (isa_epilogue.hpp). Output rows must be contiguous then.
template <class T>
struct Epilogue {
    int kind = EPILOGUE_NONE;
    const typename real_of<T>::type* offset = nullptr;
    typename real_of<T>::type scale = 1;
};

template <class T>
struct TileJob {
    const StageGroup<T>* groups;
    index_t N;
    int trans;
    int cache_bits;            // PHASE_RUN blocks hold 2^cache_bits tile rows
    index_t n_rows;
    Rows x;
    OutRows y;
    bool real_io;              // complex network on real rows (the real part)
    bool check_finite;
    const index_t* load_to;    // input position u -> tile row (null: u)
    const index_t* store_from; // output position v <- tile row (null: v)
    index_t io_block;          // positions per PHASE_LOAD / PHASE_STORE unit
    // the twiddles in pass order (see driver_pass_order.hpp), group i from
    // packed + group_offset[i]
    const T* packed;
    const index_t* group_offset;
    Epilogue<T> epilogue;
};

// ----------------------------------------------------------------- rows --
// One or a few rows: each row is copied to a work buffer (complex values as
// separate real and imaginary planes of N) and every stage runs along the
// row, vectorized across its pairs.
template <class T>
struct RowStage {
    const T* twiddles;
    int bit;
};
template <class T>
struct RowJob {
    const RowStage<T>* stages;  // in application order
    index_t N;
    int trans;
    int cache_bits;             // PHASE_RUN blocks hold 2^cache_bits positions
    index_t n_rows;
    Rows x;
    OutRows y;
    bool real_io, check_finite;
    typename real_of<T>::type* work;  // (n_rows, planes, N), 64-byte aligned
    index_t io_block;           // positions per PHASE_LOAD / PHASE_STORE unit
    Epilogue<T> epilogue;
};

// ---------------------------------------------------------- small sizes --
// N up to a few vectors: a row stays in registers through every stage.
// Stage k is y[i] = A[i] x[i] + B[i] x[i ^ 2^bits[k]], with A and B (real
// and imaginary planes for complex T) precomputed for the call.
template <class T>
struct SmallJob {
    const typename real_of<T>::type* coefficients;  // per stage: A, B (x planes)
    const int* bits;
    index_t n_stages;
    index_t N;
    index_t n_rows;
    Rows x;
    OutRows y;
    bool real_io, check_finite;
    Epilogue<T> epilogue;
};

// ------------------------------------------------------------------ vjp --
// The gate of a vjp with a real network (GateKind): dx[r][v] is multiplied
// by the derivative at ref[r * ref_row_stride + v] as it is stored (dx rows
// contiguous then).
template <class T>
struct Gate {
    int kind = GATE_NONE;
    const typename real_of<T>::type* ref = nullptr;
    index_t ref_row_stride = 0;
};

template <class T>
struct VjpJob {
    const StageGroup<T>* groups;
    index_t n_groups;
    const index_t* group_offset;  // first entry of group i in pass order
    const T* packed;              // the twiddles in pass order
    index_t N;
    index_t n_rows;
    Rows x;                       // (n_rows, n_in)
    Rows g;                       // (n_rows, n_out)
    OutRows dx;                   // (n_rows, n_in); data null: not wanted
    bool real_io, check_finite;
    index_t io_block;
    Gate<T> gate;                 // on dx as it is stored
};

// vjp, few rows: the row path's layout (see RowJob), one stage per phase.
// PHASE_LOAD: x -> stage 0's input; PHASE_FORWARD: stage `first` from its
// input to the next stage's; PHASE_LOAD_GRAD: g -> grad; PHASE_BACKWARD:
// stage `first` backwards (its twiddle gradients, summed over the rows in
// row order, then grad <- block^H grad); PHASE_STORE_DX: grad -> dx. Units
// of the stage phases are ranges of pairs, whose gradients no other unit
// touches: the sums do not depend on the thread count.
template <class T>
struct VjpRowJob {
    const RowStage<T>* stages;  // in application order
    T* const* dtw;              // per stage: its N/2 gradient blocks (twiddle layout)
    index_t N;
    index_t n_rows;
    Rows x, g;
    OutRows dx;
    bool real_io, check_finite;
    typename real_of<T>::type* saved;  // per stage its input, (n_rows, planes, N) each
    typename real_of<T>::type* grad;   // (n_rows, planes, N)
    index_t io_block;                  // positions per load / store unit
    Gate<T> gate;                      // on dx as it is stored
};

// One Adam step's constants (kmatrix_adam_step).
template <class R>
struct AdamStep {
    double step;
    R beta_1, one_minus_beta_1, beta_2, one_minus_beta_2, epsilon;
};

// The squared error's rows (kmatrix_squared_error): p (rows of cols entries,
// p_stride apart) becomes (p - y) * scale, times w[row] when w is not null;
// row_sums[row] receives the row's sum of (p - y)^2 in double.
template <class R>
struct SquaredErrorJob {
    R* p;
    const R* y;
    const double* w;
    double* row_sums;
    index_t cols, p_stride, y_stride;
    R scale;
};

// ------------------------------------------------------- dispatch tables --
template <class T>
struct ApplyKernels {
    int lanes;      // rows per tile chunk = scalars per vector (row and small paths)
    int max_group;  // stages fused per tile pass
    int small_max;  // largest N of the small path
    bool (*tile_phase)(const TileJob<T>& job, const Phase& phase, index_t chunk, void* tile,
                       index_t unit0, index_t unit1);
    bool (*row_phase)(const RowJob<T>& job, const Phase& phase, index_t unit0, index_t unit1);
    bool (*small_rows)(const SmallJob<T>& job, index_t row0, index_t row1);
    // real T: rows [row0, row1) of y <- scale * cos(y + offset) (isa_cosine.hpp)
    void (*cosine_rows)(typename real_of<T>::type* y, index_t row_stride, index_t n_cols,
                        const typename real_of<T>::type* offset, typename real_of<T>::type scale,
                        index_t row0, index_t row1);
    // real T: one Adam step on entries [e0, e1) (isa_optimizers.hpp)
    void (*adam_block)(typename real_of<T>::type* p, const typename real_of<T>::type* g,
                       typename real_of<T>::type* m, typename real_of<T>::type* v,
                       const AdamStep<typename real_of<T>::type>& s, index_t e0, index_t e1);
    // real T: rows [row0, row1) of a squared error's gradient (isa_losses.hpp)
    void (*squared_error_rows)(const SquaredErrorJob<typename real_of<T>::type>& job,
                               index_t row0, index_t row1);
};

template <class T>
struct VjpKernels {
    int lanes;
    int max_group;
    // dtw: the chunk's slot of twiddle gradients in pass order; first: store
    // into it instead of adding
    bool (*vjp_phase)(const VjpJob<T>& job, const Phase& phase, index_t chunk, void* saved,
                      T* dtw, bool first, index_t unit0, index_t unit1);
    bool (*vjp_row_phase)(const VjpRowJob<T>& job, const Phase& phase, index_t unit0,
                          index_t unit1);
};

// The tables of each instruction set, defined in isa_apply.cpp and
// isa_vjp.cpp; each translation unit (ISA x dtype) instantiates one.
namespace isa_base {
template <class T>
const ApplyKernels<T>& apply_kernels();
template <class T>
const VjpKernels<T>& vjp_kernels();
}  // namespace isa_base
namespace isa_v3 {
template <class T>
const ApplyKernels<T>& apply_kernels();
template <class T>
const VjpKernels<T>& vjp_kernels();
}  // namespace isa_v3
namespace isa_v4 {
template <class T>
const ApplyKernels<T>& apply_kernels();
template <class T>
const VjpKernels<T>& vjp_kernels();
}  // namespace isa_v4

}  // namespace kmatrix

#endif  // KMATRIX_KERNEL_INTERFACE_HPP
