"""The fitting layer: the "SVD for K-matrices" that finds structure in a matrix.

Job: ``factorize`` (closed-form hierarchical factorizations of a butterfly),
``discover`` (unknown row and column permutations), ``search`` (the
candidate representations and their fits), ``descent`` (gradient descent
on the twiddles) and ``approximator`` (:class:`KMatrixApproximator`, the
estimator that runs them).

May import: :mod:`kmatrix._core`, :mod:`kmatrix._builders` and
:mod:`kmatrix._operator` (the package). Not :mod:`kmatrix._learning`.
"""
