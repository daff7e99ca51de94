"""Exact K-matrices of classical transforms built from the DFT.

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

from ._constructors import lower_positions
from ._validation import check_dtype, check_int, complex_dtype_of, next_pow2

__all__ = ["circulant", "dct", "dft_any", "dst", "scale_inputs", "scale_outputs"]

NORMS = (None, "backward", "ortho", "forward")


def _padded(d, N):
    full = np.ones(N, dtype=np.result_type(d, np.float64))
    full[: d.size] = d
    return full


def scale_inputs(K, d):
    """In place: K <- K diag(d) (d of length <= N; entries beyond are 1)."""
    tw = K.twiddles
    L = K.log_size
    d = _padded(np.asarray(d), K.size)
    u = lower_positions(L, L - 1)  # the first stage (block 0, B* half) mixes bit L-1
    v = u + (1 << (L - 1))
    tw[0, 0, 0, :, :, 0] *= d[u][:, None]
    tw[0, 0, 0, :, :, 1] *= d[v][:, None]
    return K


def scale_outputs(K, d):
    """In place: K <- diag(d) K (d of length <= N; entries beyond are 1)."""
    tw = K.twiddles
    L = K.log_size
    d = _padded(np.asarray(d), K.size)
    u = lower_positions(L, L - 1)  # the last stage (last block, B half) mixes bit L-1
    v = u + (1 << (L - 1))
    tw[-1, 1, L - 1, :, 0, :] *= d[u][:, None]
    tw[-1, 1, L - 1, :, 1, :] *= d[v][:, None]
    return K


def _complex_dtype(dtype):
    return complex_dtype_of(check_dtype(dtype))


def _circular(h, dtype):
    """The M x M circulant C[i, j] = h[(i - j) mod M], M a power of two, width 2."""
    from ._kmatrix import KMatrix

    M = h.size
    forward = KMatrix.dft(M, dtype=np.complex128)
    scale_outputs(forward, np.fft.fft(h) / M)
    inverse = KMatrix.dft(M, dtype=np.complex128).conj()
    K = inverse @ forward
    return KMatrix(K.twiddles.astype(dtype), (M, M))


def _embedding_size(n):
    """Power-of-two size M of a circular convolution holding an n-point one."""
    return max(2, next_pow2(2 * n - 1))


def dft_any(n, dtype=np.complex128):
    """The n x n DFT matrix for any n >= 1 by Bluestein's chirp, width 2."""
    from ._kmatrix import KMatrix

    n = check_int(n, "n")
    dtype = _complex_dtype(dtype)
    M = _embedding_size(n)
    m = np.arange(n)
    # w_m = exp(i pi m^2 / n), computed from m^2 mod 2n to keep the angle small
    w = np.exp(1j * np.pi * ((m * m) % (2 * n)) / n)
    h = np.zeros(M, dtype=np.complex128)
    h[:n] = w
    h[M - n + 1:] = w[1:][::-1]  # h[M - m] = w_{-m} = w_m
    C = _circular(h, np.complex128)
    K = KMatrix(C.twiddles, (n, n))
    scale_inputs(K, np.conjugate(w))
    scale_outputs(K, np.conjugate(w))
    return KMatrix(K.twiddles.astype(dtype), (n, n))


def circulant(c, dtype=None):
    """The circulant matrix with first column c, C[i, j] = c[(i - j) mod n]."""
    from ._kmatrix import KMatrix
    from ._validation import as_numeric_array

    c = as_numeric_array(c, "c")
    if c.ndim != 1 or c.size == 0:
        raise ValueError(f"c must be a non-empty 1-D array, got shape {c.shape}")
    if not np.all(np.isfinite(c)):
        raise ValueError("c contains NaN or infinity")
    real = c.dtype.kind != "c"
    if dtype is None:
        dtype = np.float32 if c.dtype in (np.float32, np.complex64) else np.float64
        if not real:
            dtype = _complex_dtype(dtype)
    dtype = check_dtype(dtype)
    if real is False and dtype.kind != "c":
        raise ValueError(f"a complex c needs a complex dtype, got {dtype}")
    n = c.size
    M = n if (n >= 2 and n & (n - 1) == 0) else _embedding_size(n)
    h = np.zeros(M, dtype=np.complex128)
    h[:n] = c
    if M != n:
        h[M - n + 1:] = c[1:]  # (i - j) = -m needs c[n - m] at h[M - m]
    K = _circular(h, _complex_dtype(dtype))
    K = KMatrix(K.twiddles, (n, n))
    return K.real if dtype.kind != "c" else K


