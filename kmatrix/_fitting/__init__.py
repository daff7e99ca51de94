"""The fitting layer: the "SVD for K-matrices" that finds structure in a matrix.

Job: ``factorize`` (closed-form hierarchical factorizations of a butterfly),
``discover`` (unknown row and column permutations), ``search`` (the
candidate representations and their fits), ``displacement`` (targets of
low displacement rank: Toeplitz and Toeplitz-like), ``descent`` (gradient
descent on the twiddles), ``scaling`` (exact power-of-two scalings of a
target and its fit) and ``approximator`` (:class:`KMatrixApproximator`, the
estimator that runs them).

May import: :mod:`kmatrix._core`, :mod:`kmatrix._builders` and
:mod:`kmatrix._operator` (the package). Not :mod:`kmatrix._learning`.
"""
