"""Exact solves, inverses and log-determinants of square K-matrices against
the product they invert, and against NumPy's dense routines where those fit.

For every size n (a power of two) and dtype, a random square K-matrix of
width 2 (``KMatrix.random``, orthogonal blocks plus 20% noise) is timed:

* ``K @ x``: one product with one vector (the reference of the ratios);
* ``K.solve(x)``: the kernels run the network backwards and invert each
  2x2 block as they read it (no inverse is formed);
* ``K.inv()`` then ``Kinv @ x``: the inverse formed once, then a product;
* ``K.slogdet()``: the blocks' determinants;
* with ``--batch B``, the same for B right-hand sides (``K.solve(X)``
  against ``K.apply`` of B rows);
* up to ``--dense-max``, ``numpy.linalg.solve`` and ``numpy.linalg.slogdet``
  on the dense matrix, and the relative errors of the solve and the
  log-determinant against them.

Medians of repeated timings in the same run; the CPU model and the load
average are printed first.

Usage::

    python benchmarks/bench_solve.py [--sizes 1024,65536] [--dtypes float64,complex128]
"""

import argparse
import os

import numpy as np

import kmatrix as km
from bench_apply import cpu_model
from bench_solvers import median_time


def operator(n, dtype, seed=0):
    K = km.KMatrix.random(n, width=2, dtype=dtype, random_state=seed)
    rng = np.random.default_rng(seed)
    noise = rng.standard_normal(K.twiddles.shape)
    if np.dtype(dtype).kind == "c":
        noise = noise + 1j * rng.standard_normal(K.twiddles.shape)
    K.twiddles += (0.2 * noise).astype(dtype)
    return K


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1024,16384,65536")
    parser.add_argument("--dtypes", default="float64,complex128")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=21)
    parser.add_argument("--dense-max", type=int, default=4096)
    args = parser.parse_args()
    print(f"# CPU: {cpu_model()}; load average {os.getloadavg()[0]:.2f}; "
          f"medians of {args.repeat}")
    print(f"{'dtype':>10} {'n':>6} | {'K @ x':>9} {'solve':>9} {'ratio':>6} | "
          f"{'inv()':>9} {'slogdet':>9} | {'batch':>9} {'solve B':>9} {'ratio':>6} | "
          f"{'np.solve':>9} {'solve err':>9} {'logdet err':>10}")
    for dtype in args.dtypes.split(","):
        for n in (int(v) for v in args.sizes.split(",")):
            K = operator(n, dtype)
            rng = np.random.default_rng(1)
            x = rng.standard_normal(n).astype(dtype)
            X = rng.standard_normal((args.batch, n)).astype(dtype)
            t_mul = median_time(lambda: K @ x, args.repeat)
            t_solve = median_time(lambda: K.solve(x), args.repeat)
            t_inv = median_time(K.inv, max(3, args.repeat // 4))
            t_logdet = median_time(K.slogdet, max(3, args.repeat // 4))
            t_apply_b = median_time(lambda: K.apply(X), max(3, args.repeat // 4))
            t_solve_b = median_time(lambda: K.solve(X.T), max(3, args.repeat // 4))
            dense = "" if n > args.dense_max else None
            if dense is None:
                D = K.todense()
                t_np = median_time(lambda: np.linalg.solve(D, x), 3)
                err = np.linalg.norm(K.solve(x) - np.linalg.solve(D, x)) / np.linalg.norm(
                    np.linalg.solve(D, x))
                ref = np.linalg.slogdet(D)[1]
                lerr = abs(K.slogdet()[1] - ref) / max(1.0, abs(ref))
                dense = f"{t_np * 1e3:8.2f}ms {err:9.1e} {lerr:10.1e}"
            print(f"{dtype:>10} {n:>6} | {t_mul * 1e3:7.3f}ms {t_solve * 1e3:7.3f}ms "
                  f"{t_solve / t_mul:6.2f} | {t_inv * 1e3:7.2f}ms {t_logdet * 1e3:7.2f}ms | "
                  f"{t_apply_b * 1e3:7.2f}ms {t_solve_b * 1e3:7.2f}ms "
                  f"{t_solve_b / t_apply_b:6.2f} | {dense}", flush=True)


if __name__ == "__main__":
    main()
