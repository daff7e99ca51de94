"""Twiddles of classical transforms built from the DFT, exactly.

Every construction here is a product of DFT networks (exact at width 1 for a
power-of-two size, see _constructors.dft_twiddles) and permutations (Benes
routing), with diagonal scalings folded into a network's first stage (its
input columns) or last stage (its output rows), so they cost no width:

* a DFT of any length n: Bluestein's identity ``jk = (j^2 + k^2 - (k-j)^2)/2``
  turns it into a linear convolution with a chirp, computed as the top-left
  n x n block of a circular convolution of power-of-two size M >= 2n - 1:
  ``F_n = diag(w*) [F_M^-1 diag(F_M h) F_M]_{n x n} diag(w*)``, width 2;
* a circulant matrix (circular convolution by c): ``F^-1 diag(F c) F``
  (width 2), of any length through the same embedding into size M;
* the DCT-II: Makhoul's reordering ``v = P x`` (even entries, then the odd
  ones reversed) gives ``DCT2 x = Re(diag(2 exp(-i pi k / 2n)) F v)``, the
  real part (``KMatrix.real``) of a width-2 network; DST-II = J DCT-II S with
  J the reversal and S = diag((-1)^j), where ``J F = conj(F) diag(exp(2i pi
  m / n))`` keeps the width at 2; types 3 are the transposes of types 2
  with one input scaled.

References: L. Bluestein, "A linear filtering approach to the computation
of discrete Fourier transform", IEEE Trans. Audio Electroacoust. 18 (1970);
J. Makhoul, "A fast cosine transform in one and multiple dimensions", IEEE
Trans. ASSP 28 (1980).
"""

import numpy as np

from .._core.algebra import (
    conjugate,
    multiply,
    product,
    scale_inputs,
    scale_outputs,
    size_for,
    transpose,
)
from .._core.layout import Network
from .._core.validation import (
    as_numeric_array,
    check_dtype,
    check_int,
    check_network_size,
    complex_dtype_of,
    next_pow2,
)
from .permutations import permutation_twiddles
from .zoo import dft_twiddles

__all__ = ["check_circulant_args", "check_norm", "check_transform_args", "circulant",
           "circulant_network", "circular_twiddles", "dct", "dft", "dft_network", "dst",
           "real_transform_network"]

NORMS = (None, "backward", "ortho", "forward")


def check_norm(norm):
    """``norm`` if it is one of numpy.fft's, else ValueError."""
    if norm not in NORMS:
        raise ValueError(f'norm must be None, "backward", "ortho" or "forward", got {norm!r}')
    return norm


def circular_twiddles(h):
    """Twiddles (complex128, width 2) of the M x M circulant C[i, j] = h[(i - j) mod M],
    M a power of two."""
    M = h.size
    L = M.bit_length() - 1
    forward = scale_outputs(dft_twiddles(L), np.fft.fft(h) / M)
    inverse = conjugate(dft_twiddles(L))
    return product(inverse, forward, M)


def _embedding_size(n):
    """Power-of-two size M of a circular convolution holding an n-point one."""
    return max(2, next_pow2(2 * n - 1))


def _bluestein(n):
    """Twiddles (complex128, width 2) of the n x n DFT matrix by Bluestein's chirp."""
    M = _embedding_size(n)
    m = np.arange(n)
    # w_m = exp(i pi m^2 / n), computed from m^2 mod 2n to keep the angle small
    w = np.exp(1j * np.pi * ((m * m) % (2 * n)) / n)
    h = np.zeros(M, dtype=np.complex128)
    h[:n] = w
    h[M - n + 1:] = w[1:][::-1]  # h[M - m] = w_{-m} = w_m
    tw = circular_twiddles(h)
    scale_inputs(tw, np.conjugate(w))
    return scale_outputs(tw, np.conjugate(w))


def dft(n, norm=None):
    """Twiddles (complex128) of the n x n DFT matrix scaled as numpy.fft's ``norm``.

    Width 1 on size ``max(2, n)`` for a power of two n, else width 2 on size
    ``next_pow2(2n - 1)`` (Bluestein).
    """
    if n & (n - 1):
        tw = _bluestein(n)
    else:
        tw = dft_twiddles(max(1, n.bit_length() - 1))
    scale = {None: 1.0, "backward": 1.0, "ortho": 1.0 / np.sqrt(n), "forward": 1.0 / n}[norm]
    return tw if scale == 1.0 else multiply(tw, scale)


def check_circulant_args(c, dtype):
    """(c as an array, the operator's dtype) for :func:`circulant`, else ValueError.

    The dtype defaults to float64 (float32 for float32 c) for real c and the
    matching complex dtype for complex c.
    """
    c = as_numeric_array(c, "c")
    if c.ndim != 1 or c.size == 0:
        raise ValueError(f"c must be a non-empty 1-D array, got shape {c.shape}")
    if not np.all(np.isfinite(c)):
        raise ValueError("c contains NaN or infinity")
    real = c.dtype.kind != "c"
    if dtype is None:
        dtype = np.float32 if c.dtype in (np.float32, np.complex64) else np.float64
        if not real:
            dtype = complex_dtype_of(dtype)
    dtype = check_dtype(dtype)
    if real is False and dtype.kind != "c":
        raise ValueError(f"a complex c needs a complex dtype, got {dtype}")
    return c, dtype


