"""Structured matrices: K-matrices against low rank and sparsity (survey section 4).

For five n x n matrices with fast algorithms -- the DFT, the orthonormal
DCT-II, the Hadamard transform, a circulant (a convolution) and a random
sparse matrix -- the script compares three ways to store an approximation
with a given number of real parameters:

* a K-matrix fitted by ``KMatrixApproximator`` from the matrix's entries
  (hierarchical factorization; for the DCT also Adam from a random start,
  for contrast) or built exactly (``KMatrix.dct``, ``KMatrix.circulant``,
  ``KMatrix.from_sparse``);
* a truncated SVD (rank r costs r (2n) reals, twice for complex);
* the k largest entries (k reals, plus their positions).

It prints the errors and the speed-up of the K-matrix product over the dense
product on a batch of 256 rows (also at n = 4096, where the dense product is
large), and plots relative error against parameter count (saved to a PNG
file). Low rank fails on every one of these matrices: they are full rank
with flat spectra. Top-k sparsity only works for the sparse one. The
K-matrix is exact or close at O(n log n) parameters.

Times are medians of 7 timings (5 at n = 4096), each of enough calls to last
at least 20 ms, with the K-matrix and the dense product timed in turn in the
same loop, on one thread each by default (``--threads``): on a machine
shared with other work, multithreaded BLAS products of small matrices slow
down by up to 100x when a core is taken, which would make the ratio say more
about the neighbours than about the algorithms. On one thread the times are
the thread's CPU time (``time.thread_time``), which equals the wall time on
a free core and does not count the turns other processes take on it.

Needs matplotlib: ``pip install "kmatrix[examples]"``.

    python examples/plot_approximation.py [--n 256] [--threads 1] [--output approximation.png]
"""

import sys

try:
    import matplotlib
except ImportError:
    sys.exit('plot_approximation.py plots with matplotlib, which is not installed: '
             'pip install "kmatrix[examples]"')
matplotlib.use("Agg")

import argparse  # noqa: E402
import time  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import scipy.fft  # noqa: E402
import scipy.linalg  # noqa: E402
import scipy.sparse  # noqa: E402
from matplotlib.ticker import LogLocator, NullFormatter  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

import kmatrix as km  # noqa: E402
from _timing import fmt_ratio, fmt_time, median_times  # noqa: E402

ZERO = 1e-17  # where an error of exactly 0 is drawn on the log axis
MARKERS = "osD^v"


def threads(count):
    return "one thread (CPU time)" if count == 1 else f"{count} threads (wall time)"


