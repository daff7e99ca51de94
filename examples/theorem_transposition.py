"""The transpose costs what the matrix costs (survey Thm 3.10, transposition principle).

If a circuit of size s computes A x, one of size O(s + n) computes A^T y:
reverse the circuit's edges (or, as the survey proves it, take the gradient
of y^T A x with Baur-Strassen). For a K-matrix the reversed circuit is again
a K-matrix of the same width: ``K.T`` reverses the order of the butterfly
stages and transposes every 2 x 2 block (the Benes pattern of BB* is
symmetric under that), ``K.H`` also conjugates them, and
``K.apply(Y, trans="T")`` runs the same reversed sweep on K's own twiddles.

For square and rectangular random K-matrices the script times
``K.T.apply``, ``K.H.apply`` and ``K.apply(Y, trans="T")`` against
``K.apply`` (the principle: ratios near 1x) and prints the relative error of
``K.T.todense()`` against ``K.todense().T`` and of ``K.H.todense()`` against
``K.todense().conj().T``. ``K.T`` and ``K.H`` are formed once, before the
timings. Times are medians of 7 timings, timed in turn in one loop, on one
thread and on the thread's CPU clock (``time.thread_time``), so that other
work on a shared machine does not enter the ratios.

    python examples/theorem_transposition.py [--sizes 1024,16384] [--rows 64]
"""

import argparse
import time

import numpy as np
from threadpoolctl import threadpool_limits

import kmatrix as km
from _timing import fmt_ratio, fmt_time, median_times, parse_ints, random_rows


def relative_error(A, B):
    error = np.max(np.abs(A - B)) / np.max(np.abs(B))
    return "0 (exact)" if error == 0 else f"{error:.1e}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=parse_ints, default=[1024, 16384],
                        help="sizes of the square K-matrices, comma-separated")
    parser.add_argument("--rect", default="1500x3000",
                        help="a rectangular shape n_out x n_in too ('' to skip)")
    parser.add_argument("--width", type=int, default=2, help="width of the K-matrices")
    parser.add_argument("--rows", type=int, default=64, help="rows in the timed batch")
    parser.add_argument("--dense-max", type=int, default=4096,
                        help="largest dimension for which the dense matrices are compared")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    shapes = [(n, n) for n in args.sizes]
    if args.rect:
        shapes.append(tuple(int(v) for v in args.rect.split("x")))

    print(f"Random K-matrices of width {args.width}; batch of {args.rows} rows, one thread "
          "(CPU time), medians of 7 timings;\n'T/K' = time of K.T.apply(Y) over time of "
          "K.apply(X), and likewise; 'err T', 'err H' = max |K.T.todense() - K.todense().T| "
          "/ max |K|, and for K.H\n")
    header = (f"{'shape':>13} {'dtype':<10} | {'K.apply':>9} {'K.T.apply':>9} {'K.H.apply':>9} "
              f"{'trans=T':>9} | {'T/K':>5} {'H/K':>5} {'trans/K':>7} | {'err T':>9} "
              f"{'err H':>9}")
    print(header)
    print("-" * len(header))
    for n_out, n_in in shapes:
        for dtype in (np.float32, np.complex128):
            K = km.KMatrix.random(n_out, n_in, width=args.width, dtype=dtype, random_state=0)
            KT, KH = K.T, K.H
            X = random_rows(rng, (args.rows, n_in), dtype)
            Y = random_rows(rng, (args.rows, n_out), dtype)
            with threadpool_limits(limits=1):
                t_k, t_t, t_h, t_trans = median_times(
                    [lambda: K.apply(X), lambda: KT.apply(Y), lambda: KH.apply(Y),
                     lambda: K.apply(Y, trans="T")], time.thread_time)
            if max(n_out, n_in) <= args.dense_max:
                D = K.todense()
                err_t = relative_error(KT.todense(), D.T)
                err_h = relative_error(KH.todense(), D.conj().T)
            else:
                err_t = err_h = "-"
            assert K.shape == (n_out, n_in)
            print(f"{f'{n_out} x {n_in}':>13} {np.dtype(dtype).name:<10} | {fmt_time(t_k):>9} "
                  f"{fmt_time(t_t):>9} {fmt_time(t_h):>9} {fmt_time(t_trans):>9} | "
                  f"{fmt_ratio(t_t / t_k):>5} {fmt_ratio(t_h / t_k):>5} "
                  f"{fmt_ratio(t_trans / t_k):>7} | {err_t:>9} {err_h:>9}", flush=True)
    print(f"\nThe errors are rounding (the transposed network sums in the reverse order): "
          f"float32 eps {np.finfo(np.float32).eps:.1e}, float64 eps {np.finfo(np.float64).eps:.1e}")


if __name__ == "__main__":
    main()
