# Thin adapters from NumPy arrays to the C++ core: check dtypes, shapes and
# strides, release the GIL, call, and turn status codes into exceptions. All
# input clean-up (promotion, shapes, padding sizes) happens in the Python
# layer; the checks here are the ones the kernels' memory safety rests on.
from libc.stdint cimport int64_t

cimport numpy as cnp
import numpy as np

from kmatrix._core.native cimport (
    kmatrix_apply, kmatrix_apply_epilogue, kmatrix_adam_step, kmatrix_squared_error,
    kmatrix_machine_tuning, kmatrix_kernel_shape, kmatrix_vjp, kmatrix_cosine_rows, have_openmp,
    resolve_threads, available_cpus,
    kernel_isa, set_kernel_isa, isa_available, last_call_path, last_call_threads, shared_calls,
    last_call_planned_threads,
    STATUS_OK, STATUS_BAD_ARGUMENT, STATUS_NON_FINITE, STATUS_NO_MEMORY,
    TRANS_N, TRANS_T, TRANS_H, TRANS_INVERSE, ISA_BASE, ISA_V3, ISA_V4,
    EPILOGUE_COSINE, EPILOGUE_BIAS, EPILOGUE_BIAS_RELU, EPILOGUE_BIAS_TANH,
    EPILOGUE_BIAS_LOGISTIC, GATE_RELU, GATE_TANH, GATE_LOGISTIC,
)

cnp.import_array()

# The four scalar types of the kernels; the fused functions below spell each
# call once, and _kind() picks the specialization.
ctypedef fused scalar_t:
    float
    double
    float complex
    double complex
ctypedef float complex complex64_t
ctypedef double complex complex128_t

_TRANS = {"N": TRANS_N, "T": TRANS_T, "H": TRANS_H}
_EPILOGUES = {"cosine": EPILOGUE_COSINE, "bias": EPILOGUE_BIAS, "bias_relu": EPILOGUE_BIAS_RELU,
              "bias_tanh": EPILOGUE_BIAS_TANH, "bias_logistic": EPILOGUE_BIAS_LOGISTIC}
_GATES = {"relu": GATE_RELU, "tanh": GATE_TANH, "logistic": GATE_LOGISTIC}
_ISA_NAMES = {ISA_BASE: "baseline", ISA_V3: "x86-64-v3", ISA_V4: "x86-64-v4"}


def openmp_enabled():
    """Whether the core was compiled with OpenMP (which sets the default thread count).

    Without OpenMP (the build prints a warning when it does not find it)
    the default is one thread, and ``workers=`` still runs more: the
    kernels use their own thread team either way.

    Returns
    -------
    enabled : bool

    See Also
    --------
    set_workers : the default thread count of kmatrix's calls.

    Examples
    --------
    >>> import kmatrix as km
    >>> isinstance(km.openmp_enabled(), bool)
    True
    """
    return bool(have_openmp())


def default_threads():
    """Threads a call uses by default: OpenMP's default (bounded by
    threadpoolctl and OMP_NUM_THREADS), capped by the usable CPUs (at least 2)."""
    return resolve_threads(0)


def cpu_count():
    """CPUs this process may run on (its affinity mask)."""
    return available_cpus()


_PATHS = {0: None, 1: "small", 2: "rows", 3: "tiles", 4: "tiles-shared", 5: "vjp",
          6: "vjp-shared", 7: "vjp-rows", 8: "cosine"}


def last_threads():
    """(planned, ran): the thread count the calling thread's last kernel call
    planned, and how many threads ran part of it (for tests)."""
    return last_call_planned_threads(), last_call_threads()


def shared_call_count():
    """Kernel calls of the calling thread in which two or more threads ran
    tasks, since the thread started (tests of whole fits compare it)."""
    return shared_calls()


