"""kmatrix: fast kaleidoscope (K-matrix) structured linear operators.

A K-matrix is a product of butterfly matrices and their adjoints,
(BB*)^w_e: O(n log n) parameters and O(n log n) products, expressive enough
to hold the FFT, DCT, Hadamard transform, convolutions, every permutation and
every sparse matrix. See the README for a tour.
"""

from ._builders.circuit import Circuit
from ._core._kernels import openmp_enabled
from ._core._version import __version__
from ._core.config import get_workers, set_workers
from ._fitting.approximator import KMatrixApproximator
from ._jobs.batch import apply_npy
from ._learning.random_features import KMatrixRandomFeatures, KMatrixRandomProjection
from ._learning.classifier import KMatrixClassifier
from ._learning.regressor import KMatrixRegressor
from ._operator import KMatrix, KMatrixOperator, aslinearoperator, load

__all__ = [
    "Circuit",
    "KMatrix",
    "KMatrixApproximator",
    "KMatrixClassifier",
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
