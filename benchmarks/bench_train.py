"""Training cost: one KMatrixRegressor epoch against one MLPRegressor epoch.

Both models map n features to n targets with one linear layer and the same
mini-batch Adam (batch 200, scikit-learn's "auto"): KMatrixRegressor's layer
is a K-matrix, MLPRegressor's (``hidden_layer_sizes=()``) a dense n x n
matrix. One ``partial_fit`` call is exactly one epoch for both, so the
script times ``partial_fit`` on an already initialised model, each method in
its own block after a warm-up (see bench_apply.time_blocks), and prints the
median epoch time, the ratio, and the issue's bar: an epoch at n = 1024 on
10,000 samples must be faster than the dense one.

    python benchmarks/bench_train.py [--sizes 256,1024] [--samples 10000]
"""

import argparse
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPRegressor
from threadpoolctl import threadpool_limits

import kmatrix as km
from bench_apply import fmt_time, time_blocks


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="256,1024,4096")
    parser.add_argument("--samples", type=int, default=10000)
    parser.add_argument("--dtypes", default="float32,float64")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--width", type=int, default=1)
    parser.add_argument("--threads", type=int, default=None,
                        help="threads for kmatrix and BLAS (default: all CPUs)")
    args = parser.parse_args()
    warnings.simplefilter("ignore", ConvergenceWarning)
    rng = np.random.default_rng(0)
    print(f"{args.samples} samples, batch 200, Adam, width {args.width}, medians of up to "
          f"{args.repeat} epochs; openmp={km.openmp_enabled()}")
    print(f"{'dtype':>8} {'n':>5} | {'kmatrix epoch':>13} {'dense epoch':>12} | "
          f"{'dense/kmatrix':>13} | {'K params':>9} {'dense params':>12}")
    bar = None
    with threadpool_limits(args.threads):
        for dtype in args.dtypes.split(","):
            for n in (int(v) for v in args.sizes.split(",")):
                X = rng.standard_normal((args.samples, n)).astype(dtype)
                y = rng.standard_normal((args.samples, n)).astype(dtype)
                reg = km.KMatrixRegressor(width=args.width, random_state=0).partial_fit(X, y)
                mlp = MLPRegressor(hidden_layer_sizes=(), random_state=0).partial_fit(X, y)
                # kmatrix first: OpenBLAS threads spin after the dense epochs
                t = time_blocks({"kmatrix": lambda: reg.partial_fit(X, y),
                                 "dense": lambda: mlp.partial_fit(X, y)},
                                args.repeat, budget=20.0, min_samples=3)
                k, d = t["kmatrix"][0], t["dense"][0]
                print(f"{dtype:>8} {n:>5} | {fmt_time(k):>13} {fmt_time(d):>12} | "
                      f"{d / k:12.1f}x | {reg.kmatrix_.n_params:>9} {n * n + n:>12}")
                if n == 1024 and args.samples == 10000:
                    bar = d / k if bar is None else min(bar, d / k)
    if bar is None:
        print("bar (epoch n=1024, 10,000 samples, faster than dense): n/a")
    else:
        verdict = "PASS" if bar > 1 else "FAIL"
        print(f"bar (epoch n=1024, 10,000 samples, faster than dense): dense/kmatrix "
              f"{bar:.1f}x (worst dtype) {verdict}")


if __name__ == "__main__":
    main()
