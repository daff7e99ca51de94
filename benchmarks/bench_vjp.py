"""Cost of gradients: KMatrix.vjp against KMatrix.apply, measured in one run.

Prints median times of ``K.apply(X)`` and ``K.vjp(X, G)`` (input and twiddle
gradients) for batch 1024 and the ratio vjp/apply; the gradient should cost a
small constant times a product (Baur-Strassen).

    python benchmarks/bench_vjp.py [--sizes 1024,4096] [--dtypes float32,complex64]
"""

import argparse

import numpy as np

import kmatrix as km
from bench_apply import fmt_time, time_blocks


def parse_size(text):
    """An int, or a power written as 2**k."""
    base, _, exponent = text.strip().partition("**")
    return int(base) ** int(exponent) if exponent else int(base)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1024,4096")
    parser.add_argument("--dtypes", default="float32,complex64")
    parser.add_argument("--batch", type=int, default=1024)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    print(f"batch {args.batch}, width 1, medians of {args.repeat}; "
          f"openmp={km.openmp_enabled()}")
    print(f"{'dtype':>10} {'n':>6} | {'apply':>10} {'vjp':>10} | vjp/apply")
    for dtype in args.dtypes.split(","):
        for n in (parse_size(v) for v in args.sizes.split(",")):
            K = km.KMatrix.random(n, dtype=dtype, random_state=0)
            X = rng.standard_normal((args.batch, n)).astype(dtype)
            G = rng.standard_normal((args.batch, n)).astype(dtype)
            t = time_blocks({"apply": lambda: K.apply(X), "vjp": lambda: K.vjp(X, G)},
                            args.repeat, budget=10.0, min_samples=3)
            a, v = t["apply"][0], t["vjp"][0]
            print(f"{dtype:>10} {n:>6} | {fmt_time(a):>10} {fmt_time(v):>10} | {v / a:8.2f}x")


if __name__ == "__main__":
    main()