def last_path():
    """The path the calling thread's last kernel call took: "small" (rows in
    registers), "rows" (one or a few rows), "tiles" (batches), "tiles-shared"
    (long rows, threads share each chunk), "vjp", "vjp-shared", "vjp-rows"
    (gradients of fewer rows than a chunk has lanes); None if it had nothing
    to do."""
    return _PATHS[last_call_path()]


def isa():
    """The instruction set the kernels run with."""
    return _ISA_NAMES[kernel_isa()]


def available_isas():
    """The instruction sets this build compiled that this processor runs."""
    return [name for code, name in sorted(_ISA_NAMES.items()) if isa_available(code)]


def tuning():
    """What the planners chose for this machine (the benchmarks print it):
    the instruction set, the default threads, the data caches (bytes, and
    whether the system reported them), the bytes of a cache block of the
    tiles and of the row path, and per dtype the kernels' lanes, stages
    fused per pass (apply and vjp) and largest small-path size."""
    cdef int64_t caches[3]
    cdef int from_os = 0
    cdef double blocks[2]
    kmatrix_machine_tuning(caches, &from_os, blocks)
    cdef int lanes = 0, group = 0, vjp_group = 0, small = 0
    shapes = {}
    for name in ("float32", "float64", "complex64", "complex128"):
        if name == "float32":
            kmatrix_kernel_shape[float](&lanes, &group, &vjp_group, &small)
        elif name == "float64":
            kmatrix_kernel_shape[double](&lanes, &group, &vjp_group, &small)
        elif name == "complex64":
            kmatrix_kernel_shape[complex64_t](&lanes, &group, &vjp_group, &small)
        else:
            kmatrix_kernel_shape[complex128_t](&lanes, &group, &vjp_group, &small)
        shapes[name] = (lanes, group, vjp_group, small)
    return {"isa": isa(), "threads": default_threads(),
            "l1d_bytes": caches[0], "l2_bytes": caches[1], "l3_bytes": caches[2],
            "caches_from_os": bool(from_os),
            "tile_block_bytes": int(blocks[0]), "row_block_bytes": int(blocks[1]),
            "lanes": {k: v[0] for k, v in shapes.items()},
            "max_group": {k: v[1] for k, v in shapes.items()},
            "max_vjp_group": {k: v[2] for k, v in shapes.items()},
            "small_max": {k: v[3] for k, v in shapes.items()}}


def _set_isa(name):
    """Force one of available_isas() (tests compare them); returns the previous one."""
    codes = {v: k for k, v in _ISA_NAMES.items()}
    previous = isa()
    if name not in codes or set_kernel_isa(codes[name]) != STATUS_OK:
        raise ValueError(f"instruction set {name!r} is not available; "
                         f"choose from {available_isas()}")
    return previous


cdef int _kind(cnp.ndarray a) except -2:
    """0..3 for float32, float64, complex64, complex128 (the kernels' order), -1 else."""
    cdef int t = cnp.PyArray_TYPE(a)
    if t == cnp.NPY_FLOAT32:
        return 0
    if t == cnp.NPY_FLOAT64:
        return 1
    if t == cnp.NPY_COMPLEX64:
        return 2
    if t == cnp.NPY_COMPLEX128:
        return 3
    return -1


cdef int64_t _element_stride(cnp.ndarray a, int axis) except? -1:
    cdef Py_ssize_t s = cnp.PyArray_STRIDES(a)[axis]
    cdef Py_ssize_t item = cnp.PyArray_ITEMSIZE(a)
    if s % item != 0:
        raise ValueError("array strides must be multiples of the item size")
    return s // item


