"""Optimizers that update arrays of parameters in place: Adam and SGD.

Shared by the fitting layer (gradient descent of the approximator) and the
learning layer (the estimators' training engine). Complex parameters are
updated through their real views, as two independent real parameters.
"""

import numpy as np

from . import _kernels

__all__ = ["AdamOptimizer", "SGDOptimizer", "real_view"]


def _compiled(*arrays):
    """Whether the compiled step takes these arrays (the parameter view
    first, then its gradient and moments): one float dtype, C-contiguous,
    aligned, the parameter and moments writable."""
    p = arrays[0]
    return (p.dtype in (np.float32, np.float64)
            and all(a.dtype == p.dtype and a.flags.c_contiguous and a.flags.aligned
                    for a in arrays)
            and p.flags.writeable)


def real_view(a):
    """A complex array as its interleaved real and imaginary parts (no copy).

    Optimizers treat the two parts of a complex parameter as independent real
    parameters (Adam's second moment is then per part, not |g|^2).
    """
    return a.view(a.real.dtype) if a.dtype.kind == "c" else a


class _Optimizer:
    """Parameters updated in place; complex ones through their real views.

    Pickling (and deepcopy) keeps the parameters shared with the arrays
    they came from when those are pickled with it (an estimator's model):
    the real views and work buffers are rebuilt on unpickling instead of
    being pickled as copies of their own.
    """

    def __init__(self, params, learning_rate):
        self.params = params
        self.learning_rate = learning_rate
        self._link()

    def _link(self):
        self._views = [real_view(p) for p in self.params]
        self._bufs = [np.empty_like(v) for v in self._views]

    def __getstate__(self):
        state = self.__dict__.copy()
        del state["_views"], state["_bufs"]
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._link()


class AdamOptimizer(_Optimizer):
    """Adam (Kingma & Ba, 2015) on a list of arrays updated in place.

    The step size follows the bias-corrected form ``lr * sqrt(1 - b2^t) /
    (1 - b1^t)`` times ``m / (sqrt(v) + eps)``, as scikit-learn's MLP does,
    so ``learning_rate_init`` means the same thing in both.
    """

    def __init__(self, params, learning_rate=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-8):
        super().__init__(params, learning_rate)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.t = 0
        self.ms = [np.zeros_like(v) for v in self._views]
        self.vs = [np.zeros_like(v) for v in self._views]

    def step(self, grads):
        self.t += 1
        # Python floats on both paths: NumPy rounds them to the parameters'
        # dtype (a NumPy float64 would make a float32 update in float64)
        b1, b2, eps = float(self.beta_1), float(self.beta_2), float(self.epsilon)
        lr = self.learning_rate * np.sqrt(1 - b2 ** self.t) / (1 - b1 ** self.t)
        for p, g, m, v, buf in zip(self._views, grads, self.ms, self.vs, self._bufs):
            g = real_view(g)
            if _compiled(p, g, m, v):
                # one pass instead of twelve, with the same roundings
                _kernels.adam_step(p, g, m, v, float(lr), b1, b2, eps)
                continue
            m *= b1
            np.multiply(g, 1 - b1, out=buf)
            m += buf
            v *= b2
            np.multiply(g, g, out=buf)
            buf *= 1 - b2
            v += buf
            np.sqrt(v, out=buf)
            buf += eps
            np.divide(m, buf, out=buf)
            buf *= lr
            p -= buf


class SGDOptimizer(_Optimizer):
    """Stochastic gradient descent with (Nesterov) momentum, in place."""

    def __init__(self, params, learning_rate=1e-3, momentum=0.9, nesterov=True):
        super().__init__(params, learning_rate)
        self.momentum = momentum
        self.nesterov = nesterov
        self.velocities = [np.zeros_like(v) for v in self._views]

    def step(self, grads):
        lr, mu = self.learning_rate, self.momentum
        for p, g, vel, buf in zip(self._views, grads, self.velocities, self._bufs):
            g = real_view(g)
            # velocity = mu * velocity - lr * g
            vel *= mu
            np.multiply(g, lr, out=buf)
            vel -= buf
            if self.nesterov:
                # update = mu * velocity - lr * g
                np.multiply(vel, mu, out=buf)
                p += buf
                np.multiply(g, lr, out=buf)
                p -= buf
            else:
                p += vel
