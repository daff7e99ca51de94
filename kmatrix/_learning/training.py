"""Mini-batch training of y = g(K x + b): the engine behind KMatrixRegressor.

One optimisation step costs two kernel calls on the whole mini-batch -- the
product ``Z = X_b K^T`` and the vector-Jacobian product that returns every
twiddle gradient -- plus a few in-place NumPy passes over ``(batch, n_out)``
arrays and ``O(n_params)`` optimizer updates; no Python loop runs over rows,
stages or parameters. Buffers are allocated once per fit, so an epoch does no
large allocation.

Every operation is deterministic: the kernels reduce per fixed chunk of rows
(not per thread) and NumPy's reductions here run on one thread, so a fixed
``random_state`` gives the same model whatever the number of threads.
"""

import numpy as np

from .._core.validation import sum_of_squares

__all__ = ["ACTIVATIONS", "Trainer", "activate"]

ACTIVATIONS = ("identity", "relu", "tanh", "logistic")


def activate(Z, activation):
    """Apply the activation to ``Z`` in place and return it."""
    if activation == "relu":
        np.maximum(Z, 0, out=Z)
    elif activation == "tanh":
        np.tanh(Z, out=Z)
    elif activation == "logistic":
        # 1 / (1 + exp(-z)) through tanh: no overflow warning for large |z|
        np.multiply(Z, 0.5, out=Z)
        np.tanh(Z, out=Z)
        np.multiply(Z, 0.5, out=Z)
        np.add(Z, 0.5, out=Z)
    elif activation != "identity":
        raise ValueError(f"unknown activation {activation!r}")
    return Z


def _activation_derivative(A, out, activation):
    """out = g'(z), written in terms of A = g(z) (not for the identity)."""
    if activation == "relu":
        np.greater(A, 0, out=out)
    elif activation == "tanh":
        np.multiply(A, A, out=out)
        np.subtract(1, out, out=out)
    elif activation == "logistic":
        np.multiply(A, A, out=out)
        np.subtract(A, out, out=out)
    else:
        raise ValueError(f"no derivative buffer for activation {activation!r}")
    return out


class Trainer:
    """Runs epochs of mini-batch steps on one K-matrix and intercept.

    Parameters
    ----------
    kmatrix : KMatrix
        Trained in place (its live twiddles); a real operator: real
        twiddles, or the real part (``K.real``) of complex ones.
    intercept : ndarray of shape (n_out,) or None
        Trained in place when not None.
    activation : str
    alpha : float
        L2 penalty: adds ``alpha / 2 * ||twiddles||^2 / batch_weight`` to
        every mini-batch loss, as scikit-learn's MLP scales it.
    optimizer : AdamOptimizer or SGDOptimizer
        Built on ``[twiddles, intercept]`` (or ``[twiddles]``).
    n_threads : int
        Kernel threads (0: the OpenMP default); never changes the result.
    """

    def __init__(self, kmatrix, intercept, activation, alpha, optimizer, n_threads=0):
        self.kmatrix = kmatrix
        self.intercept = intercept
        self.activation = activation
        self.alpha = alpha
        self.optimizer = optimizer
        self.n_threads = n_threads
        tw = kmatrix.twiddles
        self._dtw = np.empty_like(tw)
        self._db = None if intercept is None else np.empty_like(intercept)
        self._buffers = {}

    def _batch_buffers(self, m, n_in, n_out, dtype):
        key = m
        if key not in self._buffers:
            self._buffers[key] = (
                np.empty((m, n_in), dtype=dtype),
                np.empty((m, n_out), dtype=dtype),
                np.empty((m, n_out), dtype=dtype),
                np.empty((m, n_out), dtype=dtype),
            )
        return self._buffers[key]

    def forward(self, X, out):
        """out = g(X K^T + b) for a C-contiguous batch X in the model dtype."""
        K = self.kmatrix
        # real rows through the real part of complex twiddles run in the
        # kernels' real-I/O mode: no complex copies
        K._apply_into(X, out, self.n_threads)
        if self.intercept is not None:
            out += self.intercept
        return activate(out, self.activation)

    def step(self, Xb, Yb, wb=None):
        """One optimizer step on a mini-batch; returns its (penalised) loss."""
        K = self.kmatrix
        tw = K.twiddles
        m, n_out = Yb.shape
        _, _, A, D = self._batch_buffers(m, Xb.shape[1], n_out, K.dtype)
        self.forward(Xb, A)
        if self.activation != "identity":
            _activation_derivative(A, D, self.activation)
        # squared loss 0.5 * mean over rows (weighted) and targets
        R = A
        R -= Yb
        if wb is None:
            total = float(m)
            loss = 0.5 * float(np.einsum("ij,ij->", R, R, dtype=np.float64)) / (total * n_out)
        else:
            total = float(wb.sum(dtype=np.float64))
            sq = np.einsum("ij,ij->i", R, R, dtype=np.float64)
            loss = 0.5 * float(np.einsum("i,i->", sq, wb)) / (total * n_out)
        # dLoss/dA, then through the activation
        R *= 1.0 / (total * n_out)
        if self.activation != "identity":
            R *= D
        if wb is not None:
            R *= wb[:, np.newaxis]
        dZ = R
        grads = [self._dtw]
        if self.intercept is not None:
            np.sum(dZ, axis=0, out=self._db)
            grads.append(self._db)
        # for a real part, L = sum(dZ * Re(K Xb)) = Re(sum(conj(dZ) K Xb)) with
        # real Xb and dZ: the complex twiddle gradient, in real-I/O mode
        K._twiddle_gradient_into(Xb, dZ, self._dtw, self.n_threads)
        if self.alpha:
            loss += 0.5 * self.alpha * sum_of_squares(tw) / total
            self._dtw += (self.alpha / total) * tw
        self.optimizer.step(grads)
        return loss

    def epoch(self, X, Y, batch_size, order=None, sample_weight=None):
        """One pass over (X, Y) in mini-batches (in ``order`` if given).

        Returns the mean of the mini-batch losses weighted by batch size,
        the epoch loss scikit-learn's MLP reports.
        """
        n = X.shape[0]
        dtype = self.kmatrix.dtype
        total = 0.0
        for start in range(0, n, batch_size):
            stop = min(start + batch_size, n)
            m = stop - start
            Xb, Yb, _, _ = self._batch_buffers(m, X.shape[1], Y.shape[1], dtype)
            if order is None:
                Xb[...] = X[start:stop]
                Yb[...] = Y[start:stop]
                wb = None if sample_weight is None else sample_weight[start:stop]
            else:
                idx = order[start:stop]
                np.take(X, idx, axis=0, out=Xb)
                np.take(Y, idx, axis=0, out=Yb)
                wb = None if sample_weight is None else sample_weight[idx]
            if wb is not None and not wb.sum() > 0:
                continue  # rows of weight zero: no gradient, no loss
            total += self.step(Xb, Yb, wb) * m
        return total / n