cdef int _check_twiddles(cnp.ndarray tw, int log_size) except -1:
    """The twiddles must be the C-contiguous (width, 2, L, N/2, 2, 2) array of
    this size: the kernels read exactly that many entries."""
    if cnp.PyArray_NDIM(tw) != 6 or not cnp.PyArray_IS_C_CONTIGUOUS(tw):
        raise ValueError("twiddles must be a C-contiguous array of shape (width, 2, L, N/2, 2, 2)")
    cdef cnp.npy_intp* d = cnp.PyArray_DIMS(tw)
    if (log_size < 1 or log_size > 40 or d[0] < 1 or d[1] != 2 or d[2] != log_size
            or d[3] != (<int64_t>1) << (log_size - 1) or d[4] != 2 or d[5] != 2):
        raise ValueError(f"twiddles of shape {(<object>tw).shape} do not describe a network "
                         f"of size 2**{log_size}")
    if not cnp.PyArray_ISALIGNED(tw):
        raise ValueError("twiddles must be aligned")
    return 0


cdef int _io_kind(int tkind, cnp.ndarray a, str name) except -1:
    """1 if `a` holds real rows for complex twiddles (the real part), 0 if it
    has the twiddles' dtype; ValueError otherwise."""
    cdef int k = _kind(a)
    if k == tkind:
        return 0
    if tkind >= 2 and k == tkind - 2:
        return 1
    raise ValueError(f"{name} must have the twiddles' dtype (or, for complex twiddles, its "
                     f"real dtype), got {a.dtype}")


cdef _raise_status(int status):
    if status == STATUS_NON_FINITE:
        raise ValueError("the input rows contain NaN or infinity (pass check_finite=False "
                         "to skip this check: the results of those rows are then undefined)")
    if status == STATUS_NO_MEMORY:
        raise MemoryError("kmatrix: could not allocate the kernel's scratch memory")
    if status == STATUS_BAD_ARGUMENT:
        raise ValueError("kmatrix: inconsistent arguments passed to the kernel")
    raise RuntimeError(f"kmatrix: kernel failed with status {status}")


cdef struct ApplyArgs:
    int64_t width
    int log_size
    const void* x
    int64_t n_rows, x_len, x_rs, x_cs
    void* y
    int64_t y_len, y_rs, y_cs
    int trans, n_threads, check_finite, real_io


cdef int _apply_as(const scalar_t* tw, const ApplyArgs* a) noexcept nogil:
    return kmatrix_apply(tw, a.width, a.log_size, a.x, a.n_rows, a.x_len, a.x_rs,
                                   a.x_cs, a.y, a.y_len, a.y_rs, a.y_cs, a.trans, a.n_threads,
                                   a.check_finite, a.real_io)


cdef int _apply(int kind, const void* tw, const ApplyArgs* a) noexcept nogil:
    if kind == 0:
        return _apply_as(<const float*>tw, a)
    if kind == 1:
        return _apply_as(<const double*>tw, a)
    if kind == 2:
        return _apply_as(<const float complex*>tw, a)
    return _apply_as(<const double complex*>tw, a)


