"""The operator layer: :class:`KMatrix`, its protocols and its files.

Job: the K-matrix as a NumPy/SciPy operand. ``kmatrix.py`` holds the class
(construction checks, properties, transposes) and mixes in one module per
concern: ``constructors`` and ``structured`` (one-line calls of
:mod:`kmatrix._builders`; the second for the survey's Section 4 classes),
``products`` (``apply`` and ``vjp``, routed to the kernels), ``protocol``
(``@`` and the LinearOperator methods, shared with ``linear_operator``'s
:class:`KMatrixOperator`), ``arithmetic`` (scalar multiples, products,
sums); ``io`` saves and loads.

May import: :mod:`kmatrix._core` and :mod:`kmatrix._builders`. The layers
above import this package, not its modules. Besides the public names, the
package-internal interface they may use:

- :func:`wrap`: a KMatrix sharing an already valid twiddle array (no copy,
  no checks), for the fitting layer's views of a model;
- ``KMatrix._apply_into`` and ``KMatrix._twiddle_gradient_into``: the
  training engine's unchecked kernel calls on buffers it checked once;
- ``KMatrix._cosine_features``: the random features' product with its
  compiled cosine epilogue;
- :func:`load_with_version`: a file's KMatrix and its format version.
"""

from .io import load, load_with_version
from .kmatrix import KMatrix
from .linear_operator import KMatrixOperator, aslinearoperator

__all__ = ["KMatrix", "KMatrixOperator", "aslinearoperator", "load", "load_with_version", "wrap"]


def wrap(twiddles, shape, expansion=None, real_part=False):
    """A KMatrix on an already validated C-contiguous twiddle array (shared).

    ``expansion=None`` is the default for the size and shape, as in the
    KMatrix constructor.
    """
    return KMatrix._wrap(twiddles, shape, expansion, real_part)
