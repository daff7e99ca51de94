"""A file larger than the chunk budget through ``km.apply_npy`` against
``K.apply`` on the same rows in memory, in one run.

Writes a ``.npy`` file of float32 rows (default 2**18 rows of 1024: 1 GiB),
then times, each in a fresh Python process so that one's memory does not
count for the other and peak resident memory can be read from the kernel:

* ``apply_npy``: file to file, memory-mapped, chunk by chunk;
* in memory: ``np.load`` of the whole file, ``K.apply`` on it (a new output
  array, as a user would write it), and with ``out=`` a preallocated one;
* the in-memory job with its files: ``np.save(dst, K.apply(np.load(src)))``.

Prints the median seconds, rows/s, the throughput ratio apply_npy /
in-memory and each process's peak resident memory (VmHWM). The bars: peak
RSS of the apply_npy process below 400 MB, and its throughput at least 70%
of the in-memory ``K.apply`` on the same rows (the time of ``K.apply``
alone, after the file was loaded). The file versions write 1 GiB through the
page cache (and eventually to disk); the in-memory result never leaves
anonymous memory, so on a machine with slow page-cache writes the ratio is
bounded by the cost of writing the file (``np.save`` shows it).

Usage::

    python benchmarks/bench_batch.py [--rows 262144] [--n 1024] [--repeat 3] [--folder DIR]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap

import numpy as np

BAR_RSS_MB = 400
BAR_THROUGHPUT = 0.70

WORKER = textwrap.dedent("""
    import json, sys, time
    import numpy as np, kmatrix as km
    mode, rows_path, out_path, repeat = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    K = km.load(sys.argv[5])
    times = []
    if mode == "file":
        for _ in range(repeat):
            t0 = time.perf_counter()
            km.apply_npy(K, rows_path, out_path)
            times.append(time.perf_counter() - t0)
    elif mode == "load_save":
        for _ in range(repeat):
            t0 = time.perf_counter()
            np.save(out_path, K.apply(np.load(rows_path)))
            times.append(time.perf_counter() - t0)
    else:
        X = np.load(rows_path)
        Y = np.empty((X.shape[0], K.n_out), dtype=np.float32)
        for _ in range(repeat):
            t0 = time.perf_counter()
            if mode == "memory":
                Z = K.apply(X)
                del Z
            else:
                K.apply(X, out=Y)
            times.append(time.perf_counter() - t0)
    with open("/proc/self/status") as f:
        hwm = [l for l in f if l.startswith("VmHWM")][0]
    print(json.dumps({"times": times, "peak_mb": int(hwm.split()[1]) / 1024}))
""")


def run(mode, rows_path, out_path, model_path, repeat):
    done = subprocess.run([sys.executable, "-c", WORKER, mode, rows_path, out_path, str(repeat),
                           model_path], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=2 ** 18)
    parser.add_argument("--n", type=int, default=1024)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--folder", default=None)
    args = parser.parse_args(argv)
    import kmatrix as km

    folder = args.folder or tempfile.mkdtemp(prefix="kmatrix-bench-batch-")
    rows_path = os.path.join(folder, "rows.npy")
    out_path = os.path.join(folder, "out.npy")
    model_path = os.path.join(folder, "model.npz")
    K = km.KMatrix.random(args.n, dtype=np.float32, random_state=0)
    K.save(model_path)
    rows = np.lib.format.open_memmap(rows_path, mode="w+", dtype=np.float32,
                                     shape=(args.rows, args.n))
    rng = np.random.default_rng(0)
    for r in range(0, args.rows, 8192):
        rows[r:r + 8192] = rng.standard_normal((min(8192, args.rows - r), args.n),
                                               dtype=np.float32)
    rows.flush()
    del rows
    size_mb = args.rows * args.n * 4 / 2 ** 20
    print(f"{args.rows} float32 rows of {args.n} ({size_mb:.0f} MB) in {folder}; "
          f"medians of {args.repeat}, each mode in a fresh process")
    results = {mode: run(mode, rows_path, out_path, model_path, args.repeat)
               for mode in ("file", "memory", "memory_out", "load_save")}
    labels = {"file": "km.apply_npy (file to file)", "memory": "K.apply(X) in memory",
              "memory_out": "K.apply(X, out=Y) in memory",
              "load_save": "np.load + K.apply + np.save"}
    for mode, r in results.items():
        t = statistics.median(r["times"])
        print(f"{labels[mode]:30s} {t:7.3f} s  {args.rows / t:12,.0f} rows/s  "
              f"peak RSS {r['peak_mb']:7.0f} MB")
    t_file = statistics.median(results["file"]["times"])
    t_mem = statistics.median(results["memory"]["times"])
    ratio = t_mem / t_file
    peak = results["file"]["peak_mb"]
    print(f"apply_npy throughput / in-memory K.apply: {ratio:.2f} "
          f"(bar >= {BAR_THROUGHPUT}): {'PASS' if ratio >= BAR_THROUGHPUT else 'FAIL'}")
    print(f"apply_npy peak RSS {peak:.0f} MB (bar < {BAR_RSS_MB} MB): "
          f"{'PASS' if peak < BAR_RSS_MB else 'FAIL'}")
    Y = np.load(out_path, mmap_mode="r")
    X = np.load(rows_path, mmap_mode="r")
    same = np.array_equal(Y[-1000:], K.apply(np.array(X[-1000:])))
    print(f"last 1000 rows equal to K.apply in memory, bit for bit: {same}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
