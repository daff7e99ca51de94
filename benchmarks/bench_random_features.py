"""Structured random features and projections against scikit-learn's dense ones.

Prints, with the scikit-learn numbers of the same run:

1. RBF kernel approximation: the relative Frobenius error
   ``||Z Z^T - K||_F / ||K||_F`` on 600 points, ``gamma = 1 / d``, for
   ``KMatrixRandomFeatures`` and ``RBFSampler`` at ``n_components = 2048``,
   mean over 3 seeds, on standardized Gaussian data and on the digits
   (8 x 8 images resized to 10 x 10 and 16 x 16, standardized), d = 100 and
   256. Bar: ours <= 1.1x RBFSampler's.
2. Transform time on 4096 rows (median of several runs, each method in its
   own block after a warm-up, kmatrix first: OpenBLAS's threads spin for a
   while after a product): ``KMatrixRandomFeatures`` d = 1024 ->
   n_components = 8192 against ``RBFSampler`` (bar: <= 1/4), and
   ``KMatrixRandomProjection`` d = 4096 -> 1024 against
   ``GaussianRandomProjection`` (bar: <= 1/10), in float64 and float32.

Only ratios of one run mean anything on a shared machine: the header prints
the load average.

    python benchmarks/bench_random_features.py [--repeat 7] [--seeds 3] [--quick]
"""

import argparse
import os
import statistics
import time

import numpy as np
import scipy.ndimage
from sklearn.datasets import load_digits
from sklearn.kernel_approximation import RBFSampler
from sklearn.metrics.pairwise import rbf_kernel
from sklearn.random_projection import GaussianRandomProjection

import kmatrix as km
from kmatrix._core import _kernels

BAR_ERROR = 1.1
BAR_FEATURES_TIME = 1 / 4
BAR_PROJECTION_TIME = 1 / 10


def median_time(fn, repeat, warmup=0.5):
    """Median seconds of fn() over `repeat` runs after `warmup` seconds of calls."""
    start = time.perf_counter()
    while True:
        fn()
        if time.perf_counter() - start >= warmup:
            break
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def standardized(X):
    std = X.std(axis=0)
    return (X - X.mean(axis=0)) / np.where(std > 0, std, 1.0)


def datasets(n_samples, dims):
    rng = np.random.default_rng(0)
    images = load_digits().images[:n_samples]
    for d in dims:
        yield f"gaussian d={d}", rng.standard_normal((n_samples, d))
        side = int(round(np.sqrt(d)))
        resized = np.array([scipy.ndimage.zoom(im, side / 8, order=1) for im in images])
        yield f"digits {side}x{side}", standardized(resized.reshape(n_samples, -1))


def relative_error(Z, K):
    return float(np.linalg.norm(Z @ Z.T - K) / np.linalg.norm(K))


def verdict(ok):
    return "PASS" if ok else "FAIL"


def kernel_errors(args):
    print(f"1. RBF kernel approximation, {args.points} points, n_components = "
          f"{args.components}, gamma = 1/d, mean relative Frobenius error over {args.seeds} seeds")
    header = f"{'data':>16} | {'kmatrix':>8} {'RBFSampler':>10} | ratio (bar <= {BAR_ERROR})"
    print(header)
    print("-" * len(header))
    ok = True
    for name, X in datasets(args.points, (100, 256)):
        gamma = 1.0 / X.shape[1]
        K = rbf_kernel(X, gamma=gamma)
        ours = np.mean([relative_error(km.KMatrixRandomFeatures(
            args.components, gamma=gamma, random_state=s).fit_transform(X), K)
            for s in range(args.seeds)])
        theirs = np.mean([relative_error(RBFSampler(
            n_components=args.components, gamma=gamma, random_state=s).fit_transform(X), K)
            for s in range(args.seeds)])
        ratio = ours / theirs
        ok &= ratio <= BAR_ERROR
        print(f"{name:>16} | {ours:8.4f} {theirs:10.4f} | {ratio:5.2f} "
              f"{verdict(ratio <= BAR_ERROR)}", flush=True)
    return ok


def transform_times(args):
    rows = args.rows
    print(f"\n2. transform time on {rows} rows, median of {args.repeat} runs")
    header = (f"{'case':>34} {'dtype':>8} | {'kmatrix':>9} {'sklearn':>9} | "
              f"ratio (bar)")
    print(header)
    print("-" * len(header))
    rng = np.random.default_rng(1)
    cases = [
        ("features d=1024 -> 8192", 1024,
         lambda: km.KMatrixRandomFeatures(8192, gamma=1 / 1024, random_state=0),
         lambda: RBFSampler(n_components=8192, gamma=1 / 1024, random_state=0),
         BAR_FEATURES_TIME),
        ("projection d=4096 -> 1024", 4096,
         lambda: km.KMatrixRandomProjection(1024, random_state=0),
         lambda: GaussianRandomProjection(1024, random_state=0),
         BAR_PROJECTION_TIME),
    ]
    ok = True
    for name, d, ours, theirs, bar in cases:
        for dtype in (np.float64, np.float32):
            X = rng.standard_normal((rows, d)).astype(dtype)
            est = ours().fit(X)
            t_ours = median_time(lambda: est.transform(X), args.repeat)
            ref = theirs().fit(X)
            t_ref = median_time(lambda: ref.transform(X), max(3, args.repeat // 2))
            del est, ref
            ratio = t_ours / t_ref
            ok &= ratio <= bar
            print(f"{name:>34} {np.dtype(dtype).name:>8} | {t_ours * 1e3:7.1f}ms "
                  f"{t_ref * 1e3:7.1f}ms | {ratio:6.3f} (<= {bar:.3f}) {verdict(ratio <= bar)}",
                  flush=True)
    return ok


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7, help="timed runs per measurement")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--points", type=int, default=600)
    parser.add_argument("--components", type=int, default=2048)
    parser.add_argument("--rows", type=int, default=4096)
    parser.add_argument("--quick", action="store_true",
                        help="fewer runs: --repeat 3, 1024 rows")
    args = parser.parse_args(argv)
    if args.quick:
        args.repeat, args.rows = 3, 1024
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"kmatrix {km.__version__}, {os.cpu_count()} CPUs, default threads "
          f"{_kernels.default_threads()}, 1-minute load average {load:.2f}"
          + ("  (busy machine: rerun when idle)" if load > 0.8 else ""))
    ok = kernel_errors(args)
    ok &= transform_times(args)
    print(f"\nall bars: {verdict(ok)}")


if __name__ == "__main__":
    main()
