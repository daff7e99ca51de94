"""The recovery table of the 2019 butterfly paper, next to KMatrixApproximator's.

Dao, Gu, Eichhorn, Rudra and Re (ICML 2019) recover fixed transforms from
their entries with learned butterfly factorizations; their RMSEs are in
``../shared/reference/icml2019_recovery_rmse.csv`` (or ``--reference``).
For every transform and size the script fits ``KMatrixApproximator()`` at
its defaults (``--width`` to change the width) to the dense target, and
prints the fit time, the relative Frobenius error, and both errors in the
paper's RMSE and as relative errors.

The targets (each scaled by 1/sqrt(n), as in the paper's RMSE):

* DFT (complex), DCT-II, DST-II, Hadamard, Hartley (cas = cos + sin): the
  unnormalized transforms, unitary once scaled;
* Conv: the circulant of a standard normal vector (the paper's
  convolution);
* Legendre: the Vandermonde matrix of the Legendre polynomials
  ``P_j(x_i)`` at n equispaced nodes of [-1, 1];
* Rand: a standard normal matrix.

RMSE is ``sqrt(mean of the squared entry errors)`` of the scaled target
(complex entries as two real entries), so the relative Frobenius error is
``RMSE * n / ||T||_F`` (``* sqrt(2)`` for complex), ``||T||_F`` that of the
scaled target: ``RMSE * sqrt(n)`` for the unitary transforms. The paper's
Conv, Legendre and Rand matrices are random or defined in ways its table
does not fix, so for those rows the conversion uses this script's targets
and compares orders of magnitude.

    python benchmarks/bench_recovery.py [--sizes 8,16,...,1024] [--transforms DFT,Conv]
"""

import argparse
import csv
import os
import pathlib
import time
import warnings

import numpy as np
import scipy.fft
import scipy.linalg
from numpy.polynomial import legendre

import kmatrix as km
from bench_apply import cpu_model

REFERENCE = (pathlib.Path(__file__).resolve().parents[2] / "shared" / "reference"
             / "icml2019_recovery_rmse.csv")
TRANSFORMS = ("DFT", "DCT", "DST", "Conv", "Hadamard", "Hartley", "Legendre", "Rand")


def target(name, n, rng):
    """The unscaled n x n target (see the module docstring)."""
    eye = np.eye(n)
    if name == "DFT":
        return np.fft.fft(eye, axis=0)
    if name == "DCT":
        return scipy.fft.dct(eye, norm="ortho", axis=0) * np.sqrt(n)
    if name == "DST":
        return scipy.fft.dst(eye, norm="ortho", axis=0) * np.sqrt(n)
    if name == "Hadamard":
        return scipy.linalg.hadamard(n).astype(float)
    if name == "Hartley":
        F = np.fft.fft(eye, axis=0)
        return F.real - F.imag
    if name == "Conv":
        return scipy.linalg.circulant(rng.standard_normal(n))
    if name == "Legendre":
        return legendre.legvander(np.linspace(-1, 1, n), n - 1)
    if name == "Rand":
        return rng.standard_normal((n, n))
    raise ValueError(f"unknown transform {name!r}")


def read_reference(path):
    """{transform: {n: paper RMSE}} from the csv (comment lines skipped)."""
    with open(path) as f:
        rows = list(csv.reader(line for line in f if not line.startswith("#")))
    sizes = [int(v) for v in rows[0][2:]]
    return {row[0]: dict(zip(sizes, (float(v) for v in row[2:]))) for row in rows[1:]}


def to_relative(rmse, T_scaled):
    """The paper's RMSE of this scaled target as a relative Frobenius error."""
    n = T_scaled.shape[0]
    entries = 2 if np.iscomplexobj(T_scaled) else 1
    return rmse * n * np.sqrt(entries) / np.linalg.norm(T_scaled)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="8,16,32,64,128,256,512,1024")
    parser.add_argument("--transforms", default=",".join(TRANSFORMS))
    parser.add_argument("--width", type=int, default=None,
                        help="the approximator's width (default: its default)")
    parser.add_argument("--reference", default=str(REFERENCE))
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    paper = read_reference(args.reference) if os.path.exists(args.reference) else {}
    print(f"# CPU: {cpu_model()}; load average {os.getloadavg()[0]:.2f}; "
          f"KMatrixApproximator({'' if args.width is None else f'width={args.width}'})")
    print(f"{'transform':>9} {'n':>5} | {'fit':>8} {'kmatrix rel':>11} {'paper rel':>10} | "
          f"{'kmatrix RMSE':>12} {'paper RMSE':>10} | {'beats':>5} method")
    kwargs = {} if args.width is None else {"width": args.width}
    for name in args.transforms.split(","):
        for n in (int(v) for v in args.sizes.split(",")):
            T = target(name, n, np.random.default_rng(n)) / np.sqrt(n)
            start = time.perf_counter()
            est = km.KMatrixApproximator(random_state=0, **kwargs).fit(T)
            seconds = time.perf_counter() - start
            E = est.kmatrix_.todense() - T
            rel = np.linalg.norm(E) / np.linalg.norm(T)
            entries = 2 if np.iscomplexobj(T) else 1
            rmse = np.linalg.norm(E) / (n * np.sqrt(entries))
            ref = paper.get(name, {}).get(n)
            ref_rel = to_relative(ref, T) if ref is not None else np.nan
            beats = "" if ref is None else ("yes" if rmse <= ref else "no")
            print(f"{name:>9} {n:>5} | {seconds:7.2f}s {rel:11.2e} {ref_rel:10.2e} | "
                  f"{rmse:12.2e} {ref if ref is not None else np.nan:10.2e} | {beats:>5} "
                  f"{est.method_}", flush=True)


if __name__ == "__main__":
    main()
