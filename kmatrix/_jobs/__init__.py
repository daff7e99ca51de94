"""The jobs layer: K-matrices over files and from the command line.

Job: ``batch`` (:func:`apply_npy`: ``.npy`` rows streamed through a
K-matrix in bounded memory, written atomically) and ``cli`` (``python -m
kmatrix`` and the ``kmatrix`` script: apply, info, fit). Dask arrays are
served where the rows arrive (``_core.lazy``).

May import: every other layer. Nothing imports it but the package itself.
"""