def low_rank_curve(M, budgets):
    s = np.linalg.svd(M, compute_uv=False)
    total = np.sum(s ** 2)
    per = 2 * M.shape[0] * (2 if np.iscomplexobj(M) else 1)
    return [float(np.sqrt(np.sum(s[min(len(s), b // per):] ** 2) / total)) for b in budgets]


def top_k_curve(M, budgets):
    mags = np.sort(np.abs(M).ravel() ** 2)[::-1]
    total = mags.sum()
    per = 2 if np.iscomplexobj(M) else 1
    return [float(np.sqrt(max(0.0, mags[min(mags.size, b // per):].sum()) / total))
            for b in budgets]


def kmatrix_fits(name, M, n):
    """(label, real parameters, relative error, KMatrix) of each K-matrix for M."""
    if name in ("DFT", "Hadamard"):
        fits = [("fit: hierarchical", km.KMatrixApproximator().fit(M).kmatrix_)]
    elif name == "DCT-II":
        # from the entries: exact through the analytic completion of the
        # rows; Adam from a random start (method="gradient") for contrast
        fits = [("fit: hierarchical",
                 km.KMatrixApproximator(field="complex", expansion=2).fit(M).kmatrix_)]
        fits += [(f"fit: Adam, {steps} steps",
                  km.KMatrixApproximator(field="complex", expansion=2, max_iter=steps,
                                         method="gradient", learning_rate_init=3e-2,
                                         random_state=0).fit(M).kmatrix_)
                 for steps in (100, 1000)]
        fits.append(("KMatrix.dct (exact)", km.KMatrix.dct(n)))
    elif name == "circulant":
        fits = [("KMatrix.circulant (exact)", km.KMatrix.circulant(M[:, 0]))]
    else:
        fits = [("KMatrix.from_sparse (exact)",
                 km.KMatrix.from_sparse(scipy.sparse.csr_array(M)))]
    out = []
    for label, K in fits:
        reals = K.n_params * (2 if K.twiddles.dtype.kind == "c" else 1)
        err = np.linalg.norm(K.todense() - M) / np.linalg.norm(M)
        out.append((label, reals, float(err), K))
    return out


def product_times(K, M, X, threads, repeat=7):
    """Median seconds of ``K.apply(X)`` and of the dense ``X @ M.T`` on
    ``threads`` threads (kmatrix's and BLAS's both follow threadpoolctl): the
    calling thread's CPU time on one thread, the wall time on more."""
    clock = time.thread_time if threads == 1 else time.perf_counter
    with threadpool_limits(limits=threads):
        return median_times([lambda: K.apply(X), lambda: X @ M.T], clock, repeat=repeat)


def positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def main():
    parser = argparse.ArgumentParser(description=(__doc__ or "").partition("\n")[0])  # sphinx-gallery runs it with __doc__ ""
    parser.add_argument("--n", type=int, default=256)
    parser.add_argument("--output", default="approximation.png")
    parser.add_argument("--speed-n", type=int, default=4096,
                        help="also time the products at this size (0: skip)")
    parser.add_argument("--threads", type=positive_int, default=1,
                        help="threads for the timed products, kmatrix's and BLAS's (default 1)")
    args = parser.parse_args()
    n = args.n
    rng = np.random.default_rng(0)
    matrices = {
        "DFT": np.fft.fft(np.eye(n), axis=0),
        "DCT-II": scipy.fft.dct(np.eye(n), norm="ortho", axis=0),
        "Hadamard": scipy.linalg.hadamard(n).astype(float),
        "circulant": scipy.linalg.circulant(rng.standard_normal(n)),
        "sparse": scipy.sparse.random(n, n, density=4 / n, random_state=0).toarray(),
    }
    budgets = np.unique(np.geomspace(n, 2 * n * n, 40).astype(int))
    X = rng.standard_normal((256, n))

    fig, axes = plt.subplots(2, 3, figsize=(13, 8), sharex=True, sharey=True)
    axes = axes.ravel()
    print(f"n = {n}; relative Frobenius errors of the K-matrix, and of a truncated SVD and "
          f"the top-k entries with as many reals;\nproducts on {X.shape[0]} rows, "
          f"{threads(args.threads)}, medians of 7 timings; "
          "speed-up = dense time / K-matrix time\n")
    header = (f"{'matrix':<9} {'K-matrix':<28} {'reals':>6} {'error':>8} | {'SVD':>8} "
              f"{'top-k':>8} | {'K.apply':>9} {'dense':>9} {'speed-up':>8}")
    print(header)
    print("-" * len(header))
    for ax, (name, M) in zip(axes, matrices.items()):
        curves = [
            ax.plot(budgets, np.maximum(low_rank_curve(M, budgets), ZERO), color="C0",
                    label="truncated SVD (best rank r)")[0],
            ax.plot(budgets, np.maximum(top_k_curve(M, budgets), ZERO), color="C1",
                    label="top-k entries")[0],
            ax.axvline(n * n * (2 if np.iscomplexobj(M) else 1), color="gray", lw=0.8, ls=":",
                       label="the dense matrix's reals"),
        ]
        points = []
        for i, (label, reals, err, K) in enumerate(kmatrix_fits(name, M, n)):
            points.append(ax.scatter(reals, max(err, ZERO), marker=MARKERS[i], s=50,
                                     color=f"C{3 + i}", edgecolors="black", linewidths=0.5,
                                     zorder=3, label=f"{label}: {err:.1e}"))
            svd = low_rank_curve(M, [reals])[0]
            topk = top_k_curve(M, [reals])[0]
            t_k, t_dense = product_times(K, M, X, args.threads)
            print(f"{name:<9} {label:<28} {reals:>6} {err:8.1e} | {svd:8.1e} {topk:8.1e} | "
                  f"{fmt_time(t_k):>9} {fmt_time(t_dense):>9} {fmt_ratio(t_dense / t_k):>8}",
                  flush=True)
        ax.set_title(f"{name}, n = {n}")
        ax.legend(handles=points, fontsize=7, loc="center left", title="K-matrix: error",
                  title_fontsize=7)
        ax.grid(True, which="major", alpha=0.3)
    for ax in axes[:len(matrices)]:
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_ylim(ZERO / 3, 10)
        ax.yaxis.set_major_locator(LogLocator(base=1e4))     # 1, 1e-4, 1e-8, ...
        ax.yaxis.set_minor_locator(LogLocator(base=10, subs=(1.0,), numticks=30))
        ax.yaxis.set_minor_formatter(NullFormatter())
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.tick_params(labelbottom=True)
    for ax in axes[::3]:
        ax.set_ylabel(f"relative error (0 drawn at {ZERO:.0e})")
    for ax in axes[len(matrices) - 3:len(matrices)]:
        ax.set_xlabel("real parameters")
    notes = axes[len(matrices)]
    notes.axis("off")
    notes.legend(handles=curves, loc="upper left", fontsize=9,
                 title="at each budget of reals", title_fontsize=9)
    notes.text(0, 0.7, "Relative Frobenius error against the number of\n"
               "real parameters stored. Lines: the best rank-r\n"
               "approximation and the k largest entries at each\n"
               "budget. Markers: K-matrices fitted from the\n"
               "entries or built exactly.",
               fontsize=9, va="top", transform=notes.transAxes)

    if args.speed_n:
        m = args.speed_n
        Xm = rng.standard_normal((256, m))
        print(f"\nn = {m}, exact constructions, products on {Xm.shape[0]} rows, "
              f"{threads(args.threads)}, medians of 5 timings\n")
        header = f"{'matrix':<9} {'K-matrix':<28} | {'K.apply':>9} {'dense':>9} {'speed-up':>8}"
        print(header)
        print("-" * len(header))
        big = {
            "DFT": ("KMatrix.dft", np.fft.fft(np.eye(m), axis=0), km.KMatrix.dft(m)),
            "DCT-II": ("KMatrix.dct", scipy.fft.dct(np.eye(m), norm="ortho", axis=0),
                       km.KMatrix.dct(m)),
            "Hadamard": ("KMatrix.hadamard", scipy.linalg.hadamard(m).astype(float),
                         km.KMatrix.hadamard(m)),
        }
        for name, (label, M, K) in big.items():
            t_k, t_dense = product_times(K, M, Xm, args.threads, repeat=5)
            print(f"{name:<9} {label:<28} | {fmt_time(t_k):>9} {fmt_time(t_dense):>9} "
                  f"{fmt_ratio(t_dense / t_k):>8}", flush=True)
    fig.tight_layout()
    fig.savefig(args.output, dpi=110)
    print(f"\nplot saved to {args.output}")


if __name__ == "__main__":
    main()
