"""Dask arrays of rows through K-matrices and estimators, lazily.

Dask is optional: nothing here imports it until a dask array comes in (an
object is a dask array only if ``dask.array`` is already imported). Each
row block becomes one task (the blocks of a row's columns are joined
first), whose result dtype and shape are declared, so building the graph
computes nothing. Inside a task the kernels use one thread unless
``workers`` says otherwise: Dask runs the blocks in parallel, one per
worker thread, so the cores are not oversubscribed (distributed workers
also start with OMP_NUM_THREADS=1, which bounds kmatrix's default).
"""

import sys

import numpy as np

__all__ = ["is_dask_array", "apply_rows", "map_rows"]


def is_dask_array(X):
    module = sys.modules.get("dask.array")
    return module is not None and isinstance(X, module.Array)


def _rows(X, n_features, what):
    """X as a 2-D dask array of rows with one column block, checked."""
    if X.ndim != 2:
        raise ValueError(f"{what}: a dask array of rows must be 2-D, got {X.ndim}-D of shape "
                         f"{X.shape}")
    if np.isnan(X.shape[1]):
        raise ValueError(f"{what}: the number of columns of the dask array is unknown; "
                         "compute its chunk sizes first (X.compute_chunk_sizes())")
    if X.shape[1] != n_features:
        raise ValueError(f"{what}: X has {X.shape[1]} features, expected {n_features}")
    if X.numblocks[1] != 1:
        X = X.rechunk({1: -1})
    return X


def _apply_block(block, K, trans, workers, check_finite):
    return K.apply(block, trans=trans, workers=1 if workers is None else workers,
                   check_finite=check_finite)


def apply_rows(K, X, trans, workers, check_finite, dtype):
    """K.apply on a dask array of rows (or one row): a lazy dask array."""
    import dask

    if X.ndim == 1:
        return apply_rows(K, X[None, :], trans, workers, check_finite, dtype)[0]
    in_len, out_len = (K.n_in, K.n_out) if trans == "N" else (K.n_out, K.n_in)
    X = _rows(X, in_len, "K.apply")
    K_node = dask.delayed(K, pure=True)   # one copy of the twiddles in the graph
    return X.map_blocks(_apply_block, K_node, trans, workers, check_finite, dtype=dtype,
                        chunks=(X.chunks[0], (out_len,)), meta=np.empty((0, 0), dtype=dtype))


def _call_rows(block, fn):
    return fn(block)


def map_rows(fn, X, n_features, out_columns, dtype, what):
    """fn (a fitted estimator's predict/transform) on each row block of X,
    lazily; out_columns None: fn returns one value per row."""
    import dask

    X = _rows(X, n_features, what)
    fn_node = dask.delayed(fn, pure=True)
    if out_columns is None:
        return X.map_blocks(_call_rows, fn_node, dtype=dtype, drop_axis=1,
                            chunks=(X.chunks[0],), meta=np.empty((0,), dtype=dtype))
    return X.map_blocks(_call_rows, fn_node, dtype=dtype, chunks=(X.chunks[0], (out_columns,)),
                        meta=np.empty((0, 0), dtype=dtype))
