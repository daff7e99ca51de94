"""One training epoch of a K-matrix network against MLPClassifier's.

Both classifiers map n features through one hidden layer of n units (relu)
to 10 classes (softmax, log loss), with the same mini-batch Adam (batch
200): KMatrixClassifier's layers are K-matrices (width 1; the output layer
is the first 10 rows of a K-matrix on n positions, the default, or a
dense 10 x n matrix), MLPClassifier's dense.
One ``partial_fit`` call is exactly one epoch, forward and backward, for
both; the script times it on initialised models, each in its own block
after a warm-up (bench_apply.time_blocks), and prints the median epoch
time, the ratio and the parameter counts. The bar: at n = 1024, at the
defaults (a K-matrix output layer), at least 5x faster than MLPClassifier's
epoch.

    python benchmarks/bench_epoch.py [--sizes 1024,4096] [--samples 4000]
"""

import argparse
import os
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier
from threadpoolctl import threadpool_limits

import kmatrix as km
from bench_apply import cpu_model, fmt_time, time_blocks

BAR = 5.0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1024,4096")
    parser.add_argument("--samples", type=int, default=4000)
    parser.add_argument("--dtype", default="float32")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None,
                        help="threads for kmatrix and BLAS (default: all CPUs)")
    args = parser.parse_args()
    warnings.simplefilter("ignore", ConvergenceWarning)
    rng = np.random.default_rng(0)
    print(f"# CPU: {cpu_model()}; load average {os.getloadavg()[0]:.2f}; "
          f"openmp={km.openmp_enabled()}")
    print(f"# {args.samples} samples, 10 classes, one hidden layer of n, batch 200, Adam, "
          f"{args.dtype}; medians of up to {args.repeat} epochs")
    print(f"{'n':>5} {'output':>7} | {'kmatrix epoch':>13} {'MLP epoch':>10} | {'MLP/kmatrix':>11} | "
          f"{'K params':>9} {'MLP params':>10}")
    bar = None
    classes = np.arange(10)
    with threadpool_limits(args.threads):
        for n in (int(v) for v in args.sizes.split(",")):
            X = rng.standard_normal((args.samples, n)).astype(args.dtype)
            y = rng.integers(0, 10, args.samples)
            nets = {out: km.KMatrixClassifier(hidden_layer_sizes=(n,), output_layer=out,
                                              random_state=0).partial_fit(X, y, classes=classes)
                    for out in ("kmatrix", "dense")}
            mlp = MLPClassifier(hidden_layer_sizes=(n,), random_state=0)
            mlp.partial_fit(X, y, classes=classes)
            # kmatrix first: OpenBLAS threads spin after the dense epochs
            t = time_blocks({**{out: (lambda c=c: c.partial_fit(X, y)) for out, c in nets.items()},
                             "mlp": lambda: mlp.partial_fit(X, y)},
                            args.repeat, budget=30.0, min_samples=3)
            d = t["mlp"][0]
            dense = sum(c.size for c in mlp.coefs_) + sum(b.size for b in mlp.intercepts_)
            for out, clf in nets.items():
                k = t[out][0]
                print(f"{n:>5} {out:>7} | {fmt_time(k):>13} {fmt_time(d):>10} | "
                      f"{d / k:10.1f}x | {clf.n_params_:>9} {dense:>10}")
                if n == 1024 and out == "kmatrix":
                    bar = d / k
    if bar is None:
        print(f"bar (n = 1024: >= {BAR}x faster than MLPClassifier): n/a")
    else:
        print(f"bar (n = 1024: >= {BAR}x faster than MLPClassifier): {bar:.1f}x "
              f"{'PASS' if bar >= BAR else 'FAIL'}")


if __name__ == "__main__":
    main()
