"""Exact power-of-two scalings of a target and of its fit: entries whose
squares could overflow or underflow are fitted as ``2^-k M``, the fit scaled
back by ``2^k`` over the stages of its first block."""

import numpy as np

__all__ = ["scale_first_block", "scaling_exponent", "times_power_of_two"]


def scaling_exponent(dense, real_dtype):
    """k with 2^-k M safe to square in ``real_dtype`` (0 when M already is)."""
    if dense is None or not dense.size:
        return 0
    peak = float(np.max(np.abs(dense)))
    bound = 2.0 ** (np.finfo(real_dtype).maxexp // 4)
    if peak > 0 and not 1 / bound < peak < bound:
        return int(np.round(np.log2(peak)))
    return 0


def scale_first_block(K, exponent):
    """K times 2^exponent, spread over the stages of its first block (no overflow)."""
    stages = K.twiddles[0].reshape(-1, *K.twiddles.shape[3:])
    parts = np.diff(np.round(np.linspace(0, exponent, len(stages) + 1)))
    for stage, part in zip(stages, parts):
        stage[...] = times_power_of_two(stage, int(part))


def times_power_of_two(A, k):
    """A * 2^k, exactly (no intermediate overflow), keeping A's dtype."""
    if np.iscomplexobj(A):
        return np.ldexp(A.real, k) + 1j * np.ldexp(A.imag, k).astype(A.real.dtype)
    return np.ldexp(A, k)
