"""The command line: ``python -m kmatrix`` and the ``kmatrix`` script.

Three verbs: ``apply`` streams the rows of a ``.npy`` file through a saved
K-matrix (:func:`kmatrix.apply_npy`), ``info`` describes a saved K-matrix,
``fit`` approximates the matrix in a ``.npy`` file by a K-matrix
(:class:`kmatrix.KMatrixApproximator`) and saves it. A bad or missing file,
a shape mismatch or NaN in the data print one line on stderr and exit with
status 1 (Ctrl-C: 130; SIGTERM ends the process with status 143), with no
traceback, no temporary file left and an existing output file unchanged
(see :mod:`kmatrix._jobs.destination`).
"""

import argparse
import contextlib
import os
import re
import sys
import time

import numpy as np

from .._core._version import __version__
from .._core.fileformat import save
from .._fitting.approximator import KMatrixApproximator
from .._operator import load_with_version
from .batch import apply_npy
from .destination import replacing

__all__ = ["main"]


class _Failure(Exception):
    """An error to report in one line."""


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _workers(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value == 0:
        raise argparse.ArgumentTypeError("0 is not a thread count (-1 means every CPU)")
    return value


def _parser():
    parser = argparse.ArgumentParser(
        prog="kmatrix",
        description="Fast K-matrices (kaleidoscope structured matrices) from the command line.",
        epilog="Errors print one line on stderr and exit with status 1; no output file is "
               "left behind.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="{apply,info,fit}")

    p = verbs.add_parser(
        "apply", help="apply a saved K-matrix to every row of a .npy file",
        description="Stream the rows of IN.npy (a 2-D array, any size: read a chunk "
                    "at a time) through the K-matrix in MODEL.npz into OUT.npy, written to a "
                    "temporary file and renamed when complete.")
    p.add_argument("model", metavar="MODEL.npz", help="a K-matrix saved by KMatrix.save")
    p.add_argument("src", metavar="IN.npy", help="rows of length n_in (n_out with --trans T/H)")
    p.add_argument("dst", metavar="OUT.npy", help="the result rows (replaced if it exists)")
    p.add_argument("--trans", choices=["N", "T", "H"], default="N",
                   help="apply K (N, default), its transpose (T) or its adjoint (H)")
    p.add_argument("--chunk-rows", type=_positive_int, default=None, metavar="R",
                   help="rows per chunk (default: ~8 MB of input and output)")
    p.add_argument("--workers", type=_workers, default=None, metavar="W",
                   help="threads (default: OpenMP's default, OMP_NUM_THREADS; -1: every CPU)")
    p.add_argument("--quiet", action="store_true",
                   help="no progress bar and no summary on stderr")

    p = verbs.add_parser(
        "info", help="describe a saved K-matrix",
        description="Print the shape, dtype, width, expansion, size, parameter count, whether "
                    "the operator is the real part of complex twiddles, and the file format "
                    "version of a saved K-matrix.")
    p.add_argument("model", metavar="MODEL.npz")

    p = verbs.add_parser(
        "fit", help="approximate a matrix in a .npy file by a K-matrix",
        description="Fit a K-matrix to the 2-D matrix in MATRIX.npy with KMatrixApproximator, "
                    "save it to MODEL.npz, and print the relative Frobenius error, the number "
                    "of parameters and the time. Options not given keep the estimator's "
                    "defaults.")
    p.add_argument("matrix", metavar="MATRIX.npy", help="the matrix to approximate (n_out, n_in)")
    p.add_argument("model", metavar="MODEL.npz", help="where to save the K-matrix")
    p.add_argument("--width", type=_positive_int, default=None, help="number of BB* blocks")
    p.add_argument("--expansion", type=_positive_int, default=None,
                   help="expansion factor (network size >= expansion * max(shape))")
    p.add_argument("--field", choices=["auto", "real", "complex"], default=None,
                   help="real twiddles, the real part of complex ones, or choose (auto)")
    p.add_argument("--tol", type=float, default=None,
                   help="relative error at which the fit stops")
    p.add_argument("--random-state", type=int, default=None, metavar="S",
                   help="seed (a fixed seed gives the same model for any thread count)")
    p.add_argument("--verbose", action="store_true",
                   help="report every fit tried on stderr, with a progress bar of the "
                        "gradient steps")
    return parser


def _load_model(path):
    if not os.path.exists(path):
        raise _Failure(f"{path}: no such file")
    return load_with_version(path)


def _cmd_apply(args):
    K, _ = _load_model(args.model)
    if not os.path.exists(args.src):
        raise _Failure(f"{args.src}: no such file")
    start = time.perf_counter()
    apply_npy(K, args.src, args.dst, trans=args.trans, chunk_rows=args.chunk_rows,
              workers=args.workers, progress=not args.quiet)
    seconds = time.perf_counter() - start
    if not args.quiet:
        rows = np.load(args.dst, mmap_mode="r").shape[0]
        print(f"{rows} rows in {seconds:.2f} s ({rows / max(seconds, 1e-9):,.0f} rows/s) -> "
              f"{args.dst}", file=sys.stderr)
    return 0


def _cmd_info(args):
    K, version = _load_model(args.model)
    lines = [
        ("shape", f"{K.shape[0]} x {K.shape[1]} (n_out x n_in)"),
        ("dtype", f"{K.dtype}"),
        ("twiddles", f"{K.twiddles.dtype}, shape {K.twiddles.shape}"),
        ("width", K.width),
        ("expansion", K.expansion),
        ("size", f"{K.size} (N, a power of two)"),
        ("parameters", f"{K.n_params}"),
        ("real part", "yes (the real part of a complex network)" if K.real_part else "no"),
        ("format version", version),
    ]
    for key, value in lines:
        print(f"{key + ':':15s} {value}")
    return 0


def _load_matrix(path):
    if not os.path.exists(path):
        raise _Failure(f"{path}: no such file")
    try:
        M = np.load(path, allow_pickle=False, mmap_mode="r")
    except (ValueError, OSError, EOFError) as exc:
        raise _Failure(f"{path} is not a valid .npy file: {exc}") from None
    if not isinstance(M, np.ndarray) or M.ndim != 2:
        raise _Failure(f"{path} must hold a 2-D matrix, got "
                       f"{'an archive' if not isinstance(M, np.ndarray) else f'shape {M.shape}'}")
    if M.dtype.kind not in "biufc":
        raise _Failure(f"{path} holds {M.dtype} data; a matrix of numbers is needed")
    M = np.array(M)
    bad = ~np.isfinite(M)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise _Failure(f"{path} contains NaN or infinity (first at row {i}, column {j})")
    return M


def _cmd_fit(args):
    M = _load_matrix(args.matrix)
    params = {name: getattr(args, name) for name in
              ("width", "expansion", "field", "tol", "random_state")
              if getattr(args, name) is not None}
    est = KMatrixApproximator(verbose=int(args.verbose), **params)
    # the destination is judged before the fit; written only when complete
    with replacing(args.model, "fit") as fh:
        start = time.perf_counter()
        progress = _Progress(est.max_iter, sys.stderr) if args.verbose else None
        with contextlib.redirect_stdout(progress) if progress else contextlib.nullcontext():
            est.fit(M)
        if progress:
            progress.close()
        seconds = time.perf_counter() - start
        K = est.kmatrix_
        save(K, fh)
    print(f"relative error {est.relative_error_:.3e}, {K.n_params} parameters "
          f"(the matrix has {M.size}), width {K.width}, expansion {K.expansion}, "
          f"{est.method_}, {seconds:.2f} s -> {args.model}")
    hint = _constructor_hint(est)
    if hint:
        print(f"hint: {hint}")
    return 0


# the closed forms that are one of KMatrix's constructors, by the name the
# approximator gives them
_CONSTRUCTORS = {
    "Toeplitz": "KMatrix.toeplitz(M[:, 0], M[0])",
    "Hankel": "KMatrix.hankel(M[:, 0], M[-1])",
    "Toeplitz-like": "KMatrix.toeplitz_like(G, H) from the generators of M - Z M Z^T",
    "Hankel-like": "KMatrix.hankel_like(G, H) from the generators of M[:, ::-1]'s displacement",
    "Vandermonde": "KMatrix.vandermonde(nodes) (rows scaled; for a transform, KMatrix.dft, "
                   "KMatrix.dct or KMatrix.dst)",
    "Cauchy": "KMatrix.cauchy(x, y) from the nodes",
    "Cauchy-like": "KMatrix.cauchy_like(x, y, G, H) from the nodes and the generators of "
                   "diag(x) M - M diag(y)",
    "Vandermonde-like": "KMatrix.vandermonde_like(x, G, H) from the nodes and the generators "
                        "of diag(x) M - M Z",
}


def _constructor_hint(est):
    """A line saying which exact constructor builds what the fit found, or
    which exist when the fit missed its tolerance (None: nothing to say)."""
    found = re.match(r"hierarchical: displacement: ([\w-]+)", est.method_)
    if found and found[1] in _CONSTRUCTORS:
        return (f"this matrix has an exact constructor: {_CONSTRUCTORS[found[1]]} builds it "
                "from its parameters without the fit")
    if est.relative_error_ > est.tol:
        return ("no exact form was found; if M is a matrix KMatrix builds from its "
                "parameters (dft, dct, dst, hadamard, circulant, toeplitz, hankel, "
                "vandermonde, cauchy, toeplitz_like, cauchy_like, vandermonde_like, low_rank, "
                "from_sparse, from_circuit), the constructor is exact "
                "and faster; --width or --field may also help")
    return None


class _Progress:
    """stdout for a verbose fit: the gradient's step lines become one
    progress bar on ``stream`` (redrawn in place on a terminal, a line each
    elsewhere), the other lines pass through."""

    _STEP = re.compile(r"\s*(Adam|L-BFGS) step (\d+) \(width (\d+)\): relative error (\S+)")

    def __init__(self, max_iter, stream):
        self.max_iter, self.stream = max(1, max_iter), stream
        self.pending, self.open = "", False
        self.tty = hasattr(stream, "isatty") and stream.isatty()

    def write(self, text):
        self.pending += text
        while "\n" in self.pending:
            line, self.pending = self.pending.split("\n", 1)
            self._line(line)
        return len(text)

    def flush(self):
        self.stream.flush()

    def close(self):
        if self.pending:
            self._line(self.pending)
            self.pending = ""
        if self.open:
            self.stream.write("\n")
            self.open = False
        self.stream.flush()

    def _line(self, line):
        step = self._STEP.match(line)
        if step:
            filled = min(30, 30 * int(step[2]) // self.max_iter)
            bar = (f"  [{'#' * filled}{'.' * (30 - filled)}] {step[1]} step {step[2]} "
                   f"(width {step[3]}): relative error {step[4]}")
            self.stream.write(("\r" + bar) if self.tty else bar + "\n")
            self.open = self.tty
        else:
            if self.open:
                self.stream.write("\n")
                self.open = False
            self.stream.write(line + "\n")
        self.stream.flush()


def main(argv=None):
    """Run the command line; returns the exit status."""
    args = _parser().parse_args(argv)
    command = {"apply": _cmd_apply, "info": _cmd_info, "fit": _cmd_fit}[args.verb]
    try:
        return command(args)
    except KeyboardInterrupt:
        print("kmatrix: interrupted", file=sys.stderr)
        return 130
    except (_Failure, ValueError, OSError, MemoryError) as exc:
        message = str(exc) or type(exc).__name__
        if isinstance(exc, OSError) and exc.filename and str(exc.filename) not in message:
            message = f"{exc.filename}: {message}"
        print(f"kmatrix: error: {' '.join(message.split())}", file=sys.stderr)
        return 1
