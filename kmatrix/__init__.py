"""kmatrix: fast kaleidoscope (K-matrix) structured linear operators.

A K-matrix is a product of butterfly matrices and their adjoints,
(BB*)^w_e: O(n log n) parameters and O(n log n) products, expressive enough
to hold the FFT, DCT, Hadamard transform, convolutions, every permutation and
every sparse matrix. See the README for a tour.
"""

from ._approximator import KMatrixApproximator
from ._batch import apply_npy
from ._circuit import Circuit
from ._config import get_workers, set_workers
from ._kernels import openmp_enabled
from ._kmatrix import KMatrix, load
from ._linear_operator import KMatrixOperator, aslinearoperator
from ._random_features import KMatrixRandomFeatures, KMatrixRandomProjection
from ._regressor import KMatrixRegressor
from ._version import __version__

__all__ = [
    "Circuit",
    "KMatrix",
    "KMatrixApproximator",
    "KMatrixOperator",
    "KMatrixRandomFeatures",
    "KMatrixRandomProjection",
    "KMatrixRegressor",
    "apply_npy",
    "aslinearoperator",
    "get_workers",
    "load",
    "openmp_enabled",
    "set_workers",
    "__version__",
]
