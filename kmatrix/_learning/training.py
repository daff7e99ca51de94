"""Mini-batch training of networks of K-matrix layers: the engine behind
KMatrixRegressor and KMatrixClassifier.

A network is a list of :class:`Layer` (``z = W a + b``, W a K-matrix or a
small dense matrix), a hidden activation after every layer but the last, an
output activation and a loss. One optimisation step runs, per layer, one
compiled product forward and one compiled vector-Jacobian product backward
(the twiddle gradient and, below the top layer, the gradient of the layer's
input) on the whole mini-batch, and one compiled optimizer pass per
parameter array. A real K-matrix layer's kernels also add its bias (and
then apply the activation) as they store its output, and multiply the gradient
of its input by the derivative of the activation below as they store it
(for tanh and logistic the kernel may round 1 - a^2 or a - a^2 once where
NumPy rounds twice: the last bit of a gradient may differ from the passes
it replaces; the rectifier's is exact). The squared error of an identity
output is one compiled pass too (kmatrix._core.losses: the gradient bit
for bit as NumPy's passes give it, the loss summed in another order).
The kernel's tanh is within about 1.5 ulp of the exact value, as NumPy's
is within about 1: a fused tanh or logistic layer may differ from NumPy's
pass in the last bit. What is left to NumPy is the bias gradient (a sum
over the batch), the softmax and other output activations of a non-identity
loss, the log loss, the activation of a layer without a bias, and the
layers of other kinds (dense, real parts). No Python loop runs over
rows, stages or parameters. Buffers are allocated once per batch size, so
an epoch does no large allocation.

Every operation is deterministic: the kernels reduce per fixed chunk of rows
(not per thread), NumPy's reductions here run on one thread, and the
estimators run the dense products of a dense output layer on one BLAS
thread, so a fixed ``random_state`` gives the same model whatever the
number of threads.
"""

import numpy as np

from .._core.losses import squared_error_gradient
from .._core.validation import sum_of_squares

__all__ = ["ACTIVATIONS", "LOSSES", "Layer", "Network", "activate"]

ACTIVATIONS = ("identity", "relu", "tanh", "logistic")
LOSSES = ("squared_error", "log_loss")


def activate(Z, activation):
    """Apply the activation (or "softmax" over each row) to ``Z`` in place; return it."""
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
    elif activation == "softmax":
        Z -= Z.max(axis=1, keepdims=True)
        np.exp(Z, out=Z)
        Z /= Z.sum(axis=1, keepdims=True)
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


class Layer:
    """One layer ``z = W a + b`` and its gradient buffers.

    ``weight`` is a KMatrix (real twiddles, or the real part ``K.real`` of
    complex ones; trained through its live twiddles) or a dense ndarray of
    shape ``(n_out, n_in)`` (trained in place); ``bias`` an ndarray of
    shape ``(n_out,)`` trained in place, or None. ``butterfly``: a K-matrix
    layer trains only the first half (B*) of each block, its second half
    staying as it is (the identity): its gradient is zero there, so no
    optimizer moves it, and the penalty leaves it out.
    """

    def __init__(self, weight, bias, butterfly=False):
        self.weight, self.bias = weight, bias
        self.dense = isinstance(weight, np.ndarray)
        self.n_out, self.n_in = weight.shape
        # the operator's own array: pickling keeps it shared with the optimizer
        self.param = weight if self.dense else weight._twiddles
        # gradient buffers: made by the first backward pass (a network built
        # to predict never needs them)
        self.grad = self.dbias = None
        self.butterfly = butterfly and not self.dense
        # the entries the penalty weighs (and the optimizer moves)
        self.trained = self.param[:, 0] if self.butterfly else self.param

    @property
    def params(self):
        return [self.param] + ([] if self.bias is None else [self.bias])

    @property
    def grads(self):
        """The gradients of :attr:`params`, as the last backward pass left them."""
        return [self.grad] + ([] if self.bias is None else [self.dbias])

    def forward(self, A, Z, n_threads, activation="identity"):
        """``Z[:] = g(A W^T + b)`` for the activation g (C-contiguous rows in
        the model's dtype). A real K-matrix layer's kernel adds the bias and
        applies g (not softmax) as it stores each output tile; a layer
        without a bias, a real part and a dense layer take NumPy's passes."""
        if self.dense:
            np.matmul(A, self.weight.T, out=Z)
            if self.bias is not None:
                Z += self.bias
        else:
            # softmax (over a row) stays a pass of its own
            fused = activation if activation in ACTIVATIONS else "identity"
            if self.weight._apply_into(A, Z, n_threads, self.bias, fused) and fused == activation:
                return Z
        return activate(Z, activation)

    def backward(self, A, dZ, dA, n_threads, gate=None):
        """The gradients of W and b from ``dZ`` (the loss's gradient at z) and
        the layer's input ``A``; ``dA[:] = dZ W`` when dA is not None.

        ``gate``: the activation that made A (not the identity); a K-matrix
        layer's kernel multiplies dA by its derivative as it stores dA.
        Returns whether that was done (else the caller does it)."""
        gated = False
        if self.grad is None:
            self.grad = np.empty_like(self.param)
            self.dbias = None if self.bias is None else np.empty_like(self.bias)
        if self.dense:
            np.matmul(dZ.T, A, out=self.grad)
            if dA is not None:
                np.matmul(dZ, self.weight, out=dA)
        else:
            gated = self.weight._twiddle_gradient_into(A, dZ, self.grad, n_threads, dA, gate)
            if self.butterfly:
                self.grad[:, 1] = 0
        if self.dbias is not None:
            np.sum(dZ, axis=0, out=self.dbias)
        return gated


