"""The learning layer: scikit-learn estimators whose weights are K-matrices.

Job: ``training`` (the engine: networks of K-matrix or dense layers,
forward, losses, backward through the compiled ``vjp``), ``networks`` (what
the network estimators share: layers, solvers, early stopping, warm
starts), ``network_docs`` (their shared parameter documentation),
``regressor`` (:class:`KMatrixRegressor`), ``classifier``
(:class:`KMatrixClassifier`) and ``random_features``
(:class:`KMatrixRandomFeatures`, :class:`KMatrixRandomProjection`).

May import: :mod:`kmatrix._core`, :mod:`kmatrix._builders` and
:mod:`kmatrix._operator` (the package, through its documented interface).
Not :mod:`kmatrix._fitting`: the two layers are siblings.
"""
