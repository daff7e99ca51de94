"""kmatrix in six steps: a fast K-matrix in place of a dense n x n matrix.

Run it with ``python examples/quickstart.py`` (a few seconds). It builds a
K-matrix, checks the exact DFT against numpy.fft, checks a random K-matrix
against its own dense matrix, times ``K.apply`` against numpy's dense product,
solves a least-squares problem with a SciPy solver that only ever calls the
fast products, and recovers a fast DCT from the entries of its dense matrix.
"""

import functools
import time

import numpy as np
import scipy.fft
from scipy.sparse.linalg import lsqr
from threadpoolctl import threadpool_limits

import kmatrix as km
from _timing import median_times

rng = np.random.default_rng(0)
n = 4096


# 1. A K-matrix replacing a dense n x n matrix. Width 1 is one B B* pair of
#    butterfly networks: 4 * n * log2(n) parameters instead of n**2.
K = km.KMatrix.random(n, width=1, dtype=np.float32, random_state=0)
print(f"1. {K}")
print(f"   parameters: {K.n_params:,} (4 n log2 n) vs {n * n:,} for a dense "
      f"{n} x {n} matrix: {n * n / K.n_params:.0f}x fewer")

# 2. Exact transforms are K-matrices too: the DFT at width 1, no training.
F = km.KMatrix.dft(n)  # complex128, F[j, k] = exp(-2j pi j k / n)
Z = rng.standard_normal((8, n)) + 1j * rng.standard_normal((8, n))
err = np.max(np.abs(F.apply(Z) - np.fft.fft(Z, axis=1))) / np.max(np.abs(np.fft.fft(Z, axis=1)))
print(f"2. KMatrix.dft({n}) vs np.fft.fft on 8 random complex rows: "
      f"max relative error {err:.1e}")

# 3. K.apply(X) maps every row x of X to K @ x, i.e. X @ K.todense().T.
X = rng.standard_normal((1024, n)).astype(np.float32)
W = K.todense()  # the same operator as a dense (n, n) float32 matrix
Y = K.apply(X)
err = np.max(np.abs(Y - X @ W.T)) / np.max(np.abs(Y))
print(f"3. K.apply(X) vs X @ K.todense().T on a {X.shape[0]} x {n} float32 batch: "
      f"max relative error {err:.1e} (float32 eps {np.finfo(np.float32).eps:.1e})")

# 4. Speed: the fast product against numpy's dense product with the same
#    matrix, timed in turn in one loop (medians of 7), on one thread each:
#    on a machine shared with other work, multithreaded BLAS slows down a lot
#    when a core is taken, and the ratio would measure the neighbours. The
#    clock is the thread's CPU time: the wall time on a free core, without
#    the turns other processes take on it.
Xb = X[:256]
with threadpool_limits(limits=1):   # kmatrix's threads and BLAS's
    t_fast, t_dense = median_times([lambda: K.apply(Xb), lambda: Xb @ W.T], time.thread_time)
speedup = t_dense / t_fast
speedup = f"{speedup:.0f}x" if speedup >= 10 else f"{speedup:.2g}x"   # never "0.0x"
print(f"4. batch of {Xb.shape[0]}, n = {n}, float32, one thread (CPU time), medians of 7: "
      f"K.apply {t_fast * 1e3:.3g} ms, dense X @ W.T {t_dense * 1e3:.3g} ms: "
      f"speed-up {speedup}")
del X, Xb, W, Y

# 5. SciPy solvers take a K-matrix as a LinearOperator: least squares with a
#    tall 3000 x 1500 K-matrix (a corner of a 4096-point network), never
#    forming its dense matrix. LSQR only calls K @ v and K.T @ u, each
#    O(n log n).
Kt = km.KMatrix.random(3000, 1500, random_state=1)  # n_in=1500, n_out=3000, float64
A = km.aslinearoperator(Kt)
b = rng.standard_normal(Kt.n_out)
solve = functools.partial(lsqr, A, b, atol=1e-12, btol=1e-12)
x, istop, itn = solve()[:3]
(elapsed,) = median_times([solve])
r = b - A @ x
# at the least-squares solution the residual is orthogonal to the range of K
optimality = np.linalg.norm(A.rmatvec(r)) / np.linalg.norm(r)
status = "converged" if istop in (1, 2) else f"stopped (istop={istop})"
print(f"5. lsqr on km.aslinearoperator(K), K of shape {Kt.shape}: {status} in {itn} "
      f"iterations, {elapsed * 1e3:.3g} ms (median of 7); "
      f"optimality ||K.T r|| / ||r|| = {optimality:.1e}")

# 6. The "SVD for K-matrices": given only the entries of a dense matrix,
#    KMatrixApproximator finds a fast K-matrix equal to it when one exists.
#    The orthonormal DCT-II is real, yet no real K-matrix of small width
#    holds it: at its defaults the approximator also tries the real part of
#    a complex K-matrix of width 1 on twice the size, and keeps it.
C = scipy.fft.dct(np.eye(256), norm="ortho", axis=0)  # a dense 256 x 256 array
approximator = km.KMatrixApproximator()
est = approximator.fit(C)
(elapsed,) = median_times([lambda: approximator.fit(C)])
print(f"6. KMatrixApproximator on the entries of a 256-point DCT-II: relative error "
      f"{est.relative_error_:.1e} in {elapsed * 1e3:.3g} ms, median of 7 ({est.field_}, "
      f"expansion {est.expansion_}, {est.method_}); "
      f"transform(x) == scipy.fft.dct(x): "
      f"{np.allclose(est.transform(C[:3]), scipy.fft.dct(C[:3], norm='ortho'))}")
