"""A batch job over a file of rows: the command line, Dask, and a model
trained block by block.

1. Writes ``rows.npy`` (``--rows`` rows of ``--n`` float32 features, written
   in blocks, never whole in memory) and a K-matrix ``model.npz``.
2. Runs ``python -m kmatrix apply model.npz rows.npy out_cli.npy`` (streamed
   through memory maps a chunk at a time) and prints rows/s.
3. Runs the same product through Dask: the file as a dask array of row
   blocks, ``K.apply`` on it (lazy: one task per block), stored into a
   memory-mapped ``out_dask.npy``; on a ``distributed.LocalCluster`` of two
   worker processes with ``--cluster``, on Dask's threads otherwise. Prints
   rows/s and checks that both results are the same bits.
4. Learns a K-matrix layer from rows that do not fit in memory at once:
   ``KMatrixRegressor.partial_fit`` over the blocks of the dask arrays.

Usage::

    python examples/batch_job.py                       # 16384 rows of 1024 (64 MB)
    python examples/batch_job.py --rows 262144         # a 1 GiB file
    python examples/batch_job.py --cluster             # Dask on two worker processes
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np

import kmatrix as km


class NpyRows:
    """An existing .npy file as a ``da.store`` target that any process can
    write: each write opens the file (a memory map) and fills its rows. A
    memory map passed to Dask itself would be copied to each worker process
    and the file never written."""

    def __init__(self, path):
        self.path = path

    def __setitem__(self, index, value):
        rows = np.load(self.path, mmap_mode="r+")
        rows[index] = value
        rows.flush()


def write_rows(path, n_rows, n, block=4096, seed=0):
    """A .npy file of standard normal float32 rows, written block by block."""
    rows = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n_rows, n))
    rng = np.random.default_rng(seed)
    for r in range(0, n_rows, block):
        stop = min(n_rows, r + block)
        rows[r:stop] = rng.standard_normal((stop - r, n), dtype=np.float32)
    rows.flush()
    del rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=16384, help="rows in the file")
    parser.add_argument("--n", type=int, default=1024, help="features per row")
    parser.add_argument("--folder", default=None, help="where to write (default: a temporary one)")
    parser.add_argument("--cluster", action="store_true",
                        help="run the Dask part on a LocalCluster of two worker processes")
    args = parser.parse_args(argv)
    folder = args.folder or tempfile.mkdtemp(prefix="kmatrix-batch-")
    rows_path = os.path.join(folder, "rows.npy")
    model_path = os.path.join(folder, "model.npz")
    size_mb = args.rows * args.n * 4 / 2**20
    print(f"1. {args.rows} rows of {args.n} float32 ({size_mb:.0f} MB) in {folder}")
    write_rows(rows_path, args.rows, args.n)
    K = km.KMatrix.random(args.n, width=2, dtype=np.float32, random_state=0)
    K.save(model_path)

    out_cli = os.path.join(folder, "out_cli.npy")
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "kmatrix", "apply", model_path, rows_path, out_cli,
                    "--quiet"], check=True)
    seconds = time.perf_counter() - start
    print(f"2. command line: {args.rows / seconds:,.0f} rows/s "
          f"({seconds:.2f} s, including the interpreter's start)")

    import dask
    import dask.array as da

    X = da.from_array(np.load(rows_path, mmap_mode="r"), chunks=(4096, args.n))
    out_dask = os.path.join(folder, "out_dask.npy")
    lazy = K.apply(X)   # nothing runs yet: one task per block of 4096 rows
    np.lib.format.open_memmap(out_dask, mode="w+", dtype=lazy.dtype, shape=lazy.shape).flush()
    Y = NpyRows(out_dask)
    start = time.perf_counter()
    if args.cluster:
        import distributed

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with distributed.LocalCluster(n_workers=2, threads_per_worker=1,
                                          dashboard_address=None) as cluster, \
                    distributed.Client(cluster):
                start = time.perf_counter()
                da.store(lazy, Y, lock=False)   # the blocks write disjoint rows
        where = "a LocalCluster of 2 worker processes"
    else:
        with dask.config.set(scheduler="threads"):
            da.store(lazy, Y, lock=False)
        where = "Dask's threads"
    seconds = time.perf_counter() - start
    same = np.array_equal(np.load(out_cli, mmap_mode="r"), np.load(out_dask, mmap_mode="r"))
    print(f"3. Dask on {where}: {args.rows / seconds:,.0f} rows/s ({seconds:.2f} s); "
          f"same bits as the command line: {same}")

    # 4. a model learned from the file a block at a time: the target is the
    # saved K-matrix followed by a ReLU, plus a little noise
    y = da.maximum(K.apply(X), 0) + 0.01 * da.random.default_rng(1).standard_normal(
        (args.rows, K.n_out), chunks=(4096, K.n_out), dtype=np.float32)
    reg = km.KMatrixRegressor(width=2, out_activation="relu", learning_rate_init=1e-2,
                              random_state=0)
    start = time.perf_counter()
    for epoch in range(3):
        for Xb, yb in zip(X.blocks, y.blocks):   # one block of rows in memory at a time
            reg.partial_fit(Xb.compute(), yb.compute())
    seconds = time.perf_counter() - start
    test = slice(0, min(2048, args.rows))
    score = reg.score(X[test].compute(), y[test].compute())
    print(f"4. KMatrixRegressor.partial_fit over {X.numblocks[0]} blocks, 3 passes: "
          f"R^2 {score:.3f} on the first rows, {seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
