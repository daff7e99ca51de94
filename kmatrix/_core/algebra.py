"""Twiddle-level algebra of K-matrices: sizes, embedding, products, sums, scalings.

Every function here works on twiddle arrays in the layout of
``kmatrix._kmatrix`` (shape ``(w, 2, L, N // 2, 2, 2)``; stage ``(i, h, k)``
mixes bit :func:`stage_bit` ``(L, h, k)``; block 0's B* half acts first), with
shapes, expansions and real-part flags passed as plain values; none of them
builds a KMatrix. Functions named ``scale_*`` change their argument in place
(and return it); every other function that returns twiddles returns a new
array, never a view of its input (or, where it says so, its argument
unchanged).

The operator of twiddles ``tw`` with shape ``(n_out, n_in)`` is the top-left
``n_out x n_in`` block of the ``N x N`` product of its stages (the expanded
matrix ``E``).
"""

import numpy as np

from .layout import identity_twiddles, lower_positions
from .validation import next_pow2, result_dtype

__all__ = [
    "add",
    "block_conditions",
    "block_determinants",
    "conjugate",
    "default_expansion",
    "divide",
    "embed",
    "inverse",
    "multiply",
    "pad_width",
    "product",
    "real_part_of_combination",
    "scale_inputs",
    "scale_outputs",
    "scale_stage_inputs",
    "scale_stage_outputs",
    "size_for",
    "stage_bit",
    "transpose",
]


# ----------------------------------------------------------------- sizes --
def size_for(n_in, n_out, expansion):
    """The network size N: a power of two >= 2 and >= expansion * max(n_in, n_out)."""
    return max(2, next_pow2(expansion * max(n_in, n_out)))