def apply(cnp.ndarray twiddles, int log_size, cnp.ndarray x, cnp.ndarray y,
          str trans="N", int n_threads=0, bint check_finite=True, bint inverse=False):
    """y[r] = op(K) x[r] for every row r; see butterfly.hpp.

    twiddles must be C-contiguous of shape (width, 2, L, N/2, 2, 2); x and y
    are 2-D (n_rows, x_len) and (n_rows, y_len) arrays, any strides, y
    writable and not overlapping x, of the twiddles' dtype -- or, for complex
    twiddles, both of its real dtype: then the real part Re(op(K)) is applied.
    With ``inverse``, op(K)^-1 (rows of N entries both ways): each 2x2 block
    is inverted as it is read; a singular block leaves infinities or NaN in y.
    """
    _check_twiddles(twiddles, log_size)
    if cnp.PyArray_NDIM(x) != 2 or cnp.PyArray_NDIM(y) != 2 or x.shape[0] != y.shape[0]:
        raise ValueError("x and y must be 2-D with the same number of rows")
    cdef int kind = _kind(twiddles)
    if kind < 0:
        raise ValueError(f"unsupported dtype {twiddles.dtype}")
    cdef int real_io = _io_kind(kind, x, "x")
    if _io_kind(kind, y, "y") != real_io:
        raise ValueError("x and y must share one dtype")
    if not cnp.PyArray_ISWRITEABLE(y):
        raise ValueError("output array is read-only")
    if not (cnp.PyArray_ISALIGNED(x) and cnp.PyArray_ISALIGNED(y)):
        raise ValueError("arrays must be aligned")
    cdef int64_t N = (<int64_t>1) << log_size
    if x.shape[1] > N or y.shape[1] > N:
        raise ValueError(f"rows of {x.shape[1]} -> {y.shape[1]} entries do not fit a network "
                         f"of size {N}")
    if trans not in _TRANS:
        raise ValueError(f"trans must be 'N', 'T' or 'H', got {trans!r}")
    cdef ApplyArgs a
    a.width = twiddles.shape[0]
    a.log_size = log_size
    a.x = cnp.PyArray_DATA(x)
    a.n_rows = x.shape[0]
    a.x_len = x.shape[1]
    a.x_rs = _element_stride(x, 0)
    a.x_cs = _element_stride(x, 1)
    a.y = cnp.PyArray_DATA(y)
    a.y_len = y.shape[1]
    a.y_rs = _element_stride(y, 0)
    a.y_cs = _element_stride(y, 1)
    if inverse and (x.shape[1] != N or y.shape[1] != N):
        raise ValueError(f"an inverse maps rows of {N} entries to rows of {N} entries")
    a.trans = _TRANS[trans] + (TRANS_INVERSE if inverse else 0)
    a.n_threads = n_threads
    a.check_finite = 1 if check_finite else 0
    a.real_io = real_io
    cdef const void* tw = cnp.PyArray_DATA(twiddles)
    cdef int status
    with nogil:
        status = _apply(kind, tw, &a)
    if status != STATUS_OK:
        _raise_status(status)
    return y


def apply_epilogue(cnp.ndarray twiddles, int log_size, cnp.ndarray x, cnp.ndarray y,
                   str kind, cnp.ndarray offset, double scale=1.0, int n_threads=0,
                   bint check_finite=True):
    """y[r] = K x[r] with an epilogue fused into the product's store, for a
    real network; see butterfly.hpp. kind "cosine": scale * cos(. + offset),
    "bias": . + offset, "bias_relu": max(. + offset, 0), "bias_tanh" and
    "bias_logistic": tanh(. + offset), 0.5 tanh(0.5 (. + offset)) + 0.5. x (n_rows, n_in)
    and y (n_rows, n_out) of the twiddles' float dtype with contiguous rows,
    y writable and apart from x; offset of n_out entries, contiguous."""
    _check_twiddles(twiddles, log_size)
    if kind not in _EPILOGUES:
        raise ValueError(f"unknown epilogue {kind!r}")
    if twiddles.dtype not in (np.float32, np.float64):
        raise ValueError("a fused epilogue needs a real float32 or float64 network")
    for a, name in ((x, "x"), (y, "y")):
        if cnp.PyArray_NDIM(a) != 2 or a.dtype != twiddles.dtype:
            raise ValueError(f"{name} must be 2-D of the twiddles' dtype")
        if a.shape[1] > 1 and a.strides[1] != a.itemsize:
            raise ValueError(f"{name}'s rows must be contiguous")
        if not cnp.PyArray_ISALIGNED(a):
            raise ValueError(f"{name} must be aligned")
    if x.shape[0] != y.shape[0]:
        raise ValueError("x and y must have the same number of rows")
    cdef int64_t N = (<int64_t>1) << log_size
    if x.shape[1] > N or y.shape[1] > N:
        raise ValueError(f"rows of {x.shape[1]} -> {y.shape[1]} entries do not fit a network "
                         f"of size {N}")
    if not cnp.PyArray_ISWRITEABLE(y) or np.may_share_memory(x, y):
        raise ValueError("y must be writable and apart from x")
    if (cnp.PyArray_NDIM(offset) != 1 or offset.dtype != twiddles.dtype
            or offset.shape[0] != y.shape[1] or not offset.flags.c_contiguous):
        raise ValueError("offset must be contiguous, of y's row length and dtype")
    cdef int code = _EPILOGUES[kind]
    cdef int64_t width = twiddles.shape[0], n_rows = x.shape[0]
    cdef int64_t n_in = x.shape[1], n_out = y.shape[1]
    cdef int64_t xs = x.strides[0] // x.itemsize if n_rows > 1 else n_in
    cdef int64_t ys = y.strides[0] // y.itemsize if n_rows > 1 else n_out
    cdef const void* tw = cnp.PyArray_DATA(twiddles)
    cdef const void* xp = cnp.PyArray_DATA(x)
    cdef void* yp = cnp.PyArray_DATA(y)
    cdef const void* op = cnp.PyArray_DATA(offset)
    cdef int status
    cdef bint single = twiddles.dtype == np.float32
    cdef int finite = 1 if check_finite else 0
    with nogil:
        if single:
            status = kmatrix_apply_epilogue[float](
                <const float*>tw, width, log_size, <const float*>xp, n_rows, n_in, xs,
                <float*>yp, n_out, ys, code, <const float*>op, <float>scale, n_threads, finite)
        else:
            status = kmatrix_apply_epilogue[double](
                <const double*>tw, width, log_size, <const double*>xp, n_rows, n_in, xs,
                <double*>yp, n_out, ys, code, <const double*>op, scale, n_threads, finite)
    if status != STATUS_OK:
        _raise_status(status)
    return y


