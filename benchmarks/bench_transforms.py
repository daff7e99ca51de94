"""The exact transform K-matrices against scipy.fft on the same rows.

``KMatrix.dct/dst`` are real parts of complex K-matrices (width 2) applied
to real rows in the kernels' real-I/O mode; ``KMatrix.dft`` is a width-1
complex K-matrix. Each is timed against the scipy.fft function it equals
(``workers=-1``), on one row and on a batch, in its own block after a
warm-up (see bench_apply.py), and the median ratio kmatrix / scipy is
printed (> 1 favours scipy.fft). The bar: ``KMatrix.dct(n).apply`` on 1024
float64 rows at most 2x ``scipy.fft.dct`` at n = 1024 and 4096.

Usage::

    python benchmarks/bench_transforms.py [--sizes 256,1024,4096] [--batches 1,1024]
"""

import argparse
import statistics
import sys
import time

import numpy as np
import scipy.fft

import kmatrix as km

BAR_DCT = 2.0


def median_time(fn, repeat=7, warmup=0.3):
    start = time.perf_counter()
    while time.perf_counter() - start < warmup:
        fn()
    t0 = time.perf_counter()
    fn()
    one = time.perf_counter() - t0
    number = max(1, int(2e-3 / max(one, 1e-7)))
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - t0) / number)
    return statistics.median(times)


def fmt(seconds):
    return f"{seconds * 1e6:8.1f} us" if seconds < 1e-3 else f"{seconds * 1e3:8.2f} ms"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="256,1024,4096")
    parser.add_argument("--batches", default="1,1024")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    batches = [int(b) for b in args.batches.split(",")]
    rng = np.random.default_rng(0)
    header = f"{'transform':>22} {'n':>5} {'rows':>5} | {'kmatrix':>11} | {'scipy.fft':>11} | km/scipy"
    print(header)
    print("-" * len(header))
    verdicts = []
    for n in sizes:
        cases = []
        for dtype in (np.float64, np.float32):
            for t in (2, 3):
                cases.append((f"dct type {t} {np.dtype(dtype).name}", km.KMatrix.dct(n, type=t, dtype=dtype),
                              lambda X, t=t: scipy.fft.dct(X, type=t, norm="ortho", axis=1, workers=-1),
                              dtype))
            cases.append((f"dst type 2 {np.dtype(dtype).name}", km.KMatrix.dst(n, dtype=dtype),
                          lambda X: scipy.fft.dst(X, norm="ortho", axis=1, workers=-1), dtype))
        for dtype in (np.complex128, np.complex64):
            cases.append((f"dft {np.dtype(dtype).name}", km.KMatrix.dft(n, dtype=dtype),
                          lambda X: scipy.fft.fft(X, axis=1, workers=-1), dtype))
        for name, K, reference, dtype in cases:
            for rows in batches:
                X = rng.standard_normal((rows, n))
                if np.dtype(dtype).kind == "c":
                    X = X + 1j * rng.standard_normal((rows, n))
                X = X.astype(dtype)
                Y = np.empty_like(X)
                t_kd = median_time(lambda: K.apply(X, out=Y))
                t_ref = median_time(lambda: reference(X))
                ratio = t_kd / t_ref
                line = f"{name:>22} {n:>5} {rows:>5} | {fmt(t_kd)} | {fmt(t_ref)} | {ratio:6.2f}x"
                if name == "dct type 2 float64" and rows == 1024 and n in (1024, 4096):
                    ok = ratio <= BAR_DCT
                    verdicts.append(ok)
                    line += f"  bar <= {BAR_DCT}x: {'PASS' if ok else 'FAIL'}"
                print(line, flush=True)
    if verdicts:
        print(f"overall: {sum(verdicts)}/{len(verdicts)} measured bars pass")
    return 0


if __name__ == "__main__":
    sys.exit(main())
