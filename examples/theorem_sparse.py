"""Every sparse matrix is a K-matrix (survey Thm 5.7).

The survey's theorem puts an n x n matrix of s nonzeros in
(BB*)_4^{4 ceil(s/n)}: width 4 ceil(s/n) at expansion 4, i.e.
16 ceil(s/n) (4 N) log2(4 N) parameters, O(s log n). ``KMatrix.from_sparse``
builds it exactly with fewer: width 1 when every row and column has few
nonzeros (an edge colouring into permutations times diagonals, added
through expansion), width 2 when some rows or columns are dense (the
survey's step matrices), whichever is smaller.

For random sparse matrices of several densities, a banded matrix and an
"arrow" (the diagonal plus one dense row and one dense column) the script
prints the nonzeros, the parameters next to the theorem's count and per
``nnz log2 n``, width and expansion, the largest entry of
``|K.todense() - S|`` (0: exact), the relative error of ``K.apply(X)``
against the sparse product (rounding: the sums run in another order), and
the time of ``K.apply(X)`` on a batch of rows against the ``scipy.sparse``
product ``X @ S.T`` and the dense product. Times are medians of 7 timings,
timed in turn in one loop, on one thread (kmatrix's and BLAS's) and on the
thread's CPU clock (``time.thread_time``), so that other work on a shared
machine does not enter the ratios.

    python examples/theorem_sparse.py [--n 1024] [--rows 256]
"""

import argparse
import math
import time

import numpy as np
import scipy.sparse
from threadpoolctl import threadpool_limits

import kmatrix as km
from _timing import fmt_ratio, fmt_time, median_times


def survey_params(n, nnz):
    """Parameters of the theorem's class (BB*)_4^{4 ceil(s/n)}: 4 w (e N) log2(e N)."""
    N = 1 << max(1, math.ceil(math.log2(n)))
    width, expansion = 4 * math.ceil(nnz / n), 4
    return 4 * width * expansion * N * int(math.log2(expansion * N))


def test_matrices(n, rng):
    """(name, n x n CSR matrix) pairs with normal random values."""
    cases = []
    for density in (0.001, 0.005, 0.02):
        S = scipy.sparse.random(n, n, density=density, format="csr", random_state=rng,
                                data_rvs=rng.standard_normal)
        cases.append((f"random, density {density}", S))
    offsets = [-2, -1, 0, 1, 2]
    cases.append(("banded, 5 diagonals",
                  scipy.sparse.diags([rng.standard_normal(n - abs(k)) for k in offsets], offsets,
                                     format="csr")))
    arrow = scipy.sparse.lil_matrix((n, n))
    arrow.setdiag(rng.standard_normal(n))
    arrow[0, :] = rng.standard_normal(n)
    arrow[:, 0] = rng.standard_normal((n, 1))
    cases.append(("arrow: diagonal, dense row+col", arrow.tocsr()))
    return cases


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1024, help="matrix size (n x n)")
    parser.add_argument("--rows", type=int, default=256, help="rows in the timed batch")
    args = parser.parse_args(argv)
    n = args.n
    rng = np.random.default_rng(0)
    X = rng.standard_normal((args.rows, n))

    print(f"n x n sparse matrices as K-matrices, n = {n}; float64 batch of {args.rows} rows, "
          "one thread (CPU time), medians of 7 timings;\n'Thm 5.7' = parameters of the "
          "survey's (BB*)_4^{4 ceil(s/n)}, s = nnz; '|K - S|' = largest entry of "
          "|K.todense() - S|;\n'apply err' = max |K.apply(X) - X @ S.T| / max |X @ S.T|\n")
    header = (f"{'matrix':<31} {'nnz':>6} {'params':>10} {'Thm 5.7':>11} {'/nnz lg n':>9} "
              f"{'width':>5} {'exp':>3} {'|K - S|':>9} {'apply err':>9} | {'K.apply':>9} "
              f"{'sparse':>9} {'dense':>9} {'sparse/K':>8} {'dense/K':>7}")
    print(header)
    print("-" * len(header))
    for name, S in test_matrices(n, rng):
        K = km.KMatrix.from_sparse(S)
        D = S.toarray()
        error = np.max(np.abs(K.todense() - D))
        Y = X @ S.T
        apply_error = np.max(np.abs(K.apply(X) - Y)) / np.max(np.abs(Y))
        with threadpool_limits(limits=1):
            t_k, t_sparse, t_dense = median_times(
                [lambda: K.apply(X), lambda: X @ S.T, lambda: X @ D.T], time.thread_time)
        per = K.n_params / (S.nnz * math.log2(n))
        exact = "0 (exact)" if error == 0 else f"{error:.1e}"
        print(f"{name:<31} {S.nnz:>6,} {K.n_params:>10,} {survey_params(n, S.nnz):>11,} "
              f"{per:>9.1f} {K.width:>5} {K.expansion:>3} {exact:>9} {apply_error:>9.1e} | "
              f"{fmt_time(t_k):>9} {fmt_time(t_sparse):>9} {fmt_time(t_dense):>9} "
              f"{fmt_ratio(t_sparse / t_k):>8} {fmt_ratio(t_dense / t_k):>7}", flush=True)
    print("\nsparse/K and dense/K: time of the scipy.sparse and the dense product over the time "
          "of K.apply(X)\n(below 1x: the K-matrix is slower)")


if __name__ == "__main__":
    main()
