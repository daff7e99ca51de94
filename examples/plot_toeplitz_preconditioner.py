"""A stationary covariance solved by cg with exact K-matrix inverses as the preconditioner.

A stationary process sampled at n equispaced points has a symmetric
Toeplitz covariance ``T[i, j] = k(|i - j|)``: here a Gaussian kernel
``exp(-d^2 / (2 l^2))`` (or a Matern 5/2 one) plus noise on the diagonal,
held as ``KMatrix.toeplitz(c)`` (the circulant embedding: width 2). The
system ``T x = b`` is solved by ``scipy.sparse.linalg.cg``:

* without a preconditioner;
* with T. Chan's optimal circulant preconditioner (the circulant closest
  to T in Frobenius norm, ``c_k = ((n - k) t_k + k t_(n-k)) / n``), applied
  by the FFT;
* with the K-matrix preconditioner ``M = C^-1 + S^-1``. Every symmetric
  Toeplitz matrix is exactly ``T = (C + S) / 2`` for the circulant C of
  ``t_k + t_(n-k)`` and the skew-circulant S of ``t_k - t_(n-k)``; both are
  square K-matrices (``F^-1 diag F`` and ``D^H F^-1 diag F D``,
  ``D = diag(exp(i pi j / n))``), so ``C.inv()`` and ``S.inv()`` are exact
  K-matrices too and M is their sum (the sum of inverses as a
  preconditioner is T. Huckle's, 1992).

It prints the iterations and seconds of each (median of three solves) and
the log-determinant of T: exact by the Levinson-Durbin recursion
(``O(n^2)``), against what the K-matrices give exactly, the concavity bound
``log det T >= (log det C + log det S) / 2`` (T is their mean), and
Chan's ``log det P`` used as a control variate: ``log det T = log det P +
tr log(P^-1/2 T P^-1/2)``, the trace estimated by stochastic Lanczos
quadrature, beside the same estimate made of ``tr log T`` directly. With
matplotlib and ``--output``, it plots the relative residual against the
iterations.

    python examples/plot_toeplitz_preconditioner.py [--n 16384] [--kernel gaussian]
        [--length 10] [--noise 0.01] [--output toeplitz.png]
"""

import argparse
import time

import numpy as np
import scipy.fft
import scipy.sparse
from scipy.sparse.linalg import LinearOperator, cg

import kmatrix as km


def kernel_column(n, kernel, length, noise):
    """The first column of T: the kernel at lags 0..n-1, noise added at lag 0."""
    d = np.arange(n, dtype=float) / length
    if kernel == "gaussian":
        c = np.exp(-0.5 * d * d)
    else:                                   # Matern 5/2
        r = np.sqrt(5) * d
        c = (1 + r + r * r / 3) * np.exp(-r)
    c[0] += noise
    return c


def chan_circulant(c):
    """T. Chan's optimal circulant of the symmetric Toeplitz T(c): its first column."""
    n = c.size
    k = np.arange(1, n)
    out = np.empty(n)
    out[0] = c[0]
    out[1:] = ((n - k) * c[1:] + k * c[:0:-1]) / n
    return out


def fft_inverse_operator(column):
    """The inverse of the circulant with this first column, by the FFT."""
    eig = scipy.fft.rfft(column)
    n = column.size
    return LinearOperator((n, n), dtype=float,
                          matvec=lambda v: scipy.fft.irfft(scipy.fft.rfft(np.ravel(v)) / eig, n))


def circulant_and_skew(c):
    """The circulant C and the skew-circulant S with T(c) = (C + S) / 2, as
    (real) K-matrices on n positions (square networks: exactly invertible)."""
    n = c.size
    sum_column, diff_column = c.copy(), c.copy()
    sum_column[1:] += c[:0:-1]
    diff_column[1:] -= c[:0:-1]
    C = km.KMatrix.circulant(sum_column)
    # S = D^H circ(w s) D with w = exp(i pi j / n): S[i, j] = s[i - j], -s[n + i - j] above
    w = np.exp(1j * np.pi * np.arange(n) / n)
    D = km.KMatrix.from_sparse(scipy.sparse.diags(w))
    S = (D.conj() @ km.KMatrix.circulant(w * diff_column) @ D).real
    return C, S


def levinson_logdet(c):
    """log det of the symmetric positive definite Toeplitz T(c), exactly, by
    the Levinson-Durbin recursion: the sum of the log prediction errors."""
    n = c.size
    a = np.zeros(0)
    error = c[0]
    logdet = np.log(error)
    for k in range(1, n):
        kappa = (c[k] - a @ c[k - 1:0:-1]) / error
        a = np.concatenate([a - kappa * a[::-1], [kappa]])
        error *= 1 - kappa * kappa
        logdet += np.log(error)
    return logdet


def slq_logdet(matvec, n, n_probes, n_steps, rng):
    """Stochastic Lanczos quadrature estimate of tr log(A) for the symmetric
    positive definite A (given by ``matvec``), with Rademacher probes."""
    total = 0.0
    for _ in range(n_probes):
        z = rng.choice([-1.0, 1.0], size=n)
        q, q_prev, beta = z / np.sqrt(n), np.zeros(n), 0.0
        alphas, betas = [], []
        for j in range(n_steps):
            v = matvec(q) - beta * q_prev
            alpha = q @ v
            v -= alpha * q
            alphas.append(alpha)
            beta = np.linalg.norm(v)
            if j == n_steps - 1 or beta < 1e-12:
                break
            betas.append(beta)
            q_prev, q = q, v / beta
        theta, vectors = np.linalg.eigh(np.diag(alphas) + np.diag(betas, 1) + np.diag(betas, -1))
        total += n * np.sum(vectors[0] ** 2 * np.log(theta))
    return total / n_probes


