"""Seconds per iteration of scipy.sparse.linalg solvers on one operator in
three forms: a kmatrix K-matrix, an FFT-based LinearOperator and a dense
matrix.

The operator is a symmetric positive definite circulant ``C`` (circular
convolution by a symmetric kernel with a positive spectrum), so that ``cg``,
``gmres`` and ``lsqr`` all apply to it and the three forms are the same
matrix:

* ``kmatrix``: ``km.KMatrix.circulant(c)`` (the real part of a width-2
  complex K-matrix) passed to the solver as it is (scipy wraps it through
  its ``matvec``/``rmatvec``), and as ``km.aslinearoperator(K)``;
* ``fft``: a ``LinearOperator`` whose matvec is ``irfft(rfft(x) * spectrum)``
  (scipy.fft, one thread, the usual way to write a fast circulant);
* ``dense``: the n x n array (BLAS gemv), up to n = 8192.

Every solver runs a fixed number of iterations (tolerance 0), so the time
per iteration is the product's cost plus the solver's own vector work. The
medians of several runs are quoted with ratios to kmatrix from the same run;
the first lines also time one bare ``matvec`` of each form, and
``aslinearoperator(K).matvec`` against ``K @ x``.

Usage::

    python benchmarks/bench_solvers.py [--sizes 1024,4096,65536] [--iters 50]
"""

import argparse
import statistics
import sys
import time

import numpy as np
import scipy.fft
from scipy.sparse.linalg import LinearOperator, aslinearoperator, cg, gmres, lsqr

import kmatrix as km

DENSE_MAX_N = 8192


def spd_circulant(n, rng):
    """First column of a symmetric positive definite circulant matrix."""
    c = rng.standard_normal(n) / np.sqrt(n)
    c = c + np.roll(c[::-1], 1)          # c[k] == c[n - k]: symmetric
    spectrum = np.fft.fft(c).real
    c[0] += 1.0 - spectrum.min()         # every eigenvalue >= 1
    return c


def fft_operator(c):
    spectrum = scipy.fft.rfft(c)
    n = c.size

    def matvec(x):
        x = np.ravel(x)
        return scipy.fft.irfft(scipy.fft.rfft(x) * spectrum, n)

    # symmetric: rmatvec is matvec
    return LinearOperator((n, n), matvec=matvec, rmatvec=matvec, dtype=np.float64)


def median_time(fn, repeat):
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def fmt(seconds):
    return f"{seconds * 1e6:8.1f} us" if seconds < 1e-3 else f"{seconds * 1e3:8.2f} ms"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1024,4096,16384,65536",
                        help="comma-separated powers of two (default 1024,4096,16384,65536)")
    parser.add_argument("--iters", type=int, default=50, help="iterations per solve (default 50)")
    parser.add_argument("--repeat", type=int, default=5, help="solves per median (default 5)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    rng = np.random.default_rng(args.seed)
    print(f"kmatrix {km.__version__}, numpy {np.__version__}, scipy {scipy.__version__}; "
          f"{args.iters} iterations per solve, median of {args.repeat}; "
          f"times per iteration (per call for matvec)")
    header = (f"{'n':>6} {'solver':>14} | {'kmatrix':>11} | {'fft':>11} {'fft/km':>7} | "
              f"{'dense':>11} {'dense/km':>8}")
    print(header)
    print("-" * len(header))
    for n in sizes:
        c = spd_circulant(n, rng)
        K = km.KMatrix.circulant(c)
        forms = {"kmatrix": K, "fft": fft_operator(c)}
        if n <= DENSE_MAX_N:
            forms["dense"] = K.todense()
        b = rng.standard_normal(n)
        x = rng.standard_normal(n)
        A_kd = km.aslinearoperator(K)
        t_at = median_time(lambda: K @ x, 200)
        t_op = median_time(lambda: A_kd.matvec(x), 200)
        print(f"{n:>6} {'K @ x':>14} | {fmt(t_at)} | aslinearoperator(K).matvec(x): "
              f"{fmt(t_op)} ({t_op / t_at:.2f}x)")
        wrapped = {name: aslinearoperator(A) for name, A in forms.items()}
        solvers = {
            "matvec": lambda A: A.matvec(x),
            "cg": lambda A: cg(A, b, rtol=0.0, atol=0.0, maxiter=args.iters),
            "gmres": lambda A: gmres(A, b, rtol=0.0, atol=0.0, restart=args.iters, maxiter=1),
            "lsqr": lambda A: lsqr(A, b, atol=0.0, btol=0.0, conlim=0.0, iter_lim=args.iters),
        }
        for sname, solve in solvers.items():
            per = 1 if sname == "matvec" else args.iters
            times = {}
            for fname, A in wrapped.items():
                reps = 200 if sname == "matvec" else args.repeat
                times[fname] = median_time(lambda: solve(A), reps) / per
            kd_t = times["kmatrix"]
            line = f"{n:>6} {sname:>14} | {fmt(kd_t)} | {fmt(times['fft'])} " \
                   f"{times['fft'] / kd_t:>6.2f}x | "
            line += (f"{fmt(times['dense'])} {times['dense'] / kd_t:>7.2f}x" if "dense" in times
                     else f"{'(too large)':>11} {'-':>8}")
            print(line, flush=True)
        # cg takes the KMatrix itself (scipy's aslinearoperator uses K.matvec)
        sol, info = cg(K, b, rtol=1e-10, maxiter=1000)
        res = np.linalg.norm(K @ sol - b) / np.linalg.norm(b)
        print(f"{n:>6} {'cg(K, b)':>14} | converged (info={info}), relative residual {res:.1e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
