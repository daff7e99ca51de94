"""Fitting real-world targets side by side: kmatrix, pyfaust and lazylinop.

Runs KMatrixApproximator at its defaults, a truncated SVD with the same
number of real parameters, and -- when they are installed (optional, never
a dependency: ``pip install pyfaust lazylinop``) -- pyfaust's
``fact.butterfly`` and lazylinop's ``ksd`` (square dyadic and Monarch
chains) on the targets where butterfly fits meet real data: exact
transforms, a noisy Hadamard matrix, a DFT with unknown row and column
permutations, a DFT with even/odd-permuted columns (over the whole range)
or rows (within blocks of 16), a DFT whose index bits are permuted on both
sides, and a Gaussian matrix (also against a truncated SVD spanning a set
of the same dimension as the width-1 K-matrices).
Prints the relative error against the target (and against the clean
matrix where there is one) and the fit time: medians of 3 fits (one when a
fit takes over 3 s), every method measured in the same run.

    python benchmarks/bench_approx_peers.py [--n 256] [--noisy-n 1024]
"""

import argparse
import time
import warnings

import numpy as np
import scipy.fft
import scipy.linalg

import kmatrix as km

try:   # optional peers
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pyfaust
        import pyfaust.fact
except ImportError:
    pyfaust = None
try:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from lazylinop.butterfly import Chain, ksd
except ImportError:
    ksd = None


def timed(fit, repeat=3):
    """(median seconds, dense result of the last fit)."""
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fit()
        times.append(time.perf_counter() - t0)
        if times[-1] > 3:
            break
    return float(np.median(times)), out


def rel(A, B):
    return np.linalg.norm(A - B) / np.linalg.norm(B)


