"""Fast linear algorithms are K-matrices (survey Thm 5.5).

A linear algorithm that runs in s additions and scalings, in d rounds
(a linear arithmetic circuit of size s and depth d), is a K-matrix of width
O(d) and expansion O(s/n). The script writes two such algorithms as plain
recursive Python functions on lists -- a radix-2 FFT and the full
multi-level orthonormal Haar wavelet transform -- records each with
``km.Circuit.trace`` (the function runs once, on wires instead of numbers)
and turns the circuit into its exact K-matrix with
``km.KMatrix.from_circuit``.

It prints the circuit's size s (gates, inputs included), depth d and n; the
K-matrix's width, expansion and parameters next to the theorem's O(d) and
O(s/n), and the parameters relative to the width-1 ``KMatrix.dft(n)``; the
relative error against ``np.fft.fft`` and against a direct NumPy Haar
transform (written below, not traced); and the time of ``K.apply`` on a
batch of rows against the dense product with the same matrix and against
the NumPy implementation. Times are medians of 7 timings, timed in turn in
one loop, on one thread (kmatrix's, BLAS's and NumPy's FFT run on one
anyway) and on the thread's CPU clock (``time.thread_time``), so that other
work on a shared machine does not enter the ratios.

    python examples/theorem_circuits.py [--n 1024] [--rows 1024]
"""

import argparse
import cmath
import math
import time

import numpy as np
from threadpoolctl import threadpool_limits

import kmatrix as km
from _timing import fmt_ratio, fmt_time, median_times


# ------------------------------------------------ the algorithms, on lists --
def fft(x):
    """Radix-2 decimation-in-time FFT of a list whose length is a power of 2."""
    n = len(x)
    if n == 1:
        return list(x)
    even, odd = fft(x[0::2]), fft(x[1::2])
    twisted = [cmath.exp(-2j * cmath.pi * k / n) * odd[k] for k in range(n // 2)]
    return ([even[k] + twisted[k] for k in range(n // 2)]
            + [even[k] - twisted[k] for k in range(n // 2)])


def haar(x):
    """Orthonormal Haar wavelet transform, all levels: [approximation,
    details of the coarsest level, ..., details of the finest level]."""
    n = len(x)
    if n == 1:
        return list(x)
    r = 1 / math.sqrt(2)
    sums = [(x[2 * i] + x[2 * i + 1]) * r for i in range(n // 2)]
    diffs = [(x[2 * i] - x[2 * i + 1]) * r for i in range(n // 2)]
    return haar(sums) + diffs


# -------------------------------------------- a NumPy reference, on rows --
def haar_numpy(X):
    """The same transform of every row of X: pairwise sums and differences
    scaled by 1/sqrt(2), then the sums again, down to one coefficient."""
    out = np.empty_like(X)
    approx = X
    end = X.shape[1]
    while end > 1:
        even, odd = approx[:, 0::2], approx[:, 1::2]
        out[:, end // 2:end] = (even - odd) / np.sqrt(2)
        approx = (even + odd) / np.sqrt(2)
        end //= 2
    out[:, :1] = approx
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1024, help="transform length (a power of 2)")
    parser.add_argument("--rows", type=int, default=1024, help="rows in the timed batch")
    args = parser.parse_args(argv)
    n = args.n
    if n < 2 or n & (n - 1):
        parser.error(f"--n must be a power of 2, at least 2, got {n}")
    rng = np.random.default_rng(0)
    X_real = rng.standard_normal((args.rows, n))
    X_complex = X_real + 1j * rng.standard_normal((args.rows, n))
    dft_params = km.KMatrix.dft(n).n_params
    cases = [
        ("radix-2 FFT", fft, np.complex128, X_complex, lambda X: np.fft.fft(X, axis=1),
         "np.fft.fft"),
        ("Haar wavelet", haar, np.float64, X_real, haar_numpy, "NumPy Haar"),
    ]

    print(f"Recursive Python functions traced into circuits, n = {n}; s = gates (inputs "
          "included), d = depth;\nThm 5.5: width O(d), expansion O(s/n); 'vs dft' = parameters "
          f"over KMatrix.dft({n})'s {dft_params:,};\nerror = max |K.apply(X) - reference(X)| / "
          "max |reference(X)|\n")
    header = (f"{'algorithm':<13} {'s':>7} {'d':>3} {'s/n':>5} {'width':>5} {'exp':>3} "
              f"{'params':>9} {'vs dft':>6} {'error':>8} {'reference':<10} "
              f"{'trace':>7} {'from_circuit':>12}")
    print(header)
    print("-" * len(header))
    built = []
    for name, func, dtype, X, reference, ref_name in cases:
        start = time.perf_counter()
        circuit = km.Circuit.trace(func, n, dtype=dtype)
        traced = time.perf_counter()
        K = km.KMatrix.from_circuit(circuit)
        converted = time.perf_counter()
        expected = reference(X)
        error = np.max(np.abs(K.apply(X) - expected)) / np.max(np.abs(expected))
        print(f"{name:<13} {circuit.size:>7,} {circuit.depth:>3} {circuit.size / n:>5.1f} "
              f"{K.width:>5} {K.expansion:>3} {K.n_params:>9,} "
              f"{fmt_ratio(K.n_params / dft_params):>6} {error:>8.1e} {ref_name:<10} "
              f"{fmt_time(traced - start):>7} {fmt_time(converted - traced):>12}", flush=True)
        built.append((name, K, X, reference))

    print(f"\nK.apply on {args.rows} rows against the dense product X @ M.T (M = K.todense()) "
          "and the NumPy reference;\none thread (CPU time), medians of 7 timings\n")
    header = (f"{'algorithm':<13} {'K.apply':>9} {'dense':>9} {'NumPy':>9} "
              f"{'dense/K':>7} {'NumPy/K':>7}")
    print(header)
    print("-" * len(header))
    for name, K, X, reference in built:
        M = K.todense()
        with threadpool_limits(limits=1):
            t_k, t_dense, t_ref = median_times(
                [lambda: K.apply(X), lambda: X @ M.T, lambda: reference(X)], time.thread_time)
        print(f"{name:<13} {fmt_time(t_k):>9} {fmt_time(t_dense):>9} {fmt_time(t_ref):>9} "
              f"{fmt_ratio(t_dense / t_k):>7} {fmt_ratio(t_ref / t_k):>7}", flush=True)
    print("\nNumPy: the reference of the first table (np.fft.fft, the NumPy Haar transform); "
          "dense/K and NumPy/K:\ntheir time over the time of K.apply(X) (below 1x: the K-matrix "
          "is slower)")


if __name__ == "__main__":
    main()