def default_expansion(size, n_in, n_out):
    """The expansion of an operator of shape (n_out, n_in) on a network of ``size``:
    the power of two by which the size exceeds ``next_pow2(max(n_in, n_out))``."""
    return max(1, size // next_pow2(max(n_in, n_out)))


def stage_bit(log_size, half, k):
    """The index bit stage ``k`` of ``half`` (0: B*, 1: B) mixes."""
    return log_size - 1 - k if half == 0 else k


# ----------------------------------------------------- the same operator --
def embed(twiddles, log_size):
    """Twiddles of the same operator on a larger size ``2**log_size``.

    The top-left ``2**L`` block of the new expanded matrix equals the old one:
    stages on the new high bits are the identity, and stages on the old bits
    act on the first ``2**L`` positions exactly as before (identity
    elsewhere). Returns ``twiddles`` itself when the size does not change.
    """
    width, _, L = twiddles.shape[:3]
    if log_size == L:
        return twiddles
    new = identity_twiddles(log_size, width, twiddles.dtype)
    half_old = 1 << (L - 1)
    shift = log_size - L
    # half 0 runs bits log_size-1..0: the old bits L-1..0 are its last L stages
    new[:, 0, shift:, :half_old] = twiddles[:, 0]
    # half 1 runs bits 0..log_size-1: the old bits are its first L stages
    new[:, 1, :L, :half_old] = twiddles[:, 1]
    return new


def pad_width(twiddles, width):
    """Twiddles of the same operator with identity blocks appended up to ``width``.

    Returns ``twiddles`` itself when it already has that width.
    """
    if twiddles.shape[0] == width:
        return twiddles
    extra = identity_twiddles(twiddles.shape[2], width - twiddles.shape[0], twiddles.dtype)
    return np.concatenate([twiddles, extra], axis=0)


# ------------------------------------------------- transpose, conjugate --
def transpose(twiddles, conjugate=False):
    """Twiddles of ``E.T`` (``E.H`` when ``conjugate``), of the same shape.

    Transposing reverses the order of the stages and transposes every block;
    the Benes pattern of each BB* block is symmetric under that. The operator
    of shape (n_out, n_in) becomes one of shape (n_in, n_out).
    """
    w, _, L, half = twiddles.shape[:4]
    flat = twiddles.reshape(w * 2 * L, half, 2, 2)[::-1].swapaxes(-1, -2)
    out = np.array(flat.reshape(twiddles.shape), order="C")
    if conjugate:
        np.conjugate(out, out=out)
    return out


def conjugate(twiddles):
    """Twiddles of the complex conjugate ``conj(E)``."""
    return np.conjugate(twiddles)


# -------------------------------------------------------------- scalings --
def scale_stage_inputs(stage, bit, d):
    """In place: ``stage <- stage diag(d)`` for one stage (N // 2, 2, 2) mixing ``bit``.

    ``d`` has length N; pair ``p`` scales its columns by ``d[u]`` and
    ``d[v]`` (its two positions).
    """
    u = lower_positions((2 * stage.shape[0]).bit_length() - 1, bit)
    stage[:, :, 0] *= d[u][:, None]
    stage[:, :, 1] *= d[u + (1 << bit)][:, None]
    return stage


def scale_stage_outputs(stage, bit, d):
    """In place: ``stage <- diag(d) stage`` for one stage (N // 2, 2, 2) mixing ``bit``."""
    u = lower_positions((2 * stage.shape[0]).bit_length() - 1, bit)
    stage[:, 0, :] *= d[u][:, None]
    stage[:, 1, :] *= d[u + (1 << bit)][:, None]
    return stage


def _padded(d, N):
    """``d`` followed by ones up to length N, in at least float64."""
    d = np.asarray(d)
    full = np.ones(N, dtype=np.result_type(d, np.float64))
    full[: d.size] = d
    return full


def scale_inputs(twiddles, d):
    """In place: ``E <- E diag(d)``, folded into the first stage (no width).

    ``d`` has length <= N; entries beyond it are 1.
    """
    L = twiddles.shape[2]
    scale_stage_inputs(twiddles[0, 0, 0], stage_bit(L, 0, 0), _padded(d, 1 << L))
    return twiddles


def scale_outputs(twiddles, d):
    """In place: ``E <- diag(d) E``, folded into the last stage (no width).

    ``d`` has length <= N; entries beyond it are 1.
    """
    L = twiddles.shape[2]
    scale_stage_outputs(twiddles[-1, 1, L - 1], stage_bit(L, 1, L - 1), _padded(d, 1 << L))
    return twiddles


def _first_stage_times(twiddles, value, probe, ufunc, real_part):
    if real_part and np.iscomplexobj(value) and np.imag(value) != 0:
        raise ValueError("a complex multiple of a real part (K.real) is not the real part "
                         "of a K-matrix; scale K before taking .real")
    # the dtype NumPy gives an array of the twiddles' dtype combined with the scalar
    tw = twiddles.astype(result_dtype(ufunc(probe, value).dtype), copy=True)
    ufunc(tw[0, 0, 0], value, out=tw[0, 0, 0])
    return tw


def multiply(twiddles, value, real_part=False):
    """Twiddles of ``value * E``: the first stage scaled, in the promoted dtype.

    With ``real_part`` (the operator is the real part of E) a complex
    ``value`` is a ValueError: ``value * Re(E)`` is then no real part.
    """
    probe = np.zeros(1, dtype=twiddles.dtype)
    return _first_stage_times(twiddles, value, probe, np.multiply, real_part)


def divide(twiddles, value, real_part=False):
    """Twiddles of ``E / value``, as :func:`multiply`."""
    probe = np.ones(1, dtype=twiddles.dtype)
    return _first_stage_times(twiddles, value, probe, np.true_divide, real_part)


# ---------------------------------------------------------- two operands --
def real_part_of_combination(what, real_part1, complex1, real_part2, complex2):
    """Whether the ``what`` ("product" or "sum") of two operators is a real part.

    ``real_partX`` says operator X is the real part of its network (K.real),
    ``complexX`` that its twiddles are complex. ``Re(A) + Re(B) = Re(A + B)``,
    and ``Re(A) op B = Re(A op B)`` for a real B; every other combination with
    a real part is not the real part of one K-matrix: a ValueError. Without
    real parts the result is False.
    """
    if not (real_part1 or real_part2):
        return False
    both = real_part1 and real_part2
    other_complex = complex2 if real_part1 else complex1
    if (what == "product" and both) or (not both and other_complex):
        raise ValueError(
            f"the {what} of a real part (K.real) with "
            f"{'another real part' if both else 'a complex KMatrix'} is not the real part of "
            "one K-matrix; apply the operators one after the other instead"
        )
    return True


def product(twiddles1, twiddles2, n_mid):
    """Twiddles of ``K1 @ K2``: width w1 + w2 on the larger size, K2's blocks first.

    ``n_mid`` is K1's n_in (= K2's n_out); the operator of the result has
    shape (K1's n_out, K2's n_in).
    """
    dtype = result_dtype(twiddles1.dtype, twiddles2.dtype)
    L = max(twiddles1.shape[2], twiddles2.shape[2])
    N = 1 << L
    w1, w2 = twiddles1.shape[0], twiddles2.shape[0]
    # written straight into the result (no copies of the operands on the way)
    out = np.empty((w2 + w1, 2, L, N // 2, 2, 2), dtype=dtype)
    out[:w2] = embed(twiddles2, L)
    out[w2:] = embed(twiddles1, L)
    if n_mid < N:
        # K2 truncates to n_mid outputs and K1 zero-pads them again: fold that
        # projection into the columns of K1's first stage
        scale_inputs(out[w2:], (np.arange(N) < n_mid).astype(dtype))
    return out


def add(twiddles1, twiddles2):
    """Twiddles of ``K1 + K2`` (same shape) through expansion: size 2N, width max(w1, w2).

    The first stage copies the input to both halves, the two halves run K1 and
    K2 side by side, the last stage adds the halves.
    """
    dtype = result_dtype(twiddles1.dtype, twiddles2.dtype)
    L = max(twiddles1.shape[2], twiddles2.shape[2])
    width = max(twiddles1.shape[0], twiddles2.shape[0])
    t1 = pad_width(embed(twiddles1.astype(dtype), L), width)
    t2 = pad_width(embed(twiddles2.astype(dtype), L), width)
    half = 1 << (L - 1)
    tw = identity_twiddles(L + 1, width, dtype)
    # old bits keep their stages; pairs p < N/2 lie in the top half (K1)
    tw[:, 0, 1:, :half] = t1[:, 0]
    tw[:, 0, 1:, half:] = t2[:, 0]
    tw[:, 1, :L, :half] = t1[:, 1]
    tw[:, 1, :L, half:] = t2[:, 1]
    tw[0, 0, 0] = np.array([[1, 0], [1, 0]], dtype=dtype)      # copy x to both halves
    tw[-1, 1, L] = np.array([[1, 1], [0, 0]], dtype=dtype)     # add the halves
    return tw


# ------------------------------------------------------------- inverse --
def block_determinants(twiddles):
    """``ad - bc`` of every block, shape ``(w, 2, L, N // 2)``, in double
    precision (single-precision entries past 1e19 would overflow): a
    square network's determinant is their product (each stage is a direct
    sum of its blocks up to a permutation of the positions, applied on both
    sides)."""
    t = twiddles.astype(np.result_type(twiddles.dtype, np.float64), copy=False)
    return t[..., 0, 0] * t[..., 1, 1] - t[..., 0, 1] * t[..., 1, 0]


def block_conditions(twiddles, det):
    """The 2-norm condition number of every block (inf for a singular one):
    ``s_max / s_min = s_max^2 / |det|`` with ``s_max^2 + s_min^2 =
    ||block||_F^2`` and ``s_max s_min = |det|``."""
    f2 = np.sum(np.abs(twiddles.astype(det.dtype, copy=False)) ** 2, axis=(-2, -1))
    p = np.abs(det)
    s_max2 = (f2 + np.sqrt(np.maximum(f2 * f2 - 4 * p * p, 0.0))) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        cond = s_max2 / p
    return np.where(p > 0, cond, np.inf)


def inverse(twiddles, det):
    """Twiddles of the inverse network: the stages in reverse order (the
    bits they mix stay paired as in :func:`transpose`), every block
    replaced by its inverse ``[[d, -b], [-c, a]] / det`` (``det`` from
    :func:`block_determinants`, all nonzero)."""
    w, _, L, half = twiddles.shape[:4]
    flat = twiddles.reshape(w * 2 * L, half, 2, 2)[::-1].astype(det.dtype, copy=False)
    d = det.reshape(w * 2 * L, half)[::-1]
    out = np.empty(flat.shape, dtype=twiddles.dtype)   # computed in det's precision
    out[..., 0, 0] = flat[..., 1, 1] / d
    out[..., 0, 1] = -flat[..., 0, 1] / d
    out[..., 1, 0] = -flat[..., 1, 0] / d
    out[..., 1, 1] = flat[..., 0, 0] / d
    return out.reshape(twiddles.shape)
