"""Every permutation is a K-matrix of width 1 (survey Thm 5.6, Benes routing).

``KMatrix.from_permutation(perm)`` routes a permutation through the Benes
network that is the sparsity pattern of one BB* block: every 2 x 2 block is
the identity or a swap, so the K-matrix holds the permutation matrix P
exactly (``(P @ x)[i] == x[perm[i]]``). Any length works: the network is the
next power of two N >= n, and P its upper-left corner.

For random permutations of several sizes the script prints the parameters
(4 N log2 N, against n^2 for the dense matrix), the width and expansion, the
largest entry of ``|K.todense() - P|`` (0: exact), whether ``K.apply(X)``
equals ``X[:, perm]`` bit for bit, and the time of ``K.apply(X)`` on a batch
of rows against the dense product ``X @ P.T`` and NumPy's fancy indexing
``X[:, perm]``. Times are medians of 7 timings, the three timed in turn in
one loop, on one thread (kmatrix's and BLAS's) and on the thread's CPU clock
(``time.thread_time``), so that other work on a shared machine does not
enter the ratios. The dense matrix is only built up to ``--dense-max``.

    python examples/theorem_permutations.py [--sizes 256,1000,4096,16384] [--rows 256]
"""

import argparse
import time

import numpy as np
from threadpoolctl import threadpool_limits

import kmatrix as km
from _timing import fmt_ratio, fmt_time, median_times, parse_ints


def exact(error):
    """A largest error, as "0 (exact)" when it is exactly zero."""
    return f"{'0 (exact)' if error == 0 else f'{error:.1e}':>9}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=parse_ints, default=[256, 1000, 4096, 16384],
                        help="permutation lengths, comma-separated")
    parser.add_argument("--rows", type=int, default=256, help="rows in the timed batch")
    parser.add_argument("--dense-max", type=int, default=4096,
                        help="largest n for which the dense matrix is built and timed")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)

    print(f"Random permutations as K-matrices; float64 batch of {args.rows} rows, one thread "
          "(CPU time), medians of 7 timings;\n'|K - P|' is the largest entry of "
          "|K.todense() - P| (P the dense permutation matrix)\n")
    header = (f"{'n':>6} {'params':>8} {'dense n^2':>11} {'width':>5} {'exp':>3} "
              f"{'|K - P|':>9} {'== X[:, perm]':>13} | {'K.apply':>9} {'X @ P.T':>9} "
              f"{'X[:, perm]':>10} {'dense/K':>7} {'index/K':>7}")
    print(header)
    print("-" * len(header))
    for n in args.sizes:
        perm = rng.permutation(n)
        K = km.KMatrix.from_permutation(perm)
        X = rng.standard_normal((args.rows, n))
        same = np.array_equal(K.apply(X), X[:, perm])
        funcs = [lambda: K.apply(X), lambda: X[:, perm]]
        if n <= args.dense_max:
            P = np.zeros((n, n))
            P[np.arange(n), perm] = 1.0
            error = exact(np.max(np.abs(K.todense() - P)))
            funcs.append(lambda: X @ P.T)
        else:
            error = f"{'-':>9}"
        with threadpool_limits(limits=1):
            times = median_times(funcs, time.thread_time)
        t_k, t_index = times[:2]
        t_dense, dense_ratio = "-", "-"
        if len(times) > 2:
            t_dense, dense_ratio = fmt_time(times[2]), fmt_ratio(times[2] / t_k)
        print(f"{n:>6} {K.n_params:>8,} {n * n:>11,} {K.width:>5} {K.expansion:>3} {error} "
              f"{str(same):>13} | {fmt_time(t_k):>9} {t_dense:>9} {fmt_time(t_index):>10} "
              f"{dense_ratio:>7} {fmt_ratio(t_index / t_k):>7}", flush=True)
    print("\ndense/K and index/K: time of X @ P.T and of X[:, perm] over the time of K.apply(X)")


if __name__ == "__main__":
    main()
