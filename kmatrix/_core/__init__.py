"""The foundation every layer stands on: kernels, threads, checks, twiddles.

Job: the compiled kernels' binding (``_kernels``, declared in
``native.pxd``), the ``workers`` configuration (``config``), input checks
(``validation``), and the twiddle array itself: its layout (``layout``,
including the :class:`~kmatrix._core.layout.Network` that builders return),
its algebra (``algebra``: products, sums, transposes, scalings), its file
format (``fileformat``); plus the optimizers shared by fitting and learning
(``optimizers``) and lazy dask rows (``lazy``).

May import: NumPy, SciPy and scikit-learn only, and its own modules. Nothing
here builds a KMatrix.
"""
