"""Structured matrices: K-matrices against low rank and sparsity (survey section 4).

For five n x n matrices with fast algorithms -- the DFT, the orthonormal
DCT-II, the Hadamard transform, a circulant (a convolution) and a random
sparse matrix -- the script compares three ways to store an approximation
with a given number of real parameters:

* a K-matrix fitted by ``KMatrixApproximator`` (hierarchical factorization;
  for the DCT also Adam from a random start, for contrast) or built exactly
  (``KMatrix.circulant``, ``KMatrix.from_sparse``);
* a truncated SVD (rank r costs r (2n) reals, twice for complex);
* the k largest entries (k reals, plus their positions).

It prints the errors and the speed-up of the K-matrix product over the dense
product on a batch (also at n = 4096, where the dense product is large), and plots relative error against parameter count
(saved to a PNG file). Low rank fails on every one of these matrices: they
are full rank with flat spectra. Top-k sparsity only works for the sparse
one. The K-matrix is exact or close at O(n log n) parameters.

    python examples/plot_approximation.py [--n 256] [--output approximation.png]
"""

import argparse
import time

import numpy as np
import scipy.fft
import scipy.linalg
import scipy.sparse

import kaleido as kd


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


def kmatrix_fits(name, M, n, rng):
    """(real parameters, relative error, KMatrix) of kaleido's fits of M."""
    if name in ("DFT", "Hadamard"):
        fits = [kd.KMatrixApproximator().fit(M).kmatrix_]
    elif name == "DCT-II":
        # from the entries: exact through the analytic completion of the
        # rows; Adam from a random start (method="gradient") for contrast
        fits = [kd.KMatrixApproximator(field="complex", expansion=2).fit(M).kmatrix_]
        fits += [kd.KMatrixApproximator(field="complex", expansion=2, max_iter=it,
                                        method="gradient", learning_rate=3e-2,
                                        random_state=0).fit(M).kmatrix_
                 for it in (100, 1000)]
        fits.append(kd.KMatrix.dct(n))  # the exact construction, for reference
    elif name == "circulant":
        fits = [kd.KMatrix.circulant(M[:, 0])]
    else:
        fits = [kd.KMatrix.from_sparse(scipy.sparse.csr_array(M))]
    out = []
    for K in fits:
        reals = K.n_params * (2 if K.twiddles.dtype.kind == "c" else 1)
        err = np.linalg.norm(K.todense() - M) / np.linalg.norm(M)
        out.append((reals, float(err), K))
    return out


def _median_time(func, warmup=0.3, repeat=7):
    start = time.perf_counter()
    while time.perf_counter() - start < warmup:
        func()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        func()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def speedup(K, M, rng, batch=256):
    """Dense product time over K-matrix time, each timed in its own block
    after a warm-up (the K-matrix first: BLAS threads spin after a product)."""
    X = rng.standard_normal((batch, M.shape[1]))
    tk = _median_time(lambda: K.apply(X))
    td = _median_time(lambda: X @ M.T)
    return td / tk


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=256)
    parser.add_argument("--output", default="approximation.png")
    parser.add_argument("--speed-n", type=int, default=4096,
                        help="also time the products at this size (0: skip)")
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
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(matrices), figsize=(4 * len(matrices), 3.8), sharey=True)
    print(f"n = {n}; relative Frobenius errors; speed-up = dense product time / K-matrix "
          "time on 256 rows")
    print(f"{'matrix':>10} | {'K reals':>8} {'K error':>9} | {'SVD same':>9} "
          f"{'top-k same':>10} | speed-up")
    for ax, (name, M) in zip(axes, matrices.items()):
        fits = kmatrix_fits(name, M, n, rng)
        ax.plot(budgets, np.maximum(low_rank_curve(M, budgets), 1e-17), label="truncated SVD")
        ax.plot(budgets, np.maximum(top_k_curve(M, budgets), 1e-17), label="top-k entries")
        ax.scatter([f[0] for f in fits], [max(f[1], 1e-17) for f in fits], color="C3",
                   zorder=3, label="K-matrix")
        for reals, err, K in fits:
            svd = low_rank_curve(M, [reals])[0]
            topk = top_k_curve(M, [reals])[0]
            print(f"{name:>10} | {reals:>8} {err:9.2e} | {svd:9.2e} {topk:10.2e} | "
                  f"{speedup(K, M, rng):6.1f}x")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.axvline(n * n * (2 if np.iscomplexobj(M) else 1), color="gray", lw=0.8, ls=":")
        ax.set_title(name)
        ax.set_xlabel("real parameters")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("relative error")
    axes[0].legend(fontsize=8)
    if args.speed_n:
        m = args.speed_n
        print(f"\nspeed-up at n = {m} (exact or hierarchical operators, 256 rows):")
        big = {
            "DFT": (np.fft.fft(np.eye(m), axis=0), None),
            "DCT-II": (scipy.fft.dct(np.eye(m), norm="ortho", axis=0), kd.KMatrix.dct(m)),
            "Hadamard": (scipy.linalg.hadamard(m).astype(float), kd.KMatrix.hadamard(m)),
        }
        for name, (M, K) in big.items():
            if K is None:
                K = kd.KMatrixApproximator().fit(M).kmatrix_
            print(f"{name:>10} | {speedup(K, M, rng):6.1f}x")
    fig.tight_layout()
    fig.savefig(args.output, dpi=110)
    print(f"plot saved to {args.output} (dotted line: the dense matrix's parameter count)")


if __name__ == "__main__":
    main()
