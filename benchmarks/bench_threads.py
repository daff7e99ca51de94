"""Threads under pressure: long rows, a busy neighbour, spinning BLAS threads.

Three measurements, each repeated in several trials (a bar must hold in
every trial, so the minimum and maximum ratios are printed):

1. Long rows: ``K.apply`` and ``K.vjp`` at n = 2**16 (256 and 64 rows), two
   threads against one, every dtype; and float64's time per element against
   float32's.
2. A busy neighbour: another process runs NumPy matrix products in a loop
   (OpenBLAS, its default threads) while 256 float32 rows go through
   ``K.apply`` at n = 4096 with the default thread count and with
   ``workers=1``.
3. BLAS threads in this process: the median of the first 8 ``K.apply`` calls
   (4096 float64 rows, n = 1024, preallocated output) on a quiet process,
   right after ``KMatrix.random(1024)``, right after one small NumPy matrix
   product, and a loop alternating a product and ``K.apply``. OpenBLAS's
   worker threads spin without yielding for about 2**28 cycles (~0.1 s)
   after each threaded product; ``OPENBLAS_THREAD_TIMEOUT=4`` makes them
   sleep at once.

Usage::

    python benchmarks/bench_threads.py [--trials 5] [--skip long,busy,blas]
"""

import argparse
import os
import statistics
import subprocess
import sys
import time

import numpy as np

import kmatrix as km
from kmatrix._core import _kernels

NEIGHBOUR = ("import numpy as np\n"
             "a = np.random.default_rng(0).standard_normal((800, 800))\n"
             "while True:\n"
             "    a @ a\n")


def median_ms(fn, calls):
    times = []
    for _ in range(calls):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3


def long_rows(trials):
    print("=== 1. long rows, n = 2**16: two threads against one ===")
    n = 2 ** 16
    rng = np.random.default_rng(0)
    per_element = {}
    for dtype in ("float32", "float64", "complex64", "complex128"):
        K = km.KMatrix.random(n, dtype=dtype, random_state=0)
        X = rng.standard_normal((256, n)).astype(dtype)
        Y = np.empty_like(X)
        G = X[:64].copy()
        for what, one, two, rows in (
                ("apply", lambda: K.apply(X, out=Y, workers=1),
                 lambda: K.apply(X, out=Y, workers=2), 256),
                ("vjp", lambda: K.vjp(X[:64], G, workers=1),
                 lambda: K.vjp(X[:64], G, workers=2), 64)):
            one()
            two()
            ratios, t1s, t2s = [], [], []
            for _ in range(trials):
                t1 = median_ms(one, 3)
                t2 = median_ms(two, 3)
                ratios.append(t1 / t2)
                t1s.append(t1)
                t2s.append(t2)
            if what == "apply":
                per_element[dtype] = statistics.median(t2s)
            print(f"{what:5s} {dtype:10s} {rows:3d} rows: one thread {statistics.median(t1s):7.1f} ms,"
                  f" two {statistics.median(t2s):7.1f} ms; speed-up per trial min "
                  f"{min(ratios):.2f}x max {max(ratios):.2f}x  ({_kernels.last_path()})",
                  flush=True)
        del X, Y, G
    print(f"float64 / float32 time per element (two threads): "
          f"{per_element['float64'] / per_element['float32']:.2f}x")
    print()


def busy_neighbour(trials):
    print("=== 2. a neighbour process runs NumPy matrix products in a loop ===")
    K = km.KMatrix.random(4096, dtype=np.float32, random_state=0)
    X = np.random.default_rng(0).standard_normal((256, 4096)).astype(np.float32)
    Y = np.empty_like(X)
    quiet_default = median_ms(lambda: K.apply(X, out=Y), 50)
    quiet_one = median_ms(lambda: K.apply(X, out=Y, workers=1), 50)
    print(f"quiet: default {quiet_default:.2f} ms, workers=1 {quiet_one:.2f} ms")
    neighbour = subprocess.Popen([sys.executable, "-c", NEIGHBOUR])
    try:
        time.sleep(1.0)
        ratios = []
        for trial in range(trials):
            d = median_ms(lambda: K.apply(X, out=Y), 30)
            one = median_ms(lambda: K.apply(X, out=Y, workers=1), 30)
            ratios.append(d / one)
            print(f"trial {trial}: default {d:.2f} ms, workers=1 {one:.2f} ms: "
                  f"default / workers=1 = {d / one:.2f}x", flush=True)
        print(f"default / workers=1 over the trials: max {max(ratios):.2f}x")
    finally:
        neighbour.kill()
        neighbour.wait()
    print()


def blas_threads(trials):
    print("=== 3. right after BLAS calls in this process (first 8 calls, median) ===")
    print(f"OPENBLAS_THREAD_TIMEOUT={os.environ.get('OPENBLAS_THREAD_TIMEOUT', '(unset)')}")
    rng = np.random.default_rng(0)
    X = rng.standard_normal((4096, 1024))
    Y = np.empty_like(X)
    S = rng.standard_normal((300, 300))
    K = km.KMatrix.random(1024, random_state=0)
    K.apply(X, out=Y)

    def first8(K):
        return median_ms(lambda: K.apply(X, out=Y), 8)

    worst_random, worst_matmul = [], []
    for trial in range(trials):
        time.sleep(1.0)
        quiet = first8(K)
        time.sleep(1.0)
        K2 = km.KMatrix.random(1024, random_state=trial)
        after_random = first8(K2)
        time.sleep(1.0)
        S @ S.T
        after_matmul = first8(K)
        time.sleep(1.0)
        pair = median_ms(lambda: (S @ S.T, K.apply(X, out=Y)), 8)
        worst_random.append(after_random / quiet)
        worst_matmul.append(after_matmul / quiet)
        print(f"trial {trial}: quiet {quiet:.2f} ms; after KMatrix.random {after_random:.2f} ms "
              f"({after_random / quiet:.2f}x); after a product {after_matmul:.2f} ms "
              f"({after_matmul / quiet:.2f}x); product + apply in a loop {pair:.2f} ms",
              flush=True)
    print(f"max over trials: after KMatrix.random {max(worst_random):.2f}x, after a product "
          f"{max(worst_matmul):.2f}x")
    print()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--skip", default="", help="comma-separated: long, busy, blas")
    args = parser.parse_args(argv)
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    print(f"kmatrix {km.__version__}, ISA {_kernels.isa()}, default threads "
          f"{_kernels.default_threads()}, CPUs {_kernels.cpu_count()}, load "
          f"{os.getloadavg()[0]:.2f}\n")
    if "long" not in skip:
        long_rows(args.trials)
    if "busy" not in skip:
        busy_neighbour(args.trials)
    if "blas" not in skip:
        blas_threads(args.trials)
    return 0


if __name__ == "__main__":
    sys.exit(main())