def cosine_rows(cnp.ndarray y, cnp.ndarray offset, double scale, int n_threads=0):
    """In place: ``y <- scale * cos(y + offset)`` on the rows of the 2-D
    float32 or float64 array y (C-contiguous rows, any row stride), offset
    of y's row length and dtype, contiguous; see butterfly.hpp."""
    if cnp.PyArray_NDIM(y) != 2 or cnp.PyArray_NDIM(offset) != 1:
        raise ValueError("y must be 2-D and offset 1-D")
    if y.dtype != offset.dtype or y.dtype not in (np.float32, np.float64):
        raise ValueError("y and offset must share a float32 or float64 dtype")
    if offset.shape[0] != y.shape[1]:
        raise ValueError(f"offset has {offset.shape[0]} entries, rows have {y.shape[1]}")
    if not cnp.PyArray_ISWRITEABLE(y) or not cnp.PyArray_ISALIGNED(y):
        raise ValueError("y must be writable and aligned")
    if y.shape[1] > 1 and y.strides[1] != y.itemsize:
        raise ValueError("y's rows must be contiguous")
    if not offset.flags.c_contiguous or not cnp.PyArray_ISALIGNED(offset):
        raise ValueError("offset must be contiguous and aligned")
    cdef int64_t n_rows = y.shape[0], n_cols = y.shape[1]
    cdef int64_t rs = y.strides[0] // y.itemsize if n_rows > 1 else n_cols
    cdef void* yp = cnp.PyArray_DATA(y)
    cdef const void* op = cnp.PyArray_DATA(offset)
    cdef int status
    cdef bint single = y.dtype == np.float32
    with nogil:
        if single:
            status = kmatrix_cosine_rows[float](<float*>yp, n_rows, n_cols, rs,
                                                <const float*>op, <float>scale, n_threads)
        else:
            status = kmatrix_cosine_rows[double](<double*>yp, n_rows, n_cols, rs,
                                                 <const double*>op, scale, n_threads)
    if status != STATUS_OK:
        _raise_status(status)
    return y