def _makhoul_permutation(n):
    """v = x[perm]: the even entries in order, then the odd ones reversed."""
    even = np.arange(0, n, 2)
    odd = np.arange(1, n, 2)[::-1]
    return np.concatenate([even, odd])


def _check_transform_args(n, type, norm, dtype):
    n = check_int(n, "n")
    if type not in (2, 3):
        raise ValueError(f"type must be 2 or 3, got {type!r}")
    if norm not in NORMS:
        raise ValueError(f'norm must be None, "backward", "ortho" or "forward", got {norm!r}')
    dtype = check_dtype(dtype)
    if dtype.kind == "c":
        raise ValueError(f"the DCT/DST operators are real: dtype must be float32 or float64, "
                         f"got {dtype}")
    return n, dtype


def _type2_network(n, sine):
    """Complex network whose real part is the unnormalized DCT-II (or DST-II)."""
    from ._kmatrix import KMatrix

    k = np.arange(n)
    P = KMatrix.from_permutation(_makhoul_permutation(n), dtype=np.complex128)
    if sine:
        # DST2 = J DCT2 S: S = diag((-1)^j) on the input, and
        # J diag(D) F = diag(J D) J F = diag(J D) conj(F) diag(exp(2i pi m / n))
        scale_inputs(P, (-1.0) ** k)
        F = KMatrix.dft(n).conj()
        scale_inputs(F, np.exp(2j * np.pi * k / n))
        d = 2 * np.exp(-1j * np.pi * k / (2 * n))
        scale_outputs(F, d[::-1])
    else:
        F = KMatrix.dft(n)
        scale_outputs(F, 2 * np.exp(-1j * np.pi * k / (2 * n)))
    return F @ P


def _row_scale(n, norm, sine):
    """Output scaling of the type-2 transform for scipy.fft's norm."""
    if norm == "ortho":
        f = np.full(n, np.sqrt(1 / (2 * n)))
        f[n - 1 if sine else 0] = np.sqrt(1 / (4 * n))
        return f
    if norm == "forward":
        return np.full(n, 1 / (2 * n))
    return None


def _transform(n, type, norm, dtype, sine):
    from ._kmatrix import KMatrix

    n, dtype = _check_transform_args(n, type, norm, dtype)
    C = _type2_network(n, sine)
    if type == 2:
        f = _row_scale(n, norm, sine)
        if f is not None:
            scale_outputs(C, f)
    else:
        # type 3 (unnormalized) = type-2^T with the first (DCT) or last (DST)
        # input halved; ortho: the transpose of ortho type 2; forward: all / (2n)
        C = C.T
        if norm == "ortho":
            scale_inputs(C, _row_scale(n, "ortho", sine))
        else:
            d = np.ones(n)
            d[n - 1 if sine else 0] = 0.5
            if norm == "forward":
                d /= 2 * n
            scale_inputs(C, d)
    return KMatrix(C.twiddles.astype(_complex_dtype(dtype)), (n, n)).real


def dct(n, type=2, norm="ortho", dtype=np.float64):
    """The DCT matrix of scipy.fft.dct(np.eye(n), type, norm, axis=0)."""
    return _transform(n, type, norm, dtype, sine=False)


def dst(n, type=2, norm="ortho", dtype=np.float64):
    """The DST matrix of scipy.fft.dst(np.eye(n), type, norm, axis=0)."""
    return _transform(n, type, norm, dtype, sine=True)
