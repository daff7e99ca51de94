"""The exact builders: the twiddles of every structured matrix kmatrix constructs.

Job: turn a description (a size, a permutation, a sparse matrix, a vector of
a circulant, a circuit) into a :class:`~kmatrix._core.layout.Network`, with
the arguments checked here, once. ``zoo`` (random, identity, Hadamard, DFT
networks), ``permutations`` (Benes routing), ``transforms`` (DFT of any
length, DCT, DST, circulant), ``sparse`` (any sparse matrix, survey Thm
5.7), ``structured`` (Toeplitz, Hankel, low rank and Toeplitz-like
matrices, Section 4), ``circuit`` (the :class:`Circuit` front end) and
``compiler`` (a circuit into twiddles, Thm 5.5).

May import: :mod:`kmatrix._core`. Never builds a KMatrix: the operator
layer wraps what these return.
"""