cdef struct VjpArgs:
    int64_t width
    int log_size
    const void* x
    int64_t n_rows, n_in, x_rs, x_cs
    const void* g
    int64_t n_out, g_rs, g_cs
    void* dx
    int64_t dx_rs, dx_cs
    void* dtw
    int n_threads, check_finite, real_io
    int gate_kind
    const void* gate
    int64_t gate_rs


cdef int _vjp_as(const scalar_t* tw, const VjpArgs* a) noexcept nogil:
    return kmatrix_vjp(tw, a.width, a.log_size, a.x, a.n_rows, a.n_in, a.x_rs, a.x_cs,
                       a.g, a.n_out, a.g_rs, a.g_cs, a.dx, a.dx_rs, a.dx_cs,
                       <scalar_t*>a.dtw, a.n_threads, a.check_finite, a.real_io,
                       a.gate_kind, a.gate, a.gate_rs)


cdef int _vjp(int kind, const void* tw, const VjpArgs* a) noexcept nogil:
    if kind == 0:
        return _vjp_as(<const float*>tw, a)
    if kind == 1:
        return _vjp_as(<const double*>tw, a)
    if kind == 2:
        return _vjp_as(<const float complex*>tw, a)
    return _vjp_as(<const double complex*>tw, a)


def vjp(cnp.ndarray twiddles, int log_size, cnp.ndarray x, cnp.ndarray g,
        dx, cnp.ndarray dtwiddles, int n_threads=0, bint check_finite=True,
        gate=None, str gate_kind=None):
    """Gradients of Re(sum(conj(g) * K x)); see kmatrix_vjp in butterfly.hpp.

    x (n_rows, n_in), g (n_rows, n_out) and dx (n_rows, n_in, or None) any
    strides, of the twiddles' dtype or (complex twiddles, the real part) all
    of its real dtype; dtwiddles a writable C-contiguous array shaped like
    twiddles, of their dtype. gate (real twiddles, dx with contiguous rows):
    an array shaped like dx of its dtype with contiguous rows, the
    activations whose derivative (gate_kind "relu", "tanh" or "logistic")
    multiplies dx as it is stored.
    """
    _check_twiddles(twiddles, log_size)
    if (cnp.PyArray_NDIM(dtwiddles) != 6 or not cnp.PyArray_IS_C_CONTIGUOUS(dtwiddles)
            or (<object>dtwiddles).shape != (<object>twiddles).shape
            or not cnp.PyArray_ISWRITEABLE(dtwiddles) or not cnp.PyArray_ISALIGNED(dtwiddles)):
        raise ValueError("dtwiddles must be a writable C-contiguous array shaped like twiddles")
    if cnp.PyArray_NDIM(x) != 2 or cnp.PyArray_NDIM(g) != 2 or x.shape[0] != g.shape[0]:
        raise ValueError("x and g must be 2-D with the same number of rows")
    cdef int kind = _kind(twiddles)
    if kind < 0 or _kind(dtwiddles) != kind:
        raise ValueError("twiddles and dtwiddles must share one supported dtype")
    cdef int real_io = _io_kind(kind, x, "x")
    if _io_kind(kind, g, "g") != real_io:
        raise ValueError("x and g must share one dtype")
    cdef cnp.ndarray dxa
    if dx is not None:
        dxa = dx
        if cnp.PyArray_NDIM(dxa) != 2 or dxa.shape[0] != x.shape[0] or dxa.shape[1] != x.shape[1]:
            raise ValueError("dx must have the shape of x")
        if not cnp.PyArray_ISWRITEABLE(dxa) or not cnp.PyArray_ISALIGNED(dxa):
            raise ValueError("dx must be writable and aligned")
        if _io_kind(kind, dxa, "dx") != real_io:
            raise ValueError("dx must have the dtype of x")
    if not (cnp.PyArray_ISALIGNED(x) and cnp.PyArray_ISALIGNED(g)):
        raise ValueError("arrays must be aligned")
    cdef int64_t N = (<int64_t>1) << log_size
    if x.shape[1] < 1 or g.shape[1] < 1 or x.shape[1] > N or g.shape[1] > N:
        raise ValueError(f"rows of {x.shape[1]} -> {g.shape[1]} entries do not fit a network "
                         f"of size {N}")
    cdef VjpArgs a
    a.width = twiddles.shape[0]
    a.log_size = log_size
    a.x = cnp.PyArray_DATA(x)
    a.n_rows = x.shape[0]
    a.n_in = x.shape[1]
    a.x_rs = _element_stride(x, 0)
    a.x_cs = _element_stride(x, 1)
    a.g = cnp.PyArray_DATA(g)
    a.n_out = g.shape[1]
    a.g_rs = _element_stride(g, 0)
    a.g_cs = _element_stride(g, 1)
    a.dx = NULL
    a.dx_rs = 0
    a.dx_cs = 0
    if dx is not None:
        a.dx = cnp.PyArray_DATA(dxa)
        a.dx_rs = _element_stride(dxa, 0)
        a.dx_cs = _element_stride(dxa, 1)
    a.dtw = cnp.PyArray_DATA(dtwiddles)
    a.gate_kind = 0
    a.gate = NULL
    a.gate_rs = 0
    cdef cnp.ndarray ga
    if (gate is None) != (gate_kind is None):
        raise ValueError("a gate needs both its activations and its kind")
    if gate is not None:
        ga = gate
        if gate_kind not in _GATES:
            raise ValueError(f"unknown gate {gate_kind!r}")
        if kind > 1 or dx is None:
            raise ValueError("a gate needs real twiddles and dx")
        if (cnp.PyArray_NDIM(ga) != 2 or ga.shape[0] != x.shape[0] or ga.shape[1] != x.shape[1]
                or ga.dtype != twiddles.dtype or not cnp.PyArray_ISALIGNED(ga)):
            raise ValueError("gate must be aligned, of dx's shape and dtype")
        for arr, name in ((dxa, "dx"), (ga, "gate")):
            if arr.shape[1] > 1 and arr.strides[1] != arr.itemsize:
                raise ValueError(f"{name}'s rows must be contiguous")
        if np.may_share_memory(ga, dxa):
            raise ValueError("gate must be apart from dx")
        a.gate_kind = _GATES[gate_kind]
        a.gate = cnp.PyArray_DATA(ga)
        a.gate_rs = _element_stride(ga, 0)
    a.n_threads = n_threads
    a.check_finite = 1 if check_finite else 0
    a.real_io = real_io
    cdef const void* tw = cnp.PyArray_DATA(twiddles)
    cdef int status
    with nogil:
        status = _vjp(kind, tw, &a)
    if status != STATUS_OK:
        _raise_status(status)
    return dtwiddles