def truncated_svd(M, reals):
    """The best approximation of M with ``reals`` real parameters in its
    factors (rank r costs r (n_out + n_in) numbers, twice for complex)."""
    per_rank = (M.shape[0] + M.shape[1]) * (2 if np.iscomplexobj(M) else 1)
    r = max(1, reals // per_rank)
    U, s, Vh = np.linalg.svd(M, full_matrices=False)
    return (U[:, :r] * s[:r]) @ Vh[:r], r


def methods(M, width, permutations="structured"):
    """(name, fit returning a dense matrix, real parameters or None)."""
    out = []

    def kmatrix():
        est = km.KMatrixApproximator(width=width, permutations=permutations,
                                     random_state=0).fit(M)
        kmatrix.params = est.kmatrix_.n_params * (2 if est.kmatrix_.twiddles.dtype.kind == "c"
                                                  else 1)
        kmatrix.method = est.method_
        return est.kmatrix_.todense()

    label = "kmatrix " + (f"width {width}" if width > 1 else "default")
    if permutations != "structured":
        label += f", permutations={permutations!r}"
    out.append((label, kmatrix))
    if pyfaust is not None:
        def faust(perm=None):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return pyfaust.fact.butterfly(M, type="bbtree", perm=perm).toarray()
        out.append(("pyfaust butterfly", faust))
        out.append(("pyfaust butterfly bitrev", lambda: faust("bitrev")))
    if ksd is not None:
        def lazy(chain):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return ksd(M, chain(M.shape)).toarray()
        out.append(("lazylinop ksd", lambda: lazy(Chain.square_dyadic)))
        out.append(("lazylinop ksd monarch", lambda: lazy(Chain.monarch)))
    return out


def run(name, M, clean=None, width=1, svd_time=False, permutations="structured",
        dimension=None):
    """One target: every method's error and time. ``dimension`` adds a
    truncated SVD spanning a set of that dimension (rank r spans
    r (n_out + n_in - r))."""
    print(f"\n{name} ({M.shape[0]} x {M.shape[1]}, {M.dtype})")
    header = f"  {'method':40} | {'error':>9} {'vs clean':>9} | {'time':>8} | note"
    print(header)
    print("  " + "-" * (len(header) - 2))
    params = None
    for label, fit in methods(M, width, permutations):
        try:
            seconds, D = timed(fit)
        except Exception as exc:   # a peer refusing a target is a result too
            print(f"  {label:40} | failed: {type(exc).__name__}: {str(exc)[:60]}")
            continue
        note = ""
        if label.startswith("kmatrix"):
            params = fit.params
            note = f"{fit.method}, {params} reals"
        clean_err = f"{rel(D, clean):9.2e}" if clean is not None else f"{'':9}"
        print(f"  {label:40} | {rel(D, M):9.2e} {clean_err} | {seconds:7.3f}s | {note}")
    if params is not None:
        seconds, (D, r) = timed(lambda: truncated_svd(M, params))
        clean_err = f"{rel(D, clean):9.2e}" if clean is not None else f"{'':9}"
        print(f"  {'truncated SVD, same reals':40} | {rel(D, M):9.2e} {clean_err} | "
              f"{seconds:7.3f}s | rank {r}")
    if dimension is not None:
        r = max(r for r in range(1, min(M.shape) + 1) if r * (sum(M.shape) - r) <= dimension)
        U, sv, Vh = np.linalg.svd(M, full_matrices=False)
        D = (U[:, :r] * sv[:r]) @ Vh[:r]
        print(f"  {'truncated SVD, same dimension':40} | {rel(D, M):9.2e} {'':9} | "
              f"{'':8} | rank {r}: dimension <= {dimension}")
    if svd_time:
        seconds, _ = timed(lambda: np.linalg.svd(M))
        print(f"  {'(np.linalg.svd of M)':40} | {'':9} {'':9} | {seconds:7.3f}s |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=256)
    parser.add_argument("--noisy-n", type=int, default=1024)
    args = parser.parse_args()
    n = args.n
    rng = np.random.default_rng(0)
    print(f"kmatrix {km.__version__}; pyfaust "
          f"{pyfaust.version() if pyfaust else 'not installed'}; lazylinop "
          f"{'installed' if ksd else 'not installed'}")
    F = np.fft.fft(np.eye(n), axis=0)
    run("DFT", F)
    m = args.noisy_n
    H = scipy.linalg.hadamard(m).astype(float)
    run("Hadamard + 1% Gaussian noise", H + 0.01 * rng.standard_normal((m, m)), clean=H,
        svd_time=True)
    rows, cols = rng.permutation(n), rng.permutation(n)
    Fs = F[rows][:, cols]
    run("DFT, rows and columns randomly permuted", Fs, width=3, permutations="auto")
    noise = 0.01 * np.linalg.norm(Fs) / n * (rng.standard_normal((n, n))
                                            + 1j * rng.standard_normal((n, n))) / np.sqrt(2)
    run("DFT, permuted, + 1% noise", Fs + noise, clean=Fs, width=3, permutations="auto")
    even_odd = np.concatenate([np.arange(0, n, 2), np.arange(1, n, 2)])
    run("DFT, even/odd-permuted columns", F[:, even_odd], width=2)
    block = np.concatenate([np.arange(0, 16, 2), np.arange(1, 16, 2)])
    within = (np.arange(0, n, 16)[:, None] + block).ravel()
    run("DFT, even/odd within blocks of 16 (rows)", F[within], width=2)
    L = n.bit_length() - 1
    index = np.arange(n)
    bit_orders = [sum(((index >> b) & 1) << c for b, c in enumerate(rng.permutation(L)))
                  for _ in range(2)]
    run("DFT, index bits permuted on both sides", F[bit_orders[0]][:, bit_orders[1]], width=3)
    # a width-1 K-matrix stores 4 n log2 n numbers but spans a set of
    # dimension at most 2 n log2 n (a diagonal scaling moves between
    # consecutive factors, and the two middle factors mix the same bit)
    run("Gaussian", rng.standard_normal((n, n)), dimension=2 * n * L)
    run("DCT-II (orthonormal)", scipy.fft.dct(np.eye(n), norm="ortho", axis=0))


if __name__ == "__main__":
    main()