def circulant(c):
    """Twiddles (complex128, width 2) of the circulant with first column c,
    C[i, j] = c[(i - j) mod n]: of size n for a power of two n >= 2, else
    ``next_pow2(2n - 1)``."""
    n = c.size
    M = n if (n >= 2 and n & (n - 1) == 0) else _embedding_size(n)
    h = np.zeros(M, dtype=np.complex128)
    h[:n] = c
    if M != n:
        h[M - n + 1:] = c[1:]  # (i - j) = -m needs c[n - m] at h[M - m]
    return circular_twiddles(h)


def _makhoul_permutation(n):
    """v = x[perm]: the even entries in order, then the odd ones reversed."""
    even = np.arange(0, n, 2)
    odd = np.arange(1, n, 2)[::-1]
    return np.concatenate([even, odd])


def check_transform_args(n, type, norm, dtype):
    """(n, dtype) for :func:`dct` and :func:`dst` (real dtypes only), else ValueError."""
    n = check_int(n, "n")
    if type not in (2, 3):
        raise ValueError(f"type must be 2 or 3, got {type!r}")
    check_norm(norm)
    dtype = check_dtype(dtype)
    if dtype.kind == "c":
        raise ValueError(f"the DCT/DST operators are real: dtype must be float32 or float64, "
                         f"got {dtype}")
    return n, dtype


def _type2_network(n, sine):
    """Complex network whose real part is the unnormalized DCT-II (or DST-II)."""
    k = np.arange(n)
    L = size_for(n, n, 1).bit_length() - 1
    P = permutation_twiddles(_makhoul_permutation(n), L)
    if sine:
        # DST2 = J DCT2 S: S = diag((-1)^j) on the input, and
        # J diag(D) F = diag(J D) J F = diag(J D) conj(F) diag(exp(2i pi m / n))
        scale_inputs(P, (-1.0) ** k)
        F = scale_inputs(conjugate(dft(n)), np.exp(2j * np.pi * k / n))
        d = 2 * np.exp(-1j * np.pi * k / (2 * n))
        scale_outputs(F, d[::-1])
    else:
        F = scale_outputs(dft(n), 2 * np.exp(-1j * np.pi * k / (2 * n)))
    return product(F, P, n)


def _row_scale(n, norm, sine):
    """Output scaling of the type-2 transform for scipy.fft's norm."""
    if norm == "ortho":
        f = np.full(n, np.sqrt(1 / (2 * n)))
        f[n - 1 if sine else 0] = np.sqrt(1 / (4 * n))
        return f
    if norm == "forward":
        return np.full(n, 1 / (2 * n))
    return None


def _transform(n, type, norm, sine):
    tw = _type2_network(n, sine)
    if type == 2:
        f = _row_scale(n, norm, sine)
        if f is not None:
            scale_outputs(tw, f)
        return tw
    # type 3 (unnormalized) = type-2^T with the first (DCT) or last (DST)
    # input halved; ortho: the transpose of ortho type 2; forward: all / (2n)
    tw = transpose(tw)
    if norm == "ortho":
        return scale_inputs(tw, _row_scale(n, "ortho", sine))
    d = np.ones(n)
    d[n - 1 if sine else 0] = 0.5
    if norm == "forward":
        d /= 2 * n
    return scale_inputs(tw, d)


def dct(n, type=2, norm="ortho"):
    """Twiddles (complex128) of a network whose real part, on shape (n, n), is the DCT
    matrix of scipy.fft.dct(np.eye(n), type, norm, axis=0)."""
    return _transform(n, type, norm, sine=False)


def dst(n, type=2, norm="ortho"):
    """Twiddles (complex128) of a network whose real part, on shape (n, n), is the DST
    matrix of scipy.fft.dst(np.eye(n), type, norm, axis=0)."""
    return _transform(n, type, norm, sine=True)


# ------------------------------------------------- the KMatrix constructors --
def dft_network(n, norm, dtype):
    """The checked arguments of ``KMatrix.dft`` and its network."""
    n = check_int(n, "n")
    dtype = check_dtype(dtype)
    if dtype.kind != "c":
        raise ValueError(f"the DFT is complex: dtype must be complex64 or complex128, got {dtype}")
    check_norm(norm)
    # a power of two: width 1 on n; else width 2 on next_pow2(2n - 1)
    pow2 = n & (n - 1) == 0
    check_network_size(n if pow2 else 2 * n - 1, 1 if pow2 else 2, dtype, f"KMatrix.dft({n})")
    return Network(dft(n, norm).astype(dtype, copy=False), (n, n))


def real_transform_network(kind, n, type, norm, dtype):
    """``KMatrix.dct`` (kind "dct") or ``KMatrix.dst`` (kind "dst"): the real
    part of a complex network."""
    n, dtype = check_transform_args(n, type, norm, dtype)
    check_network_size(n, 2, complex_dtype_of(dtype), f"KMatrix.{kind}({n})")
    tw = (dct if kind == "dct" else dst)(n, type, norm)
    return Network(tw.astype(complex_dtype_of(dtype), copy=False), (n, n), real_part=True)


def circulant_network(c, dtype):
    """``KMatrix.circulant``: a real part for real c."""
    c, dtype = check_circulant_args(c, dtype)
    tw = circulant(c).astype(complex_dtype_of(dtype))
    return Network(tw, (c.size, c.size), real_part=dtype.kind != "c")
