"""The learning layer: scikit-learn estimators whose weights are K-matrices.

Job: ``training`` (the mini-batch engine: forward, loss, backward through
the compiled ``vjp``), ``regressor`` (:class:`KMatrixRegressor`) and
``random_features`` (:class:`KMatrixRandomFeatures`,
:class:`KMatrixRandomProjection`).

May import: :mod:`kmatrix._core`, :mod:`kmatrix._builders` and
:mod:`kmatrix._operator` (the package, through its documented interface).
Not :mod:`kmatrix._fitting`: the two layers are siblings.
"""