class Network:
    """Layers, their activations and a loss; trains them with an optimizer.

    Parameters
    ----------
    layers : list of Layer
    activation : str
        The activation after every layer but the last (one of ACTIVATIONS).
    out_activation : str
        After the last layer: one of ACTIVATIONS with the squared error;
        "softmax" or "logistic" with the log loss.
    loss : {"squared_error", "log_loss"}
        Half the mean squared error over rows (weighted) and outputs, or the
        cross-entropy summed over outputs and averaged over rows (weighted),
        as scikit-learn's MLPs define them.
    alpha : float
        L2 penalty: adds ``alpha / 2 * ||weights||^2 / batch_weight`` (the
        twiddles of K-matrix layers, dense weights; not biases) to every
        mini-batch loss, as scikit-learn's MLP scales it.
    optimizer : AdamOptimizer, SGDOptimizer or None
        Built on :attr:`params`; None for a full-batch solver.
    n_threads : int
        Kernel threads (0: the OpenMP default); never changes the result.
    """

    def __init__(self, layers, activation, out_activation, loss, alpha, optimizer,
                 n_threads=0):
        if loss not in LOSSES:
            raise ValueError(f"unknown loss {loss!r}")
        self.layers = layers
        self.activation, self.out_activation, self.loss = activation, out_activation, loss
        self.alpha, self.optimizer, self.n_threads = alpha, optimizer, n_threads
        self.dtype = np.finfo(layers[0].param.dtype).dtype   # the real precision
        self._buffers = {}

    @property
    def params(self):
        return [p for layer in self.layers for p in layer.params]

    @property
    def grads(self):
        return [g for layer in self.layers for g in layer.grads]

    def _batch_buffers(self, m, n_in, n_outputs):
        """(Xb, Yb, outputs of every layer, their gradients, a derivative
        buffer per layer) for batches of m rows, made once."""
        if m not in self._buffers:
            widths = [layer.n_out for layer in self.layers]
            new = [np.empty((m, w), dtype=self.dtype) for w in widths]
            self._buffers[m] = (
                np.empty((m, n_in), dtype=self.dtype),
                np.empty((m, n_outputs), dtype=self.dtype),
                new,
                [np.empty((m, w), dtype=self.dtype) for w in widths[:-1]],
                [np.empty((m, w), dtype=self.dtype) for w in widths],
            )
        return self._buffers[m]

    def _run(self, X, outputs):
        """Forward through every layer into ``outputs`` (one per layer)."""
        A = X
        for k, (layer, Z) in enumerate(zip(self.layers, outputs)):
            last = k == len(self.layers) - 1
            A = layer.forward(A, Z, self.n_threads,
                              self.out_activation if last else self.activation)
        return A

    def predict(self, X):
        """The network's output for the C-contiguous rows X (new arrays)."""
        outputs = [np.empty((X.shape[0], layer.n_out), dtype=self.dtype)
                   for layer in self.layers]
        return self._run(X, outputs)

    def gradients(self, Xb, Yb, wb=None):
        """The (penalised) loss of a batch; :attr:`grads` hold its gradient."""
        m = Xb.shape[0]
        _, _, outputs, dA, D = self._batch_buffers(m, Xb.shape[1], Yb.shape[1])
        P = self._run(Xb, outputs)
        total = float(m) if wb is None else float(wb.sum(dtype=np.float64))
        loss, dZ = self._output_gradient(P, Yb, wb, total, D[-1])
        inputs = [Xb] + outputs[:-1]
        gate = None if self.activation == "identity" else self.activation
        for k in range(len(self.layers) - 1, -1, -1):
            below = dA[k - 1] if k else None
            gated = self.layers[k].backward(inputs[k], dZ, below, self.n_threads,
                                            gate if k else None)
            if k:
                if gate is not None and not gated:
                    below *= _activation_derivative(outputs[k - 1], D[k - 1], self.activation)
                dZ = below
        if self.alpha:
            for layer in self.layers:
                loss += 0.5 * self.alpha * sum_of_squares(layer.trained) / total
                (layer.grad[:, 0] if layer.butterfly else layer.grad)[...] += \
                    (self.alpha / total) * layer.trained
        return loss

    def _output_gradient(self, P, Y, w, total, work):
        """(loss, its gradient at the last layer's z), written over P;
        ``work`` is a scratch array of P's shape."""
        n_out = Y.shape[1]
        if self.loss == "squared_error":
            D = None
            if self.out_activation != "identity":
                D = _activation_derivative(P, work, self.out_activation)
            # the weights after the derivative, as NumPy's passes rounded them
            sq = squared_error_gradient(P, Y, w if D is None else None, 1.0 / (total * n_out),
                                        self.n_threads)
            loss = 0.5 * float(sq.sum() if w is None else sq @ w) / (total * n_out)
            if D is None:
                return loss, P
            R = P
            R *= D
        else:
            eps = np.finfo(P.dtype).eps
            np.log(np.clip(P, eps, 1 - eps, out=work), out=work)
            per_row = -np.einsum("ij,ij->i", Y, work, dtype=np.float64)
            if self.out_activation == "logistic":
                # sum((1 - y) log(1 - p)) = sum(log(1 - p)) - sum(y log(1 - p))
                np.log1p(np.negative(np.clip(P, eps, 1 - eps, out=work), out=work), out=work)
                per_row -= (work.sum(axis=1, dtype=np.float64)
                            - np.einsum("ij,ij->i", Y, work, dtype=np.float64))
            loss = float(per_row.sum() if w is None else per_row @ w) / total
            R = P
            R -= Y            # softmax or logistic with cross-entropy: dL/dz = p - y
            R *= 1.0 / total
        if w is not None:
            R *= w[:, np.newaxis]
        return loss, R

    def step(self, Xb, Yb, wb=None):
        """One optimizer step on a mini-batch; returns its (penalised) loss."""
        loss = self.gradients(Xb, Yb, wb)
        self.optimizer.step(self.grads)
        return loss

    def epoch(self, X, Y, batch_size, order=None, sample_weight=None):
        """One pass over (X, Y) in mini-batches (in ``order`` if given).

        Returns the mean of the mini-batch losses weighted by batch size,
        the epoch loss scikit-learn's MLP reports.
        """
        n = X.shape[0]
        total = 0.0
        for start in range(0, n, batch_size):
            stop = min(start + batch_size, n)
            m = stop - start
            Xb, Yb = self._batch_buffers(m, X.shape[1], Y.shape[1])[:2]
            if order is None:
                Xb[...] = X[start:stop]
                Yb[...] = Y[start:stop]
                wb = None if sample_weight is None else sample_weight[start:stop]
            else:
                idx = order[start:stop]
                # a permutation's indices are valid: mode="clip" writes into
                # the buffers directly (mode="raise" buffers an out= array:
                # 0.20 ms against 0.04 ms for 200 rows of 1024 float32)
                np.take(X, idx, axis=0, out=Xb, mode="clip")
                np.take(Y, idx, axis=0, out=Yb, mode="clip")
                wb = None if sample_weight is None else sample_weight[idx]
            if wb is not None and not wb.sum() > 0:
                continue  # rows of weight zero: no gradient, no loss
            total += self.step(Xb, Yb, wb) * m
        return total / n
