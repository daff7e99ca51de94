"""Fitting known transforms from their entries: KMatrixApproximator time and error.

For the DFT and the Hadamard matrix (width 1: hierarchical factorization,
the DFT's bit reversal included), the orthonormal DCT-II (real part of a
complex K-matrix, width 1, expansion 2: hierarchical on the analytic
completion of its rows) and a random width-1 K-matrix (hierarchical, both
halves), and for contrast Adam from a random start (method="gradient": the
DCT-II, and the random K-matrix at width 1 and 2, median over 5 seeds),
prints the fit time, the method chosen and the relative Frobenius error,
next to the error of a truncated SVD with the same number of real
parameters (r singular triplets cost r (n_out + n_in) reals). The issue's
bars: DFT n=1024 below 1e-10 in under 1 s and n=4096 in under 10 s; DCT-II
n=256 towards 1e-3 at width <= 2 within 60 s; for the random K-matrix at
n=256, report the error at width 1 and 2. Times are medians of 3 fits.

    python benchmarks/bench_approx.py [--sizes 256,1024,4096] [--dct-iter 2000]
"""

import argparse
import time

import numpy as np
import scipy.fft
import scipy.linalg

import kmatrix as km


def svd_error_at(M, n_real_params):
    """Relative error of the best rank-r approximation using that many reals."""
    per_triplet = (M.shape[0] + M.shape[1]) * (2 if np.iscomplexobj(M) else 1)
    r = max(0, min(min(M.shape), n_real_params // per_triplet))
    s = np.linalg.svd(M, compute_uv=False)
    return float(np.sqrt(np.sum(s[r:] ** 2) / np.sum(s ** 2))), r


def real_params(K):
    return K.n_params * (2 if K.twiddles.dtype.kind == "c" else 1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="256,1024,4096")
    parser.add_argument("--dct-iter", type=int, default=2000,
                        help="Adam steps for the DCT (the DCT at n=4096 is skipped below 1)")
    parser.add_argument("--dct-max-n", type=int, default=256,
                        help="largest n for the Adam fits of the DCT-II (n=1024: ~4 min)")
    parser.add_argument("--adam-max-n", type=int, default=256,
                        help="largest n for the Adam fits of the random K-matrix")
    args = parser.parse_args()
    print(f"{'target':>14} {'n':>5} | {'fit time':>9} {'rel. error':>10} | {'K reals':>8} "
          f"{'SVD same':>9} | method")
    for n in (int(v) for v in args.sizes.split(",")):
        dct = scipy.fft.dct(np.eye(n), norm="ortho", axis=0)
        targets = {
            "DFT": (np.fft.fft(np.eye(n), axis=0), dict(), 1),
            "Hadamard": (scipy.linalg.hadamard(n).astype(float), dict(), 1),
            # at the defaults: the real part of a complex K-matrix on 2n, chosen by the fit
            "DCT-II": (dct, dict(), 1),
            "DST-II": (scipy.fft.dst(np.eye(n), norm="ortho", axis=0), dict(), 1),
        }
        if n <= args.dct_max_n and args.dct_iter > 0:  # for contrast: Adam from a random start
            targets["DCT-II Adam"] = (dct, dict(field="complex", expansion=2, method="gradient",
                                                max_iter=args.dct_iter, learning_rate_init=3e-2,
                                                random_state=0), 1)
        if n <= 1024:
            # a random width-1 K-matrix (B1 B2^T): no single half holds it
            Kr = km.KMatrix.random(n, random_state=11).todense()
            targets["rand K"] = (Kr, dict(), 1)
            if n <= args.adam_max_n:
                for w in (1, 2):  # for contrast: Adam from a random start
                    targets[f"rand K Adam w{w}"] = (Kr, dict(width=w, max_iter=2000,
                                                             method="gradient"), 5)
        for name, (M, params, n_seeds) in targets.items():
            runs = []
            for seed in range(n_seeds if n_seeds > 1 else 3):
                kw = dict(params, random_state=seed) if n_seeds > 1 else params
                t0 = time.perf_counter()
                est = km.KMatrixApproximator(**kw).fit(M)
                runs.append((time.perf_counter() - t0, est.relative_error_, est))
                if n_seeds == 1 and runs[0][0] > 20:
                    break  # one slow fit is enough
            elapsed = float(np.median([r[0] for r in runs]))
            err = float(np.median([r[1] for r in runs]))
            est = runs[0][2]
            p = real_params(est.kmatrix_)
            svd_err, _ = svd_error_at(M, p)
            spread = (f" (seeds: {', '.join(f'{r[1]:.3f}' for r in runs)})"
                      if n_seeds > 1 else "")
            print(f"{name:>14} {n:>5} | {elapsed:8.2f}s {err:10.2e} | {p:>8} "
                  f"{svd_err:9.2e} | {est.method_} ({est.field_}, expansion {est.expansion_})"
                  f"{spread}", flush=True)


if __name__ == "__main__":
    main()
