"""Learning a fast linear map: KMatrixRegressor against dense layers.

The data come from a map that has a fast algorithm, the orthonormal
Walsh-Hadamard transform of n = 512 features (plus noise). Three models of
the same input/output shape learn it from samples:

* ``KMatrixRegressor``: the weight matrix is a K-matrix, O(n log n)
  parameters, trained by mini-batch Adam on kaleido's compiled kernels;
* ``MLPRegressor(hidden_layer_sizes=())``: one dense n x n layer trained by
  mini-batch Adam too (scikit-learn's default batches of 200 rows; the
  K-matrix models use 64-row batches, more steps per epoch);
* ``Ridge``: the dense least-squares solution (closed form).

The script prints, for each model, the parameter count, the fit time, the
prediction time and R^2 on held-out data, and plots test R^2 and fit time
against the parameter count (saved to a PNG file). With fewer training rows
than the dense models need, the K-matrix generalises better, because its
structure is the prior.

    python examples/plot_regressor_vs_dense.py [--output regressor_vs_dense.png]
"""

import argparse
import time
import warnings

import numpy as np
import scipy.linalg
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Ridge
from sklearn.neural_network import MLPRegressor

import kaleido as kd


def make_data(n, n_train, n_test, noise, rng):
    W = scipy.linalg.hadamard(n) / np.sqrt(n)
    X = rng.standard_normal((n_train + n_test, n))
    y = X @ W.T
    y_train = y[:n_train] + noise * rng.standard_normal((n_train, n))
    return X[:n_train], y_train, X[n_train:], y[n_train:]


def n_params(model, n):
    if isinstance(model, kd.KMatrixRegressor):
        # real parameters: the twiddles and the intercept
        return model.kmatrix_.n_params + model.intercept_.size
    return n * n + n


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=512)
    parser.add_argument("--train-sizes", default="300,3000")
    parser.add_argument("--noise", type=float, default=0.1)
    parser.add_argument("--output", default="regressor_vs_dense.png")
    args = parser.parse_args()
    warnings.simplefilter("ignore", ConvergenceWarning)
    n = args.n
    models = {
        # From a random orthogonal start plain gradient descent can stall in a
        # local minimum; from the identity it finds the transform.
        # Small mini-batches (64 rows) take more steps per epoch, which the
        # O(n log n) steps afford.
        "K-matrix, width 1": lambda: kd.KMatrixRegressor(
            init="identity", learning_rate_init=1e-2, batch_size=64, max_iter=1000, tol=1e-6,
            random_state=0),
        "K-matrix, expansion 2": lambda: kd.KMatrixRegressor(
            expansion=2, init="identity", learning_rate_init=1e-2, batch_size=64, max_iter=1000,
            tol=1e-6, random_state=0),
        "dense MLPRegressor": lambda: MLPRegressor(
            hidden_layer_sizes=(), learning_rate_init=1e-2, max_iter=1000, tol=1e-6,
            random_state=0),
        "dense Ridge": lambda: Ridge(alpha=1.0),
    }
    results = {}
    for n_train in (int(v) for v in args.train_sizes.split(",")):
        rng = np.random.default_rng(0)
        X, y, Xt, yt = make_data(n, n_train, 2000, args.noise, rng)
        print(f"\nn = {n}, {n_train} training rows, noise {args.noise}")
        print(f"{'model':>22} | {'params':>7} | {'fit':>8} | {'predict':>9} | test R^2")
        for name, make in models.items():
            model = make()
            t0 = time.perf_counter()
            model.fit(X, y)
            fit_time = time.perf_counter() - t0
            t0 = time.perf_counter()
            pred = model.predict(Xt)
            predict_time = time.perf_counter() - t0
            ss_res = np.sum((pred - yt) ** 2)
            score = 1 - ss_res / np.sum((yt - yt.mean(axis=0)) ** 2)
            p = n_params(model, n)
            results.setdefault(n_train, []).append((name, p, fit_time, score))
            print(f"{name:>22} | {p:>7} | {fit_time:7.2f}s | {predict_time * 1e3:7.1f}ms | "
                  f"{score:.4f}")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_score, ax_time) = plt.subplots(1, 2, figsize=(11, 4.2))
    markers = dict(zip(models, "osD^"))
    colors = {name: f"C{i}" for i, name in enumerate(models)}
    for n_train, rows in results.items():
        hollow = n_train == min(results)  # the small training set: open markers
        for name, p, fit_time, score in rows:
            style = dict(marker=markers[name], s=60, edgecolors=colors[name],
                         facecolors="none" if hollow else colors[name],
                         label=f"{name}, {n_train} rows")
            ax_score.scatter(p, score, **style)
            ax_time.scatter(p, fit_time, **style)
    for ax in (ax_score, ax_time):
        ax.set_xscale("log")
        ax.set_xlabel("parameters")
        ax.grid(True, which="both", alpha=0.3)
    ax_score.set_ylabel("test $R^2$")
    ax_time.set_ylabel("fit time (s)")
    ax_time.set_yscale("log")
    ax_score.set_title(f"Walsh-Hadamard map, n = {n}: accuracy")
    ax_time.set_title("training time")
    ax_time.legend(fontsize=7, loc="best")
    fig.tight_layout()
    fig.savefig(args.output, dpi=120)
    print(f"\nplot saved to {args.output}")


if __name__ == "__main__":
    main()