def adam_step(cnp.ndarray p, cnp.ndarray g, cnp.ndarray m, cnp.ndarray v, double step,
              double beta_1, double beta_2, double epsilon, int n_threads=0):
    """One Adam step in place on the C-contiguous float32 or float64 arrays
    p, m, v and the gradient g (all of one dtype and size), with the
    roundings of NumPy's passes; see butterfly.hpp."""
    dtype = p.dtype
    if dtype not in (np.float32, np.float64):
        raise ValueError("Adam's compiled step takes float32 or float64 parameters")
    for a, name in ((p, "p"), (g, "g"), (m, "m"), (v, "v")):
        if (a.dtype != dtype or a.size != p.size or not a.flags.c_contiguous
                or not cnp.PyArray_ISALIGNED(a)):
            raise ValueError(f"{name} must be C-contiguous and aligned, of p's dtype and size")
    for a, name in ((p, "p"), (m, "m"), (v, "v")):
        if not cnp.PyArray_ISWRITEABLE(a):
            raise ValueError(f"{name} must be writable")
    cdef int64_t n = p.size
    cdef void* pp = cnp.PyArray_DATA(p)
    cdef const void* gp = cnp.PyArray_DATA(g)
    cdef void* mp = cnp.PyArray_DATA(m)
    cdef void* vp = cnp.PyArray_DATA(v)
    cdef int status
    cdef double b1c = 1 - beta_1, b2c = 1 - beta_2
    cdef bint single = dtype == np.float32
    with nogil:
        if single:
            status = kmatrix_adam_step[float](<float*>pp, <const float*>gp, <float*>mp,
                                              <float*>vp, n, step, <float>beta_1, <float>b1c,
                                              <float>beta_2, <float>b2c, <float>epsilon,
                                              n_threads)
        else:
            status = kmatrix_adam_step[double](<double*>pp, <const double*>gp, <double*>mp,
                                               <double*>vp, n, step, beta_1, b1c, beta_2, b2c,
                                               epsilon, n_threads)
    if status != STATUS_OK:
        _raise_status(status)