def solve(T, b, M, rtol):
    """cg's iterations, relative residuals (per iteration) and seconds (median of 3)."""
    residuals = []
    norm_b = np.linalg.norm(b)

    def record(x):
        residuals.append(np.linalg.norm(b - T @ x) / norm_b)

    x, info = cg(T, b, M=M, rtol=rtol, maxiter=20 * b.size, callback=record)
    seconds = []
    for _ in range(3):
        start = time.perf_counter()
        cg(T, b, M=M, rtol=rtol, maxiter=20 * b.size)
        seconds.append(time.perf_counter() - start)
    return len(residuals), residuals, float(np.median(seconds)), info


def plot(histories, title, output):
    try:
        import matplotlib
    except ImportError:
        print('no plot: matplotlib is not installed (pip install "kmatrix[examples]")')
        return
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    for name, residuals in histories.items():
        ax.semilogy(np.arange(1, len(residuals) + 1), residuals, marker=".", label=name)
    ax.set_xlabel("cg iteration")
    ax.set_ylabel("relative residual ||b - T x|| / ||b||")
    ax.set_title(title, fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(output, dpi=120)
    print(f"saved {output}")


def main():
    parser = argparse.ArgumentParser(description=(__doc__ or "").partition("\n")[0])
    parser.add_argument("--n", type=int, default=1 << 14, help="a power of two")
    parser.add_argument("--kernel", choices=["gaussian", "matern"], default="gaussian")
    parser.add_argument("--length", type=float, default=10.0, help="length scale, in samples")
    parser.add_argument("--noise", type=float, default=0.01)
    parser.add_argument("--rtol", type=float, default=1e-8)
    parser.add_argument("--probes", type=int, default=10, help="SLQ probes")
    parser.add_argument("--steps", type=int, default=30, help="Lanczos steps per probe")
    parser.add_argument("--output", default=None, help="save the figure here (matplotlib)")
    args = parser.parse_args()
    n = args.n
    if n < 4 or n & (n - 1):
        parser.error("--n must be a power of two >= 4 (a square network)")
    c = kernel_column(n, args.kernel, args.length, args.noise)
    T = km.KMatrix.toeplitz(c)
    b = np.random.default_rng(0).standard_normal(n)
    chan = chan_circulant(c)
    C, S = circulant_and_skew(c)
    M = C.inv() + S.inv()
    title = (f"{args.kernel} kernel, length {args.length:g}, noise {args.noise:g}, "
             f"n = {n}")
    print(title)
    print(f"T: KMatrix.toeplitz, width {T.width} on {T.size} positions; K-matrix "
          f"preconditioner C^-1 + S^-1: width {M.width} on {M.size} positions\n")
    rows = {"no preconditioner": None, "T. Chan's circulant (FFT)": fft_inverse_operator(chan),
            "K-matrix: C^-1 + S^-1": M}
    print(f"{'cg preconditioner':<28} | {'iterations':>10} | {'seconds':>8} | "
          f"{'final residual':>14}")
    print("-" * 70)
    histories, iterations = {}, {}
    for name, precond in rows.items():
        count, residuals, seconds, info = solve(T, b, precond, args.rtol)
        histories[name], iterations[name] = residuals, count
        print(f"{name:<28} | {count:>10} | {seconds:8.3f} | {residuals[-1]:14.2e}"
              + ("" if info == 0 else f"  (cg info {info})"))
    none, chan_it, kmat = iterations.values()
    print(f"\nK-matrix preconditioner: {kmat} iterations, {chan_it} with Chan's, "
          f"{none} without ({kmat / none:.3f}x)")

    start = time.perf_counter()
    exact = levinson_logdet(c)
    levinson_seconds = time.perf_counter() - start
    logdet_c, logdet_s = C.slogdet()[1], S.slogdet()[1]
    P = km.KMatrix.circulant(chan)
    logdet_p = P.slogdet()[1]
    half_root = km.KMatrix.circulant(scipy.fft.irfft(scipy.fft.rfft(chan).real ** -0.5, n))
    rng = np.random.default_rng(1)
    control = logdet_p + slq_logdet(lambda v: half_root @ (T @ (half_root @ v)), n,
                                    args.probes, args.steps, rng)
    direct = slq_logdet(lambda v: T @ v, n, args.probes, args.steps, np.random.default_rng(1))
    print(f"\nlog det T, exact (Levinson-Durbin, {levinson_seconds:.1f} s): {exact:.6f}")
    for what, value in (("(log det C + log det S) / 2, a lower bound", (logdet_c + logdet_s) / 2),
                        ("log det of Chan's circulant (K-matrix slogdet)", logdet_p),
                        (f"Chan's + SLQ of the rest ({args.probes} probes)", control),
                        (f"SLQ of T itself ({args.probes} probes)", direct)):
        print(f"  {what:<46}: {value:14.6f}  (error {value - exact:+.2e})")
    if args.output:
        plot(histories, title, args.output)


if __name__ == "__main__":
    main()
