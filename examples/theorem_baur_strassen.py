"""All the gradients for the price of a few products (survey Thm 3.6, Baur-Strassen).

The Baur-Strassen theorem: if a circuit computes a scalar f(theta), another
circuit only a constant factor larger computes its whole gradient (reverse
mode, back-propagation). For a K-matrix, f is ``L = Re(sum(conj(G) *
K.apply(X)))`` and ``K.vjp(X, G)`` returns its gradients with respect to
every entry of X and every one of the 4 w N log2 N twiddles, by one sweep
forward and one backward through the butterfly stages.

The script times ``K.vjp(X, G)`` against ``K.apply(X)`` for several sizes,
widths and dtypes, on a batch of rows and on one vector, and prints the ratio
(the theorem: a small constant, independent of the size). It then checks one
twiddle's and one input's gradient against central differences: L is linear
in any single twiddle (it sits in one 2 x 2 block of one factor) and in any
single entry of X, so the difference quotient is exact up to rounding. Times
are medians of 7 timings, ``apply`` and ``vjp`` timed in turn in one loop,
on one thread and on the thread's CPU clock (``time.thread_time``), so that
other work on a shared machine does not enter the ratios.

    python examples/theorem_baur_strassen.py [--sizes 1024,4096] [--widths 1,2] [--rows 64]
"""

import argparse
import time

import numpy as np
from threadpoolctl import threadpool_limits

import kmatrix as km
from _timing import fmt_ratio, fmt_time, median_times, parse_ints, random_rows

DTYPES = [np.float32, np.float64, np.complex64, np.complex128]


def loss(K, X, G):
    """L = Re(sum(conj(G) * K.apply(X))), the scalar whose gradients K.vjp returns."""
    return float(np.real(np.sum(np.conj(G) * K.apply(X))))


def finite_differences(n, width, dtype, rng, h=1e-3):
    """(what, vjp's value, central difference) for one twiddle and one entry of X."""
    K = km.KMatrix.random(n, width=width, dtype=dtype, random_state=0)
    X, G = random_rows(rng, (3, n), dtype), random_rows(rng, (3, n), dtype)
    dX, dtw = K.vjp(X, G)
    L = K.log_size
    index = (width - 1, 1, L // 2, K.size // 4 + 1, 1, 0)
    directions = [1.0, 1j] if np.dtype(dtype).kind == "c" else [1.0]
    checks = []
    for name, array, grad, idx in [(f"twiddle{list(index)}", K.twiddles, dtw, index),
                                   ("X[1, 5]", X, dX, (1, 5))]:
        # the gradient of a complex parameter is dL/dRe + 1j dL/dIm
        estimate = 0
        for step in directions:
            saved = array[idx]
            array[idx] = saved + step * h
            up = loss(K, X, G)
            array[idx] = saved - step * h
            down = loss(K, X, G)
            array[idx] = saved
            estimate += step * (up - down) / (2 * h)
        checks.append((name, grad[idx], estimate))
    return checks


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=parse_ints, default=[1024, 4096],
                        help="network sizes, comma-separated")
    parser.add_argument("--widths", type=parse_ints, default=[1, 2], help="widths, comma-separated")
    parser.add_argument("--rows", type=int, default=64, help="rows in the timed batch")
    parser.add_argument("--check-n", type=int, default=64,
                        help="size of the K-matrices of the finite-difference check")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)

    print("Cost of all the gradients, K.vjp(X, G), over the cost of the product K.apply(X); "
          "one thread (CPU time),\nmedians of 7 timings; 'rows' is the batch (1: one vector)\n")
    header = (f"{'n':>6} {'rows':>4} {'width':>5} {'dtype':<10} {'params':>10} | "
              f"{'K.apply':>9} {'K.vjp':>9} {'vjp/apply':>9}")
    print(header)
    print("-" * len(header))
    ratios = []
    for n in args.sizes:
        for rows in sorted({args.rows, 1}, reverse=True):
            # one vector: the real and the complex double case suffice
            dtypes = DTYPES if rows == args.rows else [np.float64, np.complex128]
            for width in args.widths:
                for dtype in dtypes:
                    K = km.KMatrix.random(n, width=width, dtype=dtype, random_state=0)
                    X = random_rows(rng, (rows, n), dtype)
                    G = random_rows(rng, (rows, n), dtype)
                    with threadpool_limits(limits=1):
                        t_apply, t_vjp = median_times([lambda: K.apply(X), lambda: K.vjp(X, G)],
                                                      time.thread_time)
                    ratios.append(t_vjp / t_apply)
                    print(f"{n:>6} {rows:>4} {width:>5} {np.dtype(dtype).name:<10} "
                          f"{K.n_params:>10,} | {fmt_time(t_apply):>9} {fmt_time(t_vjp):>9} "
                          f"{fmt_ratio(t_vjp / t_apply):>9}", flush=True)
    print(f"\nvjp/apply: median {fmt_ratio(float(np.median(ratios)))}, range "
          f"{fmt_ratio(min(ratios))} - {fmt_ratio(max(ratios))} over {len(ratios)} cases")

    print(f"\nFinite-difference check (n = {args.check_n}, width 2, 3 rows): "
          "L = Re(sum(conj(G) * K.apply(X))), central differences\n")
    for dtype in (np.float64, np.complex128):
        for name, exact, estimate in finite_differences(args.check_n, 2, dtype, rng):
            rel = abs(exact - estimate) / abs(exact)
            print(f"{np.dtype(dtype).name:<10} dL/d{name:<24} vjp {exact:.10g}, "
                  f"difference {estimate:.10g}: relative difference {rel:.1e}")


if __name__ == "__main__":
    main()