def squared_error(cnp.ndarray P, cnp.ndarray Y, w, double scale, int n_threads=0):
    """In place on the 2-D float32 or float64 rows P (rows with unit column
    stride, aligned, writable; Y of the same dtype and shape): P <- (P - Y)
    * scale, times w's row weights (a float64 vector) if w is not None.
    Returns the rows' sums of (P - Y)^2 in float64; see butterfly.hpp."""
    dtype = P.dtype
    if dtype not in (np.float32, np.float64) or Y.dtype != dtype:
        raise ValueError("the squared error kernel takes float32 or float64 P and Y of one dtype")
    if P.ndim != 2 or Y.ndim != 2 or P.shape[0] != Y.shape[0] or P.shape[1] != Y.shape[1]:
        raise ValueError(f"P and Y must be 2-D of one shape, got {(<object>P).shape} and "
                         f"{(<object>Y).shape}")
    cdef int64_t rows = P.shape[0], cols = P.shape[1], item = P.itemsize
    for a in (P, Y):   # (an empty array's strides say nothing)
        if rows and cols and ((cols > 1 and a.strides[1] != item) or not cnp.PyArray_ISALIGNED(a)
                              or (rows > 1 and (a.strides[0] % item
                                                or a.strides[0] < cols * item))):
            raise ValueError("P and Y must be aligned rows with unit column stride")
    if not cnp.PyArray_ISWRITEABLE(P) or np.may_share_memory(P, Y):
        raise ValueError("P must be writable and not share memory with Y")
    cdef cnp.ndarray wd = None
    if w is not None:
        wd = np.ascontiguousarray(w, dtype=np.float64)
        if wd.ndim != 1 or wd.shape[0] != rows:
            raise ValueError(f"w must hold one weight per row, got shape {(<object>wd).shape}")
        if np.may_share_memory(wd, P):
            raise ValueError("w must not share memory with P")
    cdef cnp.ndarray sums = np.empty(P.shape[0], dtype=np.float64)
    cdef int64_t ps = P.strides[0] // item if rows > 1 and cols else cols
    cdef int64_t ys = Y.strides[0] // item if rows > 1 and cols else cols
    cdef void* pp = cnp.PyArray_DATA(P)
    cdef const void* yp = cnp.PyArray_DATA(Y)
    cdef const double* wp = NULL
    if wd is not None:
        wp = <const double*>cnp.PyArray_DATA(wd)
    cdef double* sp = <double*>cnp.PyArray_DATA(sums)
    cdef int status
    cdef bint single = dtype == np.float32
    with nogil:
        if single:
            status = kmatrix_squared_error[float](<float*>pp, ps, <const float*>yp, ys, rows,
                                                  cols, wp, <float>scale, sp, n_threads)
        else:
            status = kmatrix_squared_error[double](<double*>pp, ps, <const double*>yp, ys, rows,
                                                   cols, wp, scale, sp, n_threads)
    if status != STATUS_OK:
        _raise_status(status)
    return sums
