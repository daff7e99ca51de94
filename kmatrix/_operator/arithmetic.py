"""K-matrix arithmetic: scalar multiples, products and sums, as new K-matrices.

Products add widths on the larger size; sums go through expansion (size
2N); the twiddle-level work is :mod:`kmatrix._core.algebra`'s. A sum with
a diagonal NumPy array or sparse matrix (``K - mu * np.eye(n)``, as
scipy's ``expm_multiply`` forms) is a KMatrix too; with any other array,
sparse matrix or LinearOperator it is scipy's lazy sum of LinearOperators.
"""

import numpy as np
import scipy.sparse
from scipy.sparse.linalg import LinearOperator, aslinearoperator

from .._core import algebra
from .._core.layout import identity_twiddles
from .._core.validation import next_pow2, result_dtype
from .protocol import is_scalar

__all__ = ["Arithmetic", "check_finite_twiddles"]


class Arithmetic:
    """``a * K``, ``K / a``, ``-K``, ``K1 @ K2``, ``K1 + K2``, ``K1 - K2``, and
    sums with arrays, sparse matrices and LinearOperators (a mixin).

    The host provides ``_twiddles``, ``_real_part``, ``_like`` and ``_wrap``.
    """

    def __mul__(self, other):
        if not is_scalar(other):
            return NotImplemented
        _check_finite_scalar(other, "multiply a KMatrix by")
        with np.errstate(over="ignore", invalid="ignore"):   # refused below
            tw = algebra.multiply(self._twiddles, other, self._real_part)
        check_finite_twiddles(tw, f"the twiddles of K * {other}")
        return self._like(tw)

    __rmul__ = __mul__

    def __truediv__(self, other):
        if not is_scalar(other):
            return NotImplemented
        _check_finite_scalar(other, "divide a KMatrix by")
        if other == 0:
            raise ValueError("cannot divide a KMatrix by zero")
        with np.errstate(over="ignore", invalid="ignore"):   # refused below
            tw = algebra.divide(self._twiddles, other, self._real_part)
        check_finite_twiddles(tw, f"the twiddles of K / {other}")
        return self._like(tw)

    def __neg__(self):
        return self * -1

    def __pos__(self):
        return self.copy()

    def __add__(self, other):
        if isinstance(other, Arithmetic):
            return self._sum(other)
        return self._sum_with(other, 1)

    def __sub__(self, other):
        if isinstance(other, Arithmetic):
            return self._sum(-other)
        return self._sum_with(other, -1)

    def __radd__(self, other):
        return self._sum_with(other, 1)

    def __rsub__(self, other):
        return (-self)._sum_with(other, 1)

    def _sum_with(self, other, sign):
        """``self + sign * other`` for a NumPy array, a scipy sparse matrix or
        a LinearOperator: a KMatrix when ``other`` is diagonal (a diagonal is
        a width-1 K-matrix: the sum through expansion, as for two
        K-matrices), else scipy's lazy sum of LinearOperators."""
        if isinstance(other, LinearOperator):
            return aslinearoperator(self) + (other if sign > 0 else -other)
        sparse = scipy.sparse.issparse(other)
        if not (sparse or isinstance(other, np.ndarray)) or is_scalar(other):
            return NotImplemented
        if other.shape != self.shape:
            raise ValueError(f"add: K has shape {self.shape}, the operand {other.shape}")
        if other.dtype.kind not in "biufc":
            raise ValueError(f"add: the operand has dtype {other.dtype}, not a number")
        d = other.diagonal()
        off_diagonal = (other.count_nonzero() if sparse else np.count_nonzero(other)) - \
            np.count_nonzero(d)
        if off_diagonal:
            return aslinearoperator(self) + aslinearoperator(other if sign > 0 else -other)
        if not np.all(np.isfinite(d)):
            raise ValueError("add: the operand holds NaN or infinity")
        # the diagonal's operator: real unless d is complex (a real part's
        # sum with a real diagonal is a real part again)
        dtype = result_dtype(self.dtype, d.dtype)
        N = max(2, next_pow2(max(self.shape)))
        tw = algebra.scale_outputs(identity_twiddles(N.bit_length() - 1, 1, dtype),
                                   sign * np.asarray(d, dtype=dtype))
        return self._sum(self._wrap(tw, self.shape))

    def _combined_real_part(self, what, other):
        """Whether the product or sum with ``other`` is a real part (else a ValueError)."""
        return algebra.real_part_of_combination(
            what, self._real_part, self._twiddles.dtype.kind == "c",
            other._real_part, other._twiddles.dtype.kind == "c")

    def _product(self, other):
        """self @ other as a K-matrix of width w1 + w2 on the larger size."""
        real_part = self._combined_real_part("product", other)
        if self.n_in != other.n_out:
            raise ValueError(f"matmul: shapes {self.shape} and {other.shape} are not aligned")
        tw = algebra.product(self._twiddles, other._twiddles, self.n_in)
        return self._wrap(tw, (self.n_out, other.n_in), real_part=real_part)

    def _sum(self, other):
        """self + other through expansion: size 2N, width max(w1, w2)."""
        real_part = self._combined_real_part("sum", other)
        if self.shape != other.shape:
            raise ValueError(f"add: shapes {self.shape} and {other.shape} differ")
        return self._wrap(algebra.add(self._twiddles, other._twiddles), self.shape,
                          real_part=real_part)


def _check_finite_scalar(value, what):
    if not np.isfinite(value):
        raise ValueError(f"cannot {what} {value}: a KMatrix holds finite numbers only")


def check_finite_twiddles(tw, what="twiddles"):
    if not np.isfinite(tw).all():
        raise ValueError(f"{what} contain NaN or infinity: a KMatrix holds finite numbers only")
